"""Request bodies are capped before they are read (issue 18, item 2), over real HTTP: the client
sends the headers and a little of the body, and the answer must come back while most of the
body is still unsent. Before the cap, the server read (and spooled to disk) the whole body
first, so these clients would wait for an answer that never came."""

from __future__ import annotations

import json
import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.applications.helpers import ITEM
from tongban.config import get_settings
from tongban.web.limits import DEFAULT_LIMIT, upload_limit

MIB = 1024 * 1024
CHUNK = 64 * 1024
BOUNDARY = "tongbanlimitboundary"
# Loopback socket buffers hold a few MiB the server has not read; what the client managed to
# push beyond the limit is bounded by them, far below the bodies sent here.
SLACK = 16 * MIB


@dataclass
class Answer:
    status: int
    body: dict[str, object]
    sent: int


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, object]]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            break
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        more = sock.recv(65536)
        if not more:
            break
        rest += more
    return status, json.loads(rest[:length] or b"{}")


def post(
    base_url: str,
    path: str,
    *,
    headers: dict[str, str],
    first: bytes,
    filler: bytes = b"\0",
    total: int,
    chunked: bool = False,
) -> Answer:
    """Send the request line, ``headers`` and ``first``, then ``filler`` up to ``total`` bytes,
    stopping as soon as the server answers; return the answer and how much body was sent."""
    url = urlsplit(base_url)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    head = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", "Accept: application/json"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sent = 0
    deadline = time.monotonic() + 30
    try:
        while sent < total and time.monotonic() < deadline:
            piece = first[sent:] if sent < len(first) else filler * (CHUNK // len(filler))
            piece = piece[: total - sent]
            # The server answered (and stopped reading): stop sending.
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        if sent >= total and chunked:
            sock.sendall(b"0\r\n\r\n")
        status, body = _read_answer(sock)
        return Answer(status, body, sent)
    finally:
        sock.close()


def multipart_start(requirement_code: str) -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="requirement_code"\r\n\r\n'
        f"{requirement_code}\r\n"
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
        "%PDF-1.4\n"
    ).encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def stored_files(root: Path) -> set[Path]:
    return set(root.rglob("*")) if root.exists() else set()


@pytest.fixture
def draft(client: TestClient, applicant_headers: dict[str, str]) -> str:
    response = client.post(
        "/api/v1/applications", headers=applicant_headers, json={"item_code": ITEM}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


class TestUploads:
    def test_an_anonymous_upload_is_refused_before_its_body_is_read(
        self, live_server: str, draft: str
    ) -> None:
        before = stored_files(get_settings().materials_dir)
        # Under the cap, so only signing in can refuse it.
        total = upload_limit() - MIB
        answer = post(
            live_server,
            f"/api/v1/applications/{draft}/materials",
            headers=MULTIPART,
            first=multipart_start("id_card"),
            total=total,
        )
        assert answer.status == 401
        assert answer.body["error"]["code"] == "unauthenticated"  # type: ignore[index]
        assert answer.sent < total - MIB
        assert stored_files(get_settings().materials_dir) == before

    def test_a_declared_length_over_the_cap_is_413_at_once(
        self, live_server: str, draft: str, applicant_headers: dict[str, str]
    ) -> None:
        for headers in ({}, applicant_headers):
            answer = post(
                live_server,
                f"/api/v1/applications/{draft}/materials",
                headers=MULTIPART | headers,
                first=multipart_start("id_card"),
                total=200 * MIB,
            )
            assert answer.status == 413
            assert answer.body["error"] == {  # type: ignore[comparison-overlap]
                "code": "too_large",
                "message": answer.body["error"]["message"],  # type: ignore[index]
                "field": None,
            }
            assert answer.sent < SLACK

    def test_a_streamed_upload_is_cut_at_the_cap(
        self, live_server: str, draft: str, applicant_headers: dict[str, str]
    ) -> None:
        before = stored_files(get_settings().materials_dir)
        answer = post(
            live_server,
            f"/api/v1/applications/{draft}/materials",
            headers=MULTIPART | applicant_headers,
            first=multipart_start("id_card"),
            total=200 * MIB,
            chunked=True,
        )
        assert answer.status == 413
        assert answer.sent < upload_limit() + SLACK
        assert stored_files(get_settings().materials_dir) == before


class TestJsonBodies:
    def test_a_declared_30_mb_sign_in_is_413_unread(self, live_server: str) -> None:
        answer = post(
            live_server,
            "/api/v1/session",
            headers={"Content-Type": "application/json"},
            first=b'{"username": "',
            filler=b"a",
            total=30 * MIB,
        )
        assert answer.status == 413
        assert answer.body["error"]["code"] == "too_large"  # type: ignore[index]
        assert answer.sent < SLACK

    def test_a_streamed_json_body_is_cut_at_one_megabyte(self, live_server: str) -> None:
        answer = post(
            live_server,
            "/api/v1/session",
            headers={"Content-Type": "application/json"},
            first=b'{"username": "',
            filler=b"a",
            total=30 * MIB,
            chunked=True,
        )
        assert answer.status == 413
        assert answer.sent < DEFAULT_LIMIT + SLACK

    def test_a_body_under_the_limit_is_read_as_before(self, live_server: str) -> None:
        body = json.dumps({"username": "zhangsan", "password": "x" * 100}).encode()
        answer = post(
            live_server,
            "/api/v1/session",
            headers={"Content-Type": "application/json"},
            first=body,
            total=len(body),
        )
        assert answer.status == 401
