from __future__ import annotations

from tongban.errors import Conflict, Forbidden, InvalidInput, NotFound


class LicenceTypeFileInvalid(InvalidInput):
    code = "licence_type_file_invalid"


class LicenceTypeNotFound(NotFound):
    code = "licence_type_not_found"


class LicenceNotFound(NotFound):
    code = "licence_not_found"


class LicenceAlreadyRevoked(Conflict):
    code = "licence_already_revoked"


class ShareNotFound(NotFound):
    code = "share_not_found"


class ShareEnded(Forbidden):
    """A share link that expired or was revoked: refused, with a page that says so."""

    code = "share_ended"
    status_code = 410


class LicenceNotUsable(Conflict):
    code = "licence_not_usable"


class KeyFileInvalid(InvalidInput):
    code = "key_file_invalid"


class SealedCopyNotCleared(Forbidden):
    """The sealed PDF holds every value unmasked and cannot be masked without breaking its
    seal: only a reader cleared for all of them may have it."""

    code = "sealed_copy_not_cleared"
