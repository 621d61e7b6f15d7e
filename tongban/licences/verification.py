"""Verifying a licence: by the QR code's link, by its PDF (online, against this platform's
keys and revocations), or by its PDF and a published key file (offline: no database, so
revocation cannot be known, and the verdict says so)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from tongban.kit.i18n import N_
from tongban.licences import issuing, keys, repository, seal, views
from tongban.licences.keys import PublishedKey
from tongban.licences.models import Licence
from tongban.licences.schemas import Verdict
from tongban.security import deployment

TAMPERED = N_(
    "Not genuine: the file was changed after the issuing department sealed it, or it is not an "
    "electronic licence."
)
UNKNOWN_KEY = N_(
    "Not genuine: it is signed by a key that no department of this platform has published."
)
FORGED = N_("Not genuine: the code does not match any licence issued here.")
REVOKED = N_("Genuine, but revoked by the issuing department: it is no longer valid.")
EXPIRED = N_("Genuine, but expired: it is no longer valid.")
GENUINE = N_("Genuine and current: issued and sealed by the department named below.")
GENUINE_OFFLINE = N_(
    "Genuine: issued and sealed by the department whose key you gave, and not expired. "
    "Whether it was revoked can only be checked online."
)
WRONG_KEY = N_("Not genuine under the key given: it names another signing key.")


def by_link(session: Session, number: str, signature: str) -> Verdict:
    """The QR code's link: the licence number and its signature."""
    licence = repository.by_number(session, number.strip().upper())
    if licence is None:
        return Verdict(outcome="not_genuine", message=FORGED)
    text, payload = issuing.payload_of(licence)
    key = keys.by_key_id(session, licence.key_id)
    try:
        given = seal.unb64(signature.strip())
    except seal.NotALicence:
        return Verdict(outcome="not_genuine", message=FORGED)
    if key is None or not seal.verify_payload(
        key.suite, bytes.fromhex(key.public_key), text, given
    ):
        return Verdict(outcome="not_genuine", message=FORGED)
    return _current(licence, payload)


def by_pdf(session: Session, data: bytes) -> Verdict:
    try:
        embedded = seal.read_pdf(data)
    except seal.NotALicence:
        return Verdict(outcome="not_genuine", message=TAMPERED)
    key = keys.by_key_id(session, embedded.key_id)
    if key is None or key.suite != embedded.suite:
        return Verdict(outcome="not_genuine", message=UNKNOWN_KEY)
    if not embedded.genuine_under(bytes.fromhex(key.public_key)):
        return Verdict(outcome="not_genuine", message=TAMPERED)
    licence = repository.by_number(session, str(embedded.payload.get("number", "")))
    if licence is None or seal.unb64(licence.signature) != embedded.signature:
        # Sealed by a department key, yet not a licence this platform holds: say it plainly.
        return Verdict(outcome="not_genuine", message=FORGED)
    return _current(licence, embedded.payload)


def offline(data: bytes, key: PublishedKey) -> Verdict:
    """With the PDF and the department's published key only."""
    try:
        embedded = seal.read_pdf(data)
    except seal.NotALicence:
        return Verdict(outcome="not_genuine", message=TAMPERED, revocation_checked=False)
    if embedded.key_id != key.key_id or embedded.suite != key.suite:
        return Verdict(outcome="not_genuine", message=WRONG_KEY, revocation_checked=False)
    if not embedded.genuine_under(key.public_key):
        return Verdict(outcome="not_genuine", message=TAMPERED, revocation_checked=False)
    status = views.status_by_date(_expires(embedded.payload))
    # The holder has the PDF and the key file: the verifier sees the whole licence.
    licence = views.from_payload(
        embedded.payload, status=status, clearance=deployment.top_clearance()
    )
    if status == "expired":
        return Verdict(
            outcome="expired", message=EXPIRED, licence=licence, revocation_checked=False
        )
    return Verdict(
        outcome="genuine", message=GENUINE_OFFLINE, licence=licence, revocation_checked=False
    )


def _current(licence: Licence, payload: dict[str, Any]) -> Verdict:
    status = views.status_of(licence)
    shown = views.from_payload(
        payload, status=status, clearance=views.public_clearance(), licence=licence
    )
    if status == "revoked":
        return Verdict(outcome="revoked", message=REVOKED, licence=shown)
    if status == "expired":
        return Verdict(outcome="expired", message=EXPIRED, licence=shown)
    return Verdict(outcome="genuine", message=GENUINE, licence=shown)


def _expires(payload: dict[str, Any]) -> date | None:
    value = payload.get("expires_on")
    return date.fromisoformat(value) if value else None
