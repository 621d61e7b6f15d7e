"""Envelope encryption of field values under a rotatable ring of master keys.

Each value gets its own fresh data key; the value is sealed with the data key, and the data key is
sealed ("wrapped") with the ring's current master key. The result is one compact, self-describing
token::

    tb1.<suite>.<master key id>.<wrapped data key>.<nonce>.<ciphertext>

(base64url without padding). The token names its master key, so after ``rotate`` new values use
the new key while old tokens stay readable under the old one, which the ring keeps; ``rewrap``
moves a token to the current key by re-sealing only its 16 or 32 byte data key, never touching the
ciphertext. Any change to any part — or decrypting with other associated data — fails the AEAD
check and raises ``DecryptionFailed``.

The ring comes from a key file (JSON or YAML: ``{"current": id, "keys": {id: base64 key}}``) or
the same document in an environment variable. Python cannot wipe memory: keys live as long as
the ring object does.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tongban.kit.clock import utcnow
from tongban.security.crypto import CryptoSuite, Sealed, get_suite
from tongban.security.errors import DecryptionFailed, KeyInvalid, SecurityConfigInvalid
from tongban.security.schemas import KEY_ID, KeyFile

TOKEN_VERSION = "tb1"
ENV_VAR = "TONGBAN_MASTER_KEYS"
_KEY_ID = re.compile(KEY_ID)


@dataclass(frozen=True)
class Token:
    """The parts of an encrypted token."""

    suite: str
    key_id: str
    wrapped_key: Sealed
    data: Sealed

    def encode(self) -> str:
        parts = (
            self.wrapped_key.nonce + self.wrapped_key.ciphertext,
            self.data.nonce,
            self.data.ciphertext,
        )
        encoded = ".".join(_b64(p) for p in parts)
        return f"{TOKEN_VERSION}.{self.suite}.{self.key_id}.{encoded}"

    @classmethod
    def decode(cls, token: str, *, nonce_size: int) -> Token:
        parts = token.split(".")
        if len(parts) != 6 or parts[0] != TOKEN_VERSION or not _KEY_ID.fullmatch(parts[2]):
            raise DecryptionFailed("The encrypted value is malformed.")
        try:
            wrapped, nonce, ciphertext = (_unb64(p) for p in parts[3:])
        except (binascii.Error, ValueError):
            raise DecryptionFailed("The encrypted value is malformed.") from None
        return cls(
            parts[1],
            parts[2],
            Sealed(wrapped[:nonce_size], wrapped[nonce_size:]),
            Sealed(nonce, ciphertext),
        )


@dataclass(frozen=True)
class KeyRing:
    """Master keys by id and which one is current. Immutable: ``rotate`` returns a new ring."""

    suite: CryptoSuite
    keys: Mapping[str, bytes] = field(repr=False)
    current: str

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise SecurityConfigInvalid(
                "The current master key {key_id} is not in the ring.", key_id=self.current
            )
        for key_id, key in self.keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise KeyInvalid("The master key id {key_id} is not valid.", key_id=key_id)
            if len(key) != self.suite.key_size:
                raise KeyInvalid(
                    "Master key {key_id} has {length} bytes; suite {suite} needs {size}.",
                    key_id=key_id,
                    length=len(key),
                    suite=self.suite.name,
                    size=self.suite.key_size,
                )

    # -- encryption ----------------------------------------------------------------------------

    def encrypt_field(self, plaintext: bytes | str, *, aad: bytes) -> str:
        """A token for ``plaintext``. ``aad`` binds it to its place (e.g. table, row id, field):
        the same ``aad`` is needed to decrypt, so a token copied elsewhere will not decrypt."""
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
        data_key = self.suite.generate_key()
        sealed = self.suite.aead_encrypt(data_key, data, aad=self._data_aad(aad))
        return Token(self.suite.name, self.current, self._wrap(data_key), sealed).encode()

    def decrypt_field(self, token: str, *, aad: bytes) -> bytes:
        parts = self._decode(token)
        data_key = self._unwrap(parts)
        return self.suite.aead_decrypt(data_key, parts.data, aad=self._data_aad(aad))

    def decrypt_text(self, token: str, *, aad: bytes) -> str:
        return self.decrypt_field(token, aad=aad).decode("utf-8")

    def rewrap(self, token: str) -> str:
        """The same value under the current master key; the ciphertext is left as it is."""
        parts = self._decode(token)
        if parts.key_id == self.current:
            return token
        wrapped = self._wrap(self._unwrap(parts))
        return Token(parts.suite, self.current, wrapped, parts.data).encode()

    def key_id_of(self, token: str) -> str:
        """Which master key a token is under: to find what still needs ``rewrap``."""
        return self._decode(token).key_id

    # -- rotation and storage ------------------------------------------------------------------

    def rotate(self, *, key_id: str | None = None) -> KeyRing:
        """A ring with a new current master key; every old key stays for reading."""
        return self.add_key(key_id=key_id, make_current=True)

    def add_key(self, *, key_id: str | None = None, make_current: bool = False) -> KeyRing:
        """A ring with one more master key. With several app servers, rotate in two steps so no
        server meets a token under a key it lacks: roll out the ring with the key added (not
        current), then roll out the ring that makes it current; ``rewrap`` old tokens after."""
        key_id = key_id or f"{utcnow():%Y%m%d}-{secrets.token_hex(3)}"
        if key_id in self.keys:
            raise SecurityConfigInvalid("The master key id {key_id} is taken.", key_id=key_id)
        current = key_id if make_current else self.current
        return KeyRing(self.suite, {**self.keys, key_id: self.suite.generate_key()}, current)

    def with_current(self, key_id: str) -> KeyRing:
        """The same keys with ``key_id`` (already in the ring) as the current one."""
        return KeyRing(self.suite, self.keys, key_id)

    def to_document(self) -> dict[str, Any]:
        """The key file's content (keep it secret: it holds the keys)."""
        return {
            "current": self.current,
            "keys": {key_id: base64.b64encode(key).decode() for key_id, key in self.keys.items()},
        }

    # -- inside --------------------------------------------------------------------------------

    def _decode(self, token: str) -> Token:
        parts = Token.decode(token, nonce_size=self.suite.nonce_size)
        if parts.suite != self.suite.name:
            raise DecryptionFailed(
                "The encrypted value was made with the {suite} suite, not this deployment's.",
                suite=parts.suite,
            )
        return parts

    def _wrap(self, data_key: bytes) -> Sealed:
        return self.suite.aead_encrypt(
            self.keys[self.current], data_key, aad=self._wrap_aad(self.current)
        )

    def _unwrap(self, parts: Token) -> bytes:
        master = self.keys.get(parts.key_id)
        if master is None:
            raise DecryptionFailed(
                "The encrypted value needs master key {key_id}, which is not in the key ring.",
                key_id=parts.key_id,
            )
        data_key = self.suite.aead_decrypt(
            master, parts.wrapped_key, aad=self._wrap_aad(parts.key_id)
        )
        if len(data_key) != self.suite.key_size:
            raise DecryptionFailed("The encrypted value is malformed.")
        return data_key

    # The header parts use an alphabet without NUL, so NUL separates them unambiguously; the
    # caller's aad comes last and so needs no separator of its own.
    def _wrap_aad(self, key_id: str) -> bytes:
        return b"\0".join(
            (b"tongban-wrap", TOKEN_VERSION.encode(), self.suite.name.encode(), key_id.encode())
        )

    def _data_aad(self, aad: bytes) -> bytes:
        return b"\0".join((b"tongban-data", TOKEN_VERSION.encode(), self.suite.name.encode(), aad))


