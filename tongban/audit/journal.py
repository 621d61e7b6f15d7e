"""The audit journal and its sequencer: the one way every audit entry reaches the hash chain.

**Journal.** ``audit.service.record`` keeps the entry with the session; when the transaction
commits, its entries are written to ``audit_journal`` in one INSERT, the last statement before
COMMIT. The entry commits or rolls back with the change it records (a savepoint rolled back
takes its entries with it), and a request takes no lock another request waits for: two writers
insert into a table nobody locks. Triggers refuse to change a journal row, or to delete one the
chain does not hold.

**Sequencer.** ``sequence`` appends journal rows to the chain in a batch: it locks the chain's
head (only sequencers take it: a second one skips its round, or waits when told to), reads the
oldest rows by id, hashes them onto the chain, inserts the entries, deletes the rows and moves
the head, in one transaction. A transparency log's queue and sequencer (Trillian), with the
queue in the change's own transaction.

**Order by commit.** Rows are taken in id order, and every row a sequencer sees is taken: no
watermark holds rows back, so a row whose transaction commits late is taken by a later batch,
after entries of transactions that committed before it. A row's id is drawn when the row is
inserted, at its transaction's commit, after the transaction's last change was flushed and so
after every lock it waited for. So if transaction A committed before transaction B wrote its
journal rows -- as it did whenever B read what A wrote, or waited for a row A had locked -- A's
ids are smaller than B's, and any sequencer that sees B's rows sees A's (A committed first): A's
entries come first in the chain, in the same batch or an earlier one. Transactions that overlap
up to their commits saw nothing of each other; their rows' ids order them. (On SQLite one
transaction writes at a time, and ids are commit order outright.)

**Who sequences.** ``tongban worker`` every second (its ``audit-journal`` job, leased: one
worker at a time); a single-process ``tongban serve`` runs ``run`` in a thread, woken by each
commit that wrote journal rows; ``tongban dispatch`` sequences every round; ``tongban audit
sequence`` does it at the command line; ``tongban audit verify`` says how many rows wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, event, func, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from tongban.audit import chain, checkpoints
from tongban.audit.models import AuditEntry, AuditHead, AuditJournal
from tongban.config import get_settings
from tongban.db.session import after_commit, run_follow_ups, sessions_for
from tongban.security.errors import SecurityConfigInvalid

log = logging.getLogger(__name__)

BATCH = 500

_PENDING = "tongban.audit.pending"  # this transaction's entries, not yet written
_MARKS = "tongban.audit.marks"  # each open savepoint's place in _PENDING
_WROTE = "tongban.audit.wrote"  # this transaction wrote journal rows
_journal = cast(Table, AuditJournal.__table__)
_entries = cast(Table, AuditEntry.__table__)
# Set when a commit wrote journal rows: wakes ``run``.
_journaled = threading.Event()


def add(session: Session, row: dict[str, Any]) -> None:
    """Keep an entry (``AuditJournal``'s columns but ``id``) to be journaled at commit."""
    if not session.in_transaction():
        # An entry made before any statement (a refusal answered from the request alone) must
        # still be committed: a session with no transaction is closed, not committed.
        session.begin()
    session.info.setdefault(_PENDING, []).append(row)


def write(session: Session) -> int:
    """Write the session's kept entries to the journal now; the number written. Done at commit;
    a caller that must see its entries in the journal before then may call it."""
    pending: list[dict[str, Any]] = session.info.get(_PENDING) or []
    if not pending:
        return 0
    # The transaction's own changes go first, so its rows' ids come after every lock it took.
    session.flush()
    rows = list(pending)
    pending.clear()
    # What an open savepoint would drop on rollback is now the database's to drop.
    for transaction in session.info.get(_MARKS, {}):
        session.info[_MARKS][transaction] = 0
    session.connection().execute(insert(_journal), rows)
    session.info[_WROTE] = True
    return len(rows)


@event.listens_for(Session, "before_commit")
def _at_commit(session: Session) -> None:
    # A savepoint's release keeps its entries for the enclosing transaction's commit.
    if not session.in_nested_transaction():
        write(session)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.in_nested_transaction() and session.info.pop(_WROTE, False):
        _journaled.set()


@event.listens_for(Session, "after_transaction_create")
def _savepoint_begun(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(_MARKS, {})[transaction] = len(session.info.get(_PENDING) or ())


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, transaction: SessionTransaction) -> None:
    # Fired after the transaction's end: its mark is still there.
    if transaction.nested:
        mark = session.info.get(_MARKS, {}).pop(transaction, None)
        pending = session.info.get(_PENDING)
        if mark is not None and pending:
            del pending[mark:]
    elif transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_MARKS, None)
        if session.info.pop(_PENDING, None):
            # Closed without a commit: the change did not happen, and neither did its entries.
            session.info.pop(_WROTE, None)


