"""Exchange errors: each refusal has its own stable code, for the calling system to act on."""

from __future__ import annotations

from tongban.errors import Conflict, Forbidden, InvalidInput, NotFound, TongbanError

# The platform's, raised here when a grant's calls a minute are used up.
from tongban.errors import RateLimited as RateLimited


class ResourceFileInvalid(InvalidInput):
    code = "resource_file_invalid"


class ResourceNotFound(NotFound):
    code = "resource_not_found"


class RequestNotFound(NotFound):
    code = "sharing_request_not_found"


class GrantNotFound(NotFound):
    code = "grant_not_found"


class ItemNotShared(InvalidInput):
    code = "item_not_shared"


class UnknownItem(InvalidInput):
    code = "unknown_item"


class PurposeNotAllowed(Forbidden):
    code = "purpose_not_allowed"


class RequestNotPending(Conflict):
    code = "sharing_request_not_pending"


class NoGrant(Forbidden):
    code = "no_grant"


class GrantExpired(Forbidden):
    code = "grant_expired"


class GrantRevoked(Forbidden):
    code = "grant_revoked"


class ItemNotGranted(Forbidden):
    code = "item_not_granted"


class BadBatch(InvalidInput):
    code = "bad_batch"


class ProviderUnavailable(TongbanError):
    code = "provider_unavailable"
    status_code = 502
