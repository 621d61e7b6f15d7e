"""Administering the provider: registering relying parties and rotating signing keys.

The protocol endpoints themselves (authorize, token, userinfo, revoke, logout) act for a client
that Authlib authenticated, not for a signed-in subject, and live in their own modules.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.errors import InvalidInput, NotFound
from tongban.identity.models import Account
from tongban.identity.oidc import claims, hashing, keys, policy, repository, tokens
from tongban.identity.oidc.grants import MACHINE_SCOPES
from tongban.identity.oidc.models import OAuthClient, SigningKey
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow

MAX_URI_LENGTH = 2000


@dataclass(frozen=True)
class Registration:
    client: OAuthClient
    # Shown once, to whoever registered the client; only its hash is stored.
    secret: str | None


def register_client(
    session: Session,
    subject: Principal,
    *,
    name: str,
    redirect_uris: Sequence[str],
    post_logout_redirect_uris: Sequence[str] = (),
    public: bool = False,
    scopes: Iterable[str] = ("openid", "profile"),
    department_code: str | None = None,
    node_code: str | None = None,
) -> Registration:
    """Register a relying party. A public client (no secret) must use PKCE; a confidential
    one authenticates with its secret. ``scopes`` are all the client may ever ask for.
    ``node_code`` marks a child federation node's sign-on (see ``federation.sso``)."""
    policy.require_manage_clients(subject)
    name = name.strip()
    if not 1 <= len(name) <= 200 or not name.isprintable():
        raise InvalidInput("Give the client a name of at most 200 characters.", field="name")
    if not redirect_uris:
        raise InvalidInput("A client needs at least one redirect URI.", field="redirect_uris")
    redirects = [_check_uri(uri, "redirect_uris") for uri in redirect_uris]
    logouts = [_check_uri(uri, "post_logout_redirect_uris") for uri in post_logout_redirect_uris]
    allowed = list(dict.fromkeys(["openid", *(s.strip() for s in scopes if s.strip())]))
    unknown = [s for s in allowed if s not in claims.SCOPES]
    if unknown:
        raise InvalidInput(
            "Unknown scope {scope}; the scopes are: {known}.",
            field="scopes",
            scope=unknown[0],
            known=", ".join(claims.SUPPORTED_SCOPES),
        )
    department_id = (
        catalog_service.get_department(session, subject, department_code).id
        if department_code
        else None
    )
    secret = None if public else hashing.new_token()
    client = OAuthClient(
        client_id=secrets.token_hex(16),
        name=name,
        secret_hash=hashing.hash_secret(secret) if secret else None,
        redirect_uris=redirects,
        post_logout_redirect_uris=logouts,
        scopes=allowed,
        department_id=department_id,
        node_code=node_code,
        active=True,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="oidc.client_registered",
        target_type="oauth_client",
        target_id=client.client_id,
        details={
            "name": name,
            "public": public,
            "scopes": allowed,
            "department": department_code,
            "node": node_code,
            "redirect_uris": redirects,
            "post_logout_redirect_uris": logouts,
        },
    )
    return Registration(client=client, secret=secret)


NODE_SCOPES = ("openid", "profile", "id_number")


def register_node_client(
    session: Session, subject: Principal, *, node_code: str, name: str, redirect_uri: str
) -> Registration:
    """The client a child federation node signs its people in with: made on the node's first
    request, given a new secret (and the registry's current address) on each later one, so the
    node can always recover it and an old secret stops working at once. It may ask for the
    resident ID number: that is what the same person is known by on every node."""
    policy.require_manage_clients(subject)
    existing = repository.client_for_node(session, node_code)
    if existing is None:
        return register_client(
            session,
            subject,
            name=name,
            redirect_uris=[redirect_uri],
            scopes=NODE_SCOPES,
            node_code=node_code,
        )
    secret = hashing.new_token()
    existing.secret_hash = hashing.hash_secret(secret)
    existing.redirect_uris = [_check_uri(redirect_uri, "redirect_uris")]
    existing.name = name.strip()[:200]
    existing.active = True
    audit.record(
        session,
        actor=subject,
        action="oidc.client_rekeyed",
        target_type="oauth_client",
        target_id=existing.client_id,
        details={"node": node_code, "redirect_uris": list(existing.redirect_uris)},
    )
    return Registration(client=existing, secret=secret)


