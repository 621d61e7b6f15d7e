"""Who may use bundles: anyone reads them and walks the questionnaire; applicants file them."""

from __future__ import annotations

from tongban.bundles.errors import BundleCaseNotFound
from tongban.bundles.models import BundleCase
from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind
from tongban.identity.principals import Principal


def require_read_bundles(subject: Principal) -> None:
    """Bundles and their questionnaires are public, like the service guide."""


def require_file(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    if subject.kind is not AccountKind.APPLICANT:
        raise Forbidden("Only applicants can apply; officials act on applications.")
    return subject


def require_own(subject: Principal, case: BundleCase) -> Account:
    applicant = require_file(subject)
    if case.applicant_id != applicant.id:
        raise BundleCaseNotFound("No bundle case {id} is open to you.", id=case.id)
    return applicant
