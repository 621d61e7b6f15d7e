"""What confirming a payment costs: the provider's signed notification checked, the payment
moved to its final state and the change journaled, in one transaction; and the same
notification again (a repeat changes nothing, so it should cost only the reads).

Runs in this process on a fresh SQLite database with the demo loaded; the payments belong to one
of the demo's approved cases. Each figure is the median (and 95th percentile) wall time of
``--n`` notifications, each in its own transaction as a request would be.

Run: ``.venv/bin/python bench/payments.py [--quick] [--n N]``. The last line is the result.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from tongban.security.principals import Operator

OPERATOR = Operator("bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 notifications")
    parser.add_argument("--n", type=int, default=500, help="notifications")
    args = parser.parse_args()
    n = 50 if args.quick else args.n
    workdir = Path(tempfile.mkdtemp(prefix="tongban-payments-"))
    os.environ["TONGBAN_DATA_DIR"] = str(workdir)
    os.environ["TONGBAN_DATABASE_URL"] = f"sqlite:///{workdir / 'bench.db'}"
    os.environ["TONGBAN_PAYMENTS_PROVIDER"] = "simulated"

    import json

    from sqlalchemy import select

    from tongban import demo
    from tongban.applications.models import Application
    from tongban.db.engine import get_engine
    from tongban.db.migrate import upgrade
    from tongban.db.session import unit_of_work
    from tongban.kit.clock import utcnow
    from tongban.licences.demo import issue_demo_licences
    from tongban.payments import service, signing, simulated
    from tongban.payments.models import Payment, PaymentStatus

    upgrade(get_engine())
    with unit_of_work() as session:
        demo.load(session)
        issue_demo_licences(session)
    key = simulated.notification_key()
    with unit_of_work() as session:
        case = session.execute(select(Application).limit(1)).scalar_one()
        for i in range(n):
            session.add(
                Payment(
                    reference=f"bench-{i:06d}",
                    application_id=case.id,
                    number=case.number,
                    department_id=case.department_id,
                    payer_id=case.applicant_id,
                    amount_fen=12_000,
                    description="bench",
                    status=PaymentStatus.STARTED,
                    provider=simulated.NAME,
                    provider_id=f"sim_bench{i:06d}",
                )
            )
    at = utcnow().isoformat()
    notifications = []
    for i in range(n):
        body = json.dumps(
            {
                "provider_id": f"sim_bench{i:06d}",
                "reference": f"bench-{i:06d}",
                "status": "success",
                "amount_fen": 12_000,
                "at": at,
            }
        ).encode()
        notifications.append((body, signing.sign(key, body)))

    def confirm_all() -> list[float]:
        times = []
        for body, signature in notifications:
            start = time.perf_counter()
            with unit_of_work() as session:
                service.notify(session, OPERATOR, body=body, signature=signature)
            times.append((time.perf_counter() - start) * 1000)
        return times

    first, repeat = confirm_all(), confirm_all()
    with unit_of_work() as session:
        paid = session.query(Payment).filter(Payment.status == PaymentStatus.SUCCESS).count()
    assert paid == n, f"{paid} of {n} confirmed"

    def p95(values: list[float]) -> float:
        return sorted(values)[int(0.95 * (len(values) - 1))]

    print(f"first notification: median {statistics.median(first):.2f} ms, p95 {p95(first):.2f}")
    print(f"repeated:           median {statistics.median(repeat):.2f} ms, p95 {p95(repeat):.2f}")
    print(
        f"RESULT name=payments n={n} confirm_ms={statistics.median(first):.2f} "
        f"confirm_p95_ms={p95(first):.2f} repeat_ms={statistics.median(repeat):.2f} "
        f"repeat_p95_ms={p95(repeat):.2f}"
    )


if __name__ == "__main__":
    main()
