"""Once-only prefill through the exchange: a form field whose source is ``RESOURCE.item`` gets
the applicant's value from a system of the handling department that holds a live grant for it,
fetched through the gateway as that system, so the call is checked, masked and audited like any
other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tongban.connectors.models import DepartmentSystem
from tongban.errors import TongbanError
from tongban.exchange import policy, repository
from tongban.exchange.service import gateway
from tongban.identity.principals import Principal


@dataclass(frozen=True)
class Prefilled:
    value: Any
    # What the applicant is shown as the value's origin.
    origin: str


def prefill_values(
    session: Session,
    subject: Principal,
    *,
    department_id: int,
    sources: Sequence[str],
    id_number: str,
) -> dict[str, Prefilled]:
    """Values for ``<RESOURCE>.<item>`` sources that a system of the handling department holds
    a live grant for, fetched through the gateway as that system (so the call is checked,
    masked and audited like any other). Masked values are never offered; a refused or failed
    call leaves its fields to the applicant."""
    policy.require_prefill(subject)
    wanted: dict[str, list[str]] = defaultdict(list)
    for source in sources:
        code, _, item = source.partition(".")
        wanted[code].append(item)
    # Each call is admitted (counted and checked) in a savepoint of its own, so a refused one
    # changes nothing; then the providers are asked, with no transaction open.
    admitted: list[tuple[str, str, gateway.Call]] = []
    for code, items in wanted.items():
        resource = repository.resource_by_code(session, code)
        if resource is None or not id_number:
            continue
        for grant in repository.live_grants_of_department(session, department_id, resource.id):
            covered = [i for i in items if i in grant.items]
            system = session.get(DepartmentSystem, grant.system_id)
            if not covered or system is None:
                continue
            try:
                with session.begin_nested():
                    call = gateway.admit(
                        session,
                        policy.require_gateway(system),
                        resource=code,
                        purpose=grant.purpose,
                        keys=[id_number],
                        items=covered,
                    )
            except TongbanError:
                continue
            admitted.append((code, f"{resource.title_zh}（{system.name}）", call))
    fetched = []
    for code, origin, call in admitted:
        try:
            fetched.append((code, origin, call, gateway.fetch(session, call)))
        except TongbanError:
            continue
    found: dict[str, Prefilled] = {}
    for code, origin, call, raw in fetched:
        answer = gateway.serve(session, call, raw)
        record = answer.records[0]["record"] or {}
        for item in answer.readable:
            if record.get(item) not in (None, ""):
                found.setdefault(f"{code}.{item}", Prefilled(record[item], origin))
    return found
