"""Two ``tongban serve`` processes on one database, each serving the catalog from its memory: a
change made through one is served by the other from its very next request (the catalog version
lives in the database, not in a process)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import sessionmaker

from tests.conftest import PASSWORD, DemoCopy, totp_now
from tests.fixtures.live import free_port
from tests.fixtures.nodes import TONGBAN, Process, wait_until
from tongban.catalog import service as catalog_service

_, DEMO_ITEMS = catalog_service.read_catalog_dir(catalog_service.demo_catalog_dir())
SPECS = {spec.code: spec for spec in DEMO_ITEMS}


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/api/v1/departments", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def servers(
    tmp_path: Path, data_dir: Path, demo_copy: DemoCopy
) -> Iterator[tuple[list[str], sessionmaker]]:  # type: ignore[type-arg]
    """Two servers over a fresh database with the demo; yields their addresses and sessions."""
    with demo_copy(tmp_path) as engine:
        env = {
            **os.environ,
            "TONGBAN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "TONGBAN_DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("TONGBAN_PUBLIC_URL", None)
        processes, urls = [], []
        try:
            for n in range(2):
                port = free_port()
                process = Process(
                    [TONGBAN, "serve", "--port", str(port)], env, tmp_path / f"serve{n}.log"
                )
                processes.append(process)
                process.start()
                urls.append(f"http://127.0.0.1:{port}")
            for url in urls:
                wait_until(lambda u=url: _answers(u), what=f"tongban serving at {url}")  # type: ignore[misc]
            yield urls, sessionmaker(bind=engine)
        finally:
            for process in processes:
                process.stop()


def admin_token(url: str, factory: sessionmaker) -> dict[str, str]:  # type: ignore[type-arg]
    body = {"username": "admin", "password": PASSWORD, "totp": totp_now(factory, "admin")}
    answer = httpx.post(url + "/api/v1/session", json=body, timeout=30)
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_a_change_through_one_process_is_served_by_the_other_at_once(
    servers: tuple[list[str], sessionmaker],  # type: ignore[type-arg]
) -> None:
    (first, second), factory = servers
    with httpx.Client(base_url=second, cookies={"tongban_lang": "en"}, timeout=30) as other:
        # Both processes hold the catalog in memory now.
        for url in (first, second):
            assert httpx.get(url + "/api/v1/items/SAMR-0001").json()["name_en"] == (
                SPECS["SAMR-0001"].name_en
            )
        home = other.get("/")
        listed = other.get("/api/v1/items")

        renamed = SPECS["SAMR-0001"].model_dump(mode="json") | {"name_en": "Renamed in one"}
        changed = httpx.put(
            first + "/api/v1/items/SAMR-0001",
            json=renamed,
            headers=admin_token(first, factory),
            timeout=30,
        )
        assert changed.status_code == 200, changed.text

        assert other.get("/api/v1/items/SAMR-0001").json()["name_en"] == "Renamed in one"
        page = other.get("/items/SAMR-0001")
        assert "Renamed in one" in page.text
        again = other.get("/", headers={"If-None-Match": home.headers["etag"]})
        assert again.status_code == 200
        assert "Renamed in one" in again.text
        assert "Renamed in one" not in home.text
        answer = other.get("/api/v1/items", headers={"If-None-Match": listed.headers["etag"]})
        assert answer.status_code == 200
        assert "Renamed in one" in [i["name_en"] for i in answer.json()]

        # And the other way round: withdrawn through the second, gone from the first.
        assert httpx.get(first + "/items/SAMR-0002").status_code == 200
        gone = other.delete("/api/v1/items/SAMR-0002", headers=admin_token(second, factory))
        assert gone.status_code == 204
        assert httpx.get(first + "/items/SAMR-0002").status_code == 404
        assert "SAMR-0002" not in [i["code"] for i in httpx.get(first + "/api/v1/items").json()]
