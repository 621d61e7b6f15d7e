"""Real processes over one PostgreSQL: `tongban serve --workers 2`, a second `tongban serve`
and `tongban worker`, over real HTTP. They share nothing but the database: a change made
through one server is served by every process of the other at its next request, and the
worker sequences what the web processes journaled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import Engine, func, select

from tests.applications.helpers import submitted_application
from tests.catalog.conftest import item
from tests.fixtures.db import backend, fresh_database
from tests.fixtures.live import free_port
from tongban import demo
from tongban.audit import service as audit_service
from tongban.audit.models import AuditJournal
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.kit import clock
from tongban.worker.models import WorkerJob

TONGBAN = str(Path(sys.executable).with_name("tongban"))


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [TONGBAN, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not start: {log.read_text()[-3000:]}")


def wait_for(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@dataclass
class Platform:
    engine: Engine
    env: dict[str, str]
    logs: Path
    many: str  # `tongban serve --workers 2`
    one: str  # a second `tongban serve`
    worker: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[Platform]:
    if backend() != "postgresql":
        pytest.skip("several processes need PostgreSQL")
    tmp = tmp_path_factory.mktemp("processes")
    with fresh_database(tmp) as engine:
        with unit_of_work(engine) as session:
            demo.load(session)
        env = {
            **os.environ,
            "TONGBAN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            # The same master keys as this process, which loaded the demo (encrypted secrets).
            "TONGBAN_DATA_DIR": str(data_dir),
            "TONGBAN_LOG_JSON": "true",
        }
        env.pop("TONGBAN_PUBLIC_URL", None)
        many_port, one_port = free_port(), free_port()
        processes = {
            "many": start(["serve", "--workers", "2", "--port", str(many_port)], env, tmp / "many"),
            "one": start(["serve", "--port", str(one_port)], env, tmp / "one"),
            "worker": start(["worker"], env, tmp / "worker"),
        }
        try:
            many, one = f"http://127.0.0.1:{many_port}", f"http://127.0.0.1:{one_port}"
            wait_healthy(many, processes["many"], tmp / "many")
            wait_healthy(one, processes["one"], tmp / "one")
            yield Platform(engine, env, tmp, many, one, processes["worker"])
        finally:
            for process in processes.values():
                stop(process)


def sign_in(client: httpx.Client, engine: Engine, username: str) -> dict[str, str]:
    body = {"username": username, "password": demo.DEMO_PASSWORD}
    with unit_of_work(engine) as session:
        account = identity_service.get_by_username(session, username)
        assert account is not None
        if account.totp_enabled and account.totp_secret:
            account.totp_last_step = None
            body["totp"] = pyotp.TOTP(account.totp_secret).at(clock.utcnow())
    answer = client.post("/api/v1/session", json=body)
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_a_change_through_one_server_is_served_by_every_process_of_the_other(
    platform: Platform,
) -> None:
    code = "SAMR-0901"
    # Fresh connections each time, so both of the first server's processes answer.
    for _ in range(6):
        assert httpx.get(f"{platform.many}/api/v1/items/{code}").status_code == 404
    with httpx.Client(base_url=platform.one) as one:
        admin = sign_in(one, platform.engine, "admin")
        body = item(code, department="SAMR", name_en="Kite licence")
        assert one.put(f"/api/v1/items/{code}", json=body, headers=admin).status_code == 200
    for _ in range(6):
        answer = httpx.get(f"{platform.many}/api/v1/items/{code}")
        assert answer.status_code == 200
        assert answer.json()["name_en"] == "Kite licence"
    with httpx.Client(base_url=platform.one) as one:
        renamed = {**body, "name_en": "Balloon licence"}
        assert one.put(f"/api/v1/items/{code}", json=renamed, headers=admin).status_code == 200
    for _ in range(6):
        assert httpx.get(f"{platform.many}/api/v1/items/{code}").json()["name_en"] == (
            "Balloon licence"
        )


def test_the_worker_sequences_what_the_web_processes_journaled(platform: Platform) -> None:
    with httpx.Client(base_url=platform.many, timeout=30) as many:
        citizen = sign_in(many, platform.engine, "zhangsan")
        number = submitted_application(many, citizen)  # type: ignore[arg-type]

    def drained() -> bool:
        with unit_of_work(platform.engine) as session:
            return session.execute(select(func.count()).select_from(AuditJournal)).scalar() == 0

    wait_for(drained)
    with unit_of_work(platform.engine) as session:
        assert audit_service.verify(session).ok
        entries = audit_service.entries_for(session, target_type="application", target_id=number)
        assert any(e.action == "application.submit" for e in entries)
        job = session.get(WorkerJob, "audit-journal")
        assert job is not None
        assert job.runs > 0


def test_metrics_sum_the_processes_of_one_server(platform: Platform) -> None:
    for _ in range(10):
        httpx.get(f"{platform.many}/api/v1/items")
    text = httpx.get(f"{platform.many}/metrics").text
    count = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("tongban_http_request_duration_seconds_count")
        and 'route="/api/v1/items"' in line
    )
    assert count >= 10
    assert "tongban_outbox_due" in text


def test_a_killed_workers_jobs_are_taken_over(platform: Platform) -> None:
    stop(platform.worker, signal.SIGKILL)
    with unit_of_work(platform.engine) as session:
        before = session.get(WorkerJob, "audit-journal")
        assert before is not None
        runs = before.runs
    successor = start(["worker"], platform.env, platform.logs / "successor")
    try:

        def ran_again() -> bool:
            with unit_of_work(platform.engine) as session:
                row = session.get(WorkerJob, "audit-journal")
                return row is not None and row.runs > runs

        # Its lease (60 s) may have been held when the worker died: taken over after it.
        wait_for(ran_again, seconds=90)
    finally:
        stop(successor)


def test_several_web_processes_are_refused_on_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}"}
    done = subprocess.run(
        [TONGBAN, "serve", "--workers", "2", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers needs PostgreSQL" in done.stdout


def test_json_logs_carry_each_requests_id(platform: Platform) -> None:
    answer = httpx.get(
        f"{platform.many}/api/v1/items", headers={"X-Request-ID": "trace-0000000042"}
    )
    assert answer.headers["X-Request-ID"] == "trace-0000000042"

    def logged() -> bool:
        for line in (platform.logs / "many").read_text(encoding="utf-8").splitlines():
            if line.startswith("{") and '"trace-0000000042"' in line:
                entry = json.loads(line)
                return entry["route"] == "/api/v1/items" and entry["status"] == 200
        return False

    wait_for(logged, seconds=10)