def register_machine_client(
    session: Session,
    subject: Principal,
    *,
    name: str,
    account: Account,
    scopes: Sequence[str] = ("exchange",),
) -> Registration:
    """Client credentials for a department system that calls as ``account`` (its service
    account): no redirect URIs, so it can never sign a person in. The secret is shown once."""
    policy.require_manage_clients(subject)
    unknown = [s for s in scopes if s not in MACHINE_SCOPES]
    if unknown or not scopes:
        raise InvalidInput("Unknown scope {scope}.", field="scopes", scope=(unknown or [""])[0])
    secret = hashing.new_token()
    client = OAuthClient(
        client_id=secrets.token_hex(16),
        name=name.strip()[:200],
        secret_hash=hashing.hash_secret(secret),
        redirect_uris=[],
        post_logout_redirect_uris=[],
        scopes=list(scopes),
        department_id=account.department_id,
        account_id=account.id,
        active=True,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="oidc.machine_client_registered",
        target_type="oauth_client",
        target_id=client.client_id,
        details={"name": client.name, "account": account.username, "scopes": list(scopes)},
    )
    return Registration(client=client, secret=secret)


def machine_account_for_token(session: Session, value: str, *, scope: str) -> Account | None:
    """The account a live client_credentials token with ``scope`` acts as; None otherwise."""
    row = tokens.live_access_token(session, value.strip(), utcnow())
    if row is None or row.session_id is not None or scope not in row.scope.split():
        return None
    client = repository.client(session, row.client_id)
    if client is None or not client.active or client.account_id != row.account_id:
        return None
    account = session.get(Account, row.account_id)
    return account if account is not None and account.active else None


def _check_uri(uri: str, field: str) -> str:
    """Absolute, no fragment (RFC 6749 3.1.2), https unless on this machine (RFC 8252 7.3)."""
    uri = uri.strip()
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    if (
        parts is None
        or not host
        or parts.fragment
        or len(uri) > MAX_URI_LENGTH
        or not uri.isascii()
        or not uri.isprintable()
        or " " in uri
    ):
        raise InvalidInput(
            "{uri} is not an absolute address without a #fragment.", field=field, uri=uri
        )
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(host)):
        raise InvalidInput(
            "{uri} must use https (plain http only on this machine, 127.0.0.1).",
            field=field,
            uri=uri,
        )
    return uri


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def list_clients(session: Session, subject: Principal) -> Sequence[OAuthClient]:
    policy.require_manage_clients(subject)
    return repository.clients(session)


def deactivate_client(session: Session, subject: Principal, client_id: str) -> OAuthClient:
    """Switch a client off: it can no longer sign anyone in, and its tokens stop working."""
    policy.require_manage_clients(subject)
    client = repository.client(session, client_id)
    if client is None:
        raise NotFound("There is no sign-on client {client_id}.", client_id=client_id)
    if client.active:
        client.active = False
        audit.record(
            session,
            actor=subject,
            action="oidc.client_deactivated",
            target_type="oauth_client",
            target_id=client.client_id,
        )
    return client


def rotate_signing_key(session: Session, subject: Principal) -> SigningKey:
    """Start signing with a new key; the old one stays published until its tokens expired."""
    policy.require_manage_keys(subject)
    return keys.rotate(session, subject)


def list_signing_keys(session: Session, subject: Principal) -> Sequence[SigningKey]:
    policy.require_manage_keys(subject)
    return repository.signing_keys(session)
