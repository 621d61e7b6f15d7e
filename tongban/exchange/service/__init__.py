"""The data sharing exchange: the resource catalog, sharing requests and grants, the gateway.

A department registers its information resources with every data item's label and sharing
condition. Another department asks for named items for a stated purpose: unconditional items
are granted at once, conditional ones wait for the providing department's approver, items not
shared cannot be asked for. The requesting system then calls the gateway with its client
credentials; the gateway serves only granted items, masked for the system's clearance, and
audits every call (who, which items, whose records — as keyed hashes —, purpose, result size),
served or refused.

The public API lives in sub-modules by job — ``catalog``, ``sharing``, ``gateway``,
``provided``, ``systems``, ``prefill`` — and is re-exported here, so callers keep
``from tongban.exchange import service`` and ``service.query(...)``.
"""

from tongban.exchange.service.catalog import (
    RegisterReport,
    catalog_dcat,
    describe,
    get_resource,
    holders,
    register_resources,
    search,
    table_schema,
)
from tongban.exchange.service.gateway import (
    MAX_KEYS,
    UNKNOWN_KEY,
    Answer,
    Refusal,
    query,
)
from tongban.exchange.service.materials import (
    Fetched,
    Outcome,
    consent_asked,
    fetch_for_application,
)
from tongban.exchange.service.prefill import Prefilled, prefill_values
from tongban.exchange.service.provided import Usage, provided_grants, usage
from tongban.exchange.service.sharing import (
    DEFAULT_RATE_PER_MINUTE,
    RequestView,
    decide_request,
    get_request,
    list_requests,
    request_sharing,
    revoke_grant,
)
from tongban.exchange.service.systems import issue_credentials, my_systems

__all__ = [
    "DEFAULT_RATE_PER_MINUTE",
    "MAX_KEYS",
    "UNKNOWN_KEY",
    "Answer",
    "Fetched",
    "Outcome",
    "Prefilled",
    "Refusal",
    "RegisterReport",
    "RequestView",
    "Usage",
    "catalog_dcat",
    "consent_asked",
    "decide_request",
    "describe",
    "fetch_for_application",
    "get_request",
    "get_resource",
    "holders",
    "issue_credentials",
    "list_requests",
    "my_systems",
    "prefill_values",
    "provided_grants",
    "query",
    "register_resources",
    "request_sharing",
    "revoke_grant",
    "search",
    "table_schema",
    "usage",
]
