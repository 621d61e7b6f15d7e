"""A government SMS platform for tests: a real HTTP server on 127.0.0.1 (http.server in a
thread) that authenticates each request by its app key and signature, checks the template and
the number, and answers as such platforms do. Scripted per phone number: answer 503 a number
of times first (busy), refuse the number (400), or answer too slowly (a timeout)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

APP_KEY = "tongban-test"
APP_SECRET = "s3cret-issued-by-the-platform"
TEMPLATE = "SMS_000001"


@dataclass
class Platform:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    # Phone -> how many more requests to answer 503.
    busy: dict[str, int] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    slow: set[str] = field(default_factory=set)
    # Phone -> every status answered, in order.
    answers: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        method = headers.get("X-Signature-Method", "HMAC-SHA256").lower().removeprefix("hmac-")
        text = "\n".join(
            (
                headers.get("X-App-Key", ""),
                headers.get("X-Timestamp", ""),
                headers.get("X-Nonce", ""),
                hashlib.new(method, body).hexdigest(),
            )
        ).encode()
        expected = hmac.new(APP_SECRET.encode(), text, method).hexdigest()
        if headers.get("X-App-Key") != APP_KEY or not hmac.compare_digest(
            expected, headers.get("X-Signature", "")
        ):
            return 401, {"code": "InvalidSignature", "message": "signature does not match"}
        if abs(time.time() * 1000 - int(headers.get("X-Timestamp", "0"))) > 300_000:
            return 401, {"code": "RequestExpired", "message": "timestamp too old"}
        request = json.loads(body)
        phone = request["phoneNumbers"]
        with self.lock:
            if phone in self.slow:
                time.sleep(1.0)
            if self.busy.get(phone, 0) > 0:
                self.busy[phone] -= 1
                return 503, {"code": "ServiceBusy", "message": "try again later"}
            if request["templateCode"] != TEMPLATE:
                return 400, {"code": "InvalidTemplate", "message": "template not registered"}
            if phone in self.refused or not (len(phone) == 11 and phone.startswith("1")):
                return 400, {"code": "InvalidPhoneNumber", "message": "number refused"}
            self.received.append(request)
            return 200, {"code": "OK", "messageId": f"M{len(self.received):06d}"}

    def record(self, body: bytes, status: int) -> None:
        try:
            phone = json.loads(body)["phoneNumbers"]
        except (ValueError, KeyError):
            return
        with self.lock:
            self.answers.setdefault(phone, []).append(status)


@contextmanager
def sms_platform() -> Iterator[Platform]:
    platform = Platform()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, answer = platform.answer(self.headers, body)
            platform.record(body, status)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    platform.url = f"http://127.0.0.1:{server.server_address[1]}/sms/v1/send"
    try:
        yield platform
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
