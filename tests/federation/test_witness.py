"""A parent node witnesses its children's audit chains: each child's signed checkpoints go up
(signed with its node key) and the parent keeps them, refusing a checkpoint that contradicts one
it holds. Real node processes: the city's `tongban federation run` sends, the province keeps."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.audit.helpers import rewrite_history, sequenced, write_entries
from tests.federation.conftest import CITY, NATIONAL, OTHER_PROVINCE, PROVINCE
from tests.fixtures.nodes import NodeProcess, federation, wait_until
from tongban.audit import checkpoints
from tongban.audit.models import AuditEntry
from tongban.db.session import unit_of_work
from tongban.federation import keys, messages
from tongban.federation.models import WitnessedCheckpoint
from tongban.federation.witness.service import MESSAGE_TYPE, PATH


def checkpoint_key(node: NodeProcess) -> Path:
    return node.data_dir / "audit" / "checkpoint-key.json"


def held_by(parent: NodeProcess, child: str) -> dict[int, str]:
    """The checkpoints of ``child`` that ``parent`` keeps: head by size."""
    with unit_of_work(parent.engine) as session:
        rows = session.execute(
            select(WitnessedCheckpoint.size, WitnessedCheckpoint.head).where(
                WitnessedCheckpoint.node_code == child
            )
        )
        return {row.size: row.head for row in rows}


def hash_at(node: NodeProcess, seq: int) -> str:
    with unit_of_work(node.engine) as session:
        return (
            sequenced(session)
            .execute(select(AuditEntry.hash).where(AuditEntry.seq == seq))
            .scalar_one()
        )


def send_up(
    sender: NodeProcess, to: NodeProcess, checkpoint: checkpoints.Checkpoint
) -> httpx.Response:
    """POST ``checkpoint`` to ``to``'s witness endpoint, signed with ``sender``'s node key."""
    suite, pair = keys.load_with_suite(sender.key_file)
    signed = messages.sign(
        suite=suite,
        private_key=pair.private,
        message_id=messages.new_message_id(),
        sender=sender.code,
        recipient=to.code,
        message_type=MESSAGE_TYPE,
        body=json.dumps(checkpoint.to_json()).encode(),
    )
    return httpx.post(
        to.url + PATH,
        content=signed.body,
        headers={"Content-Type": "application/json", "Accept-Language": "en", **signed.headers()},
    )


def witnessed_checkpoint(nodes: dict[str, NodeProcess]) -> tuple[int, str]:
    """A new checkpoint of the city's chain, signed by the city and kept by the province."""
    city, province = nodes[CITY], nodes[PROVINCE]
    with unit_of_work(city.engine) as session:
        write_entries(session, 3, tag=f"witness-{uuid.uuid4().hex[:6]}")
        size = checkpoints.committed_head(session)[0]
    # Signed now by the operator's command (unless the runner's periodic one just did).
    city.cli("audit", "checkpoint")
    latest = checkpoints.latest(city.data_dir / "audit" / "checkpoints.jsonl")
    assert latest is not None
    assert latest.size >= size
    wait_until(
        lambda: latest.size in held_by(province, CITY),
        what=f"the province to keep the city's checkpoint at {latest.size}",
    )
    return latest.size, latest.head


