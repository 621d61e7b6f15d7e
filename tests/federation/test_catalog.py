"""Part 3: items defined above are inherited below (with local time limits and counters), and
each node's catalog is aggregated upward, only what changed, so the national node searches all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from tests.federation.conftest import CITY, NATIONAL, PROVINCE, item, load
from tests.fixtures.nodes import NodeProcess, wait_until
from tests.fixtures.principals import OPERATOR
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.federation.models import PeerMessage


def item_at(node: NodeProcess, code: str) -> dict[str, Any] | None:
    response = httpx.get(f"{node.url}/api/v1/items/{code}")
    return response.json() if response.status_code == 200 else None


def search(node: NodeProcess, text: str) -> dict[tuple[str, str], dict[str, Any]]:
    hits = httpx.get(node.url + "/api/v1/federation/catalog", params={"q": text}).json()
    return {(h["node_code"], h["item_code"]): h for h in hits}


def inherit_messages(node: NodeProcess, to: str) -> list[dict[str, Any]]:
    with unit_of_work(node.engine) as session:
        bodies = session.execute(
            select(PeerMessage.body)
            .where(PeerMessage.recipient == to, PeerMessage.message_type == "catalog.inherit")
            .order_by(PeerMessage.id)
        ).scalars()
        return [json.loads(b) for b in bodies]


def test_catalog_is_inherited_down_and_aggregated_up(
    nodes: dict[str, NodeProcess], tmp_path: Path
) -> None:
    national, province, city = nodes[NATIONAL], nodes[PROVINCE], nodes[CITY]
    load(national, tmp_path, ("MPS", "公安部"), [item("MPS-0001", "MPS", "居民身份证换领")])
    load(
        province, tmp_path, ("ZJHRSS", "浙江省人社厅"), [item("ZJHRSS-0001", "ZJHRSS", "社保转移")]
    )
    load(city, tmp_path, ("HZSAMR", "杭州市监局"), [item("HZSAMR-0001", "HZSAMR", "个体户登记")])

    # Down: the city offers the national and the provincial items as its own catalog items.
    wait_until(lambda: item_at(city, "MPS-0001") is not None, what="the national item in the city")
    wait_until(lambda: item_at(city, "ZJHRSS-0001") is not None, what="the provincial item")
    assert item_at(province, "MPS-0001") is not None
    assert item_at(national, "HZSAMR-0001") is None  # nothing is inherited upward
    city_hits = search(city, "")
    assert city_hits[(CITY, "MPS-0001")]["origin_code"] == NATIONAL
    assert city_hits[(CITY, "ZJHRSS-0001")]["origin_code"] == PROVINCE
    assert city_hits[(CITY, "HZSAMR-0001")]["origin_code"] == CITY

    # Up: the national node searches every region's items, told who offers and who defined them.
    wait_until(
        lambda: (CITY, "HZSAMR-0001") in search(national, "个体户"), what="the city item at the top"
    )
    # The city may sync what it inherited in a later round than its own item.
    wait_until(
        lambda: (CITY, "MPS-0001") in search(national, ""),
        what="the city's inherited item at the top",
    )
    top = search(national, "")
    assert top[(PROVINCE, "ZJHRSS-0001")]["origin_code"] == PROVINCE
    assert top[(CITY, "MPS-0001")]["origin_code"] == NATIONAL
    assert top[(NATIONAL, "MPS-0001")]["origin_code"] == NATIONAL

    # A local addition: the city promises 3 days and names its counter.
    city.cli(
        "federation",
        "catalog",
        "local",
        "MPS-0001",
        "--promised-days=3",
        "--counter=杭州市民中心 A 区 12 号窗口",
    )
    inherited = item_at(city, "MPS-0001")
    assert inherited is not None
    assert inherited["promised_days"] == 3
    assert item_at(national, "MPS-0001")["promised_days"] == 10  # type: ignore[index]
    wait_until(
        lambda: search(national, "MPS-0001").get((CITY, "MPS-0001"), {}).get("promised_days") == 3,
        what="the city's local time limit at the top",
    )
    assert search(national, "MPS-0001")[(CITY, "MPS-0001")]["counters"] == [
        "杭州市民中心 A 区 12 号窗口"
    ]

    # Incremental: a change at the top sends that one item, and reaches the city; the city's
    # local time limit stays.
    before = len(inherit_messages(national, PROVINCE))
    load(
        national,
        tmp_path,
        ("MPS", "公安部"),
        [item("MPS-0001", "MPS", "居民身份证换领（跨省）", statutory_days=15)],
    )
    wait_until(
        lambda: (item_at(city, "MPS-0001") or {}).get("name_zh") == "居民身份证换领（跨省）",
        what="the change to reach the city",
    )
    changes = inherit_messages(national, PROVINCE)[before:]
    assert [[i["code"] for i in m["items"]] for m in changes] == [["MPS-0001"]]
    changed = item_at(city, "MPS-0001")
    assert changed is not None
    assert changed["promised_days"] == 3
    assert changed["statutory_days"] == 15

    # Withdrawn at the top, withdrawn below.
    with unit_of_work(national.engine) as session:
        assert catalog_service.withdraw_item(session, OPERATOR, "MPS-0001")
    wait_until(lambda: item_at(city, "MPS-0001") is None, what="the withdrawal to reach the city")
    wait_until(
        lambda: (CITY, "MPS-0001") not in search(national, "MPS-0001"),
        what="the city's withdrawal to reach the top index",
    )
