"""Codes, tokens and client secrets are stored as hashes only.

Codes and tokens are 256-bit random values, so one SHA-256 suffices to look them up without
storing them. Client secrets are random too, but salted, so equal secrets never look equal.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_secret(secret: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def check_secret(secret: str, stored: str | None) -> bool:
    if not stored or stored.count("$") != 2:
        return False
    scheme, salt, digest = stored.split("$")
    if scheme != "sha256":
        return False
    candidate = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
    return hmac.compare_digest(candidate, digest)
