"""tongban's hot paths over HTTP beside a plain FastAPI + ORM app, in the same run (issue 19).

Each server runs as its own process pinned to core 0 (``taskset``), on a fresh PostgreSQL
database, with wrk (one thread, pinned to core 1) as the load generator:

- **tongban**: ``tongban serve --demo`` (rate limits raised out of the way: this measures the
  work, not the limiter). Scenarios, each at 8 and 64 connections:
  - ``start``: ``POST /api/v1/applications`` for SAMR-0001 with a whole form (a citizen);
  - ``submit``: ``POST /api/v1/applications/{n}/actions {"action": "submit"}`` on drafts
    prepared beforehand (TAX-0001, its one required material uploaded), each submitted once;
  - ``get``: ``GET /api/v1/applications/{n}``, the citizen's own submitted case;
  - ``home``: ``GET /`` (the portal home page), ``guide``: ``GET /items/SAMR-0001`` (the service
    guide page), ``search``: ``GET /api/v1/items?q=登记``;
  - ``track``: ``POST /api/v1/tracking`` with a wrong code (a look-up is counted and audited
    whether right or wrong, and a right code is good once, so a load of right ones cannot be
    replayed; the 422 is the expected answer).
- **plain** (``bench/reference/plain_app.py``): validate → INSERT → COMMIT, and GET by primary key.

Ratios: writes (start, submit) against the plain POST, reads against the plain GET, at 64
connections. ``p99_ms_64`` is the worst p99 of tongban's scenarios at 64 connections and
``max_ms_64`` the slowest single request (target: none over 2 s). ``round_trips_submit`` is
counted in-process (SQLAlchemy events: statements plus BEGIN and COMMIT) for one submit,
session look-up included, the second of two (caches warm, as the round-trip test counts).
``ratio`` is the lowest ratio.

Run: ``.venv/bin/python bench/http.py [--quick] [--duration S]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Every script run from this folder has it first on sys.path, where this file stands in for
# the standard library's ``http`` package. Imported under that name (by urllib, httpx,
# starlette in a sibling script), it loads the real package, which the import system then
# hands out in its place. Run as a script, it takes the folder off and runs the benchmark.
_FOLDER = Path(__file__).parent.resolve()
_elsewhere = [p for p in sys.path if Path(p or ".").resolve() != _FOLDER]
if __name__ == "http":
    del sys.modules["http"]
    _path = sys.path[:]
    sys.path[:] = _elsewhere
    try:
        import http  # noqa: F401  # the standard library's, now in sys.modules
    finally:
        sys.path[:] = _path
elif __name__ == "__main__":
    sys.path[:] = [str(_FOLDER.parent), *_elsewhere]
    from bench.support.http_load import main

    print(f"RESULT name=http {main()}")
