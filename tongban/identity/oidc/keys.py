"""The keys that sign id_tokens: created on first need, rotated on command.

RS256 (RSA 2048, PKCS#1 v1.5 with SHA-256): OpenID Connect Core 15.1 requires every provider to
support it and every relying-party library accepts it, so one algorithm serves every department's
system without negotiation. (ES256 gives smaller keys and signatures, but RS256 would still have
to be offered; one algorithm is less to get wrong.)

Rotation creates a new key and retires the current one: a retired key never signs again (its
private half is erased at once) but stays in the JWKS until every id_token it signed has expired
(``remove_after``), so relying parties keep verifying tokens issued just before the rotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from joserfc.jwk import KeySet, RSAKey
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.identity.oidc import lifetimes, repository
from tongban.identity.oidc.models import SigningKey
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.security.principals import Internal

ALG = "RS256"
RSA_BITS = 2048


def _generate(session: Session, now: datetime) -> SigningKey:
    key = RSAKey.generate_key(
        RSA_BITS, parameters={"alg": ALG, "use": "sig"}, private=True, auto_kid=True
    )
    row = SigningKey(
        kid=key.kid or key.thumbprint(),
        alg=ALG,
        private_jwk=dict(key.as_dict(private=True)),
        public_jwk=dict(key.as_dict(private=False)),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def current(session: Session) -> SigningKey:
    """The key that signs now; the first one is made when first needed."""
    active = repository.active_signing_keys(session)
    if active:
        return active[0]
    row = _generate(session, utcnow())
    audit.record(
        session,
        actor=Internal("create the first signing key"),
        action="oidc.key_created",
        target_type="signing_key",
        target_id=row.kid,
        details={"alg": row.alg},
    )
    return row


def private_key(row: SigningKey) -> RSAKey:
    return RSAKey.import_key(row.private_jwk)


def rotate(session: Session, actor: Principal, *, now: datetime | None = None) -> SigningKey:
    """A new signing key; the ones before it retire and leave the JWKS once their tokens died."""
    now = now or utcnow()
    retired = []
    for row in repository.active_signing_keys(session):
        row.retired_at = now
        row.remove_after = now + lifetimes.RETIRED_KEY_KEPT
        row.private_jwk = {}
        retired.append(row.kid)
    new = _generate(session, now)
    audit.record(
        session,
        actor=actor,
        action="oidc.key_rotated",
        target_type="signing_key",
        target_id=new.kid,
        details={"alg": new.alg, "retired": retired},
    )
    return new


def published(session: Session, now: datetime | None = None) -> Sequence[SigningKey]:
    current(session)
    return repository.published_signing_keys(session, now or utcnow())


def jwks(session: Session) -> dict[str, Any]:
    """The public JWK Set (RFC 7517) relying parties verify id_tokens with."""
    return {"keys": [dict(row.public_jwk) for row in published(session)]}


def public_key_set(session: Session) -> KeySet:
    return KeySet.import_key_set(jwks(session))  # type: ignore[arg-type]
