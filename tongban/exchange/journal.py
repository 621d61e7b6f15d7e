"""Sequencing the gateway's journal: every call, served or refused, is written to
``exchange_calls`` in the call's own transaction; here the calls not yet sequenced are appended
to the hash-chained audit log (and, when served, to each subject's "who used my data" log) in
batches, oldest first, and marked with their audit entry.

Like a transparency log's queue and sequencer, the call pays for one journal row, not for the
chain's head lock: appends under one head lock per batch instead of per call, so calls no
longer queue behind each other's audit append. The journal row is as durable as the call's
answer (it commits before the answer leaves) and the database refuses to change or delete it,
so a call is never served unrecorded; it reaches the chain moments later. The web layer runs
``sequence_pending`` right after each gateway answer; ``tongban dispatch`` sweeps up after a
crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.datause import log as data_use
from tongban.datause.models import Channel
from tongban.db.session import run_follow_ups
from tongban.exchange import repository
from tongban.exchange.models import GatewayCall

log = logging.getLogger(__name__)

BATCH = 500


def sequence(session: Session, *, limit: int = BATCH) -> int:
    """Append up to ``limit`` unsequenced calls to the audit log; the number appended.

    The chain's head is taken first, so two sequencers never append the same call: the second
    reads the journal only once the first has committed."""
    if not repository.count_unsequenced(session):
        return 0  # without taking the head: the dispatcher asks every round
    audit.lock_chain(session)
    calls = repository.unsequenced_calls(session, limit)
    if not calls:
        return 0
    callers = repository.callers(
        session,
        system_ids={c.system_id for c in calls if c.system_id},
        account_ids={c.account_id for c in calls if c.account_id},
    )
    entries = audit.record_many(session, [_entry(call, callers) for call in calls])
    purposes = repository.purpose_texts(session, {c.grant_id for c in calls if c.grant_id})
    data_use.record_rows(
        session,
        [
            _use(call, subject, callers, purposes)
            for call in calls
            if call.outcome == "ok"
            for subject in dict.fromkeys(call.subjects)
        ],
    )
    repository.mark_sequenced(
        session, {call.id: entry.seq for call, entry in zip(calls, entries, strict=True)}
    )
    return len(calls)


def sequence_pending(session_factory: Callable[[], Session]) -> int:
    """Sequence every call waiting, a batch a transaction; the number sequenced. Never raises:
    it runs after answers were sent, and whatever is left waits for the next run."""
    done = 0
    try:
        while True:
            with session_factory() as session:
                count = sequence(session)
                session.commit()
            # A batch that crossed a checkpoint mark left its signing for after the commit.
            run_follow_ups(session, session_factory)
            done += count
            if count < BATCH:
                return done
    except Exception:
        log.exception("sequencing gateway calls failed; they wait for the next run")
        return done


def count_pending(session: Session) -> int:
    return repository.count_unsequenced(session)


def _entry(call: GatewayCall, callers: repository.Callers) -> audit.NewEntry:
    system = callers.systems.get(call.system_id or 0)
    code = system.code if system else ""
    if call.outcome == "ok":
        action = "exchange.gateway_call"
        details = {
            "system": code,
            "grant": call.grant_id,
            "purpose": call.purpose,
            "items": call.items,
            "subjects": call.subjects,
            "found": call.found,
            "call": call.id,
        }
    else:
        action = "exchange.gateway_refused"
        details = {"system": code, "purpose": call.purpose, "error": call.outcome, "call": call.id}
    return audit.NewEntry(
        call.account_id,
        callers.usernames.get(call.account_id or 0, audit.SYSTEM),
        action,
        "exchange_resource",
        call.resource_code,
        details,
        at=call.at,
    )


def _use(
    call: GatewayCall, subject: str, callers: repository.Callers, purposes: dict[int, str]
) -> dict[str, Any]:
    """A subject's "who used my data" row: the call, its items and the purpose as its sharing
    request stated it."""
    system = callers.systems.get(call.system_id or 0)
    return {
        "at": call.at,
        "subject_ref": subject,
        "channel": Channel.GATEWAY,
        "department_id": system.department_id if system else None,
        "system_id": call.system_id,
        "reader_id": call.account_id,
        "resource_id": call.resource_id,
        "service_item_id": None,
        "items": list(call.items),
        "purpose": call.purpose,
        "purpose_text": purposes.get(call.grant_id or 0, ""),
        "reference": "",
    }
