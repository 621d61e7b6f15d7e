"""Pages in the language the reader chose, over HTTP as a browser asks for them (cookie, Accept
text/html): the message inbox, the sharing conditions of a data resource, the statistics filter."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from tests.applications.factories import application_in
from tests.identity.factories import Person, new_official
from tests.identity.test_pages import signed_in
from tests.notifications.conftest import Recorders, deliver_all, make_applicant
from tongban.applications.states import Status

HTML = {"Accept": "text/html"}


class TestInbox:
    def test_a_message_is_shown_in_the_language_chosen(self, app: FastAPI, engine: Engine) -> None:
        applicant = make_applicant(engine)
        number = application_in(engine, applicant=applicant.username, status=Status.ACCEPTED)
        deliver_all(engine, Recorders().senders())
        person = Person(applicant.username, applicant.id)

        english = signed_in(app, person, "en").get("/notifications", headers=HTML)
        assert english.status_code == 200
        assert f"Your application {number} for" in english.text
        assert "Application accepted" in english.text
        assert "已受理" not in english.text

        chinese = signed_in(app, person, "zh_CN").get("/notifications", headers=HTML)
        assert "申请已受理" in chinese.text
        assert f"Your application {number}" not in chinese.text


class TestSharingConditions:
    def test_a_condition_is_shown_in_english(self, app: FastAPI, engine: Engine) -> None:
        client = signed_in(app, new_official(engine), "en")
        page = client.get("/exchange/resources/PSB-POPULATION", headers=HTML)
        assert page.status_code == 200
        assert "Only to check an applicant&#39;s age eligibility" in page.text
        assert "仅用于核验办事人年龄资格" not in page.text

    def test_and_in_chinese(self, app: FastAPI, engine: Engine) -> None:
        client = signed_in(app, new_official(engine), "zh_CN")
        page = client.get("/exchange/resources/PSB-POPULATION", headers=HTML)
        assert "仅用于核验办事人年龄资格" in page.text


class TestStatisticsFilter:
    def test_the_from_date_is_labelled_as_a_date(self, app: FastAPI, engine: Engine) -> None:
        client = signed_in(app, new_official(engine, roles=("supervisor",)), "zh_CN")
        page = client.get("/analytics", headers=HTML)
        assert page.status_code == 200
        assert "起始日期" in page.text
        assert "原值" not in page.text
        english = signed_in(app, new_official(engine, roles=("supervisor",)), "en")
        assert "Starting on" in english.get("/analytics", headers=HTML).text
