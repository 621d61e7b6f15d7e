"""Notifications are signed by the deployment's suite: HMAC-SHA256, or HMAC-SM3 on the national
suite; a changed body or signature fails."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest

from tongban.config import get_settings
from tongban.payments import signing
from tongban.security.crypto import get_suite

KEY = b"provider-secret"
BODY = b'{"reference":"r","status":"success","amount_fen":12000}'


@pytest.fixture
def sm_suite(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TONGBAN_CRYPTO_SUITE", "sm")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_international_suite_signs_with_hmac_sha256() -> None:
    assert signing.sign(KEY, BODY) == hmac.new(KEY, BODY, hashlib.sha256).hexdigest()


@pytest.mark.usefixtures("sm_suite")
def test_the_national_suite_signs_with_hmac_sm3() -> None:
    signature = signing.sign(KEY, BODY)
    assert signature == get_suite("sm").hmac(KEY, BODY).hex()
    assert signature != hmac.new(KEY, BODY, hashlib.sha256).hexdigest()
    assert signing.verify(KEY, BODY, signature)


def test_a_changed_body_or_signature_or_key_fails() -> None:
    signature = signing.sign(KEY, BODY)
    assert signing.verify(KEY, BODY, signature)
    assert not signing.verify(KEY, BODY + b" ", signature)
    assert not signing.verify(b"another key", BODY, signature)
    assert not signing.verify(KEY, BODY, signature[:-1])
    assert not signing.verify(KEY, BODY, "")
