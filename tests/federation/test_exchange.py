"""Part 6: a city department asks for a national department's data resource through the
federated exchange: the request travels signed to the national node, its approver decides there,
the grant is mirrored at the city; the city system calls its own node's gateway, which forwards
the call signed to the national gateway, which checks the grant, masks for the city system's
clearance, audits and signs its answer for that call; the city takes only an answer so signed,
refusing one altered, unsigned, forged or replayed by a man in the middle, and audits too."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI, Request, Response
from sqlalchemy import select, update
from starlette.datastructures import Headers

from examples.department_service.app import create_app as create_department_app
from tests.audit.helpers import sequenced
from tests.federation.conftest import CITY, NATIONAL, PROVINCE, item, load
from tests.federation.test_applications import account
from tests.federation.test_messages import signed_by
from tests.fixtures.exchange import MARRIAGE, OTHER_ID, PERSON_ID, SECRET, resource_spec
from tests.fixtures.live import serve
from tests.fixtures.nodes import NodeProcess, wait_until
from tests.fixtures.principals import OPERATOR
from tongban.audit.models import AuditEntry
from tongban.db.session import unit_of_work
from tongban.exchange import service as exchange_service
from tongban.exchange.schemas import ResourceSpec, SharingRequestIn
from tongban.federation import keys, messages
from tongban.federation.exchange import service as data_exchange
from tongban.federation.models import FederatedDataRequest, Node, ProvidedDataRequest
from tongban.identity.models import Account, AccountKind
from tongban.security import service as security_service

# The routes returning labelled values that these tests try as an adversary (checked by
# tests/architecture/test_labelled_reads_are_tried.py).
ROUTES_TRIED = {
    ("POST", "/api/v1/federation/exchange/call"),
    ("POST", "/api/v1/federation/exchange/query"),
}

PURPOSE = "housing_subsidy_review"


@dataclass(frozen=True)
class Client:
    """A city department system with credentials for its node's exchange."""

    system: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Setup:
    resource: str
    requester: Client
    approver_id: int


@pytest.fixture(scope="module")
def marriage_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The national civil affairs department's own system, answering lookups."""
    db = tmp_path_factory.mktemp("mca-national") / "mca.db"
    people = {k: {**v, "id_number": k} for k, v in MARRIAGE.items()}
    with serve(create_department_app(secret=SECRET, db_path=str(db), people=people)) as url:
        yield url


