"""Answers made from the catalog in memory (``catalog.cache``): kept with the catalog snapshot,
validated by ETag and Last-Modified (the catalog version, the language, the release), and
answered 304 to If-None-Match / If-Modified-Since.

Only answers that are the same for everyone who gets them are kept or validated: the catalog's
JSON and the pages shown to visitors who are not signed in. A signed-in person's page shows who
they are and what they may do: it is rendered for them each time and never stored (no-store),
so one person's page is never served to another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from importlib import resources
from pathlib import Path

from fastapi import Request, Response

import tongban
from tongban.catalog.cache import Snapshot
from tongban.identity.models import Account
from tongban.web.deps import locale


def _release() -> tuple[str, int]:
    """A digest of what pages are made of besides the catalog (templates, translations) and
    when it last changed: a new release changes the validators."""
    root = Path(str(resources.files("tongban.web")))
    digest = hashlib.sha256(tongban.__version__.encode())
    newest = 0
    for folder in ("templates", "locale"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(
                    f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
                )
                newest = max(newest, int(stat.st_mtime))
    return digest.hexdigest()[:16], newest


RELEASE, RELEASED_AT = _release()
# Pages differ by sign-in (the session cookie) and language (a cookie or Accept-Language).
PAGE_VARY = "Cookie, Accept-Language"
HTML = "text/html; charset=utf-8"


def _validators(snapshot: Snapshot, *parts: str) -> dict[str, str]:
    seed = "|".join((snapshot.version.tag, RELEASE, *parts))
    return {
        "ETag": f'W/"{hashlib.sha256(seed.encode()).hexdigest()[:32]}"',
        "Last-Modified": formatdate(max(snapshot.version.changed_at, RELEASED_AT), usegmt=True),
        # Anyone may keep it, but must ask again each time (a 304 costs little).
        "Cache-Control": "no-cache",
    }


def _not_modified(request: Request, headers: dict[str, str]) -> bool:
    """RFC 9110 13.1: If-None-Match (weak comparison) decides when sent, else If-Modified-Since."""
    asked = request.headers.get("if-none-match")
    if asked is not None:
        ours = headers["ETag"].removeprefix("W/")
        return any(
            t.strip() in ("*", ours) or t.strip().removeprefix("W/") == ours
            for t in asked.split(",")
        )
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    modified = parsedate_to_datetime(headers["Last-Modified"])
    return modified <= when


def json_answer(
    request: Request, snapshot: Snapshot, key: object, make: Callable[[], bytes]
) -> Response:
    """The catalog JSON ``make`` serialises, kept per ``key`` with the snapshot."""
    headers = _validators(snapshot, "json")
    if _not_modified(request, headers):
        return Response(status_code=304, headers=headers)
    body = snapshot.memo(("json", key), make)
    return Response(body, media_type="application/json", headers=headers)


def page(
    request: Request,
    snapshot: Snapshot,
    subject: Account | None,
    render: Callable[[], Response],
) -> Response:
    """A page made from the catalog: for a visitor who is not signed in, kept with the snapshot
    (per address and language) and validated; for a signed-in person, rendered afresh."""
    if subject is not None:
        response = render()
        response.headers["Vary"] = PAGE_VARY
        return response
    lang = locale(request)
    headers = {**_validators(snapshot, "page", lang), "Vary": PAGE_VARY}
    if _not_modified(request, headers):
        return Response(status_code=304, headers=headers)
    key = ("page", lang, request.url.path, request.url.query)
    body = snapshot.recall(key)
    if body is None:
        response = render()
        # Only what is the same for every visitor is kept: no error, no form token, no cookie.
        if (
            response.status_code != 200
            or _form_token_used(request)
            or "set-cookie" in response.headers
        ):
            return response
        body = bytes(response.body)
        snapshot.keep(key, body)
    return Response(body, media_type=HTML, headers=headers)


def _form_token_used(request: Request) -> bool:
    """Whether the page rendered for ``request`` carries the visitor's form token (the page
    templates set the flag when they print it)."""
    return bool(getattr(request.state, "form_token_used", False))
