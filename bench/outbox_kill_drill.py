"""Kill drill for the outbox: applications flow while the dispatcher and the receiving department
service are killed with SIGKILL at random moments and restarted. At the end every application
must have reached the department exactly once after deduplication, and none may be lost.

    python bench/outbox_kill_drill.py [--quick] [--applications N] [--database-url URL]

Ends with: RESULT name=outbox_kill_drill sent=.. delivered=.. lost=.. duplicates=.. kills=..
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from tongban.security.principals import Operator

OPERATOR = Operator("bench")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECRET = "drill-secret-" + "x" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Managed:
    """A child process that can be killed hard and started again."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
            )

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.kills += 1

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def write_drill_catalog(work: Path) -> Path:
    """A department with one item that needs no materials: the drill measures delivery."""
    import yaml

    root = work / "catalog"
    (root / "items").mkdir(parents=True)
    (root / "departments.yaml").write_text(
        yaml.safe_dump(
            [{"code": "DRILL", "name_zh": "演练局", "name_en": "Drill bureau"}], allow_unicode=True
        )
    )
    (root / "items" / "drill.yaml").write_text(
        yaml.safe_dump(
            [
                {
                    "code": "DRILL-0001",
                    "department": "DRILL",
                    "name_zh": "演练事项",
                    "name_en": "Drill item",
                    "audience": "person",
                    "legal_basis_zh": ["演练"],
                    "legal_basis_en": ["Drill"],
                    "statutory_days": 5,
                    "promised_days": 1,
                    "fee": "0.00",
                    "online": True,
                    "offline": False,
                    "max_visits": 0,
                    "result_zh": "回执",
                    "result_en": "Receipt",
                    "fields": [
                        {
                            "name": "full_name",
                            "type": "text",
                            "label_zh": "姓名",
                            "label_en": "Name",
                            "required": True,
                            "security_label": "internal:identity",
                        }
                    ],
                }
            ],
            allow_unicode=True,
        )
    )
    return root


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 applications, under a minute")
    parser.add_argument("--applications", type=int, default=None)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    total = args.applications or (200 if args.quick else 1000)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="tongban-drill-"))
    db_url = args.database_url or f"sqlite:///{work / 'platform.db'}"
    env = {
        **os.environ,
        "TONGBAN_DATABASE_URL": db_url,
        "TONGBAN_DATA_DIR": str(work / "data"),
        # Short leases and retry delays so recovery after a kill takes seconds, and a budget of
        # attempts large enough that an outage of the department never kills a message.
        "TONGBAN_OUTBOX_LEASE_SECONDS": "3",
        "TONGBAN_OUTBOX_BASE_DELAY_SECONDS": "0.2",
        "TONGBAN_OUTBOX_MAX_DELAY_SECONDS": "2",
        "TONGBAN_OUTBOX_MAX_ATTEMPTS": "100000",
    }
    os.environ.update(env)

    from tongban.applications import service as applications_service
    from tongban.applications.states import Action
    from tongban.catalog import service as catalog_service
    from tongban.connectors.models import MessageStatus, OutboxMessage
    from tongban.connectors.schemas import SystemSpec
    from tongban.db.engine import make_engine
    from tongban.db.migrate import upgrade
    from tongban.db.session import unit_of_work
    from tongban.identity import service as identity_service
    from tongban.identity.models import AccountKind
    from tongban.integration import docking

    engine = make_engine(db_url)
    upgrade(engine)
    port = free_port()
    dept_url = f"http://127.0.0.1:{port}"
    catalog_dir = write_drill_catalog(work)
    with unit_of_work(engine) as session:
        catalog_service.load_catalog(session, OPERATOR, catalog_dir)
        spec = SystemSpec.model_validate(
            {
                "code": f"DRILL-{uuid.uuid4().hex[:6].upper()}",
                "name": "演练系统",
                "department": "DRILL",
                "secret": SECRET,
                "connectors": [
                    {
                        "name": "inbox",
                        "kind": "api",
                        "config": {"url": f"{dept_url}/inbox", "timeout_seconds": 2},
                        "mapping": {"number": "sqbh", "form.full_name": "xm"},
                        "events": ["application.submitted"],
                    }
                ],
            }
        )
        docking.register_system(session, OPERATOR, spec)
        applicant = identity_service.create_account(
            session,
            OPERATOR,
            username=f"drill_{uuid.uuid4().hex[:8]}",
            password="drill-password",
            display_name="演练申请人",
            kind=AccountKind.APPLICANT,
        )

    department = Managed(
        "department",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "examples.department_service.app:from_env",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        {**env, "DEPT_SECRET": SECRET, "DEPT_DB": str(work / "department.db")},
        work / "department.log",
    )
    dispatcher = Managed(
        "dispatcher",
        [str(Path(sys.executable).with_name("tongban")), "dispatch", "--interval", "0.1"],
        env,
        work / "dispatcher.log",
    )
    department.start()
    wait_http(f"{dept_url}/stats")
    dispatcher.start()

    started = time.monotonic()
    produced = 0
    done = threading.Event()

    def produce() -> None:
        nonlocal produced
        for _ in range(total):
            with unit_of_work(engine) as session:
                app = applications_service.start(
                    session,
                    applicant,
                    item_code="DRILL-0001",
                    form={"full_name": f"演练{produced}"},
                )
                applications_service.act(session, applicant, app.number, Action.SUBMIT)
            produced += 1
        done.set()

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    while not done.is_set():
        time.sleep(rng.uniform(0.3, 1.5))
        victims = rng.choice([[dispatcher], [department], [dispatcher, department]])
        for victim in victims:
            victim.kill()
        time.sleep(rng.uniform(0.1, 0.8))
        for victim in victims:
            victim.start()
        print(
            f"  produced {produced}/{total}, kills so far {dispatcher.kills + department.kills}",
            file=sys.stderr,
        )
    producer.join()

    # Let the system settle: everything pending must drain.
    from sqlalchemy import func, select

    deadline = time.monotonic() + 300
    pending = -1
    while time.monotonic() < deadline:
        with unit_of_work(engine) as session:
            pending = session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status != MessageStatus.DELIVERED)
            ).scalar_one()
        if pending == 0:
            break
        time.sleep(0.5)
    wait_http(f"{dept_url}/stats")
    stats = httpx.get(f"{dept_url}/stats").json()
    with unit_of_work(engine) as session:
        sent = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        delivered = session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.DELIVERED)
        ).scalar_one()
    dispatcher.stop()
    department.stop()
    seconds = time.monotonic() - started
    lost = sent - stats["unique"]
    duplicates = stats["deliveries"] - stats["unique"]
    print(f"work directory: {work}", file=sys.stderr)
    print(
        f"RESULT name=outbox_kill_drill applications={total} sent={sent} "
        f"delivered={stats['unique']} acknowledged={delivered} lost={lost} "
        f"duplicates={duplicates} kills={dispatcher.kills + department.kills} "
        f"dispatcher_kills={dispatcher.kills} department_kills={department.kills} "
        f"still_pending={pending} seconds={seconds:.1f}"
    )
    if lost or pending:
        sys.exit(1)


if __name__ == "__main__":
    main()
