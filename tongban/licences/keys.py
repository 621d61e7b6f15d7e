"""Departments' licence signing keys: made on first use, one per department and suite.

The private key is stored wrapped by the deployment's master key ring (envelope encryption, the
token bound to the key id), so a database copy alone signs nothing; the public key is published
(``GET /api/v1/licences/keys``, the page ``/licences/keys`` and ``tongban licences export-key``).
A key file for offline verification is JSON::

    {"format": "tongban-licence-key-v1", "department": "SAMR", "department_name": "...",
     "key_id": "SAMR-sm-…", "suite": "sm", "public_key": "<hex>"}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.catalog.models import Department
from tongban.licences.errors import KeyFileInvalid
from tongban.licences.models import SigningKey
from tongban.security import deployment
from tongban.security.crypto import SUITE_NAMES, get_suite

KEY_FILE_FORMAT = "tongban-licence-key-v1"


@dataclass(frozen=True)
class PublishedKey:
    department: str
    department_name: str
    key_id: str
    suite: str
    public_key: bytes
    created_at: datetime | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": KEY_FILE_FORMAT,
                "department": self.department,
                "department_name": self.department_name,
                "key_id": self.key_id,
                "suite": self.suite,
                "public_key": self.public_key.hex(),
            },
            ensure_ascii=False,
            indent=2,
        )


def _aad(key_id: str) -> bytes:
    return f"licence-signing-key:{key_id}".encode()


def current(session: Session, department: Department) -> SigningKey:
    """The department's signing key in the deployment's suite, made if it has none yet."""
    suite = deployment.suite()
    key = session.scalars(
        select(SigningKey)
        .where(
            SigningKey.department_id == department.id,
            SigningKey.suite == suite.name,
            SigningKey.current.is_(True),
        )
        .order_by(SigningKey.id.desc())
        .limit(1)
    ).first()
    if key is not None:
        return key
    pair = suite.generate_key_pair()
    key_id = f"{department.code}-{suite.name}-{suite.hash(pair.public)[:6].hex()}"
    key = SigningKey(
        key_id=key_id,
        department_id=department.id,
        suite=suite.name,
        public_key=pair.public.hex(),
        wrapped_private_key=deployment.key_ring().encrypt_field(pair.private, aad=_aad(key_id)),
        current=True,
    )
    session.add(key)
    session.flush()
    return key


def private_key(key: SigningKey) -> bytes:
    return deployment.key_ring().decrypt_field(key.wrapped_private_key, aad=_aad(key.key_id))


def by_key_id(session: Session, key_id: str) -> SigningKey | None:
    return session.scalars(select(SigningKey).where(SigningKey.key_id == key_id)).first()


def published(session: Session, department_code: str | None = None) -> list[PublishedKey]:
    query = select(SigningKey, Department).join(
        Department, Department.id == SigningKey.department_id
    )
    if department_code:
        query = query.where(Department.code == department_code)
    return [
        PublishedKey(
            d.code, d.name_zh, k.key_id, k.suite, bytes.fromhex(k.public_key), k.created_at
        )
        for k, d in session.execute(query.order_by(Department.code, SigningKey.id))
    ]


def parse_key_file(text: str) -> PublishedKey:
    """A published key file, checked: a key of a known suite and the right length."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != KEY_FILE_FORMAT:
            raise ValueError
        suite = str(data["suite"])
        public = bytes.fromhex(str(data["public_key"]))
        if suite not in SUITE_NAMES:
            raise ValueError
        get_suite(suite)
        return PublishedKey(
            str(data["department"]),
            str(data.get("department_name", "")),
            str(data["key_id"]),
            suite,
            public,
        )
    except (ValueError, KeyError, TypeError):
        raise KeyFileInvalid(
            "This is not a licence public key file of tongban (format {format}).",
            format=KEY_FILE_FORMAT,
        ) from None
