"""The platform's own background jobs: delivery to department systems and to people, the audit
journal's sequencing and checkpoints, deadline warnings. (Analytics and proactive service
register theirs in their own ``jobs`` modules: they sit above this layer.)"""

from __future__ import annotations

from sqlalchemy import Engine

from tongban.applications.service import maintenance
from tongban.audit import checkpoints, journal
from tongban.db.session import sessions_for, unit_of_work
from tongban.integration import dispatcher, inbox
from tongban.security.principals import Internal
from tongban.worker.schedule import Job, register


def deliver_outbox(engine: Engine) -> None:
    """Department systems' messages, round after round while there are any; then the files
    departments left in their inboxes."""
    while dispatcher.dispatch_once(engine, connectors_only=True).claimed:
        pass
    inbox.import_inboxes(engine)


def deliver_notifications(engine: Engine) -> None:
    while dispatcher.dispatch_once(engine, targets_only=True).claimed:
        pass


def sequence_journal(engine: Engine) -> None:
    journal.sequence_batches(sessions_for(engine), wait=False)
    checkpoints.sign_periodically(sessions_for(engine))


def warn_due_soon(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        maintenance.warn_due_soon(session, Internal("worker: warn of cases due soon"))


OUTBOX = register(Job("outbox", every=1.0, run=deliver_outbox, shared=True))
NOTIFICATIONS = register(Job("notifications", every=1.0, run=deliver_notifications, shared=True))
JOURNAL = register(Job("audit-journal", every=1.0, run=sequence_journal, lease=60.0))
DUE_SOON = register(Job("due-soon-warnings", every=3600.0, run=warn_due_soon, lease=600.0))
