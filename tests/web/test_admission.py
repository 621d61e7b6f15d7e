"""Admission control: a full process answers 503 with Retry-After at once, by lane; sign-in's
password hashing is bounded apart."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from tests.conftest import PASSWORD
from tongban.errors import Overloaded, TongbanError
from tongban.identity import credentials
from tongban.web.admission import Admission, Lane, lane_of
from tongban.web.app import create_app
from tongban.web.errors import shed_response


class Held:
    """An app that answers only when released: requests stay in flight as long as a test wants."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        await self.release.wait()
        await JSONResponse({"ok": True})(scope, receive, send)


class Gates:
    """An app whose requests each wait for their own path's release, and that records the
    order in which requests got in."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.entered: list[str] = []

    def gate(self, path: str) -> asyncio.Event:
        return self.gates.setdefault(path, asyncio.Event())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered.append(scope["path"])
        await self.gate(scope["path"]).wait()
        await JSONResponse({"ok": True})(scope, receive, send)

    async def drive(
        self, admission: Admission, requests: list[dict[str, object]]
    ) -> list[httpx.Response]:
        """Send ``requests`` one after the other (each in before the next), then release them
        in the order sent, each once it is in."""
        transport = httpx.ASGITransport(app=admission)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            tasks = []
            for request in requests:
                tasks.append(asyncio.create_task(client.request(**request)))  # type: ignore[arg-type]
                await asyncio.sleep(0.05)
            for request in requests:
                path = str(request["url"])
                for _ in range(100):
                    if path in self.entered:
                        break
                    await asyncio.sleep(0.02)
                self.gate(path).set()
                await asyncio.sleep(0.05)
            return list(await asyncio.gather(*tasks))


def _render(request: Request, exc: TongbanError) -> Response:
    return JSONResponse({"code": exc.code}, status_code=exc.status_code, headers=exc.headers())


async def _fill(
    admission: Admission, held: Held, requests: list[dict[str, object]]
) -> list[httpx.Response]:
    """Send ``requests`` at once, wait until those admitted are in, then let them finish."""
    transport = httpx.ASGITransport(app=admission)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        tasks = [asyncio.create_task(client.request(**r)) for r in requests]  # type: ignore[arg-type]
        await asyncio.sleep(0.2)
        held.release.set()
        return list(await asyncio.gather(*tasks))


def _sent_at_once(
    admission: Admission, held: Held, requests: list[dict[str, object]]
) -> list[httpx.Response]:
    """``_fill`` in an event loop of its own thread: a browser test's Playwright may hold this
    thread's loop for the rest of the session."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _fill(admission, held, requests)).result()


def _admission(held: Held, monkeypatch: pytest.MonkeyPatch, **settings: str) -> Admission:
    from tongban.config import get_settings

    for name, value in settings.items():
        monkeypatch.setenv(f"TONGBAN_{name.upper()}", value)
    get_settings.cache_clear()
    try:
        return Admission(held, render=_render)
    finally:
        get_settings.cache_clear()


