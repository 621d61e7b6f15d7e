"""Cross-region applications (跨省通办, 收件地与办理地分离).

The home node (收件地) receives the application: from the person online, or from a counter clerk
who accepts it for them. It goes to the handling node (办理地) as a signed ``application.submit``
message; there the person, keyed by resident ID number, is the applicant of an ordinary
application in the handling department's queue. Each change of its status goes back as an
``application.progress`` message, and the person follows it in the home portal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import service as applications_service
from tongban.applications.states import Action, Status
from tongban.audit import service as audit
from tongban.errors import InvalidInput, TongbanError
from tongban.federation import policy, repository
from tongban.federation import service as federation_service
from tongban.federation.errors import MessageInvalid, NodeInvalid
from tongban.federation.handlers import handles
from tongban.federation.models import HandledApplication, Node, RemoteApplication
from tongban.identity import service as identity_service
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.security.principals import Internal

SUBMIT = "application.submit"
PROGRESS = "application.progress"
SENT = "sent"
REFUSED = "refused"
# Nothing changes after these, so the handling node stops watching the application.
FINAL = {Status.COMPLETED, Status.DENIED, Status.REJECTED, Status.WITHDRAWN}


def apply_elsewhere(
    session: Session,
    subject: Principal,
    *,
    node: str,
    item_code: str,
    form: dict[str, Any],
    id_number: str | None = None,
    name: str | None = None,
    phone: str | None = None,
) -> RemoteApplication:
    """File an application with another node. A person files their own; a counter clerk files
    one for the person in front of them, named by ``id_number`` and ``name``."""
    clerk = policy.require_apply_elsewhere(subject, for_someone=id_number is not None)
    if id_number is None:
        assert isinstance(subject, Account)  # require_apply_elsewhere: a person files their own
        person = subject
    else:
        person = identity_service.person_for_resident(
            session,
            Internal("the account of a person applying from another node"),
            id_number=id_number or "",
            name=name or "",
            phone=phone,
        )
    if not person.id_number:
        raise InvalidInput(
            "Applying to another region needs your resident ID number on your account.",
            field="id_number",
        )
    local = federation_service.local_node(session, subject)
    if node == local.code:
        raise NodeInvalid("Node {code} is this node; apply here directly.", code=node)
    now = utcnow()
    ref = str(uuid.uuid4())
    remote = RemoteApplication(
        ref=ref,
        applicant_id=person.id,
        received_by_id=clerk.id if clerk is not None else None,
        node_code=node,
        item_code=item_code,
        form=form,
        status=SENT,
        reason="",
        history=[{"status": SENT, "at": now.isoformat(), "reason": ""}],
        created_at=now,
        updated_at=now,
    )
    session.add(remote)
    session.flush()
    federation_service.queue(
        session,
        to=node,
        message_type=SUBMIT,
        aggregate_id=f"application:{ref}",
        body={
            "ref": ref,
            "item_code": item_code,
            "form": form,
            "applicant": {
                "name": person.display_name,
                "id_number": person.id_number,
                "phone": person.phone,
            },
            "received_by": clerk.display_name if clerk is not None else None,
        },
    )
    audit.record(
        session,
        actor=subject,
        action="federation.application_sent",
        target_type="remote_application",
        target_id=ref,
        details={"to": node, "item": item_code, "at_counter": clerk is not None},
    )
    return remote


def my_remote_applications(session: Session, subject: Principal) -> Sequence[RemoteApplication]:
    """The person's applications handled at other nodes, newest first."""
    person = policy.require_person(subject)
    return repository.remote_applications_of(session, person.id)


