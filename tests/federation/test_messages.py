"""Part 2: signed messages between node processes over real HTTP, refused when forged, replayed
or too old, logged with their signatures, and delivered exactly once across a node's crash."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from tests.audit.helpers import sequenced
from tests.federation.conftest import CITY, NATIONAL, PROVINCE, inbound, send
from tests.fixtures.nodes import NodeProcess, wait_until
from tongban.audit.models import AuditEntry
from tongban.db.delivery import MessageStatus
from tongban.db.session import unit_of_work
from tongban.federation import keys, messages
from tongban.federation.models import Direction, LoggedMessage, PeerMessage
from tongban.kit.clock import utcnow
from tongban.security.crypto import get_suite


def delivered(node: NodeProcess, message_id: str) -> bool:
    with unit_of_work(node.engine) as session:
        status = session.execute(
            select(PeerMessage.status).where(PeerMessage.message_id == message_id)
        ).scalar_one()
        return status is MessageStatus.DELIVERED


def signed_by(
    node: NodeProcess, to: str, body: bytes, **overrides: object
) -> messages.SignedMessage:
    """A message signed with ``node``'s own key, as its delivery would sign it."""
    suite, pair = keys.load_with_suite(node.key_file)
    fields: dict[str, object] = {
        "suite": suite,
        "private_key": pair.private,
        "message_id": messages.new_message_id(),
        "sender": node.code,
        "recipient": to,
        "message_type": "note",
        "body": body,
    }
    fields.update(overrides)
    return messages.sign(**fields)  # type: ignore[arg-type]


def post(
    node: NodeProcess, signed: messages.SignedMessage, body: bytes | None = None
) -> httpx.Response:
    return httpx.post(
        node.url + messages.PATH,
        content=signed.body if body is None else body,
        headers={"Content-Type": "application/json", "Accept-Language": "en", **signed.headers()},
    )