class TestLanes:
    def test_a_full_process_refuses_at_once_with_retry_after(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        held = Held()
        admission = _admission(
            held,
            monkeypatch,
            max_in_flight="4",
            admission_reserved_share="0",
            admission_queue_seconds="0",
        )
        answers = _sent_at_once(admission, held, [{"method": "GET", "url": "/items"}] * 7)
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] * 4 + [503] * 3
        refused = next(a for a in answers if a.status_code == 503)
        assert refused.headers["Retry-After"] == "1"
        assert held.entered == 4
        assert admission.in_flight == 0

    def test_signed_in_work_is_admitted_when_anonymous_browsing_is_refused(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        held = Held()
        admission = _admission(
            held,
            monkeypatch,
            max_in_flight="4",
            admission_reserved_share="0.5",
            admission_queue_seconds="0",
        )
        anonymous = [{"method": "GET", "url": "/"}] * 4
        official = [{"method": "GET", "url": "/queue", "headers": {"Cookie": "tongban_session=x"}}]
        answers = _sent_at_once(admission, held, anonymous + official * 2)
        assert [a.status_code for a in answers[:4]].count(200) == 2
        assert [a.status_code for a in answers[4:]] == [200, 200]

    def test_a_sign_in_flood_leaves_room_for_every_other_route(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        held = Held()
        # Sign-ins are counted apart: the flood takes none of the other routes' three places.
        admission = _admission(
            held,
            monkeypatch,
            max_in_flight="3",
            admission_reserved_share="0",
            max_sign_in_in_flight="2",
            admission_queue_seconds="0",
        )
        flood = [{"method": "POST", "url": "/api/v1/session", "json": {}}] * 6
        others = [{"method": "GET", "url": "/items"}] * 3
        answers = _sent_at_once(admission, held, flood + others)
        assert [a.status_code for a in answers[:6]].count(200) == 2
        assert [a.status_code for a in answers[6:]] == [200, 200, 200]

    @pytest.mark.parametrize(
        ("sent", "served"),
        # Two served at once, two waited and were served once the first went; at most as many
        # wait as the process admits, so the rest are refused at once.
        [(4, 4), (7, 4)],
    )
    def test_a_burst_waits_a_moment_and_is_served_as_far_as_the_queue_holds(
        self, monkeypatch: pytest.MonkeyPatch, sent: int, served: int
    ) -> None:
        held = Held()
        admission = _admission(
            held,
            monkeypatch,
            max_in_flight="2",
            admission_reserved_share="0",
            admission_queue_seconds="5",
        )
        answers = _sent_at_once(admission, held, [{"method": "GET", "url": "/items"}] * sent)
        assert sorted(a.status_code for a in answers) == [200] * served + [503] * (sent - served)
        assert held.entered == served
        assert (admission.in_flight, admission.waiters) == (0, 0)

    def test_a_request_that_waited_past_the_queue_deadline_gets_503_with_retry_after(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        held = Held()  # released 0.2 s after the requests are sent: after the deadline
        admission = _admission(held, monkeypatch, max_in_flight="1", admission_queue_seconds="0.05")
        answers = _sent_at_once(admission, held, [{"method": "GET", "url": "/items"}] * 2)
        assert sorted(a.status_code for a in answers) == [200, 503]
        refused = next(a for a in answers if a.status_code == 503)
        assert refused.headers["Retry-After"] == "1"
        assert held.entered == 1  # refused at its deadline, not served late
        assert (admission.in_flight, admission.waiters) == (0, 0)

    def test_a_freed_place_goes_to_signed_in_work_before_browsing_that_waited_longer(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        gates = Gates()
        admission = _admission(
            gates,  # type: ignore[arg-type]
            monkeypatch,
            max_in_flight="2",
            admission_reserved_share="0.5",
            admission_queue_seconds="5",
        )
        signed_in = {"Authorization": "Bearer t"}
        order = [
            {"method": "GET", "url": "/work/1", "headers": signed_in},
            {"method": "GET", "url": "/work/2", "headers": signed_in},
            {"method": "GET", "url": "/browse"},
            {"method": "GET", "url": "/work/3", "headers": signed_in},
        ]
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            answers = pool.submit(asyncio.run, gates.drive(admission, order)).result()
        assert [a.status_code for a in answers] == [200, 200, 200, 200]
        # /work/1 finished first; its place went to /work/3, though /browse had waited longer.
        assert gates.entered == ["/work/1", "/work/2", "/work/3", "/browse"]

    @pytest.mark.parametrize(
        ("trusted", "stamped_ago", "expected"),
        [("true", 1.0, 503), ("true", 0.0, 200), ("false", 1.0, 200)],
    )
    def test_a_request_the_proxy_took_longer_ago_than_the_deadline_is_refused_at_once(
        self, monkeypatch: pytest.MonkeyPatch, trusted: str, stamped_ago: float, expected: int
    ) -> None:
        held = Held()
        admission = _admission(
            held,
            monkeypatch,
            max_in_flight="4",
            admission_queue_seconds="0.25",
            admission_trust_request_start=trusted,
        )
        stamp = {"X-Request-Start": f"t={time.time() - stamped_ago:.3f}"}
        answers = _sent_at_once(
            admission, held, [{"method": "GET", "url": "/items", "headers": stamp}]
        )
        assert answers[0].status_code == expected
        assert held.entered == (expected == 200)
        if expected == 503:
            assert answers[0].headers["Retry-After"] == "1"

    def test_health_is_never_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        held = Held()
        admission = _admission(held, monkeypatch, max_in_flight="1")
        answers = _sent_at_once(admission, held, [{"method": "GET", "url": "/healthz"}] * 3)
        assert [a.status_code for a in answers] == [200, 200, 200]

    def test_lanes_read_only_the_request_line_and_headers(self) -> None:
        def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
            return {"type": "http", "method": method, "path": path, "headers": headers}

        assert lane_of(scope("POST", "/login", [])) is Lane.SIGN_IN
        assert lane_of(scope("GET", "/login", [])) is Lane.ANONYMOUS
        assert lane_of(scope("GET", "/queue", [(b"cookie", b"tongban_session=a")])) is (
            Lane.SIGNED_IN
        )
        assert lane_of(scope("GET", "/api/v1/applications", [(b"authorization", b"Bearer t")])) is (
            Lane.SIGNED_IN
        )


class TestTheApp:
    def test_a_refusal_is_the_platforms_error_with_retry_after(self, engine: Engine) -> None:
        app = create_app(engine, max_in_flight=1)
        client = TestClient(app)
        assert client.get("/healthz").status_code == 200  # builds the middleware stack
        layer = app.middleware_stack
        while not isinstance(layer, Admission):
            layer = layer.app  # type: ignore[union-attr]
        assert layer.render is shed_response
        layer.in_flight = 1  # as if another request were being served
        answer = client.get("/api/v1/items")
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "overloaded"
        assert answer.headers["Retry-After"] == "1"
        page = client.get("/items", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert "text/html" in page.headers["content-type"]

    def test_the_app_admits_requests_and_counts_them_out(self, engine: Engine) -> None:
        client = TestClient(create_app(engine, max_in_flight=2))
        for _ in range(5):
            assert client.get("/api/v1/items").status_code == 200


class TestHashingPool:
    def test_a_hash_waits_its_turn_then_is_refused(self) -> None:
        pool = credentials.HashingPool(size=1, wait=0.05)
        inside = threading.Event()
        leave = threading.Event()

        def hold() -> None:
            with pool.turn():
                inside.set()
                leave.wait(5)

        holder = threading.Thread(target=hold)
        holder.start()
        inside.wait(5)
        with pytest.raises(Overloaded) as refused, pool.turn():
            pass
        assert refused.value.headers() == {"Retry-After": "1"}
        leave.set()
        holder.join()
        with pool.turn():
            pass  # free again

    def test_hashing_takes_no_more_than_its_share_of_the_time(self) -> None:
        # 0.4 s hashed, with 0.05 s in the budget and 0.1 s refilled meanwhile (a quarter of a
        # second a second): 0.25 s owed, so the next hash may start a second later.
        impatient = credentials.HashingPool(size=2, wait=0.2, share=0.25, burst=0.05)
        with impatient.turn():
            time.sleep(0.4)
        with pytest.raises(Overloaded), impatient.turn():
            pass
        # Setting a password spends the budget but never waits for it: the demo loader and an
        # import make accounts in a row.
        asked = time.monotonic()
        with impatient.turn(paced=False):
            pass
        assert time.monotonic() - asked < 0.1
        patient = credentials.HashingPool(size=2, wait=3.0, share=0.25, burst=0.05)
        with patient.turn():
            time.sleep(0.4)
        asked = time.monotonic()
        with patient.turn():
            waited = time.monotonic() - asked
        assert 0.7 <= waited < 2.5

    def test_sign_in_is_answered_503_while_the_hashing_pool_is_full(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TONGBAN_HASHING_POOL_SIZE", "1")
        monkeypatch.setenv("TONGBAN_HASHING_WAIT_SECONDS", "0")
        from tongban.config import get_settings

        get_settings.cache_clear()
        try:
            pool = credentials.hashing_pool()
            with pool.turn():
                answer = client.post(
                    "/api/v1/session", json={"username": "zhangsan", "password": PASSWORD}
                )
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "1"
            assert client.get("/api/v1/items").status_code == 200
            again = client.post(
                "/api/v1/session", json={"username": "zhangsan", "password": PASSWORD}
            )
            assert again.status_code == 201
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()