@pytest.fixture(scope="module")
def setup(
    nodes: dict[str, NodeProcess],
    marriage_service: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Setup:
    national, city = nodes[NATIONAL], nodes[CITY]
    where = tmp_path_factory.mktemp("exchange")
    load(national, where, ("MCA", "民政部"), [item("MCA-0001", "MCA", "婚姻登记")])
    load(city, where, ("HOUSING", "杭州市住房保障局"), [item("HOUSING-0001", "HOUSING", "公租房")])
    provider = node_system(
        national,
        where,
        "MCA",
        lookup={"url": f"{marriage_service}/lookup", "provides": {"spouse_name": "nfxm"}},
    )
    code = f"MCA-MARRIAGE{secrets.token_hex(2).upper()}"
    with unit_of_work(national.engine) as session:
        exchange_service.register_resources(
            session, OPERATOR, [ResourceSpec.model_validate(resource_spec(code, provider))]
        )
    approver = account(
        national,
        display_name="民政部审批员",
        kind=AccountKind.OFFICIAL,
        department="MCA",
        roles=["approver"],
    )
    return Setup(code, exchange_client(city, where), approver.id)


def exchange_client(city: NodeProcess, where: Path) -> Client:
    system = node_system(city, where, "HOUSING")
    with unit_of_work(city.engine) as session:
        registration = exchange_service.issue_credentials(session, OPERATOR, system_code=system)
        assert registration.secret
        return Client(system, registration.client.client_id, registration.secret)


def node_system(
    node: NodeProcess, where: Path, department: str, *, lookup: dict[str, Any] | None = None
) -> str:
    """A department system registered by the node's own command: its shared secret is wrapped
    with that node's key ring, which this test process does not hold."""
    code = f"{department}-{secrets.token_hex(3).upper()}"
    spec = {
        "code": code,
        "name": f"{department} 业务系统",
        "department": department,
        "secret": SECRET,
        "connectors": [],
    }
    if lookup:
        spec["lookup"] = lookup
    path = where / f"{code}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    node.cli("connectors", "load", str(path))
    return code


def token(city: NodeProcess, client: Client) -> dict[str, str]:
    basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
    answer = httpx.post(
        city.url + "/oidc/token",
        data={"grant_type": "client_credentials", "scope": "exchange"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def ask(city: NodeProcess, setup: Setup, client: Client, items: list[str]) -> str:
    """A city official asks the national node for ``items`` for ``client``'s system."""
    with unit_of_work(city.engine) as session:
        return data_exchange.request_data(
            session,
            OPERATOR,
            node=NATIONAL,
            body=SharingRequestIn(
                resource=setup.resource,
                system=client.system,
                items=items,
                purpose=PURPOSE,
                purpose_text="核查公租房申请人婚姻状况",
                legal_basis="《公共租赁住房管理办法》第七条",
                days=30,
            ),
        ).ref


def mirrored(city: NodeProcess, ref: str) -> FederatedDataRequest:
    with unit_of_work(city.engine) as session:
        row = session.execute(
            select(FederatedDataRequest).where(FederatedDataRequest.ref == ref)
        ).scalar_one()
        session.expunge(row)
        return row


def audit_rows(node: NodeProcess, action: str, **details: Any) -> list[dict[str, Any]]:
    # Every entry journaled so far, whether or not the node's sequencer got to it yet.
    with unit_of_work(node.engine) as session:
        rows = (
            sequenced(session)
            .execute(select(AuditEntry).where(AuditEntry.action == action))
            .scalars()
        )
        return [
            dict(r.details)
            for r in rows
            if all((r.details or {}).get(k) == v for k, v in details.items())
        ]


def call(city: NodeProcess, headers: dict[str, str], setup: Setup, **extra: Any) -> httpx.Response:
    return httpx.post(
        city.url + "/api/v1/federation/exchange/call",
        headers=headers,
        json={
            "node": NATIONAL,
            "resource": setup.resource,
            "purpose": PURPOSE,
            "keys": [PERSON_ID],
            **extra,
        },
        timeout=30,
    )


def test_a_city_system_reads_a_national_resource_through_both_gateways(
    nodes: dict[str, NodeProcess], setup: Setup
) -> None:
    national, city = nodes[NATIONAL], nodes[CITY]
    ref = ask(city, setup, setup.requester, ["id_number", "spouse_name", "registered_on"])
    # At the national node it is an ordinary sharing request, waiting for the approver.
    wait_until(lambda: mirrored(city, ref).status == "pending", what="the request to arrive")
    assert set(mirrored(city, ref).granted_items) == {"id_number", "spouse_name"}
    proxy_username = f"system.n{CITY}-{setup.requester.system.lower()}"
    with unit_of_work(national.engine) as session:
        link = session.execute(
            select(ProvidedDataRequest).where(ProvidedDataRequest.ref == ref)
        ).scalar_one()
        request_id = link.request_id
        # The national node clears the city's system for identity data, not marriage data.
        security_service.set_clearance(
            session, OPERATOR, username=proxy_username, clearance="important:identity"
        )
    with unit_of_work(national.engine) as session:
        approver = session.get(Account, setup.approver_id)
        exchange_service.decide_request(session, approver, request_id, approve=True)
    wait_until(lambda: mirrored(city, ref).status == "granted", what="the decision to come back")
    mirror = mirrored(city, ref)
    assert set(mirror.granted_items) == {"id_number", "spouse_name", "registered_on"}
    assert mirror.expires_at is not None

    headers = token(city, setup.requester)
    answer = call(city, headers, setup, keys=[PERSON_ID, OTHER_ID])
    assert answer.status_code == 200, answer.text
    record, missing = answer.json()["records"]
    assert record["found"] is True
    assert record["error"] is None
    # The per-key code comes through both gateways.
    assert missing == {"key": OTHER_ID, "found": False, "record": None, "error": "unknown_key"}
    values = record["record"]
    assert values["spouse_name"] == "李测试"  # internal:identity: readable
    assert values["registered_on"] != "2020-05-20"  # important:marriage: masked
    assert values["registered_on"]

    refused = call(city, headers, setup, items=["certificate_no"])
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "item_not_granted"

    # Both nodes audited both calls.
    proxy_code = f"N{CITY}-{setup.requester.system}"
    served = audit_rows(national, "exchange.gateway_call", system=proxy_code)
    assert len(served) == 1
    assert served[0]["items"] == ["id_number", "spouse_name", "registered_on"]
    assert audit_rows(
        national, "exchange.gateway_refused", system=proxy_code, error="item_not_granted"
    )
    here = audit_rows(city, "federation.data_called", system=setup.requester.system)
    assert sorted(r["outcome"] for r in here) == ["item_not_granted", "ok"]
    # The city kept the provider's signature over each answer as proof, and not the values.
    outcomes = {r["outcome"]: r for r in here}
    kept = outcomes["ok"]["answer"]
    assert proves(kept, national, answer.content)  # the very bytes the system got
    assert proves(outcomes["item_not_granted"]["answer"], national)
    assert "李测试" not in json.dumps(here, ensure_ascii=False)


def proves(evidence: dict[str, str], signer: NodeProcess, body: bytes | None = None) -> bool:
    """Whether a kept answer proof holds: ``signer`` signed the body hash in that envelope (and
    ``body``, if given, is the body it signed)."""
    envelope = messages.Envelope(
        evidence["id"],
        evidence["from"],
        evidence["to"],
        evidence["type"],
        messages.parse_time(evidence["time"]),
        evidence["nonce"],
    )
    digest = evidence["body_hash"]
    if body is not None and messages.body_hash(evidence["suite"], body) != digest:
        return False
    return messages.verify_signature(
        evidence["suite"],
        bytes.fromhex(signer.public_key),
        envelope,
        digest,
        base64.b64decode(evidence["signature"]),
    )


# --- the provider's answer on its way back ------------------------------------------------------

FED = messages.PREFIX.lower()
Alter = Callable[[Headers, bytes, dict[str, str]], tuple[bytes, Any]]


def unchanged(request: Headers, body: bytes, headers: dict[str, str]) -> tuple[bytes, Any]:
    return body, headers


class Proxy:
    """A man in the middle between the city and the national node: it passes each call on and
    hands the answer to ``alter`` on its way back."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.url = ""
        self.alter: Alter = unchanged
        self.seen = 0
        self.app = FastAPI()
        self.app.post("/{path:path}")(self.forward)

    async def forward(self, request: Request) -> Response:
        self.seen += 1
        async with httpx.AsyncClient() as client:
            upstream = await client.post(
                self.target + request.url.path,
                content=await request.body(),
                headers=_passed(request.headers),
                timeout=30,
            )
        body, headers = self.alter(request.headers, upstream.content, _passed(upstream.headers))
        return Response(body, status_code=upstream.status_code, headers=headers)


def _passed(headers: Headers | httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() == "content-type" or k.startswith(FED)}


@pytest.fixture(scope="module")
def proxy(nodes: dict[str, NodeProcess]) -> Iterator[Proxy]:
    middle = Proxy(nodes[NATIONAL].url)
    with serve(middle.app) as url:
        middle.url = url
        yield middle


@pytest.fixture
def in_the_middle(nodes: dict[str, NodeProcess], proxy: Proxy) -> Iterator[Proxy]:
    """The city reaching the national node through ``proxy`` (a misrouted or hostile hop)."""
    route(nodes[CITY], NATIONAL, proxy.url)
    try:
        yield proxy
    finally:
        route(nodes[CITY], NATIONAL, nodes[NATIONAL].url)
        proxy.alter, proxy.seen = unchanged, 0


def route(node: NodeProcess, peer: str, url: str) -> None:
    with unit_of_work(node.engine) as session:
        session.execute(update(Node).where(Node.code == peer).values(url=url))


@pytest.fixture(scope="module")
def granted(
    nodes: dict[str, NodeProcess], setup: Setup, tmp_path_factory: pytest.TempPathFactory
) -> Client:
    """A city system granted the resource's unconditional items (granted at once)."""
    city = nodes[CITY]
    client = exchange_client(city, tmp_path_factory.mktemp("granted"))
    ref = ask(city, setup, client, ["id_number", "spouse_name"])
    wait_until(lambda: mirrored(city, ref).status == "granted", what="the grant to come back")
    return client


def outcomes(city: NodeProcess, client: Client) -> list[str]:
    return [r["outcome"] for r in audit_rows(city, "federation.data_called", system=client.system)]


def _forged(body: bytes) -> bytes:
    data = json.loads(body)
    data["records"][0]["record"] = {"spouse_name": "王伪造"}
    return json.dumps(data, ensure_ascii=False).encode()


def altered(nodes: dict[str, NodeProcess]) -> Alter:
    def alter(request: Headers, body: bytes, headers: dict[str, str]) -> tuple[bytes, Any]:
        return _forged(body), headers

    return alter


def unsigned(nodes: dict[str, NodeProcess]) -> Alter:
    def alter(request: Headers, body: bytes, headers: dict[str, str]) -> tuple[bytes, Any]:
        return _forged(body), {k: v for k, v in headers.items() if not k.startswith(FED)}

    return alter


def signed_by_another_node(nodes: dict[str, NodeProcess]) -> Alter:
    """A forged answer bound to the very request, signed with a key the registry does not list
    for the national node (the province's)."""
    suite, pair = keys.load_with_suite(nodes[PROVINCE].key_file)

    def alter(request: Headers, body: bytes, headers: dict[str, str]) -> tuple[bytes, Any]:
        signed = messages.sign_answer(
            suite=suite,
            private_key=pair.private,
            request=messages.from_request(request, b"").envelope,
            body=_forged(body),
        )
        return signed.body, {"content-type": "application/json", **signed.headers()}

    return alter


@pytest.mark.parametrize("make", [altered, unsigned, signed_by_another_node])
def test_an_answer_the_provider_did_not_sign_for_the_call_is_refused(
    nodes: dict[str, NodeProcess],
    setup: Setup,
    granted: Client,
    in_the_middle: Proxy,
    make: Callable[[dict[str, NodeProcess]], Alter],
) -> None:
    city = nodes[CITY]
    in_the_middle.alter = make(nodes)
    before = outcomes(city, granted).count("answer_not_authentic")
    answer = call(city, token(city, granted), setup)
    assert in_the_middle.seen == 1  # the call did go through the man in the middle
    assert answer.status_code == 502, answer.text
    assert answer.json()["error"]["code"] == "answer_not_authentic"
    assert "王伪造" not in answer.text
    assert outcomes(city, granted).count("answer_not_authentic") == before + 1


def test_an_answer_to_another_call_is_refused(
    nodes: dict[str, NodeProcess], setup: Setup, granted: Client, in_the_middle: Proxy
) -> None:
    city = nodes[CITY]
    kept: list[tuple[bytes, dict[str, str]]] = []

    def replay(request: Headers, body: bytes, headers: dict[str, str]) -> tuple[bytes, Any]:
        """The first answer passes and is kept; every later call gets it instead of its own."""
        if not kept:
            kept.append((body, headers))
        return kept[0]

    in_the_middle.alter = replay
    headers = token(city, granted)
    first = call(city, headers, setup)
    assert first.status_code == 200, first.text  # genuine, through the man in the middle
    before = outcomes(city, granted).count("answer_not_authentic")
    second = call(city, headers, setup)
    assert second.status_code == 502, second.text
    assert second.json()["error"]["code"] == "answer_not_authentic"
    assert outcomes(city, granted).count("answer_not_authentic") == before + 1


def test_the_provider_signs_even_its_refusal_of_a_forged_request(
    nodes: dict[str, NodeProcess],
) -> None:
    """Even a request it refuses as not genuine gets its answer signed, bound to that request."""
    national = nodes[NATIONAL]
    request = signed_by(nodes[CITY], NATIONAL, b'{"system": "X"}', message_type=data_exchange.QUERY)
    answer = httpx.post(
        national.url + data_exchange.QUERY_PATH,
        content=b'{"system": "Y"}',  # not what was signed
        headers={"Content-Type": "application/json", **request.headers()},
    )
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "message_refused"
    genuine = messages.check_answer(
        suite=national.suite,
        public_key=bytes.fromhex(national.public_key),
        request=request.envelope,
        headers=answer.headers,
        body=answer.content,
    )
    assert genuine is not None
    assert genuine.envelope.message_type == data_exchange.QUERY + messages.ANSWER


def test_a_sign_on_client_secret_the_parent_did_not_sign_is_not_kept(
    nodes: dict[str, NodeProcess], proxy: Proxy
) -> None:
    """The province asks the national node for its sign-on client through a man in the middle
    who swaps the secret: the answer is refused and nothing is saved; asked again directly, the
    province gets and keeps a genuine one."""
    province = nodes[PROVINCE]

    def swap_secret(request: Headers, body: bytes, headers: dict[str, str]) -> tuple[bytes, Any]:
        data = json.loads(body) | {"client_secret": "chosen-by-the-man-in-the-middle"}
        return json.dumps(data).encode(), headers

    proxy.alter = swap_secret
    route(province, NATIONAL, proxy.url)
    try:
        refused = province.cli("federation", "sso-link", check=False)
    finally:
        route(province, NATIONAL, nodes[NATIONAL].url)
        proxy.alter, proxy.seen = unchanged, 0
    assert refused.returncode != 0
    assert "not signed" in refused.stdout + refused.stderr
    assert "saved" not in refused.stdout
    province.cli("federation", "sso-link")  # a genuine secret again, for later tests
