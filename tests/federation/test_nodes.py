"""Part 1: node identities, and the registry the national node signs and every node refreshes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from tests.federation.conftest import CITY, NATIONAL, OTHER_PROVINCE, PROVINCE
from tests.fixtures.live import serve
from tests.fixtures.nodes import NodeProcess, registry_version, wait_until
from tongban.federation import registry
from tongban.federation.schemas import NodeSpec
from tongban.kit.clock import utcnow
from tongban.security.crypto import get_suite


class TestIdentity:
    def test_each_node_shows_its_code_level_parent_and_key(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        city = httpx.get(nodes[CITY].url + "/api/v1/federation/node").json()
        assert city["code"] == CITY
        assert city["level"] == "city"
        assert city["parent_code"] == PROVINCE
        assert city["suite"] == "sm"
        assert len(bytes.fromhex(city["public_key"])) == 65  # an SM2 point
        province = httpx.get(nodes[PROVINCE].url + "/api/v1/federation/node").json()
        assert province["suite"] == "intl"
        assert len(bytes.fromhex(province["public_key"])) == 32  # an Ed25519 key

    def test_a_second_init_is_refused(self, nodes: dict[str, NodeProcess]) -> None:
        result = nodes[CITY].cli(
            "federation",
            "init",
            "--code=330200",
            "--name=宁波市",
            "--level=city",
            "--parent=330000",
            f"--url={nodes[CITY].url}",
            check=False,
        )
        assert result.returncode == 1
        assert "already node 330100" in result.stdout

    def test_a_city_code_must_lie_in_its_province(self, nodes: dict[str, NodeProcess]) -> None:
        result = nodes[NATIONAL].cli(
            "federation",
            "nodes",
            "add",
            "440100",
            "--name=广州市",
            "--level=city",
            "--parent=330000",
            "--url=http://127.0.0.1:1",
            "--suite=sm",
            f"--public-key={nodes[CITY].public_key}",
            check=False,
        )
        assert result.returncode == 1
        assert "parent is its province" in result.stdout


class TestRegistry:
    def test_every_node_holds_the_registry_signed_by_the_national_node(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        national_key = bytes.fromhex(nodes[NATIONAL].public_key)
        for node in nodes.values():
            signed = httpx.get(node.url + "/api/v1/federation/registry").json()
            document = json.loads(signed["document"])
            assert document["issuer"] == NATIONAL
            assert {n["code"] for n in document["nodes"]} == {
                NATIONAL,
                PROVINCE,
                CITY,
                OTHER_PROVINCE,
            }
            assert get_suite("sm").verify(
                national_key,
                registry.CONTEXT + signed["document"].encode(),
                base64.b64decode(signed["signature"]),
            )
        listed = httpx.get(nodes[CITY].url + "/api/v1/federation/nodes").json()
        assert {n["code"]: n["public_key"] for n in listed} == {
            code: node.public_key for code, node in nodes.items()
        }

    def test_a_new_node_reaches_the_others_with_the_next_version(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        before = registry_version(nodes[NATIONAL].url)
        key = get_suite("intl").generate_key_pair().public.hex()
        nodes[NATIONAL].cli(
            "federation",
            "nodes",
            "add",
            "330200",
            "--name=宁波市",
            "--level=city",
            "--parent=330000",
            "--url=http://127.0.0.1:9",
            "--suite=intl",
            f"--public-key={key}",
        )
        assert registry_version(nodes[NATIONAL].url) == before + 1
        wait_until(
            lambda: registry_version(nodes[CITY].url) == before + 1,
            what="the city to refresh the registry",
        )
        listed = httpx.get(nodes[CITY].url + "/api/v1/federation/nodes").json()
        assert "330200" in {n["code"] for n in listed}

    def test_the_last_good_copy_is_kept_while_the_top_is_down(
        self, nodes: dict[str, NodeProcess]
    ) -> None:
        national = nodes[NATIONAL]
        held = registry_version(nodes[CITY].url)
        assert national.serve is not None
        national.serve.kill()
        try:
            result = nodes[CITY].cli("federation", "refresh")
            assert "registry unreachable" in result.stdout
            assert f"version {held}" in result.stdout
            assert registry_version(nodes[CITY].url) == held
            listed = nodes[CITY].cli("federation", "nodes", "list").stdout
            assert NATIONAL in listed
            assert PROVINCE in listed
        finally:
            national.start_serve()


@pytest.fixture
def impostor() -> Iterator[tuple[str, dict[str, object]]]:
    """A server handing out whatever registry the test puts in ``served``."""
    served: dict[str, object] = {}
    app = FastAPI()

    @app.get("/api/v1/federation/registry")
    def fake() -> JSONResponse:
        return JSONResponse(served)

    with serve(app) as url:
        yield url, served


class TestForgedRegistry:
    def test_an_altered_registry_is_refused_and_the_held_one_kept(
        self, nodes: dict[str, NodeProcess], impostor: tuple[str, dict[str, object]]
    ) -> None:
        url, served = impostor
        genuine = httpx.get(nodes[NATIONAL].url + "/api/v1/federation/registry").json()
        document = json.loads(genuine["document"])
        document["version"] += 10
        for node in document["nodes"]:
            node["url"] = "http://attacker.example"
        served.update(document=registry.canonical(document), signature=genuine["signature"])
        held = registry_version(nodes[CITY].url)
        result = nodes[CITY].cli("federation", "refresh", f"--source={url}", check=False)
        assert result.returncode == 2
        assert "not signed by the national node" in result.stdout
        assert registry_version(nodes[CITY].url) == held

    def test_a_registry_signed_by_another_key_is_refused(
        self, nodes: dict[str, NodeProcess], impostor: tuple[str, dict[str, object]]
    ) -> None:
        url, served = impostor
        pair = get_suite("sm").generate_key_pair()
        forged = registry.sign(
            suite="sm",
            private_key=pair.private,
            issuer=NATIONAL,
            version=999,
            issued_at=utcnow(),
            nodes=[
                NodeSpec(
                    code=NATIONAL,
                    name="假",
                    level="national",  # type: ignore[arg-type]
                    url="http://attacker.example",
                    suite="sm",
                    public_key=pair.public.hex(),
                )
            ],
        )
        served.update(forged.model_dump())
        result = nodes[CITY].cli("federation", "refresh", f"--source={url}", check=False)
        assert result.returncode == 2
        assert registry_version(nodes[CITY].url) < 999