class TestDelivery:
    def test_a_message_goes_up_signed_and_both_sides_log_it(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        message_id = send(nodes[CITY], NATIONAL, {"text": "来自杭州的问候"})
        wait_until(lambda: delivered(nodes[CITY], message_id), what="delivery to the top")
        assert inbound(nodes[NATIONAL], CITY).get(message_id) == 1
        with unit_of_work(nodes[CITY].engine) as session:
            sent = session.execute(
                select(LoggedMessage).where(
                    LoggedMessage.message_id == message_id, LoggedMessage.direction == Direction.OUT
                )
            ).scalar_one()
        assert sent.suite == "sm"
        assert sent.signer_key == nodes[CITY].public_key
        assert json.loads(sent.body or "") == {"text": "来自杭州的问候"}
        for code in (CITY, NATIONAL):
            result = nodes[code].cli("federation", "log", "verify")
            assert "message log intact" in result.stdout

    def test_messages_between_suites_verify_on_both_sides(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        down = send(nodes[PROVINCE], CITY, {"text": "省到市"})  # Ed25519 to an SM2 node
        up = send(nodes[CITY], PROVINCE, {"text": "市到省"})
        wait_until(lambda: delivered(nodes[PROVINCE], down), what="province to city")
        wait_until(lambda: delivered(nodes[CITY], up), what="city to province")
        assert inbound(nodes[CITY], PROVINCE).get(down) == 1
        assert inbound(nodes[PROVINCE], CITY).get(up) == 1

    def test_a_large_body_is_logged_by_its_hash(self, nodes: dict[str, NodeProcess]) -> None:
        text = "大" * 20_000
        message_id = send(nodes[CITY], NATIONAL, {"text": text})
        wait_until(lambda: delivered(nodes[CITY], message_id), what="the large message")
        with unit_of_work(nodes[NATIONAL].engine) as session:
            entry = session.execute(
                select(LoggedMessage).where(
                    LoggedMessage.message_id == message_id, LoggedMessage.direction == Direction.IN
                )
            ).scalar_one()
        assert entry.body is None
        assert entry.body_size > 60_000
        stored = nodes[NATIONAL].data_dir / "federation" / "bodies" / entry.body_hash[:2]
        body_file = stored / entry.body_hash
        assert json.loads(body_file.read_bytes()) == {"text": text}
        original = body_file.read_bytes()
        body_file.write_bytes(original.replace("大".encode(), "小".encode(), 1))
        try:
            result = nodes[NATIONAL].cli("federation", "log", "verify", check=False)
            assert result.returncode == 2
            assert "body does not match its hash" in result.stdout
        finally:
            body_file.write_bytes(original)
        assert "message log intact" in nodes[NATIONAL].cli("federation", "log", "verify").stdout

    def test_an_edited_log_entry_shows_in_verification(self, nodes: dict[str, NodeProcess]) -> None:
        message_id = send(nodes[PROVINCE], NATIONAL, {"amount": 100})
        wait_until(lambda: delivered(nodes[PROVINCE], message_id), what="the message")
        where = (LoggedMessage.message_id == message_id, LoggedMessage.direction == Direction.IN)
        with unit_of_work(nodes[NATIONAL].engine) as session:
            original = session.execute(select(LoggedMessage.body).where(*where)).scalar_one()
            session.execute(update(LoggedMessage).where(*where).values(body='{"amount":1000}'))
        try:
            result = nodes[NATIONAL].cli("federation", "log", "verify", check=False)
            assert result.returncode == 2
            assert message_id in result.stdout
        finally:
            with unit_of_work(nodes[NATIONAL].engine) as session:
                session.execute(update(LoggedMessage).where(*where).values(body=original))


class TestRefusal:
    def test_a_forged_signature_is_refused(self, nodes: dict[str, NodeProcess]) -> None:
        impostor = get_suite("sm").generate_key_pair()
        forged = messages.sign(
            suite="sm",
            private_key=impostor.private,
            message_id=messages.new_message_id(),
            sender=CITY,
            recipient=NATIONAL,
            message_type="note",
            body=b'{"text": "forged"}',
        )
        response = post(nodes[NATIONAL], forged)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "message_refused"
        assert forged.envelope.message_id not in inbound(nodes[NATIONAL], CITY)

    def test_a_body_changed_after_signing_is_refused(self, nodes: dict[str, NodeProcess]) -> None:
        signed = signed_by(nodes[CITY], NATIONAL, b'{"amount": 100}')
        response = post(nodes[NATIONAL], signed, body=b'{"amount": 900}')
        assert response.status_code == 401

    def test_an_unsigned_request_is_refused(self, nodes: dict[str, NodeProcess]) -> None:
        response = httpx.post(nodes[NATIONAL].url + messages.PATH, json={"text": "hi"})
        assert response.status_code == 401

    def test_a_replayed_request_is_refused_and_a_retry_is_kept_once(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        signed = signed_by(nodes[CITY], NATIONAL, b'{"text": "once"}')
        first = post(nodes[NATIONAL], signed)
        assert first.status_code == 200, first.text
        assert first.json() == {"message_id": signed.envelope.message_id, "duplicate": False}
        replay = post(nodes[NATIONAL], signed)
        assert replay.status_code == 409
        assert replay.json()["error"]["code"] == "message_replayed"
        # The sender's own retry: same message id, fresh time, nonce and signature.
        retry = signed_by(
            nodes[CITY], NATIONAL, b'{"text": "once"}', message_id=signed.envelope.message_id
        )
        again = post(nodes[NATIONAL], retry)
        assert again.status_code == 200
        assert again.json()["duplicate"] is True
        assert inbound(nodes[NATIONAL], CITY)[signed.envelope.message_id] == 1

    def test_a_message_too_old_is_refused(self, nodes: dict[str, NodeProcess]) -> None:
        stale = signed_by(nodes[CITY], NATIONAL, b"{}", now=utcnow() - timedelta(minutes=10))
        response = post(nodes[NATIONAL], stale)
        assert response.status_code == 401
        assert "too far from ours" in response.json()["error"]["message"]

    def test_a_message_for_another_node_is_refused(self, nodes: dict[str, NodeProcess]) -> None:
        signed = signed_by(nodes[CITY], PROVINCE, b"{}")
        response = post(nodes[NATIONAL], signed)
        assert response.status_code == 422

    def test_an_unknown_message_type_is_refused(self, nodes: dict[str, NodeProcess]) -> None:
        signed = signed_by(nodes[CITY], NATIONAL, b"{}", message_type="launch.missiles")
        response = post(nodes[NATIONAL], signed)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "message_invalid"


def received_audits(node: NodeProcess, message_ids: list[str]) -> dict[str, int]:
    with unit_of_work(node.engine) as session:
        rows = sequenced(session).execute(
            select(AuditEntry.target_id, func.count())
            .where(
                AuditEntry.action == "federation.message_received",
                AuditEntry.target_id.in_(message_ids),
            )
            .group_by(AuditEntry.target_id)
        )
        return dict(rows.tuples().all())


@pytest.mark.parametrize("count", [40])
def test_a_city_killed_and_restarted_mid_flow_gets_every_message_exactly_once(
    nodes: dict[str, NodeProcess], count: int
) -> None:
    national, city = nodes[NATIONAL], nodes[CITY]
    assert city.serve is not None
    assert national.runner is not None
    sent = [send(national, CITY, {"n": n, "text": f"第{n}号"}) for n in range(count)]
    wait_until(
        lambda: len(set(sent) & set(inbound(city, NATIONAL))) >= 5, what="the first messages"
    )
    city.serve.kill()  # SIGKILL mid-flow: answers and commits in flight are lost
    more = [send(national, CITY, {"n": n, "text": f"第{n}号"}) for n in range(count, 2 * count)]
    national.runner.kill()  # the sender dies too, holding leases
    national.start_runner()
    city.start_serve()
    everything = sent + more
    wait_until(
        lambda: all(delivered(national, m) for m in everything), what="every message delivered"
    )
    received = inbound(city, NATIONAL)
    assert {m: received.get(m) for m in everything} == dict.fromkeys(everything, 1)
    assert received_audits(city, everything) == dict.fromkeys(everything, 1)
    assert "message log intact" in city.cli("federation", "log", "verify").stdout


def outbox_row(node: NodeProcess, message_id: str) -> tuple[MessageStatus, int]:
    with unit_of_work(node.engine) as session:
        row = session.execute(
            select(PeerMessage.status, PeerMessage.attempts).where(
                PeerMessage.message_id == message_id
            )
        ).one()
        return row.status, row.attempts


def test_a_message_refused_for_good_is_a_dead_letter_the_operator_can_retry(
    nodes: dict[str, NodeProcess],
) -> None:
    province = nodes[PROVINCE]
    message_id = send(province, CITY, {}, message_type="unknown.kind")
    wait_until(
        lambda: outbox_row(province, message_id) == (MessageStatus.DEAD, 1),
        what="the refused message to be given up on",
    )
    listed = province.cli("federation", "dead").stdout
    assert message_id in listed
    assert "HTTP 422" in listed
    province.cli("federation", "retry", message_id)
    with unit_of_work(province.engine) as session:
        retried = (
            sequenced(session)
            .execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action == "federation.message_retried",
                    AuditEntry.target_id == message_id,
                )
            )
            .scalar_one()
        )
    assert retried == 1
    wait_until(
        lambda: outbox_row(province, message_id) == (MessageStatus.DEAD, 1),
        what="the retried message to be refused again",
    )
    assert message_id not in inbound(nodes[CITY], PROVINCE)
