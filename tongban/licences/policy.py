"""Who may do what with licences. A licence someone may not see is reported as not found.

- Issuing: the approver of the issuing department, when approving the case.
- Revoking: an approver of the issuing department, with a reason.
- The wallet: the holder — the person, or a person acting for the holding company.
- Verifying and opening a live share link: anyone.
"""

from __future__ import annotations

from datetime import datetime

from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind, OfficialRole
from tongban.identity.principals import Principal
from tongban.licences.errors import LicenceNotFound, ShareEnded
from tongban.licences.models import Licence, LicenceShare


def _signed_in(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    return subject


def require_issue(subject: Principal, department_id: int) -> Account:
    official = _signed_in(subject)
    if not (
        official.kind is AccountKind.OFFICIAL
        and official.department_id == department_id
        and OfficialRole.APPROVER in official.roles
    ):
        raise Forbidden("Only an approver of the issuing department issues its licences.")
    return official


def require_revoke(subject: Principal, licence: Licence) -> Account:
    official = _signed_in(subject)
    if official.kind is not AccountKind.OFFICIAL or official.department_id != licence.department_id:
        raise LicenceNotFound("No licence {number} is open to you.", number=licence.number)
    if OfficialRole.APPROVER not in official.roles:
        raise Forbidden("Only an approver of the issuing department may revoke its licences.")
    return official


def require_wallet(subject: Principal) -> Account:
    holder = _signed_in(subject)
    if holder.kind is not AccountKind.APPLICANT:
        raise Forbidden("The licence wallet is for citizens and companies.")
    return holder


def is_holder(subject: Account, licence: Licence, acting_for: int | None) -> bool:
    if acting_for is not None:
        return licence.holder_legal_person_id == acting_for
    return licence.holder_account_id == subject.id and licence.holder_legal_person_id is None


def require_holder(subject: Principal, licence: Licence, acting_for: int | None) -> Account:
    holder = require_wallet(subject)
    if not is_holder(holder, licence, acting_for):
        raise LicenceNotFound("No licence {number} is open to you.", number=licence.number)
    return holder


def require_read(subject: Principal, licence: Licence, acting_for: int | None) -> Account:
    """Opening a licence: its holder, or an official of the issuing department (who sees what
    their clearance allows, as on the case)."""
    reader = _signed_in(subject)
    if reader.kind is AccountKind.OFFICIAL and reader.department_id == licence.department_id:
        return reader
    if reader.kind is not AccountKind.APPLICANT:
        # Another department verifies it as the public does, or asks the holder to share it.
        raise LicenceNotFound("No licence {number} is open to you.", number=licence.number)
    return require_holder(reader, licence, acting_for)


def require_verify(subject: Principal) -> None:
    """Anyone may verify a licence: the result shows only what its labels allow the public."""


def require_share_live(share: LicenceShare, now: datetime) -> None:
    if share.revoked_at is not None:
        raise ShareEnded("The holder has withdrawn this link; ask them for a new one.")
    if now >= share.expires_at:
        raise ShareEnded("This link expired; ask the holder for a new one.")
