from __future__ import annotations

from tongban.errors import InvalidInput


class CodeInvalid(InvalidInput):
    code = "tracking_code_invalid"
