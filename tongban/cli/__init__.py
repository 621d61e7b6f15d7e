"""The `tongban` command: a thin layer over the domains' services, one module per domain."""

from __future__ import annotations

import typer

from tongban.cli import operations, platform
from tongban.cli.analytics import analytics_app
from tongban.cli.bookings import bookings_app
from tongban.cli.catalog import catalog_app
from tongban.cli.connectors import connectors_app
from tongban.cli.exchange import exchange_app
from tongban.cli.federation import federation_app
from tongban.cli.identity import accounts_app, companies_app, oidc_app
from tongban.cli.licences import licences_app
from tongban.cli.notify import notify_app
from tongban.cli.payments import payments_app
from tongban.cli.proactive import proactive_app
from tongban.cli.resources import resources_app
from tongban.cli.security import security_app

app = typer.Typer(
    help="tongban (通办): integrated online government service platform.", no_args_is_help=True
)
app.command()(platform.serve)
app.command()(platform.dispatch)
app.command()(operations.worker)
app.command()(operations.backup)
app.command()(operations.restore)
for group, name in (
    (platform.audit_app, "audit"),
    (bookings_app, "bookings"),
    (catalog_app, "catalog"),
    (platform.db_app, "db"),
    (accounts_app, "accounts"),
    (companies_app, "companies"),
    (connectors_app, "connectors"),
    (notify_app, "notify"),
    (oidc_app, "oidc"),
    (security_app, "security"),
    (resources_app, "resources"),
    (exchange_app, "exchange"),
    (federation_app, "federation"),
    (analytics_app, "analytics"),
    (proactive_app, "proactive"),
    (licences_app, "licences"),
    (payments_app, "payments"),
):
    app.add_typer(group, name=name)
