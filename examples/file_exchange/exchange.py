"""A simulated department system that exchanges data files with tongban.

It reads the batches the platform drops in one directory (checking each manifest's row count and
checksum, keeping each event once by its idempotency key, in its own SQLite database), and
answers by dropping batches of results in another directory, manifest last.

    python -m examples.file_exchange.exchange --incoming DIR --outgoing DIR --db FILE \
        [--action accept] [--loop]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import time
import uuid
from pathlib import Path

from tongban.connectors.kinds.file import atomic_write


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS cases (idempotency_key TEXT PRIMARY KEY, event TEXT, "
        "number TEXT, row TEXT, answered INTEGER DEFAULT 0)"
    )
    return conn


def ingest(incoming: Path, conn: sqlite3.Connection) -> int:
    """Take in every complete batch; returns how many new events were kept."""
    kept = 0
    for manifest_path in sorted(incoming.glob("*.manifest.json")):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        data_path = incoming / manifest["file"]
        data = data_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
            continue  # a damaged batch stays for a person to look at
        rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
        if len(rows) != manifest["rows"]:
            continue
        for row in rows:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO cases (idempotency_key, event, number, row) "
                "VALUES (?, ?, ?, ?)",
                (
                    row["idempotency_key"],
                    row["event"],
                    row["id"],
                    json.dumps(row, ensure_ascii=False),
                ),
            )
            kept += cursor.rowcount
        done = incoming / "processed"
        done.mkdir(exist_ok=True)
        shutil.move(str(data_path), str(done / data_path.name))
        shutil.move(str(manifest_path), str(done / manifest_path.name))
    return kept


def answer(conn: sqlite3.Connection, outgoing: Path, *, action: str, reason: str = "") -> int:
    """Report ``action`` on every new submitted case, as one batch; returns the row count."""
    pending = conn.execute(
        "SELECT idempotency_key, number FROM cases WHERE answered = 0 "
        "AND event = 'application.submitted' ORDER BY rowid"
    ).fetchall()
    if not pending:
        return 0
    rows = [
        {"idempotency_key": f"ans-{key}", "application": number, "action": action, "reason": reason}
        for key, number in pending
    ]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    stem = f"results-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    outgoing.mkdir(parents=True, exist_ok=True)
    atomic_write(outgoing / f"{stem}.jsonl", data)
    atomic_write(
        outgoing / f"{stem}.manifest.json",
        json.dumps(
            {
                "file": f"{stem}.jsonl",
                "rows": len(rows),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        ).encode(),
    )
    conn.executemany(
        "UPDATE cases SET answered = 1 WHERE idempotency_key = ?", [(key,) for key, _ in pending]
    )
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incoming", type=Path, required=True)
    parser.add_argument("--outgoing", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--action", default="accept")
    parser.add_argument("--loop", action="store_true")
    args = parser.parse_args()
    conn = connect(args.db)
    while True:
        kept = ingest(args.incoming, conn)
        answered = answer(conn, args.outgoing, action=args.action)
        print(f"kept {kept} new events, answered {answered}", flush=True)  # noqa: T201
        if not args.loop:
            return
        time.sleep(1)


if __name__ == "__main__":
    main()
