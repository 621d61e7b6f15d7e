"""Hash chaining: each entry's hash covers its content and the previous entry's hash."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tongban.audit.models import GENESIS_HASH, AuditEntry
from tongban.security.crypto import get_suite


def entry_hash(
    *,
    suite: str,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any],
    prev_hash: str,
    request_id: str | None = None,
) -> str:
    # The request id joined the entry later: present only when set, so every entry made
    # before it hashes (and verifies) as it always did.
    extra = {} if request_id is None else {"request_id": request_id}
    canonical = json.dumps(
        {
            **extra,
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor": actor,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "details": details,
            "prev": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return get_suite(suite).hash(canonical.encode("utf-8")).hex()


def hash_of(entry: AuditEntry, *, suite: str) -> str:
    return entry_hash(
        suite=suite,
        seq=entry.seq,
        at=entry.at,
        actor_id=entry.actor_id,
        actor=entry.actor,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        details=entry.details,
        prev_hash=entry.prev_hash,
        request_id=entry.request_id,
    )


@dataclass(frozen=True)
class Verification:
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(
    entries: Iterable[AuditEntry], *, head_seq: int, head_hash: str, suite: str
) -> Verification:
    """Walk entries in ``seq`` order; name the first one that was edited, deleted or moved."""
    expected_seq = 1
    prev = GENESIS_HASH
    checked = 0
    for entry in entries:
        if entry.seq != expected_seq:
            return Verification(checked, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev:
            return Verification(checked, entry.seq, "does not link to the entry before it")
        if hash_of(entry, suite=suite) != entry.hash:
            return Verification(checked, entry.seq, "content does not match its hash")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    if checked > head_seq:
        # Entries were inserted after the head, bypassing record().
        return Verification(head_seq, head_seq + 1, "the entry is beyond the recorded head")
    if checked == head_seq and checked > 0 and prev != head_hash:
        # The last entry was rewritten (hash included), or the head was.
        return Verification(checked - 1, checked, "the last entry does not match the recorded head")
    if checked != head_seq or prev != head_hash:
        # Entries after the last one seen were removed (or the head was rewritten).
        return Verification(checked, checked + 1, "the log ends before the recorded head")
    return Verification(checked)
