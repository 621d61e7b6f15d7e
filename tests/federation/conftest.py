"""Nodes as separate processes with separate databases: the national node, a province with one
city, and a second province (where cross-region applications are handled); on mixed crypto
suites: the national and city nodes sign with SM2/SM3, the provinces with Ed25519/SHA-256."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from tests.fixtures.nodes import NodeProcess, federation
from tests.fixtures.principals import OPERATOR
from tongban.db.session import unit_of_work
from tongban.federation import service as federation_service
from tongban.federation.models import Direction, LoggedMessage

NATIONAL, PROVINCE, CITY, OTHER_PROVINCE = "100000", "330000", "330100", "440000"
NODES = [
    (NATIONAL, "国家政务服务平台", "national", None, "sm"),
    (PROVINCE, "浙江省", "provincial", NATIONAL, "intl"),
    (CITY, "杭州市", "city", PROVINCE, "sm"),
    (OTHER_PROVINCE, "广东省", "provincial", NATIONAL, "intl"),
]


@pytest.fixture(scope="package")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, NodeProcess]]:
    """The four nodes, started once for this folder's tests and stopped after its last (their
    eight processes poll several times a second: left running, they would slow every test
    the worker runs afterwards)."""
    with federation(tmp_path_factory.mktemp("federation"), NODES) as running:
        yield running


def send(node: NodeProcess, to: str, body: dict[str, Any], message_type: str = "note") -> str:
    """Queue a message at ``node`` (writing its database, as its own service would)."""
    with unit_of_work(node.engine) as session:
        message = federation_service.send(
            session, OPERATOR, to=to, message_type=message_type, body=body
        )
        return message.message_id


def inbound(node: NodeProcess, sender: str) -> dict[str, int]:
    """How many times each message from ``sender`` is in ``node``'s log."""
    with unit_of_work(node.engine) as session:
        rows = session.execute(
            select(LoggedMessage.message_id, func.count())
            .where(LoggedMessage.direction == Direction.IN, LoggedMessage.sender == sender)
            .group_by(LoggedMessage.message_id)
        )
        return dict(rows.tuples().all())


def item(code: str, department: str, name_zh: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": code,
        "department": department,
        "name_zh": name_zh,
        "name_en": f"Item {code}",
        "audience": "person",
        "legal_basis_zh": ["《测试法》"],
        "legal_basis_en": ["Test Law"],
        "statutory_days": 20,
        "promised_days": 10,
        "fee": "0.00",
        "online": True,
        "offline": True,
        "max_visits": 0,
        "result_zh": "证明",
        "result_en": "Certificate",
        "fields": [
            {
                "name": "reason",
                "type": "text",
                "label_zh": "事由",
                "label_en": "Reason",
                "security_label": "internal",
            }
        ],
    }
    data.update(overrides)
    return data


def load(
    node: NodeProcess, where: Path, department: tuple[str, str], items: list[dict[str, Any]]
) -> None:
    root = where / f"catalog-{node.code}"
    (root / "items").mkdir(parents=True, exist_ok=True)
    code, name = department
    (root / "departments.yaml").write_text(
        yaml.safe_dump([{"code": code, "name_zh": name, "name_en": code}], allow_unicode=True)
    )
    (root / "items" / "items.yaml").write_text(yaml.safe_dump(items, allow_unicode=True))
    node.cli("catalog", "load", str(root))
