"""Notifications sent per event in a demo day: the demo data, a handful of cases taken through
their states (online and at the single window), a tracking code, a bad rating answered, the
time-limit scan and a bulk notice; everything delivered by one dispatcher round with the
recording senders. Prints the count per event, channel and delivery status.

    python bench/notification_counts.py [--quick]

One demo day is already a run under a minute: ``--quick`` runs the same.

Ends with: RESULT name=notification_counts total=.. delivered=.. <event>=..
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from tongban.security.principals import ANONYMOUS, Operator

OPERATOR = Operator("bench")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description="Notifications sent per event in a demo day.")
    parser.add_argument(
        "--quick", action="store_true", help="the same run (already under a minute)"
    )
    parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tongban-notify-"))
    os.environ["TONGBAN_DATA_DIR"] = str(workdir)
    os.environ["TONGBAN_DATABASE_URL"] = f"sqlite:///{workdir / 'demo.db'}"

    from tests.applications.factories import application_in
    from tongban import demo
    from tongban.applications import service as applications_service
    from tongban.applications.states import Status
    from tongban.db.engine import get_engine
    from tongban.db.migrate import upgrade
    from tongban.db.session import unit_of_work
    from tongban.evaluations import service as evaluations_service
    from tongban.identity import service as identity_service
    from tongban.integration import dispatcher
    from tongban.notifications import service as notifications_service
    from tongban.notifications.models import Channel
    from tongban.notifications.schemas import BulkRow
    from tongban.tracking import service as tracking_service

    engine = get_engine()
    upgrade(engine)
    with unit_of_work(engine) as session:
        demo.load(session)
    completed = [
        application_in(engine, applicant=who, status=Status.COMPLETED)
        for who in ("zhangsan", "lisi", "zhangsan")
    ]
    application_in(engine, applicant="zhangsan", status=Status.RETURNED)
    application_in(engine, applicant="lisi", status=Status.ACCEPTED)
    application_in(engine, applicant="lisi", status=Status.IN_REVIEW)
    with unit_of_work(engine) as session:
        lisi = identity_service.get_by_username(session, "lisi")
        official = identity_service.get_by_username(session, "samr_officer")
        assert lisi is not None
        assert official is not None
        evaluations_service.rate(
            session,
            lisi,
            number=completed[1],
            indicators=dict.fromkeys(
                ("overall", "efficiency", "guide_accuracy", "convenience", "usability"), 2
            ),
            comment="办理太慢",
        )
        [case] = evaluations_service.department_rectifications(session, official)
        evaluations_service.reply(session, official, case.id, text="已优化流程，向您致歉。")
        tracking_service.request_code(session, ANONYMOUS, number=completed[0], channel="sms")
        applications_service.warn_due_soon(session, OPERATOR, within_days=5)
        notifications_service.bulk_send(
            session,
            OPERATOR,
            event="notice",
            channel=Channel.SMS,
            rows=[
                BulkRow(to=u, personalisation={"text": "本周六系统维护"})
                for u in ("zhangsan", "lisi")
            ],
        )
    report = dispatcher.dispatch_once(engine, targets_only=True, limit=10_000)
    with unit_of_work(engine) as session:
        rows = notifications_service.counts(session, OPERATOR)
    print(f"{'event':<24}{'channel':<10}{'status':<12}messages")
    per_event: Counter[str] = Counter()
    for row in rows:
        print(f"{row.event:<24}{row.channel.value:<10}{row.status.value:<12}{row.count}")
        per_event[row.event] += row.count
    total = sum(per_event.values())
    details = " ".join(f"{event}={n}" for event, n in sorted(per_event.items()))
    print(f"RESULT name=notification_counts total={total} delivered={report.delivered} {details}")


if __name__ == "__main__":
    main()
