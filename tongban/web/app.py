"""The FastAPI application: JSON API under /api/v1, server-rendered pages elsewhere."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

import tongban
from tongban.config import get_settings
from tongban.db.engine import get_engine
from tongban.web import errors
from tongban.web import oidc as oidc_protocol
from tongban.web.admission import Admission
from tongban.web.api import analytics as analytics_api
from tongban.web.api import applications as applications_api
from tongban.web.api import bookings as bookings_api
from tongban.web.api import bundles as bundles_api
from tongban.web.api import catalog as catalog_api
from tongban.web.api import connectors as connectors_api
from tongban.web.api import counter as counter_api
from tongban.web.api import datause as datause_api
from tongban.web.api import evaluations as evaluations_api
from tongban.web.api import exchange as exchange_api
from tongban.web.api import federation as federation_api
from tongban.web.api import federation_exchange as federation_exchange_api
from tongban.web.api import health as health_api
from tongban.web.api import identity as identity_api
from tongban.web.api import licences as licences_api
from tongban.web.api import notifications as notifications_api
from tongban.web.api import oidc as oidc_api
from tongban.web.api import proactive as proactive_api
from tongban.web.api import resources as resources_api
from tongban.web.api import security as security_api
from tongban.web.api import tracking as tracking_api
from tongban.web.deps import public
from tongban.web.headers import SecurityHeaders
from tongban.web.limits import BodyLimit
from tongban.web.node_auth import AnswerSigning
from tongban.web.observe import Observe
from tongban.web.pages import analytics as analytics_pages
from tongban.web.pages import applications as application_pages
from tongban.web.pages import bookings as booking_pages
from tongban.web.pages import bundles as bundle_pages
from tongban.web.pages import catalog as catalog_pages
from tongban.web.pages import claims as claim_pages
from tongban.web.pages import connectors as connector_pages
from tongban.web.pages import counter as counter_pages
from tongban.web.pages import datause as datause_pages
from tongban.web.pages import evaluations as evaluation_pages
from tongban.web.pages import exchange as exchange_pages
from tongban.web.pages import federation as federation_pages
from tongban.web.pages import help as help_pages
from tongban.web.pages import identity as identity_pages
from tongban.web.pages import licences as licence_pages
from tongban.web.pages import notifications as notification_pages
from tongban.web.pages import oidc as oidc_pages
from tongban.web.pages import payment_simulator, templating
from tongban.web.pages import payments as payment_pages
from tongban.web.pages import proactive as proactive_pages
from tongban.web.pages import queue as queue_pages
from tongban.web.pages import resources as resource_pages
from tongban.web.pages import security as security_pages
from tongban.web.pages import tracking as tracking_pages

WEB_DIR = Path(str(resources.files("tongban.web")))


def _telemetry(enabled: bool) -> TelemetryConfig:
    # Otherwise asked on every request (about 20 µs): whether global providers are set up.
    return {"tracing": enabled, "metrics": enabled, "logs": enabled}


def create_app(
    engine: Engine | None = None,
    public_url: str | None = None,
    *,
    max_in_flight: int | None = None,
) -> FastAPI:
    """``public_url`` (default: TONGBAN_PUBLIC_URL) is where people and relying parties reach
    this deployment; it is also the OpenID Connect issuer."""
    # Docs served from the package, not a CDN: government networks are often offline.
    app = FastAPIOffline(
        title="tongban",
        version=tongban.__version__,
        description="Integrated online government service platform (一网通办). "
        "Sign in with POST /api/v1/session and send the token as a bearer token.",
        telemetry=_telemetry(get_settings().opentelemetry),
    )
    engine = engine or get_engine()
    app.state.session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.state.public_url = (public_url or get_settings().public_url).rstrip("/")
    app.state.templates = templating.make_templates(WEB_DIR / "templates")
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    # The public catalog first: routes are matched in order, and the portal's home, the guides
    # and the catalog's JSON are the most asked for.
    for router in (
        health_api.router,
        catalog_pages.router,
        catalog_api.router,
        bundle_pages.router,
        bundles_api.router,
        identity_api.router,
        oidc_api.router,
        oidc_protocol.router,
        oidc_pages.router,
        applications_api.router,
        licences_api.router,
        connectors_api.router,
        exchange_api.router,
        security_api.router,
        resources_api.router,
        notifications_api.router,
        tracking_api.router,
        evaluations_api.router,
        bookings_api.router,
        counter_api.router,
        datause_api.router,
        analytics_api.router,
        proactive_api.router,
        identity_pages.router,
        connector_pages.router,
        exchange_pages.router,
        federation_api.router,
        federation_exchange_api.router,
        federation_pages.router,
        application_pages.router,
        licence_pages.router,
        queue_pages.router,
        security_pages.router,
        resource_pages.router,
        notification_pages.router,
        tracking_pages.router,
        evaluation_pages.router,
        booking_pages.router,
        counter_pages.router,
        claim_pages.router,
        datause_pages.router,
        analytics_pages.router,
        proactive_pages.router,
        help_pages.router,
        payment_pages.router,
    ):
        app.include_router(router)
    if get_settings().payments_provider == "simulated":
        # The simulated provider's own pages, open to anyone as a provider's are.
        app.include_router(payment_simulator.router)
        public(payment_simulator.PAGE)
    for path in ("/docs", "/docs/oauth2-redirect", "/redoc"):
        public(path)
    errors.install(app)
    app.add_middleware(AnswerSigning)
    # Outside the routes and the answer signing, inside the security headers (so a 413 has them).
    app.add_middleware(BodyLimit, render=errors.error_response)
    # Before anything reads the body or the database: a full process refuses at once.
    app.add_middleware(Admission, render=errors.shed_response, max_in_flight=max_in_flight)
    app.add_middleware(Observe, engine=engine)
    # Built now, with the security headers outermost: around Starlette's own outer layers too,
    # which answer unhandled errors (500) and too large bodies. Middleware is added above.
    app.middleware_stack = SecurityHeaders(app.build_middleware_stack())
    return app