@handles(SUBMIT)
def _submit(session: Session, sender: Node, body: dict[str, Any]) -> None:
    """File the application here for the person, or tell the home node why not."""
    try:
        ref = str(body["ref"])
        item_code = str(body["item_code"])
        applicant = dict(body["applicant"])
        form = dict(body.get("form") or {})
    except (KeyError, TypeError, ValueError):
        raise MessageInvalid("The application message is malformed.") from None
    if repository.handled_application(session, sender.code, ref) is not None:
        return
    try:
        with session.begin_nested():
            person = identity_service.person_for_resident(
                session,
                Internal("the account of a person applying from another node"),
                id_number=str(applicant.get("id_number") or ""),
                name=str(applicant.get("name") or ""),
                phone=applicant.get("phone"),
            )
            application = applications_service.start(
                session, person, item_code=item_code, form=form
            )
            application = applications_service.act(
                session, person, application.number, Action.SUBMIT
            )
    except TongbanError as exc:
        # Not filed here (unknown item, incomplete form...): the home node tells the person.
        _report(
            session,
            sender.code,
            {"ref": ref, "status": REFUSED, "reason": str(exc), "history": []},
        )
        return
    session.add(
        HandledApplication(
            home_code=sender.code,
            ref=ref,
            number=application.number,
            applicant_id=person.id,
            reported_status=application.status.value,
            reported_changes=len(application.history),
            created_at=utcnow(),
        )
    )
    _report(session, sender.code, _progress(ref, application))


def _progress(ref: str, application: Any) -> dict[str, Any]:
    return {
        "ref": ref,
        "number": application.number,
        "status": application.status.value,
        "reason": application.last_reason or "",
        "result_number": application.result_number,
        "item_name_zh": application.item.name_zh,
        "item_name_en": application.item.name_en,
        "history": [
            {"status": change.to_status.value, "at": change.at.isoformat(), "reason": change.reason}
            for change in application.history
        ],
    }


def _report(session: Session, home: str, body: dict[str, Any]) -> None:
    federation_service.queue(
        session,
        to=home,
        message_type=PROGRESS,
        aggregate_id=f"application:{body['ref']}",
        body=body,
    )


@dataclass(frozen=True)
class ProgressReport:
    reported: int


def report_progress(session: Session, subject: Principal) -> ProgressReport:
    """Send home every change since the last report of the applications handled here for other
    nodes (`tongban federation run` does this every round)."""
    policy.require_manage_federation(subject)
    reported = 0
    for handled in repository.open_handled_applications(session):
        person = session.get(Account, handled.applicant_id)
        assert person is not None
        application = applications_service.get(session, person, handled.number)
        # Both: on PostgreSQL the application and its history load in separate statements, so
        # a change committed in between is in the history before the status shows it.
        if (
            len(application.history) == handled.reported_changes
            and application.status.value == handled.reported_status
        ):
            continue
        _report(session, handled.home_code, _progress(handled.ref, application))
        handled.reported_status = application.status.value
        handled.reported_changes = len(application.history)
        handled.done = application.status in FINAL
        reported += 1
    return ProgressReport(reported)


@handles(PROGRESS)
def _progress_received(session: Session, sender: Node, body: dict[str, Any]) -> None:
    remote = repository.remote_application(session, str(body.get("ref", "")))
    if remote is None or remote.node_code != sender.code:
        raise MessageInvalid("No application here was sent to node {code}.", code=sender.code)
    status = str(body.get("status", ""))
    if status != REFUSED and status not in {s.value for s in Status}:
        raise MessageInvalid("The application message is malformed.")
    remote.status = status
    remote.number = body.get("number") or remote.number
    remote.reason = str(body.get("reason") or "")
    remote.result_number = body.get("result_number") or remote.result_number
    remote.item_name_zh = str(body.get("item_name_zh") or remote.item_name_zh)[:100]
    remote.item_name_en = str(body.get("item_name_en") or remote.item_name_en)[:200]
    history = [dict(h) for h in body.get("history") or []]
    remote.history = [remote.history[0], *history] if remote.history else history
    if status == REFUSED:
        refused = {"status": REFUSED, "at": utcnow().isoformat(), "reason": remote.reason}
        remote.history = [*remote.history, refused]
    remote.updated_at = utcnow()
    audit.record(
        session,
        actor=policy.node_principal(sender),
        action="federation.application_progress",
        target_type="remote_application",
        target_id=remote.ref,
        details={"status": status, "number": remote.number},
    )
