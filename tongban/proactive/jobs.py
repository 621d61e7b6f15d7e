"""Proactive service in `tongban worker`: every rule over the population once a day (a run
over the same day makes no offer twice)."""

from __future__ import annotations

from sqlalchemy import Engine

from tongban.db.session import unit_of_work
from tongban.proactive import service
from tongban.security.principals import Internal
from tongban.worker.schedule import Job, register


def run_rules(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        service.run(session, Internal("worker: run the proactive rules"))


RULES = register(Job("proactive-runs", every=86400.0, run=run_rules, lease=3600.0))
