"""Who used my data records what was actually read, once per use: opening a case page is one
read of the fields it showed (not one per part of the page), and an official's repeated opens
and searches of one case in a day are one entry each, counted, instead of a flood of entries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.conftest import sign_in
from tests.datause.test_data_use import record, submitted
from tests.identity.factories import new_citizen, new_official
from tests.identity.test_pages import signed_in
from tongban.datause.models import Channel, DataUse
from tongban.db.session import unit_of_work

ITEM = "SAMR-0001"


def official_entries(client: TestClient, username: str) -> list[dict[str, Any]]:
    entries = record(client, sign_in(client, username), per_page=100)["entries"]
    return [e for e in entries if e["channel"] != "gateway"]


class TestOfficialsUses:
    def test_repeated_opens_and_searches_of_a_case_are_one_entry_each(
        self, engine: Engine, client: TestClient
    ) -> None:
        person = new_citizen(engine)
        number = submitted(engine, person.username)
        official = new_official(engine, department="SAMR")
        pages = signed_in(client.app, official, lang="zh_CN")
        for _ in range(3):
            assert pages.get(f"/queue/{number}").status_code == 200
        for _ in range(4):
            found = pages.get("/queue/search", params={"item": ITEM})
            assert found.status_code == 200
            assert number in found.text

        entries = official_entries(client, person.username)

        by_channel = {e["channel"]: e for e in entries}
        assert sorted(e["channel"] for e in entries) == ["case_read", "case_search"]
        read, listed = by_channel["case_read"], by_channel["case_search"]
        assert (read["times"], listed["times"]) == (3, 4)
        assert read["first_at"] <= read["at"]
        assert read["reference"] == listed["reference"] == number
        # What the case page showed: the form's fields, by name.
        assert "经营者身份证号码" in read["items_zh"]

    def test_another_official_or_another_day_is_another_entry(
        self, engine: Engine, client: TestClient
    ) -> None:
        person = new_citizen(engine)
        number = submitted(engine, person.username)
        first = signed_in(client.app, new_official(engine, department="SAMR"))
        assert first.get(f"/queue/{number}").status_code == 200
        second = signed_in(client.app, new_official(engine, department="SAMR"))
        assert second.get(f"/queue/{number}").status_code == 200
        assert [e["times"] for e in official_entries(client, person.username)] == [1, 1]

        # The first official's entry was yesterday: their read today is a new one.
        with unit_of_work(engine) as session:
            for use in session.scalars(
                select(DataUse).where(
                    DataUse.reference == number, DataUse.channel == Channel.CASE_READ
                )
            ):
                use.at -= timedelta(days=1)
                use.first_at = use.at
        assert first.get(f"/queue/{number}").status_code == 200
        assert second.get(f"/queue/{number}").status_code == 200
        assert sorted(e["times"] for e in official_entries(client, person.username)) == [1, 1, 1, 1]
