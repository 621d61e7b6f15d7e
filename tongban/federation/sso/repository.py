"""Queries for sign-on across levels."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.federation.models import UpstreamClient, UpstreamSignIn


def upstream_client(session: Session, parent_code: str) -> UpstreamClient | None:
    return session.execute(
        select(UpstreamClient).where(UpstreamClient.parent_code == parent_code)
    ).scalar_one_or_none()


def pending_sign_in(session: Session, state_hash: str) -> UpstreamSignIn | None:
    return session.execute(
        select(UpstreamSignIn).where(UpstreamSignIn.state_hash == state_hash)
    ).scalar_one_or_none()
