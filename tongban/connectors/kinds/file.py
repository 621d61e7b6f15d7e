"""File connector: each batch becomes one data file (JSON Lines or CSV) plus a manifest with the
row count and the file's SHA-256, in the directory agreed with the department.

Files appear atomically (written under a temporary name, synced, then renamed), the manifest
last: a department that reads only files with a manifest never sees half a batch.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

from tongban.connectors.kinds import DeliveryError, Outgoing
from tongban.connectors.models import Connector, DepartmentSystem
from tongban.kit import csvfile
from tongban.kit.clock import utcnow


def atomic_write(path: Path, data: bytes) -> None:
    """Write under a temporary name, sync, rename: readers never see a partial file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def render(batch: list[Outgoing], fmt: str) -> bytes:
    rows = [
        {
            "idempotency_key": o.message.idempotency_key,
            "event": o.message.event_type,
            "id": o.message.aggregate_id,
            **o.body["data"],
        }
        for o in batch
    ]
    if fmt == "jsonl":
        return "".join(
            json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows
        ).encode()
    # CSV is the format people open in a spreadsheet program: text that could start a formula
    # comes with a leading ' (kit.csvfile); JSON Lines carries every value exactly.
    columns = sorted({key for row in rows for key in row})
    cells = (
        [
            json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
            for v in (row.get(c) for c in columns)
        ]
        for row in rows
    )
    return csvfile.text(columns, cells).encode()


class FileTransport:
    def deliver(
        self, system: DepartmentSystem, connector: Connector, batch: list[Outgoing]
    ) -> dict[int, DeliveryError | None]:
        fmt = str(connector.config.get("format", "jsonl"))
        directory = Path(str(connector.config["directory"]))
        stem = f"{system.code}-{connector.name}-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        data = render(batch, fmt)
        manifest = {
            "file": f"{stem}.{fmt}",
            "rows": len(batch),
            "sha256": hashlib.sha256(data).hexdigest(),
            "idempotency_keys": [o.message.idempotency_key for o in batch],
            "created_at": utcnow().isoformat(),
        }
        try:
            directory.mkdir(parents=True, exist_ok=True)
            atomic_write(directory / f"{stem}.{fmt}", data)
            atomic_write(
                directory / f"{stem}.manifest.json",
                json.dumps(manifest, ensure_ascii=False, indent=2).encode(),
            )
        except OSError as exc:
            error = DeliveryError(f"cannot write to {directory}: {exc}")
            return {o.message.id: error for o in batch}
        return {o.message.id: None for o in batch}
