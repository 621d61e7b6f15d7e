"""Asking department systems for data they already hold on a person (once-only prefill).

Each system answers a signed ``GET <url>?id_number=...`` with its own field names; the
registration maps them to the platform's element names. Lookups run concurrently under a short
timeout, and a system that is down or slow is skipped: prefill helps, it never blocks applying.
They are made with no database transaction open (``db.session.release``): what they need is
read first, then the transaction ends, then they are asked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.connectors import signing
from tongban.connectors.models import DepartmentSystem
from tongban.db.session import release
from tongban.kit import http

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    value: Any
    # The system's name, shown to the applicant as where the value came from.
    origin: str


class Unavailable(Exception):
    """The system did not answer a lookup (down, slow, or not answering JSON)."""


@dataclass(frozen=True)
class Asked:
    """What a lookup needs of its system, read before the transaction ends."""

    code: str
    name: str
    secret: str
    lookup: dict[str, Any]

    @classmethod
    def of(cls, system: DepartmentSystem) -> Asked:
        return cls(system.code, system.name, system.secret, dict(system.lookup or {}))


def fetch_record(
    system: DepartmentSystem | Asked,
    lookup: dict[str, Any],
    key: str,
    *,
    key_name: str = "id_number",
) -> dict[str, Any] | None:
    """The system's record for ``key`` in its own field names; None if it holds none (404).

    Signed like every platform request to a department; ``Unavailable`` if it does not answer.
    Make no database transaction wait on it (``db.session.release``).
    """
    query = urlencode({key_name: key})
    headers = {
        signing.SYSTEM_HEADER: "TONGBAN",
        **signing.signed_headers(system.secret, query.encode()),
    }
    try:
        response = http.client().get(
            f"{lookup['url']}?{query}",
            headers=headers,
            timeout=float(lookup.get("timeout_seconds", 2)),
        )
    except httpx.HTTPError as exc:
        raise Unavailable(f"lookup at {system.code} failed: {exc}") from exc
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise Unavailable(f"lookup at {system.code} answered {response.status_code}")
    try:
        found = response.json()
    except ValueError:
        raise Unavailable(f"lookup at {system.code} did not answer JSON") from None
    if not isinstance(found, dict):
        raise Unavailable(f"lookup at {system.code} did not answer a JSON object")
    return found


def _ask(system: Asked, id_number: str) -> dict[str, Found]:
    try:
        found = fetch_record(system, system.lookup, id_number)
    except Unavailable as exc:
        log.warning("%s", exc)
        return {}
    if found is None:  # the system holds nothing on this person
        return {}
    provides: dict[str, str] = system.lookup["provides"]
    return {
        f"{system.code}.{element}": Found(found[field], system.name)
        for element, field in provides.items()
        if found.get(field) not in (None, "")
    }


def system_by_code(session: Session, code: str) -> DepartmentSystem | None:
    return session.execute(
        select(DepartmentSystem).where(DepartmentSystem.code == code)
    ).scalar_one_or_none()


def system_of_account(session: Session, account_id: int) -> DepartmentSystem | None:
    """The department system that acts as this account (for machine clients)."""
    return session.execute(
        select(DepartmentSystem).where(DepartmentSystem.account_id == account_id)
    ).scalar_one_or_none()


def lookup_values(session: Session, sources: Iterable[str], id_number: str) -> dict[str, Found]:
    """Values for ``<SYSTEM>.<element>`` sources, from every system that can answer; the
    session's transaction ends before they are asked (``db.session.release``)."""
    codes = {s.split(".", 1)[0] for s in sources if "." in s}
    if not codes or not id_number:
        return {}
    systems = [
        Asked.of(s)
        for s in session.execute(
            select(DepartmentSystem).where(
                DepartmentSystem.code.in_(codes), DepartmentSystem.active.is_(True)
            )
        ).scalars()
        if s.lookup
    ]
    if not systems:
        return {}
    release(session)
    values: dict[str, Found] = {}
    with ThreadPoolExecutor(max_workers=min(8, len(systems))) as pool:
        for found in pool.map(lambda s: _ask(s, id_number), systems):
            values.update(found)
    return values


def systems_of_department(session: Session, department_id: int) -> list[DepartmentSystem]:
    return list(
        session.execute(
            select(DepartmentSystem)
            .where(
                DepartmentSystem.department_id == department_id,
                DepartmentSystem.active.is_(True),
            )
            .order_by(DepartmentSystem.code)
        ).scalars()
    )
