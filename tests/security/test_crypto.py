"""Both crypto suites: standard test vectors, round trips, tampering, and SM2 against OpenSSL."""

from __future__ import annotations

import hashlib
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmalglib import sm2 as gmalglib_sm2
from gmssl import sm2 as gmssl_sm2
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.security.crypto import CryptoSuite, Sealed, get_suite
from tongban.security.crypto import sm as sm_module
from tongban.security.errors import DecryptionFailed, KeyInvalid, SecurityConfigInvalid

SUITES = ["intl", "sm"]


@pytest.fixture(params=SUITES)
def suite(request: pytest.FixtureRequest) -> CryptoSuite:
    return get_suite(request.param)


class TestGetSuite:
    def test_gives_one_instance_per_name(self) -> None:
        assert get_suite("sm") is get_suite("sm")
        assert get_suite("intl").name == "intl"

    def test_an_unknown_suite_is_a_configuration_error(self) -> None:
        with pytest.raises(SecurityConfigInvalid, match="rot13"):
            get_suite("rot13")


class TestHash:
    def test_sm3_of_abc_is_the_standard_vector(self) -> None:
        # GB/T 32905-2016, example 1.
        expected = "66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0"
        assert get_suite("sm").hash(b"abc").hex() == expected.replace(" ", "")

    def test_sm3_of_a_64_byte_message_is_the_standard_vector(self) -> None:
        # GB/T 32905-2016, example 2: "abcd" sixteen times.
        expected = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        assert get_suite("sm").hash(b"abcd" * 16).hex() == expected

    def test_intl_hash_is_sha256(self) -> None:
        assert get_suite("intl").hash(b"abc") == hashlib.sha256(b"abc").digest()

    def test_hash_names(self) -> None:
        assert (get_suite("intl").hash_name, get_suite("sm").hash_name) == ("sha256", "sm3")


class TestHmac:
    def test_depends_on_key_and_data(self, suite: CryptoSuite) -> None:
        mac = suite.hmac(b"key", b"data")
        assert mac == suite.hmac(b"key", b"data")
        assert mac != suite.hmac(b"kez", b"data")
        assert mac != suite.hmac(b"key", b"datb")
        assert len(mac) == 32


