"""Sign-on across levels. Each node trusts its parent's OpenID provider, and only its parent:
a city signs people in through its province, which (as a relying party of the national node)
can send them on up, so trust follows the registry's tree and each level keeps its own
accounts, policy and audit (see README, "Sign-on across levels").

Parent side: a child node asks, with a request signed by its node key, for its client; the
parent registers it (or gives it a new secret) with the registry's address of the child as the
only redirect URI. Child side: the sign-in page sends the person to the parent (code flow with
PKCE and a nonce); the callback exchanges the code, verifies the ID token against the parent's
JWKS, reads the resident ID number from userinfo, and opens a session for the local account
with that number (made if there is none). That session lives at most
``federation_sso_session_minutes``, which bounds how long it outlives a sign-out upstream.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.config import get_settings
from tongban.db.session import release
from tongban.errors import TongbanError
from tongban.federation import policy
from tongban.federation import repository as federation_repository
from tongban.federation import service as federation_service
from tongban.federation.errors import NodeInvalid, UpstreamRefused
from tongban.federation.messages import Received
from tongban.federation.models import Node, UpstreamClient, UpstreamSignIn
from tongban.federation.sso import relying, repository
from tongban.identity import service as identity_service
from tongban.identity.credentials import AMR_PASSWORD
from tongban.identity.models import Account
from tongban.identity.oidc import service as oidc_service
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.security import deployment
from tongban.security.principals import Internal

CALLBACK = "/login/upstream/callback"
# Time to sign in at the parent and come back.
STATE_LIFETIME = timedelta(minutes=10)


def _aad(parent_code: str, client_id: str) -> bytes:
    return f"federation.upstream_client:{parent_code}:{client_id}".encode()


# --- the parent: clients for the nodes below --------------------------------------------------


@dataclass(frozen=True)
class ChildClient:
    issuer: str
    client_id: str
    client_secret: str


def register_child(session: Session, subject: Node, *, message: Received) -> ChildClient:
    """The sign-on client of the child node that signed ``message`` (a new secret each time)."""
    local = federation_service.local_node(session, Internal("sign in across nodes"))
    policy.require_child(subject, local.code)
    federation_service.accept_request(session, subject, message=message)
    registration = oidc_service.register_node_client(
        session,
        Internal("register a child node as a sign-in client"),
        node_code=subject.code,
        name=f"{subject.name} ({subject.code})",
        redirect_uri=subject.url.rstrip("/") + CALLBACK,
    )
    assert registration.secret is not None  # a node's client is confidential
    audit.record(
        session,
        actor=policy.node_principal(subject),
        action="federation.sso_client_issued",
        target_type="federation_node",
        target_id=subject.code,
        details={"client_id": registration.client.client_id},
    )
    return ChildClient(local.url.rstrip("/"), registration.client.client_id, registration.secret)


# --- the child: this node as a relying party of its parent -----------------------------------


def _parent(session: Session) -> Node | None:
    local = federation_service.local_node(session, Internal("sign in across nodes"))
    if local.parent_code is None:
        return None
    parent = federation_repository.node_by_code(session, local.parent_code)
    return parent if parent is not None and parent.active else None


def save_upstream_client(
    session: Session, subject: Principal, *, issuer: str, client_id: str, secret: str
) -> UpstreamClient:
    """Keep the client the parent issued, its secret sealed with the key ring."""
    policy.require_manage_federation(subject)
    parent = _parent(session)
    if parent is None:
        raise NodeInvalid("This node has no parent in the registry.")
    if issuer.rstrip("/") != parent.url.rstrip("/"):
        # The issuer must be the address the national node signed for the parent.
        raise UpstreamRefused("The parent platform's sign-on names another issuer.")
    sealed = deployment.key_ring().encrypt_field(secret, aad=_aad(parent.code, client_id))
    row = repository.upstream_client(session, parent.code)
    if row is None:
        row = UpstreamClient(parent_code=parent.code, issuer="", client_id="", sealed_secret="")
        session.add(row)
    row.issuer, row.client_id, row.sealed_secret = issuer.rstrip("/"), client_id, sealed
    row.registered_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="federation.upstream_client_saved",
        target_type="federation_node",
        target_id=parent.code,
        details={"client_id": client_id, "issuer": row.issuer},
    )
    return row


def upstream(session: Session, subject: Principal) -> Node | None:
    """The parent node people can sign in here through, if its client is in place."""
    policy.require_read_federation(subject)
    if federation_repository.local_node(session) is None:
        return None
    parent = _parent(session)
    if parent is None or repository.upstream_client(session, parent.code) is None:
        return None
    return parent


def _link(session: Session) -> UpstreamClient:
    parent = _parent(session)
    link = repository.upstream_client(session, parent.code) if parent is not None else None
    if link is None:
        raise UpstreamRefused("This node does not sign people in through a parent platform.")
    return link


def _redirect_uri(session: Session) -> str:
    return (
        federation_service.local_node(session, Internal("sign in across nodes")).url.rstrip("/")
        + CALLBACK
    )


@dataclass(frozen=True)
class Started:
    url: str
    # Also set in the browser (a cookie), so a callback from another browser is refused.
    state: str


def begin_sign_in(
    session: Session, subject: Principal, *, next_path: str, locale: str | None = None
) -> Started:
    """Send the person to the parent's sign-on; what the callback must match is kept here."""
    policy.require_sign_in_upstream(subject)
    link = _link(session)
    issuer, client_id = link.issuer, link.client_id
    redirect_uri = _redirect_uri(session)
    # The parent is asked with no transaction open (``db.session.release``).
    release(session)
    provider = relying.discover(issuer)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    now = utcnow()
    session.add(
        UpstreamSignIn(
            state_hash=hashlib.sha256(state.encode()).hexdigest(),
            nonce=nonce,
            code_verifier=verifier,
            next_path=next_path,
            created_at=now,
            expires_at=now + STATE_LIFETIME,
        )
    )
    session.flush()
    url = relying.authorization_url(
        provider,
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        locale=locale,
    )
    return Started(url, state)


