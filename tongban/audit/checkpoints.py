"""Signed checkpoints of the audit chain, kept outside the database: its witness.

The hash chain shows an entry was changed only while the changed entry's hash still has to match
its successor and the head. Someone who can write the database can recompute every hash after
the change and the head too, and the chain alone is then intact. Transparency logs answer this
with signed tree heads (RFC 6962, Trillian): now and then the log signs its size and head with a
key held elsewhere, and the signatures are kept elsewhere, by the log and by witnesses. A later
chain must still have, at each signed size, the signed head.

Here a checkpoint is ``(size, head hash, time)`` signed with the deployment's suite (Ed25519 or
SM2) by a key in a file of its own (``audit_checkpoint_key_file``, made on first use, owner
only), appended as one JSON line to an append-only file (``audit_checkpoints_file``, fsynced):
after every ``audit_checkpoint_every`` entries (right after the commit that crossed the mark)
and, while the chain grows, every ``audit_checkpoint_seconds`` (by ``tongban dispatch`` and
``tongban federation run``). A federation node also sends them to its parent node, which keeps
them as a witness (``federation.witness``). Nothing here takes a lock: the head read is a plain
read of what is committed, and the file is written with one ``O_APPEND`` write per line.

``verify`` compares the chain with every checkpoint and tells apart:

- **rewritten**: the chain has an entry at a checkpoint's size but not its signed head: entries
  up to there were changed, removed or reordered (a restored backup that went on appending
  also shows this: its new entries took the places of the ones the checkpoint vouched for);
- **forked**: two checkpoints signed for one size disagree: the signer vouched for two histories;
- **behind**: the chain matches every checkpoint up to its size, and later checkpoints cover
  entries it does not have. A truncation and a restored backup look exactly alike here, so
  ``verify`` says so ("restore or truncation") instead of calling either tampering or fine.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.audit.models import AuditEntry, AuditHead
from tongban.config import get_settings
from tongban.kit.clock import utcnow
from tongban.security import keyfiles
from tongban.security.crypto import get_suite
from tongban.security.errors import KeyInvalid

log = logging.getLogger(__name__)

VERSION = "tongban-audit-checkpoint-v1"
# The newest checkpoints are at the end of the file; reading its tail finds the latest one.
_TAIL_BYTES = 64 * 1024
_IN_CHUNK = 500


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Checkpoint:
    """The chain's ``size`` and ``head`` hash at ``at``, signed with the key whose public half
    is ``key`` (hex) in ``suite``."""

    suite: str
    size: int
    head: str
    at: datetime
    key: str
    signature: str  # base64

    @staticmethod
    def text(*, suite: str, size: int, head: str, at: datetime) -> bytes:
        """What is signed: every field, one per line, under a version tag."""
        lines = (
            VERSION,
            f"suite={suite}",
            f"size={size}",
            f"head={head}",
            f"time={format_time(at)}",
        )
        return "\n".join(lines).encode()

    def signed_text(self) -> bytes:
        return self.text(suite=self.suite, size=self.size, head=self.head, at=self.at)

    def valid(self) -> bool:
        """Whether the signature holds for these fields under ``key``."""
        try:
            signature = base64.b64decode(self.signature, validate=True)
            return get_suite(self.suite).verify(
                bytes.fromhex(self.key), self.signed_text(), signature
            )
        except (KeyInvalid, ValueError, binascii.Error):
            return False

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "suite": self.suite,
            "size": self.size,
            "head": self.head,
            "time": format_time(self.at),
            "key": self.key,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Checkpoint:
        """Raises ValueError if ``data`` is not a checkpoint (its signature is not checked)."""
        try:
            size = data["size"]
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise ValueError("size")
            fields = [data[name] for name in ("suite", "head", "time", "key", "signature")]
            if not all(isinstance(value, str) for value in fields):
                raise ValueError("field")
            suite, head, time, key, signature = fields
            return cls(suite, size, head, parse_time(time), key, signature)
        except (KeyError, TypeError) as exc:
            raise ValueError("not a checkpoint") from exc


# -- the key and the file ------------------------------------------------------------------------


def key_path() -> Path:
    return get_settings().checkpoint_key_path


def log_path() -> Path:
    return get_settings().checkpoints_path


def public_key() -> str | None:
    """The checkpoint key's public half (hex), or None while there is no key file."""
    try:
        return keyfiles.read_signing_key(key_path())[1].public.hex()
    except FileNotFoundError:
        return None


