"""Prometheus metrics of the web processes, summed over all of them.

``tongban serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder per server) before this
module loads, so every worker process writes its values to files there and whichever process
answers ``/metrics`` reads them all (prometheus-client's multi-process mode). Without it (tests,
an app served some other way) the values are the process's own.

The backlogs (outbox, dead letters, the audit journal, notifications waiting) are the
database's, read when scraped: they are the same whichever process answers.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from tongban.config import get_settings
from tongban.integration import backlogs

REQUESTS = Histogram(
    "tongban_http_request_duration_seconds",
    "Requests served, by route template, method and status, and how long they took.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
IN_FLIGHT = Gauge(
    "tongban_http_in_flight", "Requests being served now.", multiprocess_mode="livesum"
)
SHED = Counter(
    "tongban_http_shed_total", "Requests refused 503 by admission control, by lane.", ["lane"]
)
POOL_CHECKED_OUT = Gauge(
    "tongban_db_pool_checked_out",
    "Database connections in use (as of each process's last request).",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "tongban_db_pool_size",
    "Database connections each process's pool keeps.",
    multiprocess_mode="max",
)


class Backlogs(Collector):
    """The database's backlogs, read at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        found = backlogs.measure(self.engine)
        for name, value, text in (
            ("tongban_outbox_due", found.outbox_due, "Outbox messages due for delivery."),
            ("tongban_outbox_dead", found.outbox_dead, "Outbox messages given up (dead letters)."),
            ("tongban_audit_journal_backlog", found.journal, "Audit entries not yet in the chain."),
            (
                "tongban_notifications_waiting",
                found.notifications,
                "Notifications queued, not yet sent.",
            ),
        ):
            yield GaugeMetricFamily(name, text, value=value)


def pool_use(engine: Engine) -> None:
    pool = engine.pool
    checked_out = getattr(pool, "checkedout", None)
    if checked_out is not None:
        POOL_CHECKED_OUT.set(checked_out())
        POOL_SIZE.set(getattr(pool, "size", lambda: 1)())


def exposition(engine: Engine) -> tuple[bytes, str]:
    """The metrics text, every process's values summed, and its content type."""
    registry = CollectorRegistry()
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        _forget_dead(Path(folder))
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for metric in (REQUESTS, IN_FLIGHT, SHED, POOL_CHECKED_OUT, POOL_SIZE):
            registry.register(metric)
    registry.register(Backlogs(engine))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _forget_dead(folder: Path) -> None:
    # A worker killed (SIGKILL) never says it died: its "live" gauges would count forever.
    for path in folder.glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]
        except PermissionError:
            pass


def may_read(client: str, authorization: str | None) -> bool:
    """Whether this client may read /metrics: an allowed address, or the token."""
    settings = get_settings()
    if settings.metrics_token and authorization == f"Bearer {settings.metrics_token}":
        return True
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.metrics_allowed
    )
