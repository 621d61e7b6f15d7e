"""The international suite: AES-256-GCM, SHA-256, HMAC-SHA-256 and Ed25519."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tongban.security.crypto.suite import KeyPair, Sealed
from tongban.security.errors import DecryptionFailed, KeyInvalid


class IntlSuite:
    name = "intl"
    hash_name = "sha256"
    key_size = 32
    # 96-bit random nonces: safe for far more values than one data key ever encrypts (one).
    nonce_size = 12

    def hash(self, data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    def hmac(self, key: bytes, data: bytes) -> bytes:
        return hmac.digest(key, data, "sha256")

    def generate_key(self) -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def aead_encrypt(self, key: bytes, plaintext: bytes, *, aad: bytes) -> Sealed:
        nonce = os.urandom(self.nonce_size)
        return Sealed(nonce, self._aead(key).encrypt(nonce, plaintext, aad))

    def aead_decrypt(self, key: bytes, sealed: Sealed, *, aad: bytes) -> bytes:
        if len(sealed.nonce) != self.nonce_size:
            raise DecryptionFailed("The encrypted value is malformed.")
        try:
            return self._aead(key).decrypt(sealed.nonce, sealed.ciphertext, aad)
        except InvalidTag:
            raise DecryptionFailed("The encrypted value failed its integrity check.") from None

    def generate_key_pair(self) -> KeyPair:
        private = Ed25519PrivateKey.generate()
        return KeyPair(
            private.private_bytes_raw(),
            private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        )

    def public_key_of(self, private_key: bytes) -> bytes:
        return self._private(private_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, private_key: bytes, data: bytes) -> bytes:
        return self._private(private_key).sign(data)

    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        try:
            key = Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError:
            raise KeyInvalid("An Ed25519 public key is 32 bytes.") from None
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    @staticmethod
    def _private(private_key: bytes) -> Ed25519PrivateKey:
        try:
            return Ed25519PrivateKey.from_private_bytes(private_key)
        except ValueError:
            raise KeyInvalid("An Ed25519 private key is 32 bytes.") from None

    def _aead(self, key: bytes) -> AESGCM:
        if len(key) != self.key_size:
            raise KeyInvalid("An AES-256 key is 32 bytes.")
        return AESGCM(key)