def sign(
    *, size: int, head: str, at: datetime | None = None, key_file: Path | None = None
) -> Checkpoint:
    """A checkpoint of ``size`` and ``head``, signed with the checkpoint key (made now, in the
    deployment's suite, if there is none yet)."""
    suite, pair = keyfiles.create_signing_key(key_file or key_path(), get_settings().crypto_suite)
    moment = at or utcnow()
    signature = get_suite(suite).sign(
        pair.private, Checkpoint.text(suite=suite, size=size, head=head, at=moment)
    )
    return Checkpoint(
        suite, size, head, moment, pair.public.hex(), base64.b64encode(signature).decode()
    )


def append(checkpoint: Checkpoint, path: Path | None = None) -> None:
    """Add ``checkpoint`` as one line at the end of the file and flush it to disk."""
    path = path or log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(checkpoint.to_json(), sort_keys=True, separators=(",", ":")) + "\n"
    created = not path.exists()
    # One write in append mode: lines of several processes never interleave, with no lock.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, line.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if created:
        _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class Line:
    number: int
    checkpoint: Checkpoint | None  # None: not a checkpoint at all


def _parse(number: int, raw: bytes) -> Line:
    try:
        return Line(number, Checkpoint.from_json(json.loads(raw)))
    except (ValueError, UnicodeDecodeError):
        return Line(number, None)


def read_all(path: Path | None = None) -> list[Line]:
    """Every line of the file, in order; none if there is no file."""
    try:
        with open(path or log_path(), "rb") as handle:
            return [
                _parse(number, raw) for number, raw in enumerate(handle, start=1) if raw.strip()
            ]
    except FileNotFoundError:
        return []


def latest(path: Path | None = None) -> Checkpoint | None:
    """The checkpoint of the largest size among the last lines of the file (commits finish out
    of order, so the last line is not always the largest)."""
    path = path or log_path()
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    # The background loops ask every round: read the file again only once it changed.
    return _latest(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=4)
def _latest(path: Path, mtime_ns: int, size: int) -> Checkpoint | None:
    try:
        with open(path, "rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, end - _TAIL_BYTES))
            tail = handle.read().split(b"\n")
    except FileNotFoundError:
        return None
    if end > _TAIL_BYTES:
        tail = tail[1:]  # the first piece may be the end of a cut line
    found = [line.checkpoint for line in (_parse(0, raw) for raw in tail if raw.strip())]
    held = [c for c in found if c is not None]
    return max(held, key=lambda c: (c.size, c.at)) if held else None


# -- when to sign --------------------------------------------------------------------------------


def crosses_mark(before: int, after: int) -> bool:
    """Whether appending entries ``before + 1 .. after`` passes a multiple of the setting."""
    every = get_settings().audit_checkpoint_every
    return after // every > before // every


def sign_head(session: Session, *, size: int, head: str) -> Checkpoint | None:
    """Sign ``(size, head)``, read from the committed chain, if the last checkpoint is older
    and the chain still extends it; None when there is nothing to sign or it must not be.

    Signing a head that does not extend the last checkpoint would put this deployment's key on
    two histories: that is refused, and logged for an operator (``tongban audit verify`` says
    what happened)."""
    if size < 1:
        return None
    last = latest()
    if last is not None and size <= last.size:
        if size == last.size and head != last.head:
            _refused(last, "the audit chain's head differs from its checkpoint of %s at %d")
        return None  # signed already, or covered by a later commit's checkpoint
    held = _hashes_at(session, [size] if last is None else [size, last.size])
    if held.get(size) != head:
        return None  # not what the chain holds (a transaction that did not commit after all)
    if last is not None and held.get(last.size) != last.head:
        _refused(last, "the audit chain no longer has the head its checkpoint of %s signed at %d")
        return None
    checkpoint = sign(size=size, head=head)
    append(checkpoint)
    return checkpoint


_told: set[tuple[int, str, str]] = set()


def _refused(last: Checkpoint, problem: str) -> None:
    """Tell the operator once per last checkpoint and problem, not every round of a loop."""
    told = (last.size, last.head, problem)
    if told in _told:
        return
    _told.add(told)
    log.error(
        problem + ": no checkpoint signed; run tongban audit verify",
        format_time(last.at),
        last.size,
    )


def committed_head(session: Session) -> tuple[int, str]:
    """The chain's size and head hash as committed (a plain read: no lock, no waiting)."""
    seq, head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
    ).one()
    return int(seq), str(head)


def sign_now(session: Session) -> Checkpoint | None:
    """Sign the committed head if the chain grew since the last checkpoint (the operator's
    ``tongban audit checkpoint``)."""
    size, head = committed_head(session)
    return sign_head(session, size=size, head=head)


