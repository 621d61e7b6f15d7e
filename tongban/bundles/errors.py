from __future__ import annotations

from tongban.errors import Conflict, NotFound, TongbanError


class BundleFileInvalid(TongbanError):
    code = "bundle_file_invalid"
    status_code = 422


class BundleNotFound(NotFound):
    code = "bundle_not_found"


class BundleCaseNotFound(NotFound):
    code = "bundle_case_not_found"


class NotEligible(Conflict):
    code = "not_eligible"
