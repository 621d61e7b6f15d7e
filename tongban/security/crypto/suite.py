"""What a crypto suite offers. Two implement it: ``intl`` and ``sm`` (the Chinese national one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


@dataclass(frozen=True)
class KeyPair:
    """A signing key pair as raw bytes; the private half never shows in a repr or a log."""

    private: bytes = field(repr=False)
    public: bytes


class Sealed(NamedTuple):
    """An AEAD result: the nonce the suite chose and the ciphertext with its tag."""

    nonce: bytes
    ciphertext: bytes


class CryptoSuite(Protocol):
    # Short and stable: it is written into every encrypted token.
    name: str
    hash_name: str
    # AEAD key and nonce sizes in bytes.
    key_size: int
    nonce_size: int

    def hash(self, data: bytes) -> bytes: ...

    def hmac(self, key: bytes, data: bytes) -> bytes: ...

    def generate_key(self) -> bytes:
        """A fresh random AEAD key."""
        ...

    def aead_encrypt(self, key: bytes, plaintext: bytes, *, aad: bytes) -> Sealed:
        """Encrypt under a fresh random nonce (callers never choose one, so never reuse one)."""
        ...

    def aead_decrypt(self, key: bytes, sealed: Sealed, *, aad: bytes) -> bytes:
        """The plaintext, or ``DecryptionFailed`` if anything was changed or the key is wrong."""
        ...

    def generate_key_pair(self) -> KeyPair: ...

    def public_key_of(self, private_key: bytes) -> bytes: ...

    def sign(self, private_key: bytes, data: bytes) -> bytes: ...

    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is valid; a malformed signature is simply not valid."""
        ...
