"""Who may do what with proactive service.

The operator at the command line (subject None) and administrators run the rules and confirm a
run held back by the mass-offer guard; a person sees, confirms and declines only their own
offers."""

from __future__ import annotations

from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind
from tongban.identity.principals import Principal, is_admin, is_trusted


def require_run(subject: Principal) -> None:
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may run proactive service rules.")


def require_confirm_run(subject: Principal) -> None:
    require_run(subject)


def require_read_runs(subject: Principal) -> None:
    require_run(subject)


def require_own_offers(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    if subject.kind is not AccountKind.APPLICANT:
        raise Forbidden("Only applicants receive service offers.")
    return subject


def require_demo(subject: Principal) -> None:
    # Example master data goes into the real registers: the operator of a demo database only.
    if not is_trusted(subject):
        raise Forbidden("Only the operator at the command line may load demo data.")
