"""Crypto suites behind one small protocol, chosen per deployment by name."""

from __future__ import annotations

from functools import cache

from tongban.security.crypto.suite import CryptoSuite, KeyPair, Sealed
from tongban.security.errors import SecurityConfigInvalid

__all__ = ["SUITE_NAMES", "CryptoSuite", "KeyPair", "Sealed", "get_suite"]

SUITE_NAMES = ("intl", "sm")


@cache
def get_suite(name: str) -> CryptoSuite:
    """``intl`` (AES-256-GCM, SHA-256, Ed25519) or ``sm`` (SM4-GCM, SM3, SM2)."""
    # Imported here so a deployment on one suite never loads the other's libraries.
    if name == "intl":
        from tongban.security.crypto.intl import IntlSuite

        return IntlSuite()
    if name == "sm":
        from tongban.security.crypto.sm import SmSuite

        return SmSuite()
    raise SecurityConfigInvalid(
        "Unknown crypto suite {suite}; choose intl or sm.", suite=name, field="suite"
    )
