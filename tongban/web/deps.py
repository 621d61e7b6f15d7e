"""Request dependencies: the database session and who is asking.

The JSON API authenticates by bearer token only, the pages by session cookie plus a CSRF token in
every form: a cookie never authorises an API call, so another site cannot forge one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, BinaryIO

from fastapi import BackgroundTasks, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from tongban.config import get_settings
from tongban.db.session import kept_apart, take_follow_ups, write_apart
from tongban.errors import Forbidden, InvalidInput, Unauthenticated
from tongban.identity import service as identity_service
from tongban.identity.companies import service as companies_service
from tongban.identity.models import Account, WebSession
from tongban.kit.i18n import negotiate

SESSION_COOKIE = "tongban_session"
LOCALE_COOKIE = "tongban_lang"
# Each browser's random secret that the form (CSRF) tokens are bound to, signed in or not.
CSRF_COOKIE = "tongban_csrf"

# Routes anyone may call without signing in; tests/architecture checks every other route
# declares a subject dependency.
PUBLIC_ROUTES: set[str] = set()


def public(path: str) -> str:
    PUBLIC_ROUTES.add(path)
    return path


# The dependencies below are ``async`` where they do no I/O, and hand only their database work
# to the thread pool: each trip to it costs a thread switch, on every request.


async def get_session(request: Request, background: BackgroundTasks) -> AsyncIterator[Session]:
    factory = request.app.state.session_factory
    # Made here (no I/O), used by the request's worker threads one at a time.
    session: Session = factory()
    try:
        yield session
    except BaseException:
        # A trip to the thread pool runs to its end even if the request is cancelled.
        await run_in_threadpool(_end, session, factory, commit=False)
        raise
    if session.in_transaction() or kept_apart(session):
        await run_in_threadpool(_end, session, factory, commit=True)
    else:
        session.close()  # nothing was opened: nothing to end, no trip to the thread pool
    # After the answer is sent, so the caller does not wait for them.
    for follow_up in take_follow_ups(session):
        background.add_task(follow_up, factory)


def _end(session: Session, factory: Callable[[], Session], *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()
        write_apart(session, factory)


# "function" scope commits before the response is sent: a client never sees success for
# a change that then failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def committed_json(session: Session, model: BaseModel, *, status_code: int = 200) -> Response:
    """``model`` as the JSON answer, the session committed: for a hot path's ``def`` endpoint,
    in its own worker thread. FastAPI would validate a returned model against the
    ``response_model`` again and ``get_session`` would commit, each in a trip of its own to the
    thread pool; here the model is rendered once, the commit happens before the answer exists
    (a failed commit still answers an error) and ``get_session`` finds nothing left to end."""
    body = model.model_dump_json(by_alias=True)
    session.commit()
    return Response(body, status_code=status_code, media_type="application/json")


_bearer = HTTPBearer(auto_error=False, description="Token from POST /api/v1/session")


async def api_subject(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account | None:
    if credentials is None:
        return None
    found = await run_in_threadpool(
        identity_service.session_for_token, session, credentials.credentials
    )
    if found is None:
        raise Unauthenticated("The token is unknown or has expired; please sign in again.")
    request.state.web_session = found[0]
    request.state.account_id = found[1].id
    return found[1]


async def api_required(subject: Annotated[Account | None, Depends(api_subject)]) -> Account:
    if subject is None:
        raise Unauthenticated("Please sign in first: send Authorization: Bearer <token>.")
    return subject


ApiSubject = Annotated[Account, Depends(api_required)]
ApiOptionalSubject = Annotated[Account | None, Depends(api_subject)]


async def api_web_session(request: Request, subject: ApiSubject) -> WebSession:
    """The sign-in session behind the bearer token (to end it, or to switch whom it acts for)."""
    row: WebSession = request.state.web_session
    return row


ApiWebSession = Annotated[WebSession, Depends(api_web_session)]


def acting_for_id(request: Request) -> int | None:
    """The legal person the signed-in person acts for in this sign-in (resolved and checked by
    the subject dependency, which runs first), or None."""
    row: WebSession | None = getattr(request.state, "web_session", None)
    return row.acting_for_id if row is not None else None


async def page_subject(request: Request, session: SessionDep) -> Account | None:
    """Who is signed in by the session cookie; also puts the session and the legal person it acts
    for (shown in the header) on ``request.state``."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return await run_in_threadpool(_signed_in, request, session, token)


