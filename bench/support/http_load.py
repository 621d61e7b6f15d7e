"""The HTTP benchmark's work (``bench/http.py`` runs it): see that script's description."""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.applications.helpers import valid_form
from tests.fixtures.live import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_SERVER = os.environ.get(
    "TONGBAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CITIZEN = ("zhangsan", "demo-password")
START_ITEM = "SAMR-0001"
SUBMIT_ITEM = "TAX-0001"
CONNECTIONS = (8, 64)
WRITES = ("start", "submit")
# Per server (base URL): a cheap path that answers once the server is ready.
READY: dict[str, str] = {}
READS = ("get", "home", "guide", "search", "track")
# A 1-page PDF: what a material upload needs to be accepted.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"  # noqa: E501


@dataclass(frozen=True)
class Load:
    rps: float
    p99_ms: float
    max_ms: float
    unexpected: int  # answers other than the scenario's expected status, and socket errors


# -- processes ---------------------------------------------------------------------------------


@contextmanager
def pg_database(tag: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one benchmark's server (its URL), dropped afterwards."""
    name = f"bench_{tag}_{uuid.uuid4().hex[:8]}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@contextmanager
def process(cmd: list[str], env: dict[str, str], ready_url: str, log: Path) -> Iterator[int]:
    with log.open("wb") as out:
        proc = subprocess.Popen(["taskset", "-c", "0", *cmd], env=env, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 300
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd[0]} exited: see {log}")
                try:
                    if httpx.get(ready_url, timeout=2).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{cmd[0]} did not answer: see {log}")
                time.sleep(0.5)
            yield proc.pid  # taskset runs the command in its own process
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- load --------------------------------------------------------------------------------------


def _lua_string(value: str) -> str:
    # A long bracket string: Lua 5.1 (wrk's LuaJIT) knows no \\u escapes, and it takes UTF-8
    # bytes as they are.
    assert "]==]" not in value
    return f"[==[{value}]==]"


def lua_script(
    work: Path,
    name: str,
    *,
    method: str = "GET",
    paths: list[str],
    body: str | None = None,
    headers: dict[str, str] | None = None,
    expect: int = 200,
) -> Path:
    """A wrk script cycling through ``paths``; it reports the p99, the slowest request and the
    answers other than ``expect`` (counted in the thread, summed in ``done``)."""
    headers = headers or {}
    lines = [
        f"local paths = {{{', '.join(_lua_string(p) for p in paths)}}}",
        "local i = 0",
        "local unexpected = 0",
        f"wrk.method = {_lua_string(method)}",
        # Spaces inside the brackets: "[[" would open a long string.
        *(f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()),
        f"wrk.body = {_lua_string(body) if body is not None else 'nil'}",
        "local threads = {}",
        "setup = function(thread) table.insert(threads, thread) end",
        "request = function()",
        "  i = i + 1",
        "  return wrk.format(nil, paths[((i - 1) % #paths) + 1])",
        "end",
        "response = function(status, headers, body)",
        f"  if status ~= {expect} then",
        "    unexpected = unexpected + 1",
        "    wrk.thread:set('unexpected', unexpected)",
        "  end",
        "end",
        "done = function(summary, latency, requests)",
        "  local n = 0",
        "  for _, t in ipairs(threads) do n = n + (t:get('unexpected') or 0) end",
        "  io.write(string.format('UNEXPECTED %d\\n', n))",
        "  io.write(string.format('P99_US %d\\n', latency:percentile(99)))",
        "  io.write(string.format('MAX_US %d\\n', latency.max))",
        "end",
    ]
    script = work / f"{name}.lua"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return script


def settle(url: str) -> None:
    """Wait until the server answers ``url`` promptly again (after a run it may still be
    draining a queue of requests that wrk gave up on)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError("the server did not recover within 3 minutes of a run")


@dataclass
class Profiler:
    """py-spy on the tongban process during each scenario's run at the most connections: the
    raw stacks kept in ``folder``, the functions taking the most time printed at the end."""

    folder: Path
    pid: int = 0
    runs: dict[str, Path] = dataclasses.field(default_factory=dict)

    @contextmanager
    def during(self, label: str | None, seconds: float) -> Iterator[None]:
        if label is None or not self.pid:
            yield
            return
        out = self.folder / f"{label}.txt"
        spy = subprocess.Popen(
            [
                str(BIN / "py-spy"),
                "record",
                "--pid",
                str(self.pid),
                "--duration",
                str(max(1, int(seconds))),
                "--rate",
                "200",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield
        finally:
            spy.wait(60)
            self.runs[label] = out

    def report(self, top: int = 12) -> None:
        for label, path in self.runs.items():
            if not path.exists():
                print(f"profile {label}: py-spy wrote nothing (is ptrace allowed?)")
                continue
            own: Counter[str] = Counter()
            waits = total = 0
            for line in path.read_text(encoding="utf-8").splitlines():
                stack, _, count = line.rpartition(" ")
                frames = stack.split(";")
                samples = int(count)
                total += samples
                own[frames[-1]] += samples
                if any("psycopg" in f and "wait" in f for f in frames):
                    waits += samples
            print(
                f"profile {label}: {total} samples, {100 * waits / max(total, 1):.0f} % waiting"
                f" on PostgreSQL; most time of its own:"
            )
            for frame, samples in own.most_common(top):
                print(f"  {100 * samples / total:5.1f} %  {frame[:110]}")


PROFILER: Profiler | None = None


def wrk(
    base: str, script: Path, connections: int, seconds: float, label: str | None = None
) -> Load:
    settle(base + READY[base])
    profiled = label if PROFILER and connections == CONNECTIONS[-1] else None
    with PROFILER.during(profiled, seconds) if PROFILER else nullcontext():
        return _wrk(base, script, connections, seconds)


def _wrk(base: str, script: Path, connections: int, seconds: float) -> Load:
    result = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = int(re.search(r"P99_US (\d+)", out).group(1)) / 1000  # type: ignore[union-attr]
    worst = int(re.search(r"MAX_US (\d+)", out).group(1)) / 1000  # type: ignore[union-attr]
    unexpected = int(re.search(r"UNEXPECTED (\d+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        unexpected += sum(int(g) for g in errors.groups())
    return Load(rps, p99, worst, unexpected)


# -- tongban -----------------------------------------------------------------------------------


def prepared_drafts(base: str, headers: dict[str, str], count: int) -> list[str]:
    """``count`` TAX-0001 drafts with their required material uploaded, ready to submit."""
    with httpx.Client(base_url=base, timeout=60) as client:
        form = valid_form(client, SUBMIT_ITEM)
        required = [
            m["code"] for m in client.get(f"/api/v1/items/{SUBMIT_ITEM}").json()["materials"]
        ]

    def one(_: int) -> str:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            made = client.post(
                "/api/v1/applications", json={"item_code": SUBMIT_ITEM, "form": form}
            )
            made.raise_for_status()
            number = str(made.json()["number"])
            for code in required:
                client.post(
                    f"/api/v1/applications/{number}/materials",
                    data={"requirement_code": code},
                    files={"file": (f"{code}.pdf", PDF, "application/pdf")},
                ).raise_for_status()
            return number

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def count_submit_round_trips(
    url: str, data_dir: Path, headers: dict[str, str], numbers: list[str]
) -> int:
    """Statements, BEGINs and COMMITs of one submit, counted in this process over the same
    database and keys (the server process is not instrumented): the second of two, as the
    round-trip test counts, once the process's caches hold what a first request loaded."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from tongban.db.engine import make_engine
    from tongban.web.app import create_app

    engine = make_engine(url)
    counted = {"n": 0}

    def bump(*_: object, **__: object) -> None:
        counted["n"] += 1

    client = TestClient(create_app(engine))
    counted_one = numbers[-1]
    for number in numbers:
        if number == counted_one:
            event.listen(engine, "before_cursor_execute", bump)
            event.listen(engine, "begin", bump)
            event.listen(engine, "commit", bump)
        response = client.post(
            f"/api/v1/applications/{number}/actions", headers=headers, json={"action": "submit"}
        )
        assert response.status_code == 200, response.text
    engine.dispose()
    return counted["n"]


def tongban_figures(work: Path, seconds: float) -> tuple[dict[str, dict[int, Load]], int]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = work / "tongban-data"
    figures: dict[str, dict[int, Load]] = {}
    with pg_database("http_tongban") as url:
        env = {
            **os.environ,
            "TONGBAN_DATABASE_URL": url,
            "TONGBAN_DATA_DIR": str(data_dir),
            "TONGBAN_PUBLIC_URL": base,
        }
        from tongban.config import Settings

        for field in Settings.model_fields:
            if field.startswith("limit_"):
                env[f"TONGBAN_{field.upper()}"] = "100000000/minute"
        # Nor is anything shed: every connection is admitted, as the plain app admits them
        # (bench/spike.py measures admission control).
        env["TONGBAN_MAX_IN_FLIGHT"] = "4096"
        os.environ.update({k: v for k, v in env.items() if k.startswith("TONGBAN_")})
        command = [str(BIN / "tongban"), "serve", "--demo", "--port", str(port)]
        READY[base] = "/api/v1/departments"
        with process(command, env, base + READY[base], work / "tongban.log") as pid:
            if PROFILER:
                PROFILER.pid = pid
            with httpx.Client(base_url=base, timeout=60) as client:
                signed = client.post(
                    "/api/v1/session", json={"username": CITIZEN[0], "password": CITIZEN[1]}
                )
                signed.raise_for_status()
                headers = {"Authorization": f"Bearer {signed.json()['token']}"}
                form = valid_form(client, START_ITEM)
            json_headers = {**headers, "Content-Type": "application/json"}
            start = lua_script(
                work,
                "start",
                method="POST",
                paths=["/api/v1/applications"],
                body=json.dumps({"item_code": START_ITEM, "form": form}, ensure_ascii=False),
                headers=json_headers,
                expect=201,
            )
            figures["start"] = {c: wrk(base, start, c, seconds, "start") for c in CONNECTIONS}
            # Enough drafts for the submit runs at the start rate, with room to spare.
            needed = int(max(f.rps for f in figures["start"].values()) * seconds * 2) + 50
            settle(base + READY[base])
            drafts = prepared_drafts(base, headers, needed * len(CONNECTIONS) + 2)
            probes, drafts = drafts[:2], drafts[2:]
            figures["submit"] = {}
            for i, c in enumerate(CONNECTIONS):
                mine = drafts[i * needed : (i + 1) * needed]
                script = lua_script(
                    work,
                    f"submit{c}",
                    method="POST",
                    paths=[f"/api/v1/applications/{n}/actions" for n in mine],
                    body=json.dumps({"action": "submit"}),
                    headers=json_headers,
                )
                figures["submit"][c] = wrk(base, script, c, seconds, "submit")
            own = mine[0]
            reads = {
                "get": lua_script(
                    work, "get", paths=[f"/api/v1/applications/{own}"], headers=headers
                ),
                "home": lua_script(work, "home", paths=["/"]),
                "guide": lua_script(work, "guide", paths=[f"/items/{START_ITEM}"]),
                "search": lua_script(work, "search", paths=["/api/v1/items?q=%E7%99%BB%E8%AE%B0"]),
                "track": lua_script(
                    work,
                    "track",
                    method="POST",
                    paths=["/api/v1/tracking"],
                    body=json.dumps({"number": own, "code": "000000"}),
                    headers={"Content-Type": "application/json"},
                    expect=422,
                ),
            }
            for name, script in reads.items():
                figures[name] = {c: wrk(base, script, c, seconds, name) for c in CONNECTIONS}
            if PROFILER:
                PROFILER.pid = 0
        round_trips = count_submit_round_trips(url, data_dir, headers, probes)
    return figures, round_trips


def plain_figures(work: Path, seconds: float) -> dict[str, dict[int, Load]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with pg_database("http_plain") as url:
        env = {**os.environ, "PLAIN_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        command = [
            str(BIN / "uvicorn"),
            "bench.reference.plain_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        READY[base] = "/notes/1"
        with process(command, env, base + READY[base], work / "plain.log"):
            body = json.dumps({"title": "测试", "body": "一条记录" * 20}, ensure_ascii=False)
            post = lua_script(
                work,
                "plain_post",
                method="POST",
                paths=["/notes"],
                body=body,
                headers={"Content-Type": "application/json"},
                expect=201,
            )
            figures = {"post": {c: wrk(base, post, c, seconds) for c in CONNECTIONS}}
            get = lua_script(work, "plain_get", paths=["/notes/1"])
            figures["get"] = {c: wrk(base, get, c, seconds) for c in CONNECTIONS}
    return figures


def main() -> str:
    """Runs the benchmark, printing its tables; its figures, as the RESULT line's key=values."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (under two minutes)")
    parser.add_argument("--duration", type=float, help="seconds per run (default 10, quick 3)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy on tongban during each run at the most connections: stacks kept in DIR",
    )
    args = parser.parse_args()
    if args.profile:
        global PROFILER
        args.profile.mkdir(parents=True, exist_ok=True)
        PROFILER = Profiler(args.profile)
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (Debian: apt-get install wrk)")
    seconds = args.duration or (3 if args.quick else 10)
    work = Path(tempfile.mkdtemp(prefix="bench-http-"))
    tongban, round_trips = tongban_figures(work, seconds)
    plain = plain_figures(work, seconds)
    print(
        f"{'scenario':<10}" + "".join(f"{f'{c} conn req/s':>16}{'p99 ms':>9}" for c in CONNECTIONS)
    )
    for name, rows in [*tongban.items(), *((f"plain {k}", v) for k, v in plain.items())]:
        cells = "".join(f"{rows[c].rps:>16.1f}{rows[c].p99_ms:>9.1f}" for c in CONNECTIONS)
        odd = sum(r.unexpected for r in rows.values())
        print(f"{name:<10}{cells}" + (f"   ({odd} unexpected answers)" if odd else ""))
    top = CONNECTIONS[-1]
    ratios = {
        name: tongban[name][top].rps / plain["post" if name in WRITES else "get"][top].rps
        for name in (*WRITES, *READS)
    }
    p99 = max(tongban[name][top].p99_ms for name in ratios)
    worst = max(tongban[name][top].max_ms for name in ratios)
    unexpected = sum(r.unexpected for rows in tongban.values() for r in rows.values())
    shutil.rmtree(work, ignore_errors=True)
    if PROFILER:
        PROFILER.report()
    return (
        " ".join(f"{name}_ratio={value:.2f}" for name, value in ratios.items())
        + f" p99_ms_64={p99:.0f} max_ms_64={worst:.0f} unexpected={unexpected}"
        f" round_trips_submit={round_trips} ratio={min(ratios.values()):.2f}"
    )
