"""Secrets at rest: authenticator seeds, OIDC signing keys, department systems' shared secrets.

Each is stored as an envelope-encrypted token of the deployment's key ring (as case values are,
``security.keys``), its associated data naming the owner row (table, column and the row's
natural key: username, system code, key id), so a token copied to another row does not open.
A stored value that is not such a token, or whose token was changed, raises
``DecryptionFailed``: nothing stored in plaintext is ever taken for a secret.

A model keeps the token in a ``*_wrapped`` column and exposes the secret through a
``WrappedText`` (``OptionalWrappedText``, ``WrappedJson``) attribute, which registers the
column here when the class is defined; a column a domain wraps itself registers with
``register``. ``rewrap_rows`` walks the registry to move tokens to the current master key for
``tongban security keys rewrap``, so this module names no model: the models depend on
security, never the other way round.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.security import deployment
from tongban.security.errors import DecryptionFailed
from tongban.security.keys import TOKEN_VERSION

T = TypeVar("T")


def totp_owner(username: str) -> str:
    return f"accounts.totp_secret:{username}"


def system_owner(code: str) -> str:
    return f"department_systems.secret:{code}"


def signing_key_owner(kid: str) -> str:
    return f"oidc_signing_keys.private_jwk:{kid}"


def is_wrapped(stored: str) -> bool:
    return stored.startswith(f"{TOKEN_VERSION}.")


def wrap(secret: str, *, owner: str) -> str:
    return deployment.key_ring().encrypt_field(secret, aad=_aad(owner))


def unwrap(stored: str, *, owner: str) -> str:
    if not is_wrapped(stored):
        raise DecryptionFailed("A stored secret is not wrapped with the key ring.")
    return deployment.key_ring().decrypt_text(stored, aad=_aad(owner))


def rewrapped(stored: str | None) -> str | None:
    """``stored`` under the current master key, or None if it already is (or holds nothing)."""
    if not stored or not is_wrapped(stored):
        return None
    ring = deployment.key_ring()
    if ring.key_id_of(stored) == ring.current:
        return None
    return ring.rewrap(stored)


# The JSON form of a wrapped key: {"sealed": token}; a retired key's is {}.
SEALED = "sealed"


def _plain_token(stored: Any) -> str | None:
    return stored if isinstance(stored, str) else None


def _plain_stored(token: str) -> Any:
    return token


def _sealed_token(stored: Any) -> str | None:
    token = stored.get(SEALED) if isinstance(stored, dict) else None
    return token if isinstance(token, str) else None


def _sealed_stored(token: str) -> Any:
    return {SEALED: token}


@dataclass(frozen=True)
class WrappedColumn:
    """A model attribute that holds a token of the key ring: where ``rewrap_rows`` looks, and
    how to find the token in the stored value and put a new one back."""

    model: type[Any]
    attribute: str
    token_of: Callable[[Any], str | None] = _plain_token
    stored_as: Callable[[str], Any] = _plain_stored


_REGISTRY: dict[tuple[type[Any], str], WrappedColumn] = {}


def register(
    model: type[Any],
    attribute: str,
    *,
    token_of: Callable[[Any], str | None] = _plain_token,
    stored_as: Callable[[str], Any] = _plain_stored,
) -> None:
    """Have ``rewrap_rows`` move the tokens kept in ``model.attribute``."""
    _REGISTRY[(model, attribute)] = WrappedColumn(model, attribute, token_of, stored_as)


def registered() -> list[WrappedColumn]:
    return list(_REGISTRY.values())


def rewrap_rows(session: Session) -> int:
    """Move every wrapped secret of the registered columns to the current master key; how
    many moved. The models register when imported (the CLI and the app import them all)."""
    moved = 0
    for column in _REGISTRY.values():
        stored = getattr(column.model, column.attribute)
        for row in session.execute(select(column.model).where(stored.is_not(None))).scalars():
            token = rewrapped(column.token_of(getattr(row, column.attribute)))
            if token is not None:
                setattr(row, column.attribute, column.stored_as(token))
                moved += 1
    return moved


class _WrappedSecret(Generic[T]):
    """A model attribute read and set in plaintext while its column holds the token, bound to
    the owner row that ``owner(row)`` names."""

    def __init__(self, column: str, *, owner: Callable[[Any], str]) -> None:
        self.column, self.owner = column, owner

    def __set_name__(self, model: type[Any], name: str) -> None:
        register(model, self.column, token_of=self._token_of, stored_as=self._stored_as)

    @overload
    def __get__(self, row: None, model: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, row: object, model: type[Any] | None = None) -> T: ...

    def __get__(self, row: object | None, model: type[Any] | None = None) -> Self | T:
        if row is None:
            return self
        return self._read(getattr(row, self.column), row)

    def __set__(self, row: object, value: T) -> None:
        setattr(row, self.column, self._write(value, row))

    def _read(self, stored: Any, row: object) -> T:
        raise NotImplementedError

    def _write(self, value: T, row: object) -> Any:
        raise NotImplementedError

    _token_of = staticmethod(_plain_token)
    _stored_as = staticmethod(_plain_stored)


class WrappedText(_WrappedSecret[str]):
    """A text secret."""

    def _read(self, stored: Any, row: object) -> str:
        return unwrap(stored, owner=self.owner(row))

    def _write(self, value: str, row: object) -> Any:
        return wrap(value, owner=self.owner(row))


class OptionalWrappedText(_WrappedSecret[str | None]):
    """A text secret that may be absent (None, stored as NULL)."""

    def _read(self, stored: Any, row: object) -> str | None:
        return None if stored is None else unwrap(stored, owner=self.owner(row))

    def _write(self, value: str | None, row: object) -> Any:
        return None if value is None else wrap(value, owner=self.owner(row))


class WrappedJson(_WrappedSecret[dict[str, Any]]):
    """A JSON object kept as ``{"sealed": token}``; an empty one (a retired key) as ``{}``."""

    _token_of = staticmethod(_sealed_token)
    _stored_as = staticmethod(_sealed_stored)

    def _read(self, stored: Any, row: object) -> dict[str, Any]:
        token = _sealed_token(stored)
        if token is None:
            if stored:
                raise DecryptionFailed("A stored secret is not wrapped with the key ring.")
            return {}
        found: dict[str, Any] = json.loads(unwrap(token, owner=self.owner(row)))
        return found

    def _write(self, value: dict[str, Any], row: object) -> Any:
        return _sealed_stored(wrap(json.dumps(value), owner=self.owner(row))) if value else {}


def _aad(owner: str) -> bytes:
    return f"secret:{owner}".encode()
