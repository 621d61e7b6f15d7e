"""Rate limits at the web edge: who the client is (its address), and a route dependency that
counts each request against limits keyed by it (``tongban.kit.ratelimit`` does the counting).

The address is the connection's peer. Only when the peer is a trusted proxy
(``TONGBAN_TRUSTED_PROXIES``) is ``X-Forwarded-For`` read, from the right: the first hop that
is not itself a trusted proxy is the client (hops further left are whatever the client sent).
IPv6 clients are counted by their /64, which one subscriber usually holds whole.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from fastapi import Depends, Request

from tongban.config import get_settings
from tongban.kit import ratelimit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _key(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_address(request: Request) -> str:
    """The client's address as rate limits count it."""
    peer = request.client.host if request.client else "unknown"
    networks = _networks(tuple(get_settings().trusted_proxies))
    if not _trusted(peer, networks):
        return _key(peer)
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return _key(hop)
    return _key(hops[0] if hops else peer)


def limited(*names: str) -> Any:
    """A route dependency counting each request against the limits ``names`` by the client's
    address (429 with Retry-After once one is used up)."""

    def by_address(request: Request) -> None:
        address = client_address(request)
        for name in names:
            ratelimit.hit(name, address)

    return Depends(by_address)
