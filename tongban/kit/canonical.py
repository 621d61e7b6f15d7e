"""Canonical JSON: the one text of a document that is signed and verified (sorted keys, no
spaces, UTF-8 as is), so signer and verifier hash the same bytes."""

from __future__ import annotations

import json


def canonical(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