def _signed_in(request: Request, session: Session, token: str) -> Account | None:
    found = identity_service.session_for_token(session, token)
    if found is None:
        return None
    row, account = found
    request.state.web_session = row
    # Read after the request's session has ended (a refusal's security event).
    request.state.account_id = account.id
    request.state.acting_for = (
        companies_service.acting_for(session, account, web_session=row)
        if row.acting_for_id is not None
        else None
    )
    return account


PageSubject = Annotated[Account | None, Depends(page_subject)]


class LoginRedirect(Exception):
    """A page that needs a signed-in person was opened without one: send them to sign in."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


async def page_required(request: Request, subject: PageSubject) -> Account:
    if subject is None:
        target = (
            request.url.path if request.method == "GET" else request.headers.get("referer", "/")
        )
        raise LoginRedirect(str(target))
    return subject


PageUser = Annotated[Account, Depends(page_required)]


async def page_web_session(request: Request, subject: PageUser) -> WebSession:
    row: WebSession = request.state.web_session
    return row


PageWebSession = Annotated[WebSession, Depends(page_web_session)]


async def posted_form(request: Request) -> FormData:
    """The submitted form (files included) for sync page handlers, checked against CSRF."""
    form = await request.form(max_files=20, max_fields=200)
    if not csrf_ok(request, form.get("csrf")):
        await form.close()
        check_csrf(request, None)
    return form


PostedForm = Annotated[FormData, Depends(posted_form)]


@dataclass(frozen=True)
class Upload:
    """One file from a multipart form, with the text fields sent beside it."""

    filename: str
    stream: BinaryIO
    fields: dict[str, str]

    def text(self, name: str) -> str:
        value = self.fields.get(name, "")
        if not value:
            raise InvalidInput("{field}: this field is required.", field=name)
        return value


async def uploaded_file(request: Request) -> AsyncIterator[Upload]:
    """The ``file`` of a multipart upload, read only when this dependency runs: declared after
    the route's subject dependency, after the caller was accepted. Upload routes take no
    ``Form``/``File`` parameters, which FastAPI reads before any dependency runs."""
    form = await request.form(max_files=1, max_fields=20)
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidInput("Please choose a file to upload.", field="file")
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        yield Upload(filename=file.filename or "", stream=file.file, fields=fields)
    finally:
        await form.close()


UploadedFile = Annotated[Upload, Depends(uploaded_file)]


def multipart(*fields: str) -> dict[str, Any]:
    """OpenAPI for an upload route's body (``file`` plus ``fields``), which it reads itself."""
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary"}}
    properties |= {name: {"type": "string"} for name in fields}
    schema = {"type": "object", "properties": properties, "required": ["file", *fields]}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


def _visitor(request: Request) -> str:
    """This browser's random secret (its ``CSRF_COOKIE``), made when the first form is shown."""
    value: str | None = request.cookies.get(CSRF_COOKIE) or getattr(
        request.state, "new_visitor", None
    )
    if not value:
        value = secrets.token_urlsafe(32)
        request.state.new_visitor = value
    return value


def csrf_token(request: Request) -> str:
    """The token every form carries, signed in or not: bound to this browser's random cookie,
    which another site can neither read nor set, and to its sign-in (a new sign-in, a new
    token). Before visitors had their own cookie, everyone signed out shared one token."""
    visitor = _visitor(request)
    signed_in = request.cookies.get(SESSION_COOKIE, "")
    return hashlib.sha256(f"csrf:{visitor}:{signed_in}".encode()).hexdigest()[:32]


def csrf_ok(request: Request, submitted: object) -> bool:
    return (
        bool(request.cookies.get(CSRF_COOKIE))
        and isinstance(submitted, str)
        and bool(submitted)
        and hmac.compare_digest(submitted, csrf_token(request))
    )


def check_csrf(request: Request, submitted: str | None) -> None:
    if not csrf_ok(request, submitted):
        raise Forbidden("The form has expired; please reload the page and try again.")


def give_visitor_cookie(request: Request, response: Response) -> None:
    """Send the cookie a token on this page was bound to, if the browser has none yet."""
    new: str | None = getattr(request.state, "new_visitor", None)
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="lax", secure=get_settings().cookie_secure
        )


# A page number is bounded like every integer a request carries (see db.types.RowId): the offset
# it makes must fit the database's integers.
MAX_PAGE = 1_000_000
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1")]


def locale(request: Request) -> str:
    return negotiate(
        request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE),
        request.headers.get("accept-language"),
    )


Locale = Annotated[str, Depends(locale)]
