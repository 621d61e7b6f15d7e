"""Health for the load balancer and the operators: /healthz, /readyz, /metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool

from tongban.config import get_settings
from tongban.db.migrate import at_head
from tongban.integration import backlogs
from tongban.web import metrics
from tongban.web.deps import public

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"], include_in_schema=False)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.session_factory.kw["bind"]
    return engine


@router.get(public("/healthz"))
async def healthz() -> dict[str, str]:
    """The process lives and its event loop answers (nothing else is asked)."""
    return {"status": "ok"}


def _readiness(engine: Engine) -> tuple[bool, dict[str, object]]:
    checks: dict[str, object] = {}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        log.warning("readiness: the database cannot be reached: %s", exc)
        return False, {"database": "unreachable"}
    checks["migrations"] = "at head" if at_head(engine) else "behind"
    found = backlogs.measure(engine)
    settings = get_settings()
    checks["outbox_due"] = found.outbox_due
    checks["audit_journal"] = found.journal
    ready = (
        checks["migrations"] == "at head"
        and found.outbox_due <= settings.ready_max_outbox_due
        and found.journal <= settings.ready_max_journal
    )
    return ready, checks


@router.get(public("/readyz"))
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers, its schema is this release's, and the backlogs
    the workers drain are under their thresholds. 503 otherwise, with what failed."""
    ready, checks = await run_in_threadpool(_readiness, _engine(request))
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get(public("/metrics"))
async def metrics_endpoint(request: Request) -> Response:
    """Prometheus metrics, for the allowed addresses or the token's bearer only."""
    peer = request.client.host if request.client else ""
    if not metrics.may_read(peer, request.headers.get("authorization")):
        return JSONResponse(
            {"error": {"code": "not_found", "message": "Not found.", "field": None}},
            status_code=404,
        )
    body, content_type = await run_in_threadpool(metrics.exposition, _engine(request))
    return Response(body, media_type=content_type)
