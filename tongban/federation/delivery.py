"""Delivering the federation outbox to peer nodes, and keeping the registry fresh.

Uses the shared lease/retry/dead-letter mechanism (``db.delivery``): due messages are claimed
under a lease, signed and POSTed with no transaction open, then settled; a delivered message's
signed envelope goes into the message log in the settling transaction. Each attempt is signed
afresh (new time and nonce, same message id), so a message held up by a peer being down is not
refused as too old when it finally arrives, and the peer keeps it once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine

from tongban.audit import checkpoints
from tongban.db import delivery
from tongban.db.delivery import Settled
from tongban.db.session import sessions_for, unit_of_work
from tongban.federation import evidence, keys, messages, repository
from tongban.federation import service as federation_service
from tongban.federation.errors import RegistryRefused
from tongban.federation.models import Direction, NodeLevel, PeerMessage
from tongban.federation.schemas import SignedRegistry
from tongban.federation.witness import upstream
from tongban.kit import http
from tongban.security.principals import Internal

log = logging.getLogger(__name__)

# The peer refused the content itself: the same message cannot succeed later. 401 and 409 can
# (a registry not yet refreshed there, a clock put right), so they are retried.
_PERMANENT = {400, 404, 413, 422}


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Attempt:
    row_id: int
    signed: messages.SignedMessage | None
    error: str | None
    permanent: bool = False


def _post(
    client: httpx.Client, url: str, signed: messages.SignedMessage
) -> tuple[str | None, bool]:
    try:
        response = client.post(
            url + messages.PATH,
            content=signed.body,
            headers={"Content-Type": "application/json", **signed.headers()},
            timeout=10.0,
        )
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}", False
    if response.is_success:
        return None, False
    detail = f"HTTP {response.status_code}: {response.text[:300]}"
    return detail, response.status_code in _PERMANENT


def deliver_once(
    engine: Engine, *, client: httpx.Client | None = None, limit: int = 100
) -> DeliveryReport:
    report = DeliveryReport()
    with unit_of_work(engine) as session:
        local = repository.local_node(session)
        if local is None:
            return report
        token, rows = delivery.claim(
            session, PeerMessage, limit=limit, in_order_by=("recipient", "aggregate_id")
        )
        peers = {n.code: n.url for n in repository.nodes(session, active_only=True)}
        sender = local.code
        work = [(r.id, r.message_id, r.recipient, r.message_type, r.body) for r in rows]
    report.claimed = len(work)
    if not work:
        return report
    suite, pair = keys.load_with_suite()
    client = client or http.client()
    attempts: list[_Attempt] = []
    # No transaction is open here: a slow or dead peer holds no database locks.
    for row_id, message_id, recipient, message_type, body in work:
        url = peers.get(recipient)
        if url is None:
            attempts.append(_Attempt(row_id, None, f"node {recipient} left the registry"))
            continue
        signed = messages.sign(
            suite=suite,
            private_key=pair.private,
            message_id=message_id,
            sender=sender,
            recipient=recipient,
            message_type=message_type,
            body=body.encode("utf-8"),
        )
        error, permanent = _post(client, url, signed)
        attempts.append(_Attempt(row_id, signed, error, permanent))
    for attempt in attempts:
        with unit_of_work(engine) as session:
            settled = delivery.settle(
                session,
                PeerMessage,
                token=token,
                row_id=attempt.row_id,
                error=attempt.error,
                permanent=attempt.permanent,
            )
            if settled is None:
                continue  # the lease ran out; whoever holds it now settles (and logs) it
            row, outcome = settled
            if outcome is Settled.DELIVERED and attempt.signed is not None:
                s = attempt.signed
                evidence.write(
                    session,
                    direction=Direction.OUT,
                    envelope=s.envelope,
                    suite=s.suite,
                    body=s.body,
                    digest=s.body_hash,
                    signature=s.signature,
                    signer_key=pair.public.hex(),
                )
                report.delivered += 1
                continue
            if outcome is Settled.DEAD:
                report.dead += 1
            else:
                report.retried += 1
            report.errors.append(f"message {row.message_id}: {attempt.error}")
    return report


def fetch_registry(url: str, client: httpx.Client | None = None) -> SignedRegistry:
    response = (client or http.client()).get(
        url.rstrip("/") + "/api/v1/federation/registry", timeout=10.0
    )
    response.raise_for_status()
    return SignedRegistry.model_validate(response.json())


@dataclass(frozen=True)
class RefreshReport:
    outcome: str  # updated, unchanged, unreachable, refused
    version: int
    detail: str = ""


def refresh_registry(
    engine: Engine, *, source: str | None = None, client: httpx.Client | None = None
) -> RefreshReport:
    """Fetch the registry (from the national node unless another source is named) and take it
    if genuine and newer; when the top cannot be reached, keep working from the copy held."""
    with unit_of_work(engine) as session:
        local = federation_service.local_node(
            session, Internal("worker: refresh the node registry")
        )
        url = source or local.national_url
        held = repository.latest_registry(session)
        held_version = held.version if held is not None else 0
        if local.level is NodeLevel.NATIONAL:
            return RefreshReport("unchanged", held_version)  # it publishes the registry itself
    try:
        signed = fetch_registry(url, client)
    except (httpx.HTTPError, ValueError) as exc:
        return RefreshReport("unreachable", held_version, f"{type(exc).__name__}: {exc}")
    try:
        with unit_of_work(engine) as session:
            result = federation_service.apply_registry(
                session, Internal("worker: refresh the node registry"), signed
            )
    except RegistryRefused as exc:
        return RefreshReport("refused", held_version, str(exc))
    return RefreshReport("updated" if result.updated else "unchanged", result.version)


def _link_sign_on(engine: Engine, client: httpx.Client) -> None:
    """Get this node's sign-on client from its parent, until it has one (the parent may not
    yet hold a registry listing this node: then it refuses, and the next round asks again)."""
    from tongban.errors import TongbanError
    from tongban.federation.sso import link

    try:
        if not link.linked(engine):
            log.info("sign-on client %s from the parent node", link.link(engine, client))
    except TongbanError as exc:
        log.warning("no sign-on client from the parent node yet: %s", exc)
    except Exception:
        log.exception("getting the sign-on client from the parent node failed")


def _witness_round(engine: Engine, client: httpx.Client) -> None:
    """Sign the audit chain's periodic checkpoint when due, and send the latest to the parent
    node to witness."""
    checkpoints.sign_periodically(sessions_for(engine))
    try:
        upstream.send_latest(engine, client)
    except Exception:
        log.exception("sending the audit checkpoint to the parent node failed; trying again")


def run(engine: Engine, *, stop: threading.Event, interval: float = 1.0) -> None:
    """Deliver until ``stop`` is set; now and then refresh the registry, forget old nonces and
    send what changed in the catalog up and down."""
    from tongban.config import get_settings
    from tongban.federation.applications import service as cross_region
    from tongban.federation.catalog import service as catalog_federation
    from tongban.federation.exchange import service as data_exchange
    from tongban.kit.clock import utcnow

    last_refresh = None
    client = http.client()
    while not stop.is_set():
        now = utcnow()
        if last_refresh is None or (
            (now - last_refresh).total_seconds() >= get_settings().federation_refresh_seconds
        ):
            last_refresh = now
            try:
                report = refresh_registry(engine, client=client)
                if report.outcome in ("unreachable", "refused"):
                    log.warning(
                        "registry %s (%s); working from version %d",
                        report.outcome,
                        report.detail,
                        report.version,
                    )
                with unit_of_work(engine) as session:
                    federation_service.forget_old_nonces(
                        session, Internal("worker: federation housekeeping")
                    )
                with unit_of_work(engine) as session:
                    catalog_federation.sync(session, Internal("worker: federation catalog sync"))
            except Exception:
                log.exception("registry refresh or catalog sync failed; trying again later")
            _link_sign_on(engine, client)
        try:
            with unit_of_work(engine) as session:
                cross_region.report_progress(
                    session, Internal("worker: report progress to the filing node")
                )
        except Exception:
            log.exception("reporting application progress failed; trying again")
        try:
            with unit_of_work(engine) as session:
                data_exchange.report_decisions(
                    session, Internal("worker: report decisions to the filing node")
                )
        except Exception:
            log.exception("reporting data sharing decisions failed; trying again")
        _witness_round(engine, client)
        try:
            result = deliver_once(engine, client=client)
        except Exception:
            log.exception("federation delivery round failed; trying again")
            result = DeliveryReport()
        if result.claimed == 0:
            stop.wait(interval)
