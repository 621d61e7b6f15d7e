"""Tracking without an account is open to anyone: the one-time code is the check."""

from __future__ import annotations

from tongban.identity.principals import Principal


def require_track(subject: Principal) -> None:
    """Anyone, signed in or not, may ask for a code and type it in."""
