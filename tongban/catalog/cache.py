"""The published catalog served from memory: a snapshot per catalog version (``catalog.version``),
read whole from the database when the version changes and shared by every request until it
changes again. A request reads only the version (carried by its first statement, or one small
SELECT), and takes an item's row for a use case from memory too (``Snapshot.row``).

What is derived from a snapshot (a rendered page, a JSON answer, the bundles checked against
it) is kept with it (``Snapshot.memo``) and goes when it goes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tongban.catalog import version as catalog_version
from tongban.catalog.models import Department, ServiceItem
from tongban.catalog.schemas import DepartmentRead, ItemRead

T = TypeVar("T")
# Snapshots kept at once: one per database a process serves (tests run several), and the one
# being replaced while requests still use it.
_KEEP = 4
# What is derived from one snapshot (pages per address and language, answers per query), in
# bytes; the least recently used go beyond it. Anything but bytes counts as a kilobyte.
MEMO_BYTES = 32 * 1024 * 1024


@dataclass(eq=False)
class Snapshot:
    version: catalog_version.Version
    departments: tuple[DepartmentRead, ...]
    # The active items, in code order.
    items: tuple[ItemRead, ...]
    # The same items as rows with their department and materials, detached: ``row`` puts a
    # copy in a request's session without a statement.
    rows: dict[str, ServiceItem] = field(repr=False)
    _by_code: dict[str, ItemRead] = field(init=False)
    _memo: OrderedDict[Any, Any] = field(init=False, default_factory=OrderedDict)
    _memo_bytes: int = field(init=False, default=0)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._by_code = {item.code: item for item in self.items}

    @property
    def changed_at(self) -> datetime:
        return datetime.fromtimestamp(self.version.changed_at, UTC)

    def item(self, code: str) -> ItemRead | None:
        return self._by_code.get(code)

    def row(self, session: Session, code: str) -> ServiceItem | None:
        """The active item ``code`` as a row of ``session``, taken from memory (the copy is the
        session's own: the one kept here is only read)."""
        found = self.rows.get(code)
        return None if found is None else session.merge(found, load=False)

    def department(self, code: str) -> DepartmentRead | None:
        return next((d for d in self.departments if d.code == code), None)

    def search(
        self,
        *,
        text: str | None = None,
        department: str | None = None,
        audience: str | None = None,
        online_only: bool = False,
    ) -> list[ItemRead]:
        """As ``catalog.repository.search_items``: words in the code, name or summary (either
        language, case ignored), the department's code, the audience (or both), online."""
        words = text.strip().casefold() if text else ""
        found = []
        for item in self.items:
            if department and item.department.code != department:
                continue
            if audience and item.audience not in (audience, "both"):
                continue
            if online_only and not item.online:
                continue
            if words and not any(
                words in value.casefold()
                for value in (
                    item.code,
                    item.name_zh,
                    item.name_en,
                    item.summary_zh,
                    item.summary_en,
                )
            ):
                continue
            found.append(item)
        return found

    def recall(self, key: Any) -> Any | None:
        """What ``keep`` kept for ``key``, or None."""
        with self._lock:
            if key not in self._memo:
                return None
            self._memo.move_to_end(key)
            return self._memo[key]

    def keep(self, key: Any, value: Any) -> None:
        with self._lock:
            if key in self._memo:
                self._memo_bytes -= _size(self._memo.pop(key))
            self._memo[key] = value
            self._memo_bytes += _size(value)
            while self._memo_bytes > MEMO_BYTES and len(self._memo) > 1:
                self._memo_bytes -= _size(self._memo.popitem(last=False)[1])

    def memo(self, key: Any, make: Callable[[], T]) -> T:
        """``make()``, computed once for this snapshot per ``key`` (while kept)."""
        found: T | None = self.recall(key)
        if found is None:
            found = make()
            self.keep(key, found)
        return found


def _size(value: Any) -> int:
    return len(value) if isinstance(value, bytes) else 1024


_snapshots: OrderedDict[str, Snapshot] = OrderedDict()
_lock = threading.Lock()
_loading = threading.Lock()


def current(session: Session) -> Snapshot:
    """The catalog as of the session's transaction: from memory when this process holds the
    current version, else read (once, however many requests ask at the same moment)."""
    if catalog_version.changed(session):
        # Its own changes are not committed: read them, and keep nothing.
        return _load(session, catalog_version.Version(0, "", 0))
    version = catalog_version.read(session)
    found = _cached(version.tag)
    if found is not None:
        return found
    with _loading:
        found = _cached(version.tag)
        if found is None:
            found = _load(session, version)
            with _lock:
                _snapshots[version.tag] = found
                while len(_snapshots) > _KEEP:
                    _snapshots.popitem(last=False)
    return found


def _cached(tag: str) -> Snapshot | None:
    with _lock:
        found = _snapshots.get(tag)
        if found is not None:
            _snapshots.move_to_end(tag)
        return found


def _load(session: Session, version: catalog_version.Version) -> Snapshot:
    # Read in the request's transaction by a session of its own, whose rows are kept detached:
    # the request's own rows (which it may change) never enter the cache.
    with Session(bind=session.connection()) as reader:
        departments: Sequence[Department] = (
            reader.execute(select(Department).order_by(Department.code)).scalars().all()
        )
        items: Sequence[ServiceItem] = (
            reader.execute(
                select(ServiceItem)
                .where(ServiceItem.active.is_(True))
                .options(selectinload(ServiceItem.department), selectinload(ServiceItem.materials))
                .order_by(ServiceItem.code)
            )
            .scalars()
            .all()
        )
        return Snapshot(
            version,
            tuple(DepartmentRead.model_validate(d) for d in departments),
            tuple(ItemRead.model_validate(i) for i in items),
            {item.code: item for item in items},
        )


def forget() -> None:
    """Drop every snapshot (tests that change the catalog behind the session's back)."""
    with _lock:
        _snapshots.clear()
