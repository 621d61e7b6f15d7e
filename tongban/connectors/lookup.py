"""Asking department systems for data they already hold on a person (once-only prefill).

Each system answers a signed ``GET <url>?id_number=...`` with its own field names; the
registration maps them to the platform's element names. Lookups run concurrently under a short
timeout, and a system that is down or slow is skipped: prefill helps, it never blocks applying.
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

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    value: Any
    # The system's name, shown to the applicant as where the value came from.
    origin: str


def _ask(system: DepartmentSystem, lookup: dict[str, Any], id_number: str) -> dict[str, Found]:
    query = urlencode({"id_number": id_number})
    headers = {
        signing.SYSTEM_HEADER: "TONGBAN",
        **signing.signed_headers(system.secret, query.encode()),
    }
    try:
        response = httpx.get(
            f"{lookup['url']}?{query}",
            headers=headers,
            timeout=float(lookup.get("timeout_seconds", 2)),
        )
    except httpx.HTTPError as exc:
        log.warning("lookup at %s failed: %s", system.code, exc)
        return {}
    if response.status_code != 200:
        if response.status_code != 404:  # 404: the system holds nothing on this person
            log.warning("lookup at %s answered %s", system.code, response.status_code)
        return {}
    try:
        found = response.json()
    except ValueError:
        log.warning("lookup at %s did not answer JSON", system.code)
        return {}
    provides: dict[str, str] = lookup["provides"]
    return {
        f"{system.code}.{element}": Found(found[field], system.name)
        for element, field in provides.items()
        if isinstance(found, dict) and found.get(field) not in (None, "")
    }


def lookup_values(session: Session, sources: Iterable[str], id_number: str) -> dict[str, Found]:
    """Values for ``<SYSTEM>.<element>`` sources, from every system that can answer."""
    codes = {s.split(".", 1)[0] for s in sources if "." in s}
    if not codes or not id_number:
        return {}
    systems = [
        s
        for s in session.execute(
            select(DepartmentSystem).where(
                DepartmentSystem.code.in_(codes), DepartmentSystem.active.is_(True)
            )
        ).scalars()
        if s.lookup
    ]
    if not systems:
        return {}
    values: dict[str, Found] = {}
    with ThreadPoolExecutor(max_workers=min(8, len(systems))) as pool:
        for found in pool.map(lambda s: _ask(s, s.lookup or {}, id_number), systems):
            values.update(found)
    return values
