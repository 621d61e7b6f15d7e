"""A simulated department system that receives applications from tongban by API.

It is a separate service with its own database, as a real department's system would be: it
verifies each request's signature, and keeps each event once by its idempotency key, so the
platform's retries never create a second record. ``GET /stats`` reports what it received.

Run: DEPT_SECRET=... DEPT_DB=dept.db uvicorn --factory examples.department_service.app:from_env
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tongban.connectors import signing

_lock = threading.Lock()


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # a received record survives a kill -9
    conn.execute(
        "CREATE TABLE IF NOT EXISTS received (idempotency_key TEXT PRIMARY KEY, event TEXT, "
        "record_id TEXT, body TEXT, received_at TEXT)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS deliveries (n INTEGER PRIMARY KEY AUTOINCREMENT, "
        "idempotency_key TEXT)"
    )
    return conn


def create_app(
    *, secret: str, db_path: str, people: dict[str, dict[str, Any]] | None = None
) -> FastAPI:
    """``people``: what this department holds on persons, by resident ID number, answered to
    the platform's signed lookups (once-only prefill)."""
    app = FastAPI(title="Example department system")
    conn = _connect(db_path)
    register = people or {}

    @app.get("/lookup")
    def lookup(request: Request, id_number: str) -> JSONResponse:
        query = request.url.query.encode()
        if not signing.verify_request(secret, request.headers, query):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        person = register.get(id_number)
        if person is None:
            return JSONResponse({"error": "unknown person"}, status_code=404)
        return JSONResponse(person)

    @app.post("/inbox")
    async def inbox(request: Request) -> JSONResponse:
        body = await request.body()
        if not signing.verify_request(secret, request.headers, body):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        key = request.headers.get(signing.IDEMPOTENCY_HEADER, "")
        event: dict[str, Any] = json.loads(body)
        with _lock:
            conn.execute("INSERT INTO deliveries (idempotency_key) VALUES (?)", (key,))
            try:
                conn.execute(
                    "INSERT INTO received VALUES (?, ?, ?, ?, ?)",
                    (
                        key,
                        event.get("event"),
                        event.get("id"),
                        json.dumps(event, ensure_ascii=False),
                        datetime.now(UTC).isoformat(),
                    ),
                )
            except sqlite3.IntegrityError:
                return JSONResponse({"status": "duplicate"}, status_code=200)
        return JSONResponse({"status": "received"}, status_code=201)

    @app.get("/stats")
    def stats() -> dict[str, int]:
        unique = conn.execute("SELECT count(*) FROM received").fetchone()[0]
        deliveries = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        return {"unique": unique, "deliveries": deliveries}

    @app.get("/records/{record_id}")
    def records(record_id: str) -> list[dict[str, Any]]:
        rows = conn.execute(
            "SELECT body FROM received WHERE record_id = ? ORDER BY rowid", (record_id,)
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    return app


def from_env() -> FastAPI:
    """For ``uvicorn --factory``: settings from DEPT_SECRET and DEPT_DB."""
    return create_app(
        secret=os.environ["DEPT_SECRET"], db_path=os.environ.get("DEPT_DB", "department.db")
    )
