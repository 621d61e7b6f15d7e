"""Secrets at rest: authenticator seeds, OIDC signing keys, department systems' shared secrets.

Each is stored as an envelope-encrypted token of the deployment's key ring (as case values are,
``security.keys``), its associated data naming the owner row (table, column and the row's
natural key: username, system code, key id), so a token copied to another row does not open.
A stored value that is not such a token, or whose token was changed, raises
``DecryptionFailed``: nothing stored in plaintext is ever taken for a secret.

Models keep the token in a ``*_wrapped`` attribute and expose the secret through a property
that calls ``wrap``/``unwrap``; ``rewrap_rows`` moves tokens to the current master key for
``tongban security keys rewrap``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.security import deployment
from tongban.security.errors import DecryptionFailed
from tongban.security.keys import TOKEN_VERSION


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


def rewrap_rows(session: Session) -> int:
    """Move every wrapped secret to the current master key; how many moved."""
    from tongban.connectors.models import DepartmentSystem
    from tongban.federation.models import UpstreamClient
    from tongban.identity.models import Account
    from tongban.identity.oidc.models import SigningKey
    from tongban.licences.models import SigningKey as LicenceKey

    moved = 0
    for account in session.execute(
        select(Account).where(Account.totp_secret_wrapped.is_not(None))
    ).scalars():
        token = rewrapped(account.totp_secret_wrapped)
        if token is not None:
            account.totp_secret_wrapped, moved = token, moved + 1
    for system in session.execute(select(DepartmentSystem)).scalars():
        token = rewrapped(system.secret_wrapped)
        if token is not None:
            system.secret_wrapped, moved = token, moved + 1
    for key in session.execute(select(SigningKey)).scalars():
        token = rewrapped(key.private_jwk_wrapped.get(SEALED))
        if token is not None:
            key.private_jwk_wrapped, moved = {SEALED: token}, moved + 1
    for licence_key in session.execute(select(LicenceKey)).scalars():
        token = rewrapped(licence_key.wrapped_private_key)
        if token is not None:
            licence_key.wrapped_private_key, moved = token, moved + 1
    for client in session.execute(select(UpstreamClient)).scalars():
        token = rewrapped(client.sealed_secret)
        if token is not None:
            client.sealed_secret, moved = token, moved + 1
    return moved


# The JSON form of a wrapped key: {"sealed": token}; a retired key's is {}.
SEALED = "sealed"


def _aad(owner: str) -> bytes:
    return f"secret:{owner}".encode()