class TestParentWitnessesCheckpoints:
    def test_the_citys_checkpoint_reaches_the_province_with_its_signature(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        size, head = witnessed_checkpoint(nodes)

        assert held_by(nodes[PROVINCE], CITY)[size] == head == hash_at(nodes[CITY], size)
        with unit_of_work(nodes[PROVINCE].engine) as session:
            row = session.execute(
                select(WitnessedCheckpoint).where(
                    WitnessedCheckpoint.node_code == CITY, WitnessedCheckpoint.size == size
                )
            ).scalar_one()
        kept = checkpoints.Checkpoint(
            row.suite, row.size, row.head, row.signed_at, row.public_key, row.signature
        )
        # Checkable without the city: the city's checkpoint key signed it.
        assert kept.valid()

    def test_a_second_head_for_a_witnessed_size_is_refused_as_a_fork(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        size, head = witnessed_checkpoint(nodes)
        fork = checkpoints.sign(size=size, head="ab" * 32, key_file=checkpoint_key(nodes[CITY]))

        response = send_up(nodes[CITY], nodes[PROVINCE], fork)

        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "checkpoint_fork"
        assert held_by(nodes[PROVINCE], CITY)[size] == head

    def test_a_smaller_checkpoint_after_a_larger_one_is_refused_as_a_rollback(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        size, _ = witnessed_checkpoint(nodes)
        earlier = checkpoints.sign(
            size=size - 1, head=hash_at(nodes[CITY], size - 1), key_file=checkpoint_key(nodes[CITY])
        )

        response = send_up(nodes[CITY], nodes[PROVINCE], earlier)

        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "checkpoint_rollback"
        assert size - 1 not in held_by(nodes[PROVINCE], CITY)

    def test_a_resent_checkpoint_is_kept_once(self, nodes: dict[str, NodeProcess]) -> None:
        size, head = witnessed_checkpoint(nodes)
        lines = checkpoints.read_all(nodes[CITY].data_dir / "audit" / "checkpoints.jsonl")
        [same] = [
            line.checkpoint for line in lines if line.checkpoint and line.checkpoint.size == size
        ]

        response = send_up(nodes[CITY], nodes[PROVINCE], same)

        assert response.status_code == 200, response.text
        assert response.json()["size"] == size
        assert held_by(nodes[PROVINCE], CITY)[size] == head

    def test_a_checkpoint_with_a_forged_signature_is_refused(
        self, nodes: dict[str, NodeProcess], tmp_path: Path
    ) -> None:
        size, _ = witnessed_checkpoint(nodes)
        # Signed with another key, as someone who rewrote the city's data dir would.
        other = checkpoints.sign(size=size + 5, head="cd" * 32, key_file=tmp_path / "key.json")
        flipped = ("B" if other.signature[0] == "A" else "A") + other.signature[1:]
        forged = checkpoints.Checkpoint(
            other.suite, other.size, other.head, other.at, other.key, flipped
        )

        for checkpoint, problem in ((forged, "signature does not hold"), (other, "another key")):
            response = send_up(nodes[CITY], nodes[PROVINCE], checkpoint)
            assert response.status_code == 422, response.text
            assert response.json()["error"]["code"] == "checkpoint_invalid"
            assert problem in response.json()["error"]["message"]
        assert size + 5 not in held_by(nodes[PROVINCE], CITY)

    def test_only_a_child_node_may_have_its_checkpoints_kept(
        self, nodes: dict[str, NodeProcess], tmp_path: Path
    ) -> None:
        checkpoint = checkpoints.sign(size=1, head="ef" * 32, key_file=tmp_path / "key.json")

        response = send_up(nodes[OTHER_PROVINCE], nodes[PROVINCE], checkpoint)

        assert response.status_code == 403, response.text
        assert held_by(nodes[PROVINCE], OTHER_PROVINCE) == {}

    def test_the_witness_answer_is_signed_by_the_parent_for_the_request(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        size, _ = witnessed_checkpoint(nodes)
        lines = checkpoints.read_all(nodes[CITY].data_dir / "audit" / "checkpoints.jsonl")
        [same] = [
            line.checkpoint for line in lines if line.checkpoint and line.checkpoint.size == size
        ]

        response = send_up(nodes[CITY], nodes[PROVINCE], same)

        # The receipt: the province's signature over its answer, for this very request.
        assert response.headers[messages.PREFIX + "From"] == PROVINCE
        assert response.headers[messages.PREFIX + "Type"] == MESSAGE_TYPE + messages.ANSWER

    def test_the_child_verifies_its_chain_against_what_the_parent_holds(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        size, _ = witnessed_checkpoint(nodes)

        result = nodes[CITY].cli("audit", "verify", "--witness", check=False)

        assert result.returncode == 0, result.stdout + result.stderr
        assert f"at entry {size} (held by the parent node {PROVINCE})" in result.stdout
        assert "audit log intact" in result.stdout


class TestWitnessCatchesARewrite:
    @pytest.mark.slow(
        reason="two node processes of its own, set up and serving: it rewrites one's chain, "
        "which the shared nodes' other tests must never see"
    )
    def test_a_rewrite_with_the_local_checkpoints_gone_too_is_caught_by_the_parent(
        self, tmp_path: Path
    ) -> None:
        """The strongest intruder: database and data dir. The chain is rewritten with every
        hash recomputed, the checkpoint file and key removed; only the parent still knows."""
        specs = [
            (NATIONAL, "国家政务服务平台", "national", None, "sm"),
            (PROVINCE, "浙江省", "provincial", NATIONAL, "intl"),
        ]
        with federation(tmp_path, specs) as running:
            child, parent = running[PROVINCE], running[NATIONAL]
            with unit_of_work(child.engine) as session:
                write_entries(session, 6, tag="witnessed")
            child.cli("audit", "checkpoint")
            latest = checkpoints.latest(child.data_dir / "audit" / "checkpoints.jsonl")
            assert latest is not None
            wait_until(
                lambda: held_by(parent, PROVINCE).get(latest.size) == latest.head,
                what="the national node to keep the province's checkpoint",
            )

            with child.engine.begin() as connection:
                rewrite_history(connection, erase=3, edit_seq=5, actor="intruder")
            with unit_of_work(child.engine) as session:
                write_entries(session, 2, tag="after")
            for name in ("checkpoint-key.json", "checkpoints.jsonl"):
                (child.data_dir / "audit" / name).unlink()

            alone = child.cli("audit", "verify", check=False)
            witnessed = child.cli("audit", "verify", "--witness", check=False)
            # The rewritten chain gets signed under a new key (by the runner, or here); the
            # parent refuses to take it in place of what it holds.
            child.cli("audit", "checkpoint")
            resigned = checkpoints.latest(child.data_dir / "audit" / "checkpoints.jsonl")
            assert resigned is not None
            refused = send_up(child, parent, resigned)
            kept = held_by(parent, PROVINCE)

        # Alone, the child is fooled: nothing it holds remembers the old chain.
        assert alone.returncode == 0, alone.stdout + alone.stderr
        assert "audit log intact" in alone.stdout
        assert witnessed.returncode == 2, witnessed.stdout + witnessed.stderr
        assert "audit log rewritten: entry" in witnessed.stdout
        assert f"(held by the parent node {NATIONAL})" in witnessed.stdout
        assert refused.status_code == 422, refused.text
        assert "another key" in refused.json()["error"]["message"]
        assert kept[latest.size] == latest.head
        assert resigned.size not in kept or kept[resigned.size] != resigned.head
