"""Rate limits per client, through real HTTP, counted in the process and in a real Redis: on
each limited route the request after the limit is answered 429 with Retry-After, another
address (or account, client, system, number) is not affected, and the limit expires.

The suite runs with every limit raised (tests/conftest.py); each test here sets the ones it
checks low, under a key prefix of its own, so parallel runs sharing one Redis never collide.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import application_in
from tests.conftest import SetLimits
from tests.fixtures.exchange import Exchange, call, machine_token, system
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import fresh_id_number, new_citizen, new_official, unique
from tests.identity.test_pages import csrf, password_step
from tests.notifications.conftest import Recorders, deliver_all, make_applicant
from tests.tracking.test_tracking import unknown_number
from tongban.applications.states import Status
from tongban.config import Settings, get_settings
from tongban.db.session import unit_of_work
from tongban.exchange import service as exchange_service
from tongban.kit import ids, ratelimit

WRONG = "not-the-password"

Client = Callable[..., TestClient]


@pytest.fixture
def at(app: FastAPI) -> Client:
    """A client connecting from ``address`` (a browser's when ``html``)."""

    def make(address: str, *, html: bool = False) -> TestClient:
        client = TestClient(app, client=(address, 50000), follow_redirects=False)
        client.cookies.set("tongban_lang", "en")
        if html:
            client.headers["Accept"] = "text/html"
        return client

    return make


def allowed(response: httpx.Response) -> bool:
    return response.status_code != 429


def assert_refused(response: httpx.Response, window_seconds: int = 60) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= window_seconds
    if response.headers["content-type"].startswith("application/json"):
        body = response.json()
        code = body["error"] if isinstance(body["error"], str) else body["error"]["code"]
        assert code == "rate_limited"
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert "Too many requests" in response.text


def sign_in(client: TestClient, username: str) -> httpx.Response:
    return client.post("/api/v1/session", json={"username": username, "password": WRONG})


def page_form(client: TestClient, page: str, action: str, **fields: str) -> httpx.Response:
    """Post a page's form as a browser does: open the page, send its CSRF token back."""
    token = csrf(client.get(page).text)
    return client.post(action, data={"csrf": token, **fields})


def login(client: TestClient, username: str) -> httpx.Response:
    # With the page's token, as a browser: a post without one is refused before any password.
    return page_form(client, "/login", "/login", username=username, password=WRONG)


class TestSignIn:
    @pytest.mark.parametrize("send", [sign_in, login], ids=["api", "page"])
    def test_an_address_gets_its_limit(
        self, limits: SetLimits, at: Client, send: Callable[[TestClient, str], httpx.Response]
    ) -> None:
        limits(sign_in_address="2/minute")
        one, other = at("203.0.113.10", html=True), at("203.0.113.11", html=True)
        assert all(allowed(send(one, unique("who"))) for _ in range(2))
        assert_refused(send(one, unique("who")))
        assert allowed(send(other, unique("who")))

    @pytest.mark.parametrize("send", [sign_in, login], ids=["api", "page"])
    def test_an_account_gets_its_limit_from_any_address(
        self,
        limits: SetLimits,
        at: Client,
        engine: Engine,
        send: Callable[[TestClient, str], httpx.Response],
    ) -> None:
        limits(sign_in_account="2/minute")
        target, bystander = new_citizen(engine), new_citizen(engine)
        assert allowed(send(at("203.0.113.20"), target.username))
        assert allowed(send(at("203.0.113.21"), target.username.upper()))
        assert_refused(send(at("203.0.113.22", html=True), target.username))
        assert allowed(send(at("203.0.113.22"), bystander.username))

    def test_the_authenticator_step_counts_per_address_and_account(
        self, limits: SetLimits, at: Client, engine: Engine
    ) -> None:
        limits(sign_in_address="3/minute")
        official = new_official(engine)
        client = at("203.0.113.30", html=True)
        step = password_step(client, official)  # 1
        token = csrf(client.get(step).text)
        for _ in range(2):  # 2, 3
            assert allowed(client.post("/login/code", data={"csrf": token, "code": "000000"}))
        assert_refused(client.post("/login/code", data={"csrf": token, "code": "000000"}))

        limits(sign_in_address="100/minute", sign_in_account="1/minute")
        other = new_official(engine)
        client = at("203.0.113.31", html=True)
        token = csrf(client.get(password_step(client, other)).text)
        assert_refused(client.post("/login/code", data={"csrf": token, "code": "000000"}))

    def test_the_lock_after_failures_still_holds(
        self, limits: SetLimits, at: Client, engine: Engine
    ) -> None:
        limits()  # the suite's loose limits: only the account's own lock refuses
        person = new_citizen(engine)
        client = at("203.0.113.35")
        for _ in range(get_settings().sign_in_max_failures):
            assert sign_in(client, person.username).status_code == 401
        right = client.post(
            "/api/v1/session", json={"username": person.username, "password": person.password}
        )
        assert right.status_code == 401


class TestRegistrationAndClaim:
    def test_registration_over_the_api(self, limits: SetLimits, at: Client) -> None:
        limits(register_address="2/minute")
        one, other = at("203.0.113.40"), at("203.0.113.41")
        body = {"username": "x", "password": "x", "display_name": "x", "id_number": "1"}
        assert all(allowed(one.post("/api/v1/accounts", json=body)) for _ in range(2))
        assert_refused(one.post("/api/v1/accounts", json=body))
        assert allowed(other.post("/api/v1/accounts", json=body))

    def test_registration_page(self, limits: SetLimits, at: Client) -> None:
        limits(register_address="2/minute")
        one, other = at("203.0.113.42", html=True), at("203.0.113.43", html=True)
        for _ in range(2):
            assert allowed(page_form(one, "/register", "/register", username="x"))
        assert_refused(page_form(one, "/register", "/register", username="x"))
        assert allowed(page_form(other, "/register", "/register", username="x"))

    @pytest.mark.parametrize("action", ["/claim", "/claim/finish"])
    def test_claim(self, limits: SetLimits, at: Client, action: str) -> None:
        limits(claim_address="2/minute")
        one, other = at("203.0.113.44", html=True), at("203.0.113.45", html=True)
        fields = {"id_number": fresh_id_number(), "code": "000000"}
        for _ in range(2):
            assert allowed(page_form(one, "/claim", action, **fields))
        assert_refused(page_form(one, "/claim", action, **fields))
        assert allowed(page_form(other, "/claim", action, **fields))


def track_api(client: TestClient) -> httpx.Response:
    return client.post("/api/v1/tracking", json={"number": unknown_number(), "code": "123456"})


def track_page(client: TestClient) -> httpx.Response:
    return page_form(client, "/track", "/track/progress", number=unknown_number(), code="123456")


def some_number() -> str:
    body = f"TB2026{uuid.uuid4().int % 10**10:010d}"
    return body + ids.check_characters(body)


def code_api(client: TestClient, number: str | None = None) -> httpx.Response:
    return client.post("/api/v1/tracking/codes", json={"number": number or some_number()})


def code_page(client: TestClient, number: str | None = None) -> httpx.Response:
    return page_form(client, "/track", "/track", number=number or some_number())


class TestTracking:
    @pytest.mark.parametrize(
        ("limit", "send"),
        [
            ("tracking_address", track_api),
            ("tracking_address", track_page),
            ("tracking_code_address", code_api),
            ("tracking_code_address", code_page),
        ],
        ids=["look-ups-api", "look-ups-page", "codes-api", "codes-page"],
    )
    def test_per_address(
        self, limits: SetLimits, at: Client, limit: str, send: Callable[..., httpx.Response]
    ) -> None:
        limits(**{limit: "2/minute"})
        one, other = at("203.0.113.50", html=True), at("203.0.113.51", html=True)
        assert all(allowed(send(one)) for _ in range(2))
        assert_refused(send(one))
        assert allowed(send(other))

    @pytest.mark.parametrize("send", [code_api, code_page], ids=["api", "page"])
    def test_code_requests_per_number_from_any_address(
        self, limits: SetLimits, at: Client, send: Callable[..., httpx.Response]
    ) -> None:
        limits(tracking_code_number="3/hour")
        number = some_number()
        answers = [send(at(f"203.0.113.{60 + i}", html=True), number) for i in range(4)]
        assert all(allowed(a) for a in answers[:3])
        assert_refused(answers[3], window_seconds=3600)
        assert allowed(send(at("203.0.113.70", html=True)))

    def test_an_applicant_with_many_applications_gets_few_codes(
        self, limits: SetLimits, at: Client, engine: Engine
    ) -> None:
        limits(tracking_code_recipient="2/hour")
        applicant, other = make_applicant(engine), make_applicant(engine)
        numbers = [
            application_in(engine, applicant=applicant.username, status=Status.SUBMITTED)
            for _ in range(3)
        ]
        theirs = application_in(engine, applicant=other.username, status=Status.SUBMITTED)
        client = at("203.0.113.75")
        # Answered alike: the cap must not tell which numbers exist.
        assert [code_api(client, n).status_code for n in [*numbers, theirs]] == [202] * 4
        recorders = Recorders()
        deliver_all(engine, recorders.senders())
        texted = {e.reference for e in recorders.sms.sent if "验证码" in e.body}
        assert texted & set(numbers) == set(numbers[:2])
        assert theirs in texted

    def test_the_limit_expires(self, limits: SetLimits, at: Client) -> None:
        limits(tracking_address="2/second")
        client = at("203.0.113.71")
        assert all(allowed(track_api(client)) for _ in range(2))
        assert_refused(track_api(client), window_seconds=1)
        time.sleep(1.1)
        assert allowed(track_api(client))


@dataclass(frozen=True)
class MachineClient:
    system_code: str
    client_id: str
    secret: str

    def basic(self, secret: str | None = None) -> dict[str, str]:
        pair = f"{self.client_id}:{secret or self.secret}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}


def machine_client(engine: Engine) -> MachineClient:
    code = system(engine, "HOUSING")
    with unit_of_work(engine) as session:
        registration = exchange_service.issue_credentials(session, OPERATOR, system_code=code)
        assert registration.secret
        return MachineClient(code, registration.client.client_id, registration.secret)


def token_call(client: TestClient, machine: MachineClient, secret: str | None = None) -> int:
    response = client.post(
        "/oidc/token", data={"grant_type": "client_credentials"}, headers=machine.basic(secret)
    )
    if response.status_code == 429:
        assert_refused(response)
    return response.status_code


class TestOidcToken:
    def test_failed_calls_per_address(self, limits: SetLimits, at: Client, engine: Engine) -> None:
        limits(oidc_token_failure="3/minute")
        machine = machine_client(engine)
        one, other = at("203.0.113.80"), at("203.0.113.81")
        assert [token_call(one, machine, "wrong") for _ in range(3)] == [401, 401, 401]
        # Then even the right secret waits: the guesser cannot tell a hit.
        assert token_call(one, machine) == 429
        assert token_call(other, machine) == 200

    def test_calls_per_address(self, limits: SetLimits, at: Client, engine: Engine) -> None:
        limits(oidc_token_address="2/minute")
        machine = machine_client(engine)
        one, other = at("203.0.113.82"), at("203.0.113.83")
        assert [token_call(one, machine) for _ in range(3)] == [200, 200, 429]
        assert token_call(other, machine) == 200

    def test_calls_per_client(self, limits: SetLimits, at: Client, engine: Engine) -> None:
        limits(oidc_token_client="2/minute")
        machine, bystander = machine_client(engine), machine_client(engine)
        answers = [token_call(at(f"203.0.113.{84 + i}"), machine) for i in range(3)]
        assert answers == [200, 200, 429]
        assert token_call(at("203.0.113.84"), bystander) == 200
        # The client_id in the form counts as in the Authorization header.
        form = {"grant_type": "client_credentials", "client_id": machine.client_id}
        assert at("203.0.113.87").post("/oidc/token", data=form).status_code == 429


class TestGateway:
    def test_calls_per_system(
        self, limits: SetLimits, at: Client, engine: Engine, exchange: Exchange
    ) -> None:
        limits(gateway_system="2/minute")
        machine, bystander = machine_client(engine), machine_client(engine)
        one = at("203.0.113.90")
        headers = {"Authorization": f"Bearer {machine_token(one, exchange_of(machine))}"}
        answers = [call(at(f"203.0.113.{91 + i}"), headers, exchange, ["1"]) for i in range(3)]
        assert all(allowed(a) for a in answers[:2])
        assert_refused(answers[2])
        other = {"Authorization": f"Bearer {machine_token(one, exchange_of(bystander))}"}
        assert allowed(call(one, other, exchange, ["1"]))

    def test_bad_tokens_per_address(
        self, limits: SetLimits, at: Client, exchange: Exchange
    ) -> None:
        limits(gateway_auth_failure="3/minute")
        one, other = at("203.0.113.95"), at("203.0.113.96")
        bogus = {"Authorization": "Bearer bogus"}
        assert [call(one, bogus, exchange, ["1"]).status_code for _ in range(3)] == [401] * 3
        assert_refused(call(one, bogus, exchange, ["1"]))
        # Then a good token from that address waits too; another address is served.
        good = {"Authorization": f"Bearer {machine_token(other, exchange)}"}
        assert_refused(call(one, good, exchange, ["1"]))
        assert allowed(call(other, good, exchange, ["1"]))


def exchange_of(machine: MachineClient) -> Exchange:
    return Exchange("", "", machine.system_code, machine.client_id, machine.secret)


class TestClientAddress:
    def test_forwarded_for_is_ignored_from_an_untrusted_peer(
        self, limits: SetLimits, at: Client
    ) -> None:
        limits(tracking_address="2/minute")
        client = at("203.0.113.100")
        for spoofed in ("198.51.100.1", "198.51.100.2"):
            client.headers["X-Forwarded-For"] = spoofed
            assert allowed(track_api(client))
        client.headers["X-Forwarded-For"] = "198.51.100.3"
        assert_refused(track_api(client))

    def test_a_trusted_proxy_names_the_client(
        self, limits: SetLimits, at: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TONGBAN_TRUSTED_PROXIES", '["10.0.0.0/8"]')
        limits(tracking_address="2/minute")
        proxy = at("10.1.2.3")
        # The client may send any X-Forwarded-For; the proxy appends the address it saw.
        for forged in ("198.51.100.7", "198.51.100.8"):
            proxy.headers["X-Forwarded-For"] = f"{forged}, 203.0.113.101"
            assert allowed(track_api(proxy))
        assert_refused(track_api(proxy))
        proxy.headers["X-Forwarded-For"] = "203.0.113.102, 10.9.9.9"
        assert allowed(track_api(proxy))

    def test_an_ipv6_subscriber_is_counted_by_its_prefix(
        self, limits: SetLimits, at: Client
    ) -> None:
        limits(tracking_address="2/minute")
        for host in ("2001:db8:1:2::1", "2001:db8:1:2::2"):
            assert allowed(track_api(at(host)))
        assert_refused(track_api(at("2001:db8:1:2:ffff::3")))
        assert allowed(track_api(at("2001:db8:1:3::1")))


def test_an_unreachable_store_lets_requests_through(
    at: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The platform must not go down with its cache; the account lock still protects sign-in.
    monkeypatch.setenv("TONGBAN_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("TONGBAN_LIMIT_TRACKING_ADDRESS", "1/minute")
    get_settings.cache_clear()
    ratelimit.reset()
    try:
        client = at("203.0.113.110")
        assert [track_api(client).status_code for _ in range(2)] == [422, 422]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        ratelimit.reset()


def test_the_production_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"TONGBAN_{name.upper()}", raising=False)
    settings = Settings(_env_file=None)
    limits = {n[6:]: getattr(settings, n) for n in Settings.model_fields if n.startswith("limit_")}
    assert limits == {
        "sign_in_address": "30/minute;300/hour",
        "sign_in_account": "10/minute;60/hour",
        "register_address": "10/minute;60/hour",
        "claim_address": "10/minute;60/hour",
        "tracking_address": "30/minute;300/hour",
        "tracking_code_address": "5/minute;30/hour",
        "tracking_code_number": "3/hour",
        "tracking_code_recipient": "6/hour",
        "oidc_token_address": "120/minute",
        "oidc_token_client": "600/minute",
        "oidc_token_failure": "20/minute",
        "gateway_system": "6000/minute",
        "gateway_auth_failure": "20/minute",
        "security_events": "30/minute",
    }
    assert settings.redis_url is None
    assert settings.trusted_proxies == []
    with pytest.raises(ValueError, match="rate limit"):
        Settings(_env_file=None, limit_sign_in_account="ten a minute")