def new_key_ring(suite: CryptoSuite, *, key_id: str | None = None) -> KeyRing:
    """A ring with one fresh master key, e.g. for a new deployment's key file."""
    key_id = key_id or f"{utcnow():%Y%m%d}-{secrets.token_hex(3)}"
    return KeyRing(suite, {key_id: suite.generate_key()}, key_id)


def parse_key_ring(text: str, *, suite: CryptoSuite, source: str = "key file") -> KeyRing:
    # YAML is a superset of JSON: one parser reads both forms.
    try:
        spec = KeyFile.model_validate(yaml.safe_load(text) or {})
    except (ValidationError, yaml.YAMLError) as exc:
        # Pydantic's message would quote the input, and the input is the keys: name the place only.
        places = (
            ", ".join(".".join(str(p) for p in e["loc"]) or "top" for e in exc.errors())
            if isinstance(exc, ValidationError)
            else "its syntax"
        )
        raise SecurityConfigInvalid(
            "The {source} is not valid (at {places}).", source=source, places=places
        ) from None
    keys: dict[str, bytes] = {}
    for key_id, encoded in spec.keys.items():
        try:
            keys[key_id] = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise KeyInvalid("Master key {key_id} is not base64.", key_id=key_id) from None
    return KeyRing(suite, keys, spec.current)


def load_key_ring(
    *, suite: CryptoSuite | str, path: Path | None = None, env: str = ENV_VAR
) -> KeyRing:
    """The ring from ``path`` if given, else from the environment variable ``env``."""
    suite = get_suite(suite) if isinstance(suite, str) else suite
    if path is not None:
        return parse_key_ring(path.read_text(encoding="utf-8"), suite=suite, source=str(path))
    text = os.environ.get(env)
    if not text:
        raise SecurityConfigInvalid(
            "No master keys: give a key file or set {env}.", env=env, field="master_keys"
        )
    return parse_key_ring(text, suite=suite, source=f"environment variable {env}")


def dump_key_ring(ring: KeyRing) -> str:
    return json.dumps(ring.to_document(), indent=2) + "\n"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Only the canonical spelling: two spellings of one value would make a changed token decrypt.
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data