@dataclass(frozen=True)
class Completed:
    token: str
    next_path: str
    account: Account
    lifetime: timedelta


def complete_sign_in(
    session: Session, subject: Principal, *, code: str, state: str, browser_state: str
) -> Completed:
    """Finish a sign-in at the parent: every check passes or nothing is opened (and the
    refusal is audited; the caller commits it)."""
    policy.require_sign_in_upstream(subject)
    try:
        return _complete(session, code=code, state=state, browser_state=browser_state)
    except TongbanError as exc:
        audit.record(
            session,
            actor=subject,
            action="federation.upstream_sign_in_refused",
            target_type="federation_sign_in",
            target_id=hashlib.sha256(state.encode()).hexdigest()[:16],
            details={"reason": exc.message},
        )
        raise


def _complete(session: Session, *, code: str, state: str, browser_state: str) -> Completed:
    if not state or not browser_state or not hmac.compare_digest(state, browser_state):
        raise UpstreamRefused("This sign-in was not started in this browser; please start again.")
    pending = repository.pending_sign_in(session, hashlib.sha256(state.encode()).hexdigest())
    if pending is None or pending.expires_at <= utcnow():
        raise UpstreamRefused("This sign-in has expired; please start again.")
    session.delete(pending)  # used once, whatever happens next
    session.flush()
    link = _link(session)
    issuer, client_id = link.issuer, link.client_id
    secret = deployment.key_ring().decrypt_text(
        link.sealed_secret, aad=_aad(link.parent_code, link.client_id)
    )
    redirect_uri = _redirect_uri(session)
    verifier, nonce, next_path = pending.code_verifier, pending.nonce, pending.next_path
    # The parent is asked with no transaction open (``db.session.release``): the sign-in
    # state's removal commits now, which is what "used once" wants.
    release(session)
    provider = relying.discover(issuer)
    tokens = relying.exchange_code(
        provider,
        client_id=client_id,
        secret=secret,
        redirect_uri=redirect_uri,
        code=code,
        code_verifier=verifier,
    )
    id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
    if not isinstance(id_token, str) or not isinstance(access_token, str):
        raise UpstreamRefused("The parent platform did not accept the sign-in.")
    claims = relying.verify_id_token(
        provider,
        id_token,
        client_id=client_id,
        nonce=nonce,
        jwks=relying.fetch_jwks(provider),
    )
    person = relying.identity(claims, relying.userinfo(provider, access_token))
    if person.subject_type != "person":
        raise UpstreamRefused(
            "Only residents sign in through the parent platform; officials sign in here."
        )
    account = identity_service.person_for_resident(
        session,
        Internal("the account of a person signed in at another node"),
        id_number=person.id_number,
        name=person.name,
    )
    token = identity_service.open_session(session, account, amr=person.amr or AMR_PASSWORD)
    lifetime = timedelta(minutes=get_settings().federation_sso_session_minutes)
    found = identity_service.session_for_token(session, token)
    assert found is not None, "a session just opened is live"
    row = found[0]
    row.expires_at = min(row.expires_at, row.created_at + lifetime)
    audit.record(
        session,
        actor=account,
        action="federation.upstream_signed_in",
        target_type="account",
        target_id=str(account.id),
        details={"issuer": issuer, "upstream_sub": person.sub, "session_id": row.id},
    )
    return Completed(token, next_path, account, lifetime)
