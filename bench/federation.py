"""Messages per second between two federation nodes, signed against unsigned, for both suites.

Two nodes run as separate processes (`tongban serve`, own SQLite databases): a national node on
the intl suite (Ed25519/SHA-256) and a provincial node on sm (SM2/SM3). A message is signed in
its sender's suite, so national -> province measures intl and province -> national measures sm.

- signed: messages queued in the sender's outbox are delivered by the real delivery round
  (lease, sign, POST, settle, log as sent); the receiver verifies the signature, checks the time
  and nonce, logs the message with its signature and writes an audit entry.
- unsigned (the baseline): the same message bodies POSTed over the same HTTP path
  (``/api/v1/federation/messages``, httpx keep-alive client to a uvicorn/FastAPI process) to a
  receiver that only parses them: no signature, no check, no log, no database.

    python bench/federation.py [--quick] [--messages N]

It also times one signature and its check per suite in this process (``*_sign_verify``, per
second): the crypto alone, apart from HTTP and the database.

Ends with: RESULT name=federation messages=N intl_signed=.. intl_unsigned=.. intl_ratio=..
sm_signed=.. sm_unsigned=.. sm_ratio=.. sm_over_intl=<sm_signed / intl_signed>
intl_sign_verify=.. sm_sign_verify=.. ratio=<the lower ratio>   (rates per second)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from fastapi import Request  # at module level: the baseline route's annotation names it

from tongban.security.principals import Operator

OPERATOR = Operator("bench")

if TYPE_CHECKING:
    from tests.fixtures.nodes import NodeProcess

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def baseline_server(port: int) -> None:
    """The unsigned receiver: the same path and server stack, and nothing else."""
    import uvicorn
    from fastapi import FastAPI

    from tongban.federation.messages import PATH

    app = FastAPI()

    @app.post(PATH)
    async def receive(request: Request) -> dict[str, object]:
        body = json.loads(await request.body())
        return {"message_id": str(body.get("n")), "duplicate": False}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--baseline-server", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        baseline_server(args.baseline_server)
        return
    count = args.messages or (150 if args.quick else 1000)

    from tests.fixtures.live import free_port
    from tests.fixtures.nodes import Process, federation, wait_until

    with tempfile.TemporaryDirectory(prefix="tongban-federation-bench-") as tmp:
        work = Path(tmp)
        specs = [
            ("100000", "国家节点", "national", None, "intl"),
            ("330000", "浙江省", "provincial", "100000", "sm"),
        ]
        print(f"starting two nodes and the unsigned receiver in {work}", flush=True)
        with federation(work, specs, runners=False) as nodes:
            port = free_port()
            baseline = Process(
                [sys.executable, __file__, "--baseline-server", str(port)],
                {**os.environ},
                work / "baseline.log",
            )
            baseline.start()
            baseline_url = f"http://127.0.0.1:{port}"
            wait_until(lambda: _answers(baseline_url), what="the unsigned receiver")
            try:
                national, province = nodes["100000"], nodes["330000"]
                results: dict[str, tuple[float, float]] = {}
                for suite, sender, receiver in (
                    ("intl", national, province),
                    ("sm", province, national),
                ):
                    unsigned = run_unsigned(baseline_url, count)
                    signed = run_signed(sender, receiver, count)
                    results[suite] = (signed, unsigned)
                    print(
                        f"{suite}: signed {signed:.0f} msg/s, unsigned {unsigned:.0f} msg/s, "
                        f"ratio {signed / unsigned:.3f}",
                        flush=True,
                    )
            finally:
                baseline.stop()
    parts = [f"messages={count}"]
    for suite, (signed, unsigned) in results.items():
        parts += [
            f"{suite}_signed={signed:.1f}",
            f"{suite}_unsigned={unsigned:.1f}",
            f"{suite}_ratio={signed / unsigned:.4f}",
        ]
    parts.append(f"sm_over_intl={results['sm'][0] / results['intl'][0]:.4f}")
    for suite in results:
        rate = sign_verify_rate(suite)
        print(f"{suite}: sign and verify {rate:.0f}/s", flush=True)
        parts.append(f"{suite}_sign_verify={rate:.1f}")
    worst = min(signed / unsigned for signed, unsigned in results.values())
    print("RESULT name=federation " + " ".join(parts) + f" ratio={worst:.4f}")


def _answers(url: str) -> bool:
    try:
        httpx.get(url + "/", timeout=2)
    except httpx.HTTPError:
        return False
    return True


def bodies(count: int) -> list[dict[str, object]]:
    return [
        {"n": n, "item": "330000-0001", "text": f"跨省通办消息 {n}", "padding": "x" * 200}
        for n in range(count)
    ]


def run_unsigned(url: str, count: int) -> float:
    from tongban.federation.messages import PATH

    payloads = [json.dumps(b, ensure_ascii=False, sort_keys=True).encode() for b in bodies(count)]
    with httpx.Client() as client:
        client.post(url + PATH, content=payloads[0])  # warm the connection
        started = time.perf_counter()
        for payload in payloads:
            response = client.post(
                url + PATH, content=payload, headers={"Content-Type": "application/json"}
            )
            response.raise_for_status()
        return count / (time.perf_counter() - started)


def sign_verify_rate(suite_name: str, seconds: float = 2.0) -> float:
    from tongban.security.crypto import get_suite

    suite = get_suite(suite_name)
    pair = suite.generate_key_pair()
    message = json.dumps(bodies(1)[0], ensure_ascii=False).encode()
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        if not suite.verify(pair.public, message, suite.sign(pair.private, message)):
            raise SystemExit(f"{suite_name}: a signature did not verify")
        done += 1
    return done / elapsed


def run_signed(sender: NodeProcess, receiver: NodeProcess, count: int) -> float:
    from sqlalchemy import func, select

    from tongban.config import get_settings
    from tongban.db.delivery import MessageStatus
    from tongban.db.session import unit_of_work
    from tongban.federation import delivery
    from tongban.federation import service as federation_service
    from tongban.federation.models import Direction, LoggedMessage, PeerMessage

    # This process delivers as the sender: its key and data directory.
    os.environ["TONGBAN_FEDERATION_KEY_FILE"] = str(sender.key_file)
    os.environ["TONGBAN_DATA_DIR"] = str(sender.data_dir)
    get_settings.cache_clear()
    with unit_of_work(sender.engine) as session:
        ids = [
            federation_service.send(
                session, OPERATOR, to=receiver.code, message_type="note", body=body
            ).message_id
            for body in bodies(count)
        ]
    with httpx.Client() as client:
        started = time.perf_counter()
        done = 0
        while done < count:
            report = delivery.deliver_once(sender.engine, client=client, limit=100)
            if report.errors:
                raise SystemExit(f"delivery failed: {report.errors[:3]}")
            done += report.delivered
        elapsed = time.perf_counter() - started
    with unit_of_work(sender.engine) as session:
        pending = session.execute(
            select(func.count())
            .select_from(PeerMessage)
            .where(PeerMessage.message_id.in_(ids), PeerMessage.status != MessageStatus.DELIVERED)
        ).scalar_one()
    with unit_of_work(receiver.engine) as session:
        logged = session.execute(
            select(func.count(func.distinct(LoggedMessage.message_id))).where(
                LoggedMessage.direction == Direction.IN, LoggedMessage.message_id.in_(ids)
            )
        ).scalar_one()
    if pending or logged != count:
        raise SystemExit(f"{pending} messages undelivered, {logged} of {count} logged")
    return count / elapsed


if __name__ == "__main__":
    main()
