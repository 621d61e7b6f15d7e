"""Part 4: a person in a city applies for an item handled in another province (跨省通办): the
application travels there, its progress and result travel back, and the person sees them in the
home portal; a counter clerk at home accepts one on someone's behalf (收件地与办理地分离)."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select, update

from tests.federation.conftest import CITY, OTHER_PROVINCE, item, load
from tests.fixtures.nodes import NodeProcess, wait_until
from tests.fixtures.principals import OPERATOR
from tongban.applications import service as applications_service
from tongban.applications.states import Action
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.federation.applications import service as cross_region
from tongban.federation.models import HandledApplication
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.identity.numbers import resident_id_check_character

PASSWORD = "federation-password"
ITEM = "GDSAMR-0001"


def resident_id() -> str:
    born = date(1950, 1, 1) + timedelta(days=random.randrange(18000))
    first17 = f"330102{born:%Y%m%d}{random.randrange(1000):03d}"
    return first17 + resident_id_check_character(first17)


def account(node: NodeProcess, **fields: Any) -> Account:
    with unit_of_work(node.engine) as session:
        department = fields.pop("department", None)
        if department is not None:
            fields["department_id"] = catalog_service.get_department(
                session, OPERATOR, department
            ).id
        return identity_service.create_account(
            session, OPERATOR, username=f"u{uuid.uuid4().hex[:10]}", password=PASSWORD, **fields
        )


@pytest.fixture(scope="module")
def handling(nodes: dict[str, NodeProcess], tmp_path_factory: pytest.TempPathFactory) -> Account:
    """The other province offers an item, and has an official with every role to handle it."""
    province = nodes[OTHER_PROVINCE]
    load(
        province,
        tmp_path_factory.mktemp("gd"),
        ("GDSAMR", "广东省市场监督管理局"),
        [item(ITEM, "GDSAMR", "个体工商户设立登记（跨省）")],
    )
    return account(
        province,
        display_name="广东审批员",
        kind=AccountKind.OFFICIAL,
        department="GDSAMR",
        roles=["clerk", "reviewer", "approver"],
    )


def remote(node: NodeProcess, person: Account) -> list[dict[str, Any]]:
    with unit_of_work(node.engine) as session:
        return [
            {
                "ref": r.ref,
                "status": r.status,
                "number": r.number,
                "reason": r.reason,
                "result_number": r.result_number,
                "history": [h["status"] for h in r.history],
                "received_by_id": r.received_by_id,
            }
            for r in cross_region.my_remote_applications(session, person)
        ]


def act(node: NodeProcess, official: Account, number: str, *actions: Action) -> None:
    for action in actions:
        with unit_of_work(node.engine) as session:
            applications_service.act(session, official, number, action)


@pytest.fixture
def person(nodes: dict[str, NodeProcess]) -> Account:
    return account(
        nodes[CITY], display_name="陈跨省", kind=AccountKind.APPLICANT, id_number=resident_id()
    )


def apply_in_the_province(
    city: NodeProcess, person: Account
) -> tuple[dict[str, str], dict[str, Any]]:
    """The person, signed in at home, applies for the province's item: (headers, the answer)."""
    token = httpx.post(
        city.url + "/api/v1/session", json={"username": person.username, "password": PASSWORD}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    sent = httpx.post(
        city.url + "/api/v1/federation/applications",
        json={"node": OTHER_PROVINCE, "item_code": ITEM, "form": {"reason": "到广州开店"}},
        headers=headers,
    )
    assert sent.status_code == 201, sent.text
    return headers, dict(sent.json())


def test_an_application_travels_to_the_handling_province_and_its_result_comes_home(
    nodes: dict[str, NodeProcess], handling: Account, person: Account, chromium: Browser
) -> None:
    city, province = nodes[CITY], nodes[OTHER_PROVINCE]
    headers, sent = apply_in_the_province(city, person)
    assert sent["status"] == "sent"

    def mine() -> dict[str, Any]:
        listed = httpx.get(city.url + "/api/v1/federation/applications", headers=headers).json()
        return dict(listed[0])

    wait_until(lambda: mine()["status"] == "submitted", what="the handling node to file it")
    number = mine()["number"]
    assert mine()["item_name_zh"] == "个体工商户设立登记（跨省）"

    # There it is an ordinary application of the same person, keyed by resident ID number.
    with unit_of_work(province.engine) as session:
        filed = applications_service.get(session, handling, number)
        applicant = session.get(Account, filed.applicant_id)
        assert applicant is not None
        assert applicant.id_number == person.id_number
        # As the person sees it there (the handling official's view depends on their clearance).
        assert applications_service.disclose(session, applicant, filed).values == {
            "reason": "到广州开店"
        }
    act(province, handling, number, Action.ACCEPT, Action.START_REVIEW, Action.APPROVE)
    act(province, handling, number, Action.COMPLETE)
    wait_until(lambda: mine()["status"] == "completed", what="the result to come home")
    result = mine()
    assert result["result_number"]
    assert [h["status"] for h in result["history"]] == [
        "sent",
        "draft",
        "submitted",
        "accepted",
        "in_review",
        "approved",
        "completed",
    ]

    # The person sees it in the home portal.
    context = chromium.new_context(base_url=city.url, locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/login")
        page.get_by_label("用户名").fill(person.username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page).not_to_have_url(re.compile(r"/login"))
        page.goto("/federation/applications")
        card = page.get_by_test_id("remote-application")
        expect(card).to_contain_text("个体工商户设立登记（跨省）")
        expect(card).to_contain_text(number)
        expect(card).to_contain_text(OTHER_PROVINCE)
        expect(page.get_by_test_id("remote-status")).to_have_text("已办结")
    finally:
        context.close()


def test_a_status_change_is_reported_home_even_when_its_history_was_counted(
    nodes: dict[str, NodeProcess], handling: Account, person: Account
) -> None:
    """On PostgreSQL a round can load the history after a change and the status before it
    (two statements); it then reports the old status with the new history's length. The next
    round still reports the status."""
    city, province = nodes[CITY], nodes[OTHER_PROVINCE]
    ref = apply_in_the_province(city, person)[1]["ref"]

    def handled() -> HandledApplication | None:
        with unit_of_work(province.engine) as session:
            return session.execute(
                select(HandledApplication).where(HandledApplication.ref == ref)
            ).scalar_one_or_none()

    wait_until(
        lambda: (h := handled()) is not None and h.reported_status == "submitted",
        what="the handling node to report it filed",
    )
    with unit_of_work(province.engine) as session:
        # What the torn read reported: the status before the change, the history after it.
        session.execute(
            update(HandledApplication)
            .where(HandledApplication.ref == ref)
            .values(reported_status="draft")
        )
    wait_until(
        lambda: (h := handled()) is not None and h.reported_status == "submitted",
        what="the status to be reported again",
    )


def test_a_counter_clerk_at_home_files_for_someone_else(
    nodes: dict[str, NodeProcess], handling: Account, tmp_path: Path
) -> None:
    city, province = nodes[CITY], nodes[OTHER_PROVINCE]
    load(city, tmp_path, ("HZSAMR", "杭州市监局"), [item("HZSAMR-0001", "HZSAMR", "个体户登记")])
    clerk = account(
        city,
        display_name="杭州窗口",
        kind=AccountKind.OFFICIAL,
        department="HZSAMR",
        roles=["clerk"],
    )
    walk_in = resident_id()
    with unit_of_work(city.engine) as session:
        filed = cross_region.apply_elsewhere(
            session,
            clerk,
            node=OTHER_PROVINCE,
            item_code=ITEM,
            form={"reason": "窗口代收"},
            id_number=walk_in,
            name="林到窗",
        )
        assert filed.received_by_id == clerk.id
    with unit_of_work(city.engine) as session:
        person = identity_service.person_for_resident(
            session, OPERATOR, id_number=walk_in, name="林到窗"
        )
    wait_until(lambda: remote(city, person)[0]["status"] == "submitted", what="filing there")
    number = remote(city, person)[0]["number"]
    with unit_of_work(province.engine) as session:
        there = applications_service.get(session, handling, number)
        applicant = session.get(Account, there.applicant_id)
        assert applicant is not None
        assert applicant.id_number == walk_in
    with unit_of_work(city.engine) as session, pytest.raises(Exception, match="counter clerk"):
        cross_region.apply_elsewhere(
            session,
            person,
            node=OTHER_PROVINCE,
            item_code=ITEM,
            form={},
            id_number=resident_id(),
            name="冒名",
        )


def test_an_item_the_handling_node_does_not_offer_comes_back_refused(
    nodes: dict[str, NodeProcess], handling: Account, person: Account
) -> None:
    city = nodes[CITY]
    with unit_of_work(city.engine) as session:
        cross_region.apply_elsewhere(
            session, person, node=OTHER_PROVINCE, item_code="GDSAMR-9999", form={}
        )
    wait_until(lambda: remote(city, person)[0]["status"] == "refused", what="the refusal")
    refused = remote(city, person)[0]
    assert refused["number"] is None
    assert "GDSAMR-9999" in refused["reason"]
    assert refused["history"] == ["sent", "refused"]