def sign_if_due(session: Session) -> Checkpoint | None:
    """The periodic checkpoint: sign the committed head when the last checkpoint is older than
    the setting and the chain grew since. Run by the background loops."""
    last = latest()
    size, head = committed_head(session)
    if last is not None:
        if size < last.size:
            _refused(last, "the audit chain is behind its checkpoint of %s at %d (a restore?)")
            return None
        if (utcnow() - last.at).total_seconds() < get_settings().audit_checkpoint_seconds:
            return None
    return sign_head(session, size=size, head=head)


class AfterCommit:
    """Signs the head a transaction leaves once it committed: registered by the append that
    crosses a mark, moved on by the transaction's later appends. It never raises: the periodic
    checkpoint catches up with whatever it could not do."""

    KEY = "tongban.audit.checkpoint"

    def __init__(self, size: int, head: str) -> None:
        self.size, self.head = size, head

    def __call__(self, sessions: Callable[[], Session]) -> None:
        try:
            with sessions() as session:
                sign_head(session, size=self.size, head=self.head)
        except Exception:
            log.exception("signing an audit checkpoint failed; the periodic one catches up")


def sign_periodically(sessions: Callable[[], Session]) -> None:
    """One periodic round for a background loop; never raises."""
    try:
        with sessions() as session:
            sign_if_due(session)
    except Exception:
        log.exception("signing an audit checkpoint failed; trying again next round")


# -- checking the chain against them -------------------------------------------------------------


@dataclass
class Witnessed:
    """The chain (of ``size`` entries) compared with every checkpoint in the file."""

    size: int
    checkpoints: int = 0
    latest: Checkpoint | None = None
    # The largest checkpoint the chain matches, and the first (smallest) it does not.
    matched: Checkpoint | None = None
    rewritten: Checkpoint | None = None
    # Checkpoints that vouch for two histories at one size.
    forks: list[tuple[Checkpoint, Checkpoint]] = field(default_factory=list)
    # Lines that are not checkpoints signed by this deployment's key.
    invalid_lines: list[int] = field(default_factory=list)
    # The largest checkpoint beyond the chain's end.
    ahead: Checkpoint | None = None
    no_key: bool = False

    @property
    def tampered(self) -> bool:
        return bool(self.rewritten or self.forks or self.invalid_lines)

    @property
    def behind(self) -> int:
        """How many entries checkpoints vouch for that the chain does not have."""
        return self.ahead.size - self.size if self.ahead is not None else 0


def verify(session: Session, path: Path | None = None) -> Witnessed:
    """Compare the chain as stored with every checkpoint in the file: a line that is not a
    checkpoint signed with this deployment's checkpoint key counts as altered."""
    lines = read_all(path)
    key = public_key()
    valid: list[Checkpoint] = []
    invalid: list[int] = []
    for line in lines:
        checkpoint = line.checkpoint
        if checkpoint is None or checkpoint.key != key or not checkpoint.valid():
            invalid.append(line.number)
        else:
            valid.append(checkpoint)
    result = compare(session, valid)
    result.invalid_lines = invalid
    result.no_key = bool(lines) and key is None
    return result


def compare(session: Session, found: Sequence[Checkpoint]) -> Witnessed:
    """Compare the chain as stored with ``found``, checkpoints whose signatures were checked."""
    size = int(session.execute(select(func.coalesce(func.max(AuditEntry.seq), 0))).scalar_one())
    result = Witnessed(size, checkpoints=len(found))
    if not found:
        return result
    result.latest = max(found, key=lambda c: (c.size, c.at))
    by_size: dict[int, Checkpoint] = {}
    for checkpoint in sorted(found, key=lambda c: c.at):
        first = by_size.setdefault(checkpoint.size, checkpoint)
        if first.head != checkpoint.head:
            result.forks.append((first, checkpoint))
    held = _hashes_at(session, [s for s in by_size if s <= size])
    for checkpoint_size in sorted(by_size):
        checkpoint = by_size[checkpoint_size]
        if checkpoint_size > size:
            result.ahead = checkpoint
        elif held.get(checkpoint_size) == checkpoint.head:
            if result.rewritten is None:
                result.matched = checkpoint
        elif result.rewritten is None:
            result.rewritten = checkpoint
    return result


def _hashes_at(session: Session, sizes: Iterable[int]) -> dict[int, str]:
    wanted = sorted(sizes)
    found: dict[int, str] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = session.execute(
            select(AuditEntry.seq, AuditEntry.hash)
            .where(AuditEntry.seq.in_(chunk))
            .execution_options(populate_existing=True)
        )
        found.update({int(row.seq): str(row.hash) for row in rows})
    return found
