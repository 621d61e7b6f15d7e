"""Run the example department application: see ``app.py`` for how to register it."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import uvicorn

from examples.department_app.app import from_env

if __name__ == "__main__":
    base = urlsplit(os.environ.get("DEPT_BASE_URL", "http://127.0.0.1:8001"))
    uvicorn.run(from_env(), host=base.hostname or "127.0.0.1", port=base.port or 8001)
