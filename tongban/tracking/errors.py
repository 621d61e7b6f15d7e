from __future__ import annotations

from tongban.errors import InvalidInput, TongbanError


class CodeInvalid(InvalidInput):
    code = "tracking_code_invalid"


class TooManyCodes(TongbanError):
    code = "too_many_codes"
    status_code = 429
