"""Database connector: insert each event as a row into the department's staging table.

The table has a unique ``idempotency_key`` column, so a redelivered message is refused by the
department's own database and counts as delivered: exactly one row per event.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import Column, Engine, MetaData, String, Table, Text, create_engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from tongban.connectors.kinds import DeliveryError, Outgoing
from tongban.connectors.models import Connector, DepartmentSystem


@lru_cache(maxsize=64)
def _engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True)


def staging_table(name: str, columns: list[str]) -> Table:
    """The staging table's shape: envelope columns, then one text column per mapped field."""
    metadata = MetaData()
    return Table(
        name,
        metadata,
        Column("idempotency_key", String(64), primary_key=True),
        Column("event", String(80), nullable=False),
        Column("record_id", String(80), nullable=False),
        *(Column(c, Text) for c in columns),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class DatabaseTransport:
    def deliver(
        self, system: DepartmentSystem, connector: Connector, batch: list[Outgoing]
    ) -> dict[int, DeliveryError | None]:
        table = staging_table(str(connector.config["table"]), sorted(connector.mapping.values()))
        outcome: dict[int, DeliveryError | None] = {}
        try:
            engine = _engine(str(connector.config["url"]))
        except SQLAlchemyError as exc:
            error = DeliveryError(f"bad database URL: {exc}", permanent=True)
            return {o.message.id: error for o in batch}
        for item in batch:
            row = {
                "idempotency_key": item.message.idempotency_key,
                "event": item.message.event_type,
                "record_id": item.message.aggregate_id,
                **{k: _text(v) for k, v in item.body["data"].items()},
            }
            try:
                with engine.begin() as conn:
                    conn.execute(table.insert().values(**row))
                outcome[item.message.id] = None
            except IntegrityError:
                outcome[item.message.id] = None  # already there: delivered before
            except SQLAlchemyError as exc:
                outcome[item.message.id] = DeliveryError(f"{type(exc).__name__}: {exc}"[:500])
        return outcome