class TestSm4:
    def test_the_block_cipher_meets_the_gb_t_32907_vector(self) -> None:
        key = bytes.fromhex("0123456789abcdeffedcba9876543210")
        encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
        ciphertext = encryptor.update(key) + encryptor.finalize()
        assert ciphertext.hex() == "681edf34d206965e86b3e94f536e4246"

    def test_sm4_gcm_decrypts_the_rfc_8998_vector(self) -> None:
        key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
        nonce = bytes.fromhex("00001234567800000000ABCD")
        aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
        plaintext = bytes.fromhex("".join(c * 16 for c in "ABCDEFEA"))
        ciphertext = bytes.fromhex(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
            "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        )
        tag = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")
        suite = get_suite("sm")
        assert suite.aead_decrypt(key, Sealed(nonce, ciphertext + tag), aad=aad) == plaintext


class TestAesGcm:
    def test_decrypts_the_gcm_specification_vector(self) -> None:
        # McGrew & Viega, test case 14: AES-256, zero key and nonce, one zero block.
        sealed = Sealed(
            bytes(12),
            bytes.fromhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"),
        )
        assert get_suite("intl").aead_decrypt(bytes(32), sealed, aad=b"") == bytes(16)


class TestAead:
    @settings(max_examples=25, deadline=None)
    @given(plaintext=st.binary(max_size=300), aad=st.binary(max_size=40))
    def test_round_trips(self, plaintext: bytes, aad: bytes) -> None:
        for name in SUITES:
            suite = get_suite(name)
            key = suite.generate_key()
            assert suite.aead_decrypt(
                key, suite.aead_encrypt(key, plaintext, aad=aad), aad=aad
            ) == (plaintext)

    def test_keys_and_nonces_have_the_suites_sizes(self, suite: CryptoSuite) -> None:
        key = suite.generate_key()
        assert len(key) == suite.key_size
        assert len(suite.aead_encrypt(key, b"x", aad=b"").nonce) == suite.nonce_size

    def test_each_encryption_takes_a_fresh_nonce(self, suite: CryptoSuite) -> None:
        key = suite.generate_key()
        nonces = {suite.aead_encrypt(key, b"same", aad=b"").nonce for _ in range(50)}
        assert len(nonces) == 50

    def test_a_changed_ciphertext_bit_is_detected(self, suite: CryptoSuite) -> None:
        key = suite.generate_key()
        sealed = suite.aead_encrypt(key, b"110101199003071234", aad=b"a")
        for position in range(len(sealed.ciphertext)):
            changed = bytearray(sealed.ciphertext)
            changed[position] ^= 0x01
            with pytest.raises(DecryptionFailed):
                suite.aead_decrypt(key, Sealed(sealed.nonce, bytes(changed)), aad=b"a")

    def test_a_changed_nonce_is_detected(self, suite: CryptoSuite) -> None:
        key = suite.generate_key()
        sealed = suite.aead_encrypt(key, b"secret", aad=b"a")
        nonce = bytes([sealed.nonce[0] ^ 0x80]) + sealed.nonce[1:]
        with pytest.raises(DecryptionFailed):
            suite.aead_decrypt(key, Sealed(nonce, sealed.ciphertext), aad=b"a")

    def test_other_associated_data_is_detected(self, suite: CryptoSuite) -> None:
        key = suite.generate_key()
        sealed = suite.aead_encrypt(key, b"secret", aad=b"applications/1/diagnosis")
        with pytest.raises(DecryptionFailed):
            suite.aead_decrypt(key, sealed, aad=b"applications/2/diagnosis")

    def test_another_key_is_detected(self, suite: CryptoSuite) -> None:
        sealed = suite.aead_encrypt(suite.generate_key(), b"secret", aad=b"")
        with pytest.raises(DecryptionFailed):
            suite.aead_decrypt(suite.generate_key(), sealed, aad=b"")

    def test_a_truncated_value_is_malformed_not_a_crash(self, suite: CryptoSuite) -> None:
        key = suite.generate_key()
        with pytest.raises(DecryptionFailed):
            suite.aead_decrypt(key, Sealed(bytes(suite.nonce_size), b"short"), aad=b"")
        with pytest.raises(DecryptionFailed):
            suite.aead_decrypt(key, Sealed(b"\0", bytes(40)), aad=b"")

    def test_a_key_of_the_wrong_size_is_refused(self, suite: CryptoSuite) -> None:
        with pytest.raises(KeyInvalid):
            suite.aead_encrypt(bytes(suite.key_size + 1), b"x", aad=b"")


class TestSignatures:
    def test_sign_and_verify(self, suite: CryptoSuite) -> None:
        pair = suite.generate_key_pair()
        signature = suite.sign(pair.private, "一网通办".encode())
        assert suite.verify(pair.public, "一网通办".encode(), signature)

    def test_another_message_does_not_verify(self, suite: CryptoSuite) -> None:
        pair = suite.generate_key_pair()
        signature = suite.sign(pair.private, b"decision: approved")
        assert not suite.verify(pair.public, b"decision: denied", signature)

    def test_another_key_does_not_verify(self, suite: CryptoSuite) -> None:
        signature = suite.sign(suite.generate_key_pair().private, b"message")
        assert not suite.verify(suite.generate_key_pair().public, b"message", signature)

    def test_a_changed_signature_does_not_verify(self, suite: CryptoSuite) -> None:
        pair = suite.generate_key_pair()
        signature = suite.sign(pair.private, b"message")
        for position in (0, 31, 32, 63):
            changed = bytearray(signature)
            changed[position] ^= 0x01
            assert not suite.verify(pair.public, b"message", bytes(changed))
        assert not suite.verify(pair.public, b"message", signature[:-1])
        assert not suite.verify(pair.public, b"message", b"")

    def test_the_private_key_is_not_in_the_repr(self, suite: CryptoSuite) -> None:
        pair = suite.generate_key_pair()
        assert pair.private.hex() not in repr(pair)
        assert str(pair.private) not in repr(pair)

    def test_ed25519_meets_rfc_8032_test_1(self) -> None:
        suite = get_suite("intl")
        secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        expected = (
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
            "39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
        assert suite.sign(secret, b"").hex() == expected
        assert suite.verify(public, b"", bytes.fromhex(expected))

    def test_malformed_keys_are_refused(self, suite: CryptoSuite) -> None:
        with pytest.raises(KeyInvalid):
            suite.sign(b"short", b"m")
        with pytest.raises(KeyInvalid):
            suite.verify(b"short", b"m", bytes(64))


N = sm_module.N
P = sm_module.P


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Affine point addition on the SM2 curve (distinct x), for building test keys."""
    slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (slope * slope - a[0] - b[0]) % P
    return x, (slope * (a[0] - x) - a[1]) % P


def _point(public: bytes) -> tuple[int, int]:
    return int.from_bytes(public[1:33], "big"), int.from_bytes(public[33:], "big")


def _encode(point: tuple[int, int]) -> bytes:
    return b"\x04" + point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")


class TestSm2:
    def test_two_signatures_of_one_message_differ_and_both_verify(self) -> None:
        suite = get_suite("sm")
        pair = suite.generate_key_pair()
        first, second = suite.sign(pair.private, b"m"), suite.sign(pair.private, b"m")
        assert first != second
        assert suite.verify(pair.public, b"m", first)
        assert suite.verify(pair.public, b"m", second)

    def test_the_secret_k_comes_from_secrets(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # k is drawn through `secrets`, not gmalglib's own generator (a build of it may use
        # rand()). With k known, the private key follows from one signature: d = (k-s)/(s+r).
        # gmalglib reads the 32 random bytes into its little-endian limbs.
        suite = get_suite("sm")
        pair = suite.generate_key_pair()
        k = secrets.randbelow(N - 1) + 1
        drawn: list[int] = []

        def known(length: int) -> bytes:
            drawn.append(length)
            return k.to_bytes(32, "little")

        monkeypatch.setattr("secrets.token_bytes", known)
        signature = suite.sign(pair.private, b"m")
        assert drawn == [32]
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        assert (k - s) * pow(s + r, -1, N) % N == int.from_bytes(pair.private, "big")

    def test_r_or_s_out_of_range_does_not_verify(self) -> None:
        suite = get_suite("sm")
        pair = suite.generate_key_pair()
        signature = suite.sign(pair.private, b"m")
        r, s = signature[:32], signature[32:]
        for bad in (bytes(32) + s, r + bytes(32), N.to_bytes(32, "big") + s, r + b"\xff" * 32):
            assert not suite.verify(pair.public, b"m", bad)

    def test_r_and_s_are_range_checked_before_any_curve_arithmetic(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Our own range check refuses (r, s) outside [1, n-1] whatever the library says.
        class Accepting:
            def verify_digest(self, digest: bytes, signature: bytes) -> bool:
                return True

        monkeypatch.setattr(sm_module, "_verifier", lambda public_key: Accepting())
        suite = get_suite("sm")
        pair = suite.generate_key_pair()
        one = (1).to_bytes(32, "big")
        assert suite.verify(pair.public, b"m", one + one)
        for bad in (bytes(32) + one, one + bytes(32), N.to_bytes(32, "big") + one):
            assert not suite.verify(pair.public, b"m", bad)
        assert not suite.verify(pair.public, b"m", one + N.to_bytes(32, "big"))

    def test_a_signature_summing_to_the_point_at_infinity_does_not_verify(self) -> None:
        # With r = e and s = -r·d/(1+d), s·G + (r+s)·P is the point at infinity. gmalglib takes
        # its x as 0 and so finds r = e + 0: accepted. gmssl and OpenSSL refuse it, and so do we.
        suite = get_suite("sm")
        pair = suite.generate_key_pair()
        d = int.from_bytes(pair.private, "big")
        r = int.from_bytes(sm_module.message_digest(pair.public, b"m"), "big") % N
        s = -r * d * pow(1 + d, -1, N) % N
        forged = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        assert gmalglib_sm2.SM2(pk=pair.public).verify(b"m", forged)  # the library alone accepts it
        assert not suite.verify(pair.public, b"m", forged)

    def test_a_public_key_off_the_curve_is_refused(self) -> None:
        suite = get_suite("sm")
        pair = suite.generate_key_pair()
        x, y = _point(pair.public)
        with pytest.raises(KeyInvalid, match="curve"):
            suite.verify(_encode((x, (y + 1) % P)), b"m", bytes(64))

    def test_a_public_key_whose_x_starts_with_04_works(self) -> None:
        # gmssl's constructor stripped a leading "04" with lstrip, eating such a key's digits.
        suite = get_suite("sm")
        pair = suite.generate_key_pair()
        d = int.from_bytes(pair.private, "big")
        gen = (sm_module.GX, sm_module.GY)
        point = _point(pair.public)
        for _ in range(20000):
            if point[0] >> 248 == 0x04:
                break
            point, d = _add(point, gen), d + 1
        else:
            pytest.fail("no key with x starting 04 found")
        private = d.to_bytes(32, "big")
        assert get_suite("sm").public_key_of(private) == _encode(point)
        assert suite.verify(_encode(point), b"m", suite.sign(private, b"m"))

    def test_the_z_value_uses_the_default_user_id(self) -> None:
        pair = get_suite("sm").generate_key_pair()
        assert sm_module.z_value(pair.public) == sm_module.z_value(pair.public, b"1234567812345678")
        assert sm_module.z_value(pair.public) != sm_module.z_value(pair.public, b"ALICE123")


def _gmssl(pair_private: bytes, public: bytes) -> gmssl_sm2.CryptSM2:
    engine = gmssl_sm2.CryptSM2(private_key=pair_private.hex(), public_key="")
    engine.public_key = public[1:].hex()  # set directly: the constructor's lstrip("04") bug
    return engine


def _gmssl_sign(private: bytes, public: bytes, message: bytes) -> bytes:
    """gmssl's whole SM3-with-SM2 path (its own Z_A), with k from `secrets`."""
    while True:
        signature = _gmssl(private, public).sign_with_sm3(
            message, f"{secrets.randbelow(N - 1) + 1:064x}"
        )
        if signature is not None:  # None for the rare k that gives r = 0 or s = 0
            return bytes.fromhex(signature)


def _gmssl_verifies(public: bytes, message: bytes, signature: bytes) -> bool:
    return bool(_gmssl(b"", public).verify_with_sm3(signature.hex(), message))


class TestSm2AgainstGmssl:
    """gmssl (pure Python) did the SM2 arithmetic before gmalglib, and what it made is stored:
    federation node keys, logged message signatures, licence seals. Both must agree, both ways:
    same curve, same Z_A (default user id), same ``r || s`` encoding."""

    # Made by the gmssl-based suite; d = SM3("tongban sm2 reference key").
    PRIVATE = bytes.fromhex("ac52ec94c86f43b1615f4c255edcba669d669251c75fae108b19aa1e4c0b67cf")
    PUBLIC = bytes.fromhex(
        "04963aaf05be66076bf5abd2ff3ebd2767f3626e06f8812b16f5368979de4ba754c4313a6dfc7bb20724"
        "67f6ccba4cb929461f0d0db19b50fd1337acfb2d7715cf"
    )
    MESSAGE = "浙江省 -> 国家节点: 跨省通办".encode()
    SIGNATURE = bytes.fromhex(
        "7e10aa13da643c6c9a86f4c3dd177fe7dccf850f6c23acbd81381c1f327a72d7859534cc02ef419b9896"
        "266175c273dc33ff66f1a267d369add7a307a433c034"
    )

    def test_a_key_and_signature_stored_before_still_work(self) -> None:
        suite = get_suite("sm")
        assert sm_module.sm3(b"tongban sm2 reference key") == self.PRIVATE
        assert suite.public_key_of(self.PRIVATE) == self.PUBLIC
        assert suite.verify(self.PUBLIC, self.MESSAGE, self.SIGNATURE)
        assert not suite.verify(self.PUBLIC, self.MESSAGE + b".", self.SIGNATURE)
        assert _gmssl_verifies(self.PUBLIC, self.MESSAGE, suite.sign(self.PRIVATE, self.MESSAGE))

    def test_gmssl_signs_and_we_verify(self) -> None:
        suite = get_suite("sm")
        for size in range(0, 400, 20):
            pair = suite.generate_key_pair()
            message = secrets.token_bytes(size)
            signature = _gmssl_sign(pair.private, pair.public, message)
            assert suite.verify(pair.public, message, signature)
            assert not suite.verify(pair.public, message + b"x", signature)

    def test_we_sign_and_gmssl_verifies(self) -> None:
        suite = get_suite("sm")
        for size in range(0, 400, 20):
            pair = suite.generate_key_pair()
            message = secrets.token_bytes(size)
            signature = suite.sign(pair.private, message)
            assert len(signature) == 64
            assert _gmssl_verifies(pair.public, message, signature)
            assert not _gmssl_verifies(pair.public, message + b"x", signature)

    def test_public_keys_agree(self) -> None:
        suite = get_suite("sm")
        for _ in range(10):
            pair = suite.generate_key_pair()
            d = int.from_bytes(pair.private, "big")
            point = _gmssl(pair.private, pair.public)._kg(d, gmssl_sm2.default_ecc_table["g"])
            assert pair.public == b"\x04" + bytes.fromhex(point)

    def test_the_curve_is_the_one_both_libraries_use(self) -> None:
        table = gmssl_sm2.default_ecc_table
        assert tuple(int(table[k], 16) for k in "pabn") == (P, sm_module.A, sm_module.B, N)
        assert (int(table["g"][:64], 16), int(table["g"][64:], 16)) == (sm_module.GX, sm_module.GY)
        gm = (gmalglib_sm2.SM2_PARAMS_P, gmalglib_sm2.SM2_PARAMS_A, gmalglib_sm2.SM2_PARAMS_B)
        assert tuple(int.from_bytes(v, "big") for v in gm) == (P, sm_module.A, sm_module.B)
        assert int.from_bytes(gmalglib_sm2.SM2_PARAMS_N, "big") == N
        assert gmalglib_sm2.SM2_DEFAULT_UID == sm_module.DEFAULT_USER_ID


SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")


def _openssl_has_sm2() -> bool:
    openssl = shutil.which("openssl")
    if openssl is None:
        return False
    curves = subprocess.run(
        [openssl, "ecparam", "-list_curves"], capture_output=True, text=True, check=False
    )
    return "SM2" in curves.stdout


def _der_signature(raw: bytes) -> bytes:
    def integer(value: bytes) -> bytes:
        value = value.lstrip(b"\0") or b"\0"
        if value[0] & 0x80:
            value = b"\0" + value
        return b"\x02" + bytes([len(value)]) + value

    body = integer(raw[:32]) + integer(raw[32:])
    return b"\x30" + bytes([len(body)]) + body


def _raw_signature(der: bytes) -> bytes:
    assert der[0] == 0x30
    position, out = 2, b""
    for _ in range(2):
        assert der[position] == 0x02
        length = der[position + 1]
        value = der[position + 2 : position + 2 + length]
        out += int.from_bytes(value, "big").to_bytes(32, "big")
        position += 2 + length
    return out


@pytest.mark.skipif(not _openssl_has_sm2(), reason="the openssl command has no SM2")
class TestSm2AgainstOpenssl:
    """OpenSSL's SM2 is an independent implementation of GB/T 32918: agreeing with it in both
    directions checks the Z value (default user id) and the signature arithmetic."""

    DISTID = "distid:1234567812345678"

    def test_openssl_verifies_our_signature(self, tmp_path: Path) -> None:
        suite = get_suite("sm")
        pair = suite.generate_key_pair()
        message = "不见面审批".encode()
        (tmp_path / "pub.der").write_bytes(SM2_SPKI_PREFIX + pair.public)
        (tmp_path / "msg").write_bytes(message)
        (tmp_path / "sig").write_bytes(_der_signature(suite.sign(pair.private, message)))
        result = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER"]
            + ["-inkey", "pub.der", "-rawin", "-digest", "sm3", "-pkeyopt", self.DISTID]
            + ["-in", "msg", "-sigfile", "sig"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Verified Successfully" in result.stdout

    def test_we_verify_openssls_signature(self, tmp_path: Path) -> None:
        def openssl(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

        (tmp_path / "msg").write_bytes(b"message digest")
        openssl("genpkey", "-algorithm", "SM2", "-out", "key.pem")
        openssl("pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der")
        openssl(
            *("pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-digest", "sm3"),
            *("-pkeyopt", self.DISTID, "-in", "msg", "-out", "sig"),
        )
        public = (tmp_path / "pub.der").read_bytes()[-65:]
        signature = _raw_signature((tmp_path / "sig").read_bytes())
        suite = get_suite("sm")
        assert suite.verify(public, b"message digest", signature)
        assert not suite.verify(public, b"message digesT", signature)


class TestPublicKeyOf:
    def test_matches_the_generated_pair(self, suite: CryptoSuite) -> None:
        pair = suite.generate_key_pair()
        assert suite.public_key_of(pair.private) == pair.public
