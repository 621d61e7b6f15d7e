"""Password hashing's cost is a setting: the tests run with the cheapest argon2, production keeps
argon2-cffi's defaults (above OWASP's minimum), and a hash made with other parameters still
verifies and is redone with the current ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type
from pydantic import ValidationError

from tests.conftest import TEST_ARGON2
from tongban.config import Settings, get_settings
from tongban.identity import credentials

# OWASP Password Storage Cheat Sheet: argon2id with at least 19 MiB, 2 iterations, 1 lane.
OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The settings a deployment gets when it sets nothing about hashing."""
    for name in TEST_ARGON2:
        monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def parameters(password_hash: str) -> str:
    """``m=…,t=…,p=…`` of an encoded argon2 hash."""
    return password_hash.split("$")[3]


def test_production_defaults_are_unchanged_and_above_owasps_minimum(production: None) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.argon2_time_cost == 3
    assert settings.argon2_memory_cost == 65536
    assert settings.argon2_parallelism == 4
    assert settings.argon2_memory_cost >= OWASP_MEMORY_KIB
    assert settings.argon2_time_cost >= OWASP_TIME_COST
    assert settings.argon2_parallelism >= 1


def test_production_hashes_with_the_defaults(production: None) -> None:
    made = credentials.hash_password("correct horse battery")
    assert made.startswith("$argon2id$v=19$")
    assert parameters(made) == "m=65536,t=3,p=4"
    assert credentials.password_matches(made, "correct horse battery")
    assert not credentials.needs_rehash(made)


def test_the_suite_hashes_cheaply() -> None:
    made = credentials.hash_password("correct horse battery")
    assert made.startswith("$argon2id$")
    assert parameters(made) == "m=8,t=1,p=1"


def test_a_hash_made_with_other_parameters_still_verifies_and_is_redone() -> None:
    old = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=2, type=Type.ID).hash("pw-1")
    assert credentials.password_matches(old, "pw-1")
    assert not credentials.password_matches(old, "pw-2")
    assert credentials.needs_rehash(old)
    assert not credentials.needs_rehash(credentials.hash_password("pw-1"))


@pytest.mark.parametrize(
    ("field", "value"),
    [("argon2_time_cost", 0), ("argon2_parallelism", 0), ("argon2_memory_cost", 7)],
)
def test_parameters_argon2_cannot_take_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **{field: value})  # type: ignore[arg-type]


def test_memory_must_cover_every_lane() -> None:
    with pytest.raises(ValidationError, match="8 KiB per lane"):
        Settings(_env_file=None, argon2_parallelism=4, argon2_memory_cost=16)  # type: ignore[call-arg]
    Settings(_env_file=None, argon2_parallelism=4, argon2_memory_cost=32)  # type: ignore[call-arg]
