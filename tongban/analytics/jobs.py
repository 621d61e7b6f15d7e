"""The analytics jobs `tongban worker` runs: the Parquet export, and the supervisors' early
warnings (each told at most once a day, so running hourly only catches new ones sooner)."""

from __future__ import annotations

from sqlalchemy import Engine

from tongban.analytics import service
from tongban.db.session import unit_of_work
from tongban.security.principals import Internal
from tongban.worker.schedule import Job, register


def export(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        service.export_events(session, Internal("worker: export events for analytics"))


def early_warnings(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        service.notify_supervisors(session, Internal("worker: early warnings to supervisors"))


EXPORT = register(Job("analytics-export", every=3600.0, run=export, lease=1800.0))
WARNINGS = register(Job("early-warnings", every=3600.0, run=early_warnings, lease=600.0))
