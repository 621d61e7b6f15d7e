"""Tracking without an account is open to anyone: the one-time code is the check."""

from __future__ import annotations

from tongban.identity.models import Account


def require_track(subject: Account | None) -> None:
    """Anyone, signed in or not, may ask for a code and type it in."""
