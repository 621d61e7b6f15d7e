"""Three nodes (national, one province, one city) as separate processes with separate databases,
on mixed crypto suites: the national and city nodes sign with SM2/SM3, the province with
Ed25519/SHA-256."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.fixtures.nodes import NodeProcess, federation
from tongban.db.session import unit_of_work
from tongban.federation import service as federation_service
from tongban.federation.models import Direction, LoggedMessage

NATIONAL, PROVINCE, CITY = "100000", "330000", "330100"
NODES = [
    (NATIONAL, "国家政务服务平台", "national", None, "sm"),
    (PROVINCE, "浙江省", "provincial", NATIONAL, "intl"),
    (CITY, "杭州市", "city", PROVINCE, "sm"),
]


@pytest.fixture(scope="session")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, NodeProcess]]:
    with federation(tmp_path_factory.mktemp("federation"), NODES) as running:
        yield running


def send(node: NodeProcess, to: str, body: dict[str, Any], message_type: str = "note") -> str:
    """Queue a message at ``node`` (writing its database, as its own service would)."""
    with unit_of_work(node.engine) as session:
        message = federation_service.send(
            session, None, to=to, message_type=message_type, body=body
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
