"""Signed notifications: an HMAC of the body with the provider's secret, by the deployment's
crypto suite (HMAC-SHA256, or HMAC-SM3 on the national suite), compared in constant time."""

from __future__ import annotations

import hmac

from tongban.security import deployment

HEADER = "X-Payment-Signature"


def sign(key: bytes, body: bytes) -> str:
    return deployment.suite().hmac(key, body).hex()


def verify(key: bytes, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(key, body).encode(), signature.strip().encode())
