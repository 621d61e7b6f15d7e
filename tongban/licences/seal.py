"""The seal of an electronic licence, with no database: what is signed, and how a PDF carries it.

Two signatures by the issuing department's key, in the deployment's suite (SM2 with SM3, or
Ed25519 with SHA-256), each over its own context so one can never stand for the other:

- the **licence signature** over the canonical JSON of the licence data (the payload, which
  names the suite and key id); it travels in the QR code's link and in the PDF;
- the **document seal** over every byte of the PDF except the seal itself (as a PDF signature's
  byte range does), so changing any byte of the file — a visible word or the payload — breaks it.

The PDF's information dictionary carries ``/TongbanLicence`` (the payload), ``/TongbanSignature``
and ``/TongbanSeal`` as ASCII strings, so the PDF alone is enough to verify it offline.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tongban.kit.canonical import canonical
from tongban.security.crypto import get_suite
from tongban.security.errors import KeyInvalid, SecurityConfigInvalid

VERSION = "tongban-licence-v1"
PAYLOAD_CONTEXT = b"tongban-licence-v1\n"
SEAL_CONTEXT = b"tongban-licence-pdf-v1\n"
# Long enough for any suite's signature in hex (SM2 DER: at most 72 bytes).
SEAL_SIZE = 200
SEAL_PLACEHOLDER = "." * SEAL_SIZE
_INFO = re.compile(rb"/(TongbanLicence|TongbanSignature|TongbanSeal) \(([A-Za-z0-9_\-.=]*)\)")


class NotALicence(ValueError):
    """The file carries no licence, or carries it malformed."""


def payload_text(payload: dict[str, Any]) -> str:
    return canonical(payload)


def sign_payload(suite: str, private_key: bytes, text: str) -> bytes:
    return get_suite(suite).sign(private_key, PAYLOAD_CONTEXT + text.encode())


def verify_payload(suite: str, public_key: bytes, text: str, signature: bytes) -> bool:
    return _verify(suite, public_key, PAYLOAD_CONTEXT + text.encode(), signature)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise NotALicence("not base64") from None


def info_entries(text: str, signature: bytes) -> dict[str, str]:
    """What the renderer writes into the PDF's information dictionary before sealing."""
    return {
        "TongbanLicence": b64(text.encode()),
        "TongbanSignature": b64(signature),
        "TongbanSeal": SEAL_PLACEHOLDER,
    }


def seal_pdf(pdf: bytes, sign: Callable[[bytes], bytes]) -> bytes:
    """Fill the seal placeholder of a rendered PDF with the signature over the rest."""
    start, end = _seal_span(pdf, SEAL_PLACEHOLDER.encode())
    signature = sign(SEAL_CONTEXT + pdf[:start] + pdf[end:]).hex()
    if len(signature) > SEAL_SIZE:
        raise ValueError("the seal does not fit its placeholder")
    return pdf[:start] + signature.ljust(SEAL_SIZE, ".").encode() + pdf[end:]


@dataclass(frozen=True)
class Embedded:
    """What a licence PDF carries, not yet checked."""

    text: str
    payload: dict[str, Any]
    signature: bytes
    seal: bytes
    # The bytes the seal covers.
    sealed_bytes: bytes

    @property
    def suite(self) -> str:
        return str(self.payload.get("suite", ""))

    @property
    def key_id(self) -> str:
        return str(self.payload.get("key_id", ""))

    def genuine_under(self, public_key: bytes) -> bool:
        """Both signatures hold under ``public_key`` (the key the payload names)."""
        return verify_payload(self.suite, public_key, self.text, self.signature) and _verify(
            self.suite, public_key, SEAL_CONTEXT + self.sealed_bytes, self.seal
        )


def read_pdf(pdf: bytes) -> Embedded:
    found: dict[bytes, list[re.Match[bytes]]] = {}
    for match in _INFO.finditer(pdf):
        found.setdefault(match.group(1), []).append(match)
    if any(len(found.get(k, [])) != 1 for k in (b"TongbanLicence", b"TongbanSignature")) or (
        len(found.get(b"TongbanSeal", [])) != 1
    ):
        raise NotALicence("no licence in this file")
    seal_match = found[b"TongbanSeal"][0]
    start, end = seal_match.span(2)
    seal_hex = seal_match.group(2).rstrip(b".")
    text = unb64(found[b"TongbanLicence"][0].group(2).decode()).decode("utf-8", "replace")
    try:
        payload = json.loads(text)
        seal = bytes.fromhex(seal_hex.decode())
    except ValueError:
        raise NotALicence("malformed licence data") from None
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise NotALicence("not a licence of this format")
    return Embedded(
        text,
        payload,
        unb64(found[b"TongbanSignature"][0].group(2).decode()),
        seal,
        pdf[:start] + pdf[end:],
    )


def _seal_span(pdf: bytes, placeholder: bytes) -> tuple[int, int]:
    start = pdf.find(placeholder)
    if start < 0 or pdf.find(placeholder, start + 1) >= 0:
        raise ValueError("the rendered PDF must hold exactly one seal placeholder")
    return start, start + len(placeholder)


def _verify(suite: str, public_key: bytes, data: bytes, signature: bytes) -> bool:
    try:
        return get_suite(suite).verify(public_key, data, signature)
    except (KeyInvalid, SecurityConfigInvalid, ValueError):
        return False
