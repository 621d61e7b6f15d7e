"""Fixtures for the identity tests."""

from tests.identity.factories import moving_clock

__all__ = ["moving_clock"]
