"""One-time codes sent by SMS or e-mail (tracking, claiming an account): six digits, of which
only a keyed hash is stored, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class Issued:
    code: str  # sent to the person, never stored
    salt: str
    code_hash: str


def code_hash(salt: str, code: str) -> str:
    return hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()


def issue() -> Issued:
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    return Issued(code, salt, code_hash(salt, code))


def matches(salt: str, stored_hash: str, typed: str) -> bool:
    return hmac.compare_digest(stored_hash, code_hash(salt, typed.strip()))
