"""The Content-Security-Policy every page is served with."""

from __future__ import annotations

from collections.abc import Iterable


def content_security_policy(form_action: Iterable[str] = ()) -> str:
    """Pages load only their own scripts and styles. ``form_action`` adds the origins a form
    may lead to: browsers hold a redirect that follows a form post to this directive, so the
    sign-on pages name the relying party their answer is sent on to."""
    targets = " ".join(["'self'", *form_action])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"frame-ancestors 'none'; form-action {targets}; base-uri 'none'; object-src 'none'"
    )
