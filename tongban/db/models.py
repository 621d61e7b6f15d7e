"""Imports every domain's models so metadata (and Alembic) sees all tables."""

from tongban.applications import models as applications_models
from tongban.audit import models as audit_models
from tongban.bookings import models as bookings_models
from tongban.bundles import models as bundles_models
from tongban.catalog import models as catalog_models
from tongban.connectors import models as connectors_models
from tongban.counter import models as counter_models
from tongban.datause import models as datause_models
from tongban.db import versions as data_versions
from tongban.db.base import Base
from tongban.evaluations import models as evaluations_models
from tongban.exchange import models as exchange_models
from tongban.federation import models as federation_models
from tongban.identity import models as identity_models
from tongban.identity.oidc import models as oidc_models
from tongban.licences import models as licences_models
from tongban.notifications import models as notifications_models
from tongban.payments import models as payments_models
from tongban.proactive import models as proactive_models
from tongban.resources import models as resources_models
from tongban.security import models as security_models
from tongban.tracking import models as tracking_models
from tongban.worker import models as worker_models

__all__ = [
    "Base",
    "applications_models",
    "audit_models",
    "bookings_models",
    "bundles_models",
    "catalog_models",
    "data_versions",
    "connectors_models",
    "exchange_models",
    "federation_models",
    "counter_models",
    "datause_models",
    "evaluations_models",
    "identity_models",
    "licences_models",
    "notifications_models",
    "oidc_models",
    "payments_models",
    "proactive_models",
    "security_models",
    "resources_models",
    "tracking_models",
    "worker_models",
]
