"""Who may do what with an application. A case someone may not see is reported as not found,
so its existence is not revealed either.

Officials see and work their own department's cases only, and take only the actions their roles
allow: ``ROLES_FOR`` maps each official action to the roles that may take it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tongban.applications.errors import ApplicationNotFound
from tongban.applications.models import Application
from tongban.applications.states import TRANSITIONS, Action, Role
from tongban.catalog.models import ServiceItem
from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind, OfficialRole
from tongban.identity.principals import Principal, is_trusted
from tongban.kit.i18n import LocalText

# Which official roles may take which action: intake by clerks, review by reviewers, the decision
# and the result by approvers. Every official action of ``states.TRANSITIONS`` is listed.
ROLES_FOR: dict[Action, frozenset[OfficialRole]] = {
    # The single window accepts any department's item filed there.
    Action.ACCEPT: frozenset({OfficialRole.CLERK, OfficialRole.COUNTER_CLERK}),
    Action.RETURN: frozenset({OfficialRole.CLERK}),
    Action.REJECT: frozenset({OfficialRole.CLERK}),
    Action.START_REVIEW: frozenset({OfficialRole.REVIEWER}),
    Action.APPROVE: frozenset({OfficialRole.APPROVER}),
    Action.DENY: frozenset({OfficialRole.APPROVER}),
    Action.COMPLETE: frozenset({OfficialRole.APPROVER}),
}
ROLE_NAMES = {
    OfficialRole.CLERK: LocalText("受理员", "clerk"),
    OfficialRole.REVIEWER: LocalText("审查员", "reviewer"),
    OfficialRole.APPROVER: LocalText("审批员", "approver"),
    OfficialRole.COUNTER_CLERK: LocalText("综合窗口受理员", "counter clerk"),
}


def _signed_in(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    return subject


def require_apply(subject: Principal, item: ServiceItem) -> Account:
    applicant = _signed_in(subject)
    if applicant.kind is not AccountKind.APPLICANT:
        raise Forbidden("Only applicants can apply; officials act on applications.")
    if not item.online:
        raise Forbidden("This item cannot be applied for online; please visit the counter.")
    return applicant


def require_apply_for(item: ServiceItem, legal_person_id: int, authorised: set[int]) -> None:
    """Applying as a company: only for a company one is authorised for now, and only for an
    item companies apply for."""
    if legal_person_id not in authorised:
        raise Forbidden("You are not authorised to act for this legal person.")
    if item.audience == "person":
        raise Forbidden(
            "This service is for persons: stop acting for the company to apply for yourself."
        )


def is_owner(subject: Account, application: Application) -> bool:
    return subject.kind is AccountKind.APPLICANT and application.applicant_id == subject.id


def is_handler(subject: Account, application: Application) -> bool:
    return (
        subject.kind is AccountKind.OFFICIAL and subject.department_id == application.department_id
    )


def is_counter_clerk(subject: Account) -> bool:
    return subject.kind is AccountKind.OFFICIAL and OfficialRole.COUNTER_CLERK in subject.roles


def is_counter_case(subject: Account, application: Application) -> bool:
    """A case filed at the single window, and a counter clerk (any window's) handling it."""
    return application.counter_clerk_id is not None and is_counter_clerk(subject)


def require_file_at_counter(subject: Principal, item: ServiceItem, applicant: Account) -> Account:
    clerk = _signed_in(subject)
    if not is_counter_clerk(clerk):
        raise Forbidden("Only a counter clerk files applications at the single window.")
    if not item.offline:
        raise Forbidden("This item cannot be applied for at a counter; it is online only.")
    if applicant.kind is not AccountKind.APPLICANT:
        raise Forbidden("Only applicants can apply; officials act on applications.")
    return clerk


def require_counter_clerk(subject: Principal) -> Account:
    clerk = _signed_in(subject)
    if not is_counter_clerk(clerk):
        raise Forbidden("Only a counter clerk checks materials against their originals.")
    return clerk


def require_check_original(
    subject: Principal, application: Application, presented_by: Account
) -> Account:
    """A counter clerk checks a material against the original the applicant brought: any
    window, for any department's open case, but only with the applicant there in person
    (found by the ID number they presented)."""
    clerk = require_counter_clerk(subject)
    if presented_by.id != application.applicant_id:
        raise ApplicationNotFound(
            "No application {number} is open to you.", number=application.number
        )
    return clerk


def require_read(subject: Principal, application: Application) -> Account:
    reader = _signed_in(subject)
    if not (
        is_owner(reader, application)
        or is_handler(reader, application)
        or is_counter_case(reader, application)
    ):
        raise ApplicationNotFound(
            "No application {number} is open to you.", number=application.number
        )
    return reader


def require_edit(subject: Principal, application: Application) -> Account:
    """The applicant, or at the single window the counter clerk filling it in for them."""
    editor = _signed_in(subject)
    if not (is_owner(editor, application) or is_counter_case(editor, application)):
        raise ApplicationNotFound(
            "No application {number} is open to you.", number=application.number
        )
    return editor


def require_provide(subject: Principal, application: Application) -> Account:
    """Materials are provided in place of uploads for the applicant themselves (their
    identity, their licences, their records, their signature), never by a counter clerk."""
    applicant = _signed_in(subject)
    if not is_owner(applicant, application):
        raise ApplicationNotFound(
            "No application {number} is open to you.", number=application.number
        )
    return applicant


def require_act(subject: Principal, application: Application, action: Action) -> Account:
    actor = require_read(subject, application)
    role = TRANSITIONS[action].by
    counter = is_counter_case(actor, application)
    if role is Role.APPLICANT and not (is_owner(actor, application) or counter):
        raise Forbidden("Only the applicant can {action} this application.", action=action.value)
    if role is Role.OFFICIAL and not (is_handler(actor, application) or counter):
        raise Forbidden(
            "Only an official of the handling department can {action} this application.",
            action=action.value,
        )
    if role is Role.OFFICIAL and not has_role_for(actor, action):
        needed = [ROLE_NAMES[r] for r in OfficialRole if r in ROLES_FOR[action]]
        raise Forbidden(
            "Your roles do not allow the action {action}; it needs the role {roles}.",
            error_code="role_required",
            action=action.value,
            roles=LocalText("、".join(r.zh for r in needed), ", ".join(r.en for r in needed)),
        )
    return actor


def has_role_for(official: Account, action: Action) -> bool:
    """Whether one of the official's roles allows ``action``."""
    return any(role in ROLES_FOR.get(action, frozenset()) for role in official.roles)


def require_list_own(subject: Principal) -> Account:
    applicant = _signed_in(subject)
    if applicant.kind is not AccountKind.APPLICANT:
        raise Forbidden("Only applicants have their own applications.")
    return applicant


def require_view_queue(subject: Principal) -> Account:
    official = _signed_in(subject)
    if official.kind is not AccountKind.OFFICIAL or official.department_id is None:
        raise Forbidden("Only department officials have a work queue.")
    return official


def require_maintain(subject: Principal) -> None:
    """Whole-table maintenance (re-encrypting stored forms): the operator at the command line."""
    if not is_trusted(subject):
        raise Forbidden("Only the operator at the command line may do this.")


def require_request_tracking_code(subject: Principal) -> None:
    """Anyone may ask for a tracking code: it goes to the applicant's own phone or e-mail, and
    the answer is the same whether the number exists or not."""


def require_tracking_pass(subject: TrackingPass, application: Application) -> None:
    """Progress without an account: only with a pass for this very application, which the
    tracking domain issues once a one-time code sent to the applicant was typed in."""
    if subject.number != application.number:
        raise ApplicationNotFound(
            "No application {number} is open to you.", number=application.number
        )


@dataclass(frozen=True)
class TrackingPass:
    """Proof that its holder typed the one-time code sent to the applicant of ``number``."""

    number: str
