"""Credibility grades in a real browser: the reviewer's case page shows each piece of evidence
with its grade and says plainly that the licence needs checking against the original; approval
is refused until a counter clerk checks it at the single window, then it goes through."""

from __future__ import annotations

import io
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import Engine

from tests.fixtures.files import pdf_bytes
from tests.identity.factories import Person
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_real_png, log_in, screenshot
from tongban.applications import service as applications_service
from tongban.applications.states import Action
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service


def case_in_review(engine: Engine, applicant: str, official: str, item_code: str) -> str:
    """An application whose licence was uploaded (grade C), submitted, accepted and in review."""
    with unit_of_work(engine) as session:
        person = identity_service.get_by_username(session, applicant)
        handler = identity_service.get_by_username(session, official)
        number = applications_service.start(
            session, person, item_code=item_code, form={"shop_name": "张记", "kind": "first"}
        ).number
        applications_service.add_material(
            session,
            person,
            number,
            requirement_code="licence",
            filename="licence.pdf",
            stream=io.BytesIO(pdf_bytes()),
        )
        applications_service.act(session, person, number, Action.SUBMIT)
        for action in (Action.ACCEPT, Action.START_REVIEW):
            applications_service.act(session, handler, number, action)
        return number


class TestGradesOnPages:
    def test_the_reviewer_waits_for_the_counter_check_of_the_original(
        self,
        engine: Engine,
        graded_item: str,
        department_official: Person,
        citizen: tuple[str, str],
        new_page: NewPage,
        totp_code: TotpCode,
        artifacts: Path,
    ) -> None:
        username, id_number = citizen
        number = case_in_review(engine, username, department_official.username, graded_item)

        reviewer = new_page()
        log_in(reviewer, department_official.username, code=totp_code(department_official.username))
        reviewer.goto(f"/queue/{number}")
        licence = reviewer.get_by_test_id("evidence-material-licence")
        expect(licence).to_have_attribute("data-grade", "C")
        expect(licence).to_contain_text("需要B级：请携带原件到任一综合窗口核验")
        expect(reviewer.get_by_test_id("evidence-field-full_name")).to_have_attribute(
            "data-grade", "A"
        )
        expect(reviewer.get_by_test_id("evidence-field-shop_name")).to_have_attribute(
            "data-grade", "D"
        )
        expect(reviewer.get_by_test_id("evidence-below")).to_be_visible()
        assert_real_png(screenshot(reviewer, artifacts, "evidence-grades"))
        reviewer.locator("button[value=approve]").click()
        expect(reviewer.get_by_test_id("error")).to_contain_text("营业执照")
        expect(reviewer.get_by_test_id("evidence-material-licence")).to_have_attribute(
            "data-grade", "C"
        )

        clerk = new_page()
        log_in(clerk, "counter_clerk", code=totp_code("counter_clerk"))
        clerk.goto("/counter")
        clerk.locator("input[name=id_number]").first.fill(id_number)
        clerk.locator("input[name=id_number]").first.press("Enter")
        waiting = clerk.get_by_test_id("originals").locator("li", has_text=number)
        expect(waiting).to_contain_text("营业执照")
        waiting.get_by_role("button", name="已核验原件").click()
        expect(clerk.get_by_test_id("originals").locator("li", has_text=number)).to_have_count(0)

        reviewer.goto(f"/queue/{number}")
        expect(reviewer.get_by_test_id("evidence-material-licence")).to_have_attribute(
            "data-grade", "B"
        )
        expect(reviewer.get_by_test_id("evidence-below")).to_have_count(0)
        reviewer.locator("button[value=approve]").click()
        expect(reviewer.get_by_test_id("error")).to_have_count(0)
        expect(reviewer.locator("button[value=complete]")).to_be_visible()