# -- the sequencer -------------------------------------------------------------------------------

_ANY = select(_journal.c.id).limit(1)
_HEAD = select(AuditHead.seq, AuditHead.hash, AuditHead.suite).where(AuditHead.id == 1)
_OLDEST = select(_journal).order_by(_journal.c.id)
_FIELDS = (
    "at",
    "actor_id",
    "actor",
    "action",
    "target_type",
    "target_id",
    "details",
    "request_id",
)


def sequence(session: Session, *, limit: int = BATCH, wait: bool = True) -> int:
    """Append up to ``limit`` journal rows to the chain, oldest first; the number appended.
    With ``wait=False`` it appends nothing while another sequencer holds the chain (that one,
    or the next round, takes the rows)."""
    if session.execute(_ANY).first() is None:
        return 0  # without taking the head: the loops ask every round
    head = session.execute(_HEAD.with_for_update(skip_locked=not wait)).first()
    if head is None:
        return 0
    seq, prev_hash, chained = head
    suite = get_settings().crypto_suite
    if chained != suite and seq:
        raise SecurityConfigInvalid(
            "The audit log is chained with the {chained} suite's hash; this deployment is "
            "set to {suite}. A deployment keeps the suite it started with.",
            chained=chained,
            suite=suite,
        )
    # Read after the head's lock, so a sequencer that waited sees what the other one deleted.
    rows = session.execute(_OLDEST.limit(limit)).mappings().all()
    if not rows:
        return 0
    start = seq
    entries: list[dict[str, Any]] = []
    for row in rows:
        seq += 1
        fields = {"seq": seq, **{name: row[name] for name in _FIELDS}, "prev_hash": prev_hash}
        prev_hash = chain.entry_hash(suite=suite, **fields)
        entries.append({**fields, "hash": prev_hash, "journal_id": row["id"]})
    connection = session.connection()
    connection.execute(insert(_entries), entries)
    connection.execute(delete(_journal).where(_journal.c.id.in_([row["id"] for row in rows])))
    session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev_hash, suite=suite)
    )
    # Signed once committed, outside this transaction and its lock on the head.
    signer = session.info.get(checkpoints.AfterCommit.KEY)
    if signer is not None:
        signer.size, signer.head = seq, prev_hash
    elif checkpoints.crosses_mark(start, seq):
        signer = session.info[checkpoints.AfterCommit.KEY] = checkpoints.AfterCommit(seq, prev_hash)
        after_commit(session, signer)
    return len(rows)


def sequence_all(session: Session) -> int:
    """Append every journal row, this session's own kept entries first, in this transaction
    (waiting for a sequencer at work); the number appended. For the command line and tests."""
    write(session)
    done = 0
    while count := sequence(session):
        done += count
    return done


def sequence_batches(session_factory: Callable[[], Session], *, wait: bool = True) -> int:
    """Sequence every row waiting, a batch a transaction; the number sequenced."""
    done = 0
    while True:
        with session_factory() as session:
            count = sequence(session, wait=wait)
            session.commit()
        # A batch that crossed a checkpoint mark left its signing for after the commit.
        run_follow_ups(session, session_factory)
        done += count
        if count < BATCH:
            return done


def sequence_pending(session_factory: Callable[[], Session], *, wait: bool = False) -> int:
    """``sequence_batches`` for a loop: never raises (whatever is left waits for the next run),
    and by default skips the round while another sequencer is at work."""
    try:
        return sequence_batches(session_factory, wait=wait)
    except Exception:
        log.exception("sequencing the audit journal failed; its rows wait for the next run")
        return 0


def count_pending(session: Session) -> int:
    """Journal rows not yet in the chain."""
    return int(session.execute(select(func.count()).select_from(_journal)).scalar_one())


def run(engine: Engine, *, stop: threading.Event, interval: float = 1.0) -> None:
    """Sequence until ``stop`` is set: at once after a commit of this process wrote journal
    rows, and every ``interval`` seconds for those of other processes."""
    sessions = sessions_for(engine)
    while not stop.is_set():
        _journaled.wait(interval)
        _journaled.clear()
        sequence_pending(sessions)
