"""The node registry: a document listing every node, signed by the national node.

The document travels as the exact text that was signed (canonical JSON), so a receiver checks the
signature over the bytes it got and only then parses them.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from pydantic import ValidationError

from tongban.federation.errors import RegistryRefused
from tongban.federation.schemas import NodeSpec, RegistryDocument, SignedRegistry
from tongban.kit.canonical import canonical
from tongban.security.crypto import get_suite
from tongban.security.errors import KeyInvalid

CONTEXT = b"tongban-registry-v1\n"


def sign(
    *,
    suite: str,
    private_key: bytes,
    issuer: str,
    version: int,
    issued_at: datetime,
    nodes: list[NodeSpec],
) -> SignedRegistry:
    document = RegistryDocument(issuer=issuer, version=version, issued_at=issued_at, nodes=nodes)
    text = canonical(document.model_dump(mode="json"))
    signature = get_suite(suite).sign(private_key, CONTEXT + text.encode())
    return SignedRegistry(document=text, signature=base64.b64encode(signature).decode())


def verify(signed: SignedRegistry, *, suite: str, public_key: str, issuer: str) -> RegistryDocument:
    """The document if the national node signed it; ``RegistryRefused`` otherwise."""
    try:
        signature = base64.b64decode(signed.signature, validate=True)
        genuine = get_suite(suite).verify(
            bytes.fromhex(public_key), CONTEXT + signed.document.encode(), signature
        )
    except (binascii.Error, ValueError, KeyInvalid):
        genuine = False
    if not genuine:
        raise RegistryRefused("The registry is not signed by the national node.")
    try:
        document = RegistryDocument.model_validate_json(signed.document)
    except ValidationError:
        raise RegistryRefused("The registry document is malformed.") from None
    if document.issuer != issuer:
        raise RegistryRefused("The registry is not signed by the national node.")
    return document
