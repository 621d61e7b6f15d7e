"""The Chinese national (商用密码) suite: SM4-GCM, SM3, HMAC-SM3 and SM2 signatures.

SM3 and SM4 come from ``cryptography`` (OpenSSL underneath; SM4-GCM as in RFC 8998). OpenSSL's
SM2 is not reachable through ``cryptography``, so SM2 point arithmetic comes from ``gmalglib``
(C, no dependencies). This module keeps the parts of SM2 that decide what is signed and what is
accepted, so they do not depend on the library:

- the message digest ``e = SM3(Z_A || M)`` with ``Z_A`` per GB/T 32918.2 (default user id
  ``1234567812345678``), computed with ``cryptography``'s SM3; gmalglib signs and verifies
  that digest;
- the per-signature secret ``k`` is drawn through ``secrets`` (handed to gmalglib as its random
  source, so a build of it with a weak default generator cannot weaken a signature);
- range checks on ``r`` and ``s`` and an on-curve check of public keys before verifying, and the
  refusal of ``s·G + t·P`` at infinity, which gmalglib takes as ``x = 0``.

Signatures are the 64 bytes ``r || s``, as they were when gmssl (pure Python) did the arithmetic:
keys, seals and logged signatures made then still verify.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import AEADEncryptionContext, Cipher, algorithms, modes
from gmalglib.sm2 import SM2

from tongban.security.crypto.suite import KeyPair, Sealed
from tongban.security.errors import DecryptionFailed, KeyInvalid, SecurityConfigInvalid

# The recommended curve of GB/T 32918.5.
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

DEFAULT_USER_ID = b"1234567812345678"
_TAG_SIZE = 16


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def z_value(public_key: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """``Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A)`` (GB/T 32918.2 §5.5)."""
    x, y = _decode_point(public_key)
    entl = (len(user_id) * 8).to_bytes(2, "big")
    parts = (A, B, GX, GY, x, y)
    return sm3(entl + user_id + b"".join(v.to_bytes(32, "big") for v in parts))


def message_digest(public_key: bytes, data: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """``e = SM3(Z_A || M)``: what an SM2 signature actually signs."""
    return sm3(z_value(public_key, user_id) + data)


class SmSuite:
    name = "sm"
    hash_name = "sm3"
    key_size = 16
    nonce_size = 12

    def __init__(self) -> None:
        # Fail at start-up, not at the first write, if this build's OpenSSL lacks SM4-GCM.
        try:
            self._encryptor(bytes(16), bytes(12))
        except UnsupportedAlgorithm as exc:
            raise SecurityConfigInvalid(
                "This build of the cryptography package cannot do SM4-GCM."
            ) from exc

    def hash(self, data: bytes) -> bytes:
        return sm3(data)

    def hmac(self, key: bytes, data: bytes) -> bytes:
        mac = crypto_hmac.HMAC(key, hashes.SM3())
        mac.update(data)
        return mac.finalize()

    def generate_key(self) -> bytes:
        return os.urandom(self.key_size)

    def aead_encrypt(self, key: bytes, plaintext: bytes, *, aad: bytes) -> Sealed:
        self._check_key(key)
        nonce = os.urandom(self.nonce_size)
        encryptor = self._encryptor(key, nonce)
        encryptor.authenticate_additional_data(aad)
        ciphertext = encryptor.update(plaintext) + encryptor.finalize()
        return Sealed(nonce, ciphertext + encryptor.tag)

    def aead_decrypt(self, key: bytes, sealed: Sealed, *, aad: bytes) -> bytes:
        self._check_key(key)
        nonce, data = sealed
        if len(nonce) != self.nonce_size or len(data) < _TAG_SIZE:
            raise DecryptionFailed("The encrypted value is malformed.")
        ciphertext, tag = data[:-_TAG_SIZE], data[-_TAG_SIZE:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        try:
            return decryptor.update(ciphertext) + decryptor.finalize()
        except InvalidTag:
            raise DecryptionFailed("The encrypted value failed its integrity check.") from None

    def generate_key_pair(self) -> KeyPair:
        # GB/T 32918.1 §6.1: d in [1, n-2].
        private = (secrets.randbelow(N - 2) + 1).to_bytes(32, "big")
        return KeyPair(private, _public_key(private))

    def public_key_of(self, private_key: bytes) -> bytes:
        return _public_key(private_key)

    def sign(self, private_key: bytes, data: bytes, *, user_id: bytes = DEFAULT_USER_ID) -> bytes:
        """The 64-byte ``r || s`` signature of ``data`` (Z_A included, GB/T 32918.2 §6)."""
        e = message_digest(_public_key(private_key), data, user_id)
        return bytes(_signer(private_key).sign_digest(e))

    def verify(
        self,
        public_key: bytes,
        data: bytes,
        signature: bytes,
        *,
        user_id: bytes = DEFAULT_USER_ID,
    ) -> bool:
        _decode_point(public_key)  # raises KeyInvalid for a key that is not on the curve
        if len(signature) != 64:
            return False
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (1 <= r < N and 1 <= s < N):
            return False
        e = message_digest(public_key, data, user_id)
        if r == int.from_bytes(e, "big") % N:
            # gmalglib reads s·G + t·P at infinity as x = 0, which makes r = e pass; a real
            # signature has r = e only if x(kG) ≡ 0 mod n, which no k gives in practice.
            return False
        return bool(_verifier(public_key).verify_digest(e, signature))

    def _check_key(self, key: bytes) -> None:
        if len(key) != self.key_size:
            raise KeyInvalid("An SM4 key is 16 bytes.")

    @staticmethod
    def _encryptor(key: bytes, nonce: bytes) -> AEADEncryptionContext:
        return Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()


def _private_scalar(private_key: bytes) -> int:
    d = int.from_bytes(private_key, "big")
    if len(private_key) != 32 or not 1 <= d <= N - 2:
        raise KeyInvalid("An SM2 private key is 32 bytes, a number from 1 to n-2.")
    return d


@lru_cache(maxsize=16)
def _public_key(private_key: bytes) -> bytes:
    # Signing needs the public key for Z_A; a node signs with one key, so remember it.
    _private_scalar(private_key)
    return bytes(SM2.get_pk(private_key))


@lru_cache(maxsize=16)
def _signer(private_key: bytes) -> SM2:
    # Building one computes d·G and 1/(1+d); signing only reads them, so threads may share it.
    _private_scalar(private_key)
    return SM2(private_key, rnd_fn=_random_bytes)


def _verifier(public_key: bytes) -> SM2:
    return SM2(pk=public_key)


def _random_bytes(length: int) -> bytes:
    # gmalglib's random source for k; looked up at each call so a test can watch it.
    return secrets.token_bytes(length)


def _decode_point(public_key: bytes) -> tuple[int, int]:
    """An uncompressed SM2 public key (``04 || x || y``) that lies on the curve."""
    if len(public_key) != 65 or public_key[0] != 4:
        raise KeyInvalid("An SM2 public key is 65 bytes: 04, x and y.")
    x = int.from_bytes(public_key[1:33], "big")
    y = int.from_bytes(public_key[33:], "big")
    if not (x < P and y < P and (y * y - (x * x * x + A * x + B)) % P == 0):
        raise KeyInvalid("The SM2 public key is not a point on the curve.")
    return x, y
