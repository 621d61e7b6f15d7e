"""Reading the batches a department leaves for the platform (file exchange, the other way).

A batch is a data file (JSON Lines) and its manifest (row count, SHA-256, written last). Each row
is a report on an application, applied like a signed callback: once per idempotency key, so a
batch read twice (a crash after applying, before moving it away) changes nothing the second
time. A checked batch moves to ``processed/``; one that fails its checks moves to ``rejected/``
with a note, and an administrator sees it in the connector's last error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine, select

from tongban.connectors.models import Connector, ConnectorKind, DepartmentSystem
from tongban.connectors.schemas import CallbackBody
from tongban.db.session import unit_of_work
from tongban.errors import TongbanError
from tongban.integration import callbacks
from tongban.kit.clock import utcnow

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    batches: int = 0
    applied: int = 0
    duplicates: int = 0
    refused: list[str] = field(default_factory=list)
    rejected_batches: list[str] = field(default_factory=list)


def _move(path: Path, folder: str) -> None:
    target = path.parent / folder
    target.mkdir(exist_ok=True)
    shutil.move(str(path), str(target / path.name))


def _check(manifest_path: Path) -> tuple[Path, list[dict[str, object]]]:
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    data_path = manifest_path.parent / str(manifest["file"])
    data = data_path.read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        raise ValueError("checksum does not match the manifest")
    rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    if len(rows) != manifest["rows"]:
        raise ValueError(f"{len(rows)} rows, the manifest says {manifest['rows']}")
    return data_path, rows


def import_inboxes(engine: Engine) -> ImportReport:
    """Read every file connector's inbox once."""
    report = ImportReport()
    with unit_of_work(engine) as session:
        inboxes = [
            (system.id, connector.id, Path(str(connector.config["inbox"])))
            for connector, system in session.execute(
                select(Connector, DepartmentSystem)
                .join(DepartmentSystem, Connector.system_id == DepartmentSystem.id)
                .where(
                    Connector.kind == ConnectorKind.FILE,
                    Connector.active.is_(True),
                    DepartmentSystem.active.is_(True),
                )
            ).all()
            if connector.config.get("inbox")
        ]
    for system_id, connector_id, inbox in inboxes:
        if inbox.is_dir():
            for manifest_path in sorted(inbox.glob("*.manifest.json")):
                _import_batch(engine, system_id, connector_id, manifest_path, report)
    return report


def _import_batch(
    engine: Engine, system_id: int, connector_id: int, manifest_path: Path, report: ImportReport
) -> None:
    try:
        data_path, rows = _check(manifest_path)
    except (OSError, ValueError, KeyError) as exc:
        problem = f"{manifest_path.name}: {exc}"
        log.warning("rejected batch %s", problem)
        report.rejected_batches.append(problem)
        with unit_of_work(engine) as session:
            connector = session.get(Connector, connector_id)
            if connector is not None:
                connector.last_failure_at, connector.last_error = utcnow(), problem[:2000]
        _move(manifest_path, "rejected")
        return
    report.batches += 1
    for row in rows:
        key = str(row.get("idempotency_key", ""))
        try:
            body = CallbackBody.model_validate(
                {k: v for k, v in row.items() if k != "idempotency_key"}
            )
            # One transaction per row: a row the platform refuses does not undo the others.
            with unit_of_work(engine) as session:
                system = session.get(DepartmentSystem, system_id)
                assert system is not None
                answer = callbacks.handle_callback(session, system, idempotency_key=key, body=body)
        except (ValidationError, TongbanError) as exc:
            report.refused.append(f"{manifest_path.name} {key}: {exc}"[:300])
            continue
        if answer["duplicate"]:
            report.duplicates += 1
        else:
            report.applied += 1
    _move(data_path, "processed")
    _move(manifest_path, "processed")
