"""Envelope encryption: tokens, rotation, rewrapping, tampering and the key file."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.config import get_settings
from tongban.security import deployment
from tongban.security.crypto import get_suite
from tongban.security.errors import DecryptionFailed, KeyInvalid, SecurityConfigInvalid
from tongban.security.keys import (
    ENV_VAR,
    KeyRing,
    dump_key_ring,
    load_key_ring,
    new_key_ring,
    parse_key_ring,
)

AAD = b"applications/TB20261126000001X/diagnosis"


@pytest.fixture(params=["intl", "sm"])
def ring(request: pytest.FixtureRequest) -> KeyRing:
    return new_key_ring(get_suite(request.param), key_id="k1")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _with_part(token: str, index: int, value: str) -> str:
    parts = token.split(".")
    parts[index] = value
    return ".".join(parts)


def _flip(token: str, index: int, byte: int = 0) -> str:
    """The token with one bit changed in the bytes of part ``index`` (3, 4 or 5)."""
    data = bytearray(_unb64(token.split(".")[index]))
    data[byte % len(data)] ^= 0x01
    return _with_part(token, index, _b64(bytes(data)))


class TestEncryptField:
    def test_round_trips_text_and_bytes(self, ring: KeyRing) -> None:
        assert ring.decrypt_text(ring.encrypt_field("糖尿病", aad=AAD), aad=AAD) == "糖尿病"
        assert ring.decrypt_field(ring.encrypt_field(b"\0\1\2", aad=AAD), aad=AAD) == b"\0\1\2"
        assert ring.decrypt_field(ring.encrypt_field(b"", aad=AAD), aad=AAD) == b""

    def test_the_token_names_version_suite_and_master_key(self, ring: KeyRing) -> None:
        token = ring.encrypt_field("x", aad=AAD)
        version, suite, key_id, *rest = token.split(".")
        assert (version, suite, key_id) == ("tb1", ring.suite.name, "k1")
        assert len(rest) == 3
        assert ring.key_id_of(token) == "k1"

    def test_the_same_value_twice_gives_two_unrelated_tokens(self, ring: KeyRing) -> None:
        first = ring.encrypt_field("110101199003071234", aad=AAD).split(".")
        second = ring.encrypt_field("110101199003071234", aad=AAD).split(".")
        # A fresh data key and nonce each time: no part repeats, nothing is joinable.
        assert all(a != b for a, b in zip(first[3:], second[3:], strict=True))

    def test_the_token_holds_nothing_of_the_plaintext(self, ring: KeyRing) -> None:
        token = ring.encrypt_field("110101199003071234", aad=AAD)
        assert "1101011990" not in token
        assert _b64(b"110101199003071234") not in token

    @settings(max_examples=20, deadline=None)
    @given(plaintext=st.text(max_size=200), aad=st.binary(max_size=40))
    def test_round_trips_any_text(self, plaintext: str, aad: bytes) -> None:
        for name in ("intl", "sm"):
            ring = new_key_ring(get_suite(name), key_id="k1")
            assert ring.decrypt_text(ring.encrypt_field(plaintext, aad=aad), aad=aad) == plaintext


class TestTampering:
    @pytest.mark.parametrize(
        ("index", "part"), [(3, "wrapped key"), (4, "nonce"), (5, "ciphertext")]
    )
    def test_a_changed_bit_anywhere_in_a_part_is_detected(
        self, ring: KeyRing, index: int, part: str
    ) -> None:
        token = ring.encrypt_field("糖尿病", aad=AAD)
        size = len(_unb64(token.split(".")[index]))
        for byte in range(size):
            with pytest.raises(DecryptionFailed):
                ring.decrypt_field(_flip(token, index, byte), aad=AAD)

    def test_other_associated_data_is_detected(self, ring: KeyRing) -> None:
        token = ring.encrypt_field("糖尿病", aad=AAD)
        with pytest.raises(DecryptionFailed, match="integrity"):
            ring.decrypt_field(token, aad=b"applications/TB20261126000002X/diagnosis")

    def test_a_wrapped_key_moved_from_another_token_is_detected(self, ring: KeyRing) -> None:
        first = ring.encrypt_field("糖尿病", aad=AAD)
        second = ring.encrypt_field("高血压", aad=AAD)
        swapped = _with_part(first, 3, second.split(".")[3])
        with pytest.raises(DecryptionFailed):
            ring.decrypt_field(swapped, aad=AAD)

    def test_a_changed_key_id_is_detected(self, ring: KeyRing) -> None:
        rotated = ring.rotate(key_id="k2")
        token = rotated.encrypt_field("糖尿病", aad=AAD)
        # Claiming the other (existing) key: the wrapped key was bound to k2.
        with pytest.raises(DecryptionFailed):
            rotated.decrypt_field(_with_part(token, 2, "k1"), aad=AAD)
        with pytest.raises(DecryptionFailed, match="not in the key ring"):
            rotated.decrypt_field(_with_part(token, 2, "k9"), aad=AAD)

    def test_a_changed_suite_or_version_is_detected(self, ring: KeyRing) -> None:
        token = ring.encrypt_field("糖尿病", aad=AAD)
        other = "sm" if ring.suite.name == "intl" else "intl"
        with pytest.raises(DecryptionFailed, match="suite"):
            ring.decrypt_field(_with_part(token, 1, other), aad=AAD)
        with pytest.raises(DecryptionFailed, match="malformed"):
            ring.decrypt_field(_with_part(token, 0, "tb2"), aad=AAD)

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda t: t[:-1],
            lambda t: t + ".x",
            lambda t: t.replace(".", "..", 1),
            lambda t: _with_part(t, 5, "!!!"),
            lambda t: _with_part(t, 4, ""),
            lambda t: _with_part(t, 3, "AA"),
            lambda t: "",
        ],
    )
    def test_a_mangled_token_is_refused_cleanly(self, ring: KeyRing, mangle: object) -> None:
        token = ring.encrypt_field("糖尿病", aad=AAD)
        with pytest.raises(DecryptionFailed):
            ring.decrypt_field(mangle(token), aad=AAD)  # type: ignore[operator]

    def test_a_non_canonical_base64_spelling_is_refused(self, ring: KeyRing) -> None:
        # "x" gives a 17-byte ciphertext: its last base64 character carries two unused bits.
        # Setting one spells the same bytes differently; the token must still count as changed.
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        token = ring.encrypt_field("x", aad=AAD)
        ciphertext = token.split(".")[5]
        respelled = ciphertext[:-1] + alphabet[alphabet.index(ciphertext[-1]) ^ 0x01]
        assert _unb64(respelled) == _unb64(ciphertext)
        with pytest.raises(DecryptionFailed, match="malformed"):
            ring.decrypt_field(_with_part(token, 5, respelled), aad=AAD)

    def test_the_error_says_nothing_of_the_value(self, ring: KeyRing) -> None:
        token = ring.encrypt_field("糖尿病", aad=AAD)
        with pytest.raises(DecryptionFailed) as caught:
            ring.decrypt_field(_flip(token, 5), aad=AAD)
        assert "糖尿病" not in str(caught.value)
        assert caught.value.status_code == 500


class TestRotate:
    def test_old_tokens_stay_readable_after_each_rotation(self, ring: KeyRing) -> None:
        written: list[tuple[str, str]] = []
        for round_ in range(4):
            for i in range(5):
                value = f"value {round_}-{i}"
                written.append((value, ring.encrypt_field(value, aad=AAD)))
            ring = ring.rotate()
        assert len(ring.keys) == 5
        for value, token in written:
            assert ring.decrypt_text(token, aad=AAD) == value

    def test_new_tokens_use_the_new_key(self, ring: KeyRing) -> None:
        rotated = ring.rotate(key_id="k2")
        assert rotated.current == "k2"
        assert rotated.key_id_of(rotated.encrypt_field("x", aad=AAD)) == "k2"
        assert set(rotated.keys) == {"k1", "k2"}

    def test_leaves_the_old_ring_as_it_was(self, ring: KeyRing) -> None:
        ring.rotate(key_id="k2")
        assert set(ring.keys) == {"k1"}
        assert ring.current == "k1"

    def test_two_step_rotation_for_several_servers(self, ring: KeyRing) -> None:
        # Step 1: every server gets the new key, still writing under the old one.
        step_one = ring.add_key(key_id="k2")
        assert step_one.current == "k1"
        # Step 2: one server already writes under k2; a server still on step 1 reads it.
        step_two = step_one.with_current("k2")
        token = step_two.encrypt_field("x", aad=AAD)
        assert step_one.decrypt_text(token, aad=AAD) == "x"
        with pytest.raises(SecurityConfigInvalid):
            step_one.with_current("k9")

    def test_a_taken_key_id_is_refused(self, ring: KeyRing) -> None:
        with pytest.raises(SecurityConfigInvalid):
            ring.rotate(key_id="k1")


class TestRewrap:
    def test_moves_a_token_to_the_current_key_without_touching_the_ciphertext(
        self, ring: KeyRing
    ) -> None:
        old = ring.encrypt_field("糖尿病", aad=AAD)
        rotated = ring.rotate(key_id="k2")
        new = rotated.rewrap(old)
        old_parts, new_parts = old.split("."), new.split(".")
        assert new_parts[2] == "k2"
        assert new_parts[3] != old_parts[3]
        assert new_parts[4:] == old_parts[4:]
        assert rotated.decrypt_text(new, aad=AAD) == "糖尿病"

    def test_after_rewrapping_the_old_key_can_be_retired(self, ring: KeyRing) -> None:
        tokens = [ring.encrypt_field(f"v{i}", aad=AAD) for i in range(5)]
        rotated = ring.rotate(key_id="k2")
        rewrapped = [rotated.rewrap(t) for t in tokens]
        retired = KeyRing(rotated.suite, {"k2": rotated.keys["k2"]}, "k2")
        assert [retired.decrypt_text(t, aad=AAD) for t in rewrapped] == [f"v{i}" for i in range(5)]
        with pytest.raises(DecryptionFailed, match="not in the key ring"):
            retired.decrypt_field(tokens[0], aad=AAD)

    def test_a_token_already_under_the_current_key_is_left_as_it_is(self, ring: KeyRing) -> None:
        token = ring.encrypt_field("x", aad=AAD)
        assert ring.rewrap(token) == token

    def test_a_tampered_token_is_not_rewrapped(self, ring: KeyRing) -> None:
        token = ring.encrypt_field("x", aad=AAD)
        with pytest.raises(DecryptionFailed):
            ring.rotate(key_id="k2").rewrap(_flip(token, 3))


class TestKeyFile:
    def test_round_trips_through_json(self, ring: KeyRing, tmp_path: Path) -> None:
        token = ring.encrypt_field("x", aad=AAD)
        path = tmp_path / "keys.json"
        path.write_text(dump_key_ring(ring.rotate(key_id="k2")), encoding="utf-8")
        loaded = load_key_ring(suite=ring.suite.name, path=path)
        assert loaded.current == "k2"
        assert loaded.decrypt_text(token, aad=AAD) == "x"

    def test_reads_yaml(self, tmp_path: Path) -> None:
        key = base64.b64encode(bytes(range(32))).decode()
        path = tmp_path / "keys.yaml"
        path.write_text(f"current: a\nkeys:\n  a: {key}\n", encoding="utf-8")
        ring = load_key_ring(suite="intl", path=path)
        assert ring.keys["a"] == bytes(range(32))

    def test_reads_the_environment_variable(
        self, ring: KeyRing, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(ENV_VAR, json.dumps(ring.to_document()))
        token = ring.encrypt_field("x", aad=AAD)
        assert load_key_ring(suite=ring.suite).decrypt_text(token, aad=AAD) == "x"

    def test_no_file_and_no_variable_is_a_configuration_error(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv(ENV_VAR, raising=False)
        with pytest.raises(SecurityConfigInvalid, match=ENV_VAR):
            load_key_ring(suite="intl")

    def test_a_key_of_the_wrong_length_for_the_suite_is_refused(self) -> None:
        sm_key = base64.b64encode(bytes(16)).decode()
        document = json.dumps({"current": "a", "keys": {"a": sm_key}})
        assert parse_key_ring(document, suite=get_suite("sm")).current == "a"
        with pytest.raises(KeyInvalid, match="needs 32"):
            parse_key_ring(document, suite=get_suite("intl"))

    @pytest.mark.parametrize(
        "document",
        [
            {"current": "b", "keys": {"a": "QUFB"}},
            {"current": "a", "keys": {}},
            {"current": "a.b", "keys": {"a.b": "QUFB"}},
            {"current": "a", "keys": {"a": "QUFB"}, "extra": 1},
            {"keys": {"a": "QUFB"}},
        ],
    )
    def test_a_bad_document_is_a_configuration_error(self, document: object) -> None:
        with pytest.raises(SecurityConfigInvalid):
            parse_key_ring(json.dumps(document), suite=get_suite("intl"))

    def test_a_key_that_is_not_base64_is_refused(self) -> None:
        with pytest.raises(KeyInvalid, match="base64"):
            parse_key_ring('{"current": "a", "keys": {"a": "not base64!"}}', suite=get_suite("sm"))

    def test_errors_never_quote_the_keys(self) -> None:
        secret = base64.b64encode(b"S" * 32).decode()
        document = json.dumps({"current": "zz", "keys": {"a": secret}, "extra": secret})
        with pytest.raises(SecurityConfigInvalid) as caught:
            parse_key_ring(document, suite=get_suite("intl"))
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value.params)

    def test_the_keys_are_not_in_the_rings_repr(self, ring: KeyRing) -> None:
        for key in ring.keys.values():
            assert str(key) not in repr(ring)
            assert base64.b64encode(key).decode() not in repr(ring)


class TestTheDeploymentsRing:
    """``deployment.key_ring`` looks at the key file's stamp at most once per
    ``KEY_FILE_CHECK_SECONDS`` (every encryption asks for the ring), yet sees a change by
    another process once that time has passed."""

    @pytest.fixture
    def key_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
        path = tmp_path / "keys.json"
        path.write_text(dump_key_ring(new_key_ring(get_suite("intl"), key_id="k1")))
        monkeypatch.setenv("TONGBAN_MASTER_KEYS_FILE", str(path))
        monkeypatch.setenv("TONGBAN_CRYPTO_SUITE", "intl")
        get_settings.cache_clear()
        deployment.reset()
        yield path
        monkeypatch.undo()
        get_settings.cache_clear()
        deployment.reset()

    def test_a_change_by_another_process_shows_after_the_check_interval(
        self, key_file: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        clock = [1000.0]
        monkeypatch.setattr(deployment, "monotonic", lambda: clock[0])
        assert deployment.key_ring().current == "k1"
        rotated = load_key_ring(suite="intl", path=key_file).rotate(key_id="k2")
        key_file.write_text(dump_key_ring(rotated))  # as `tongban security keys rotate` would
        clock[0] += deployment.KEY_FILE_CHECK_SECONDS / 2
        assert deployment.key_ring().current == "k1"  # not looked at yet
        clock[0] += deployment.KEY_FILE_CHECK_SECONDS
        assert deployment.key_ring().current == "k2"

    def test_a_ring_saved_in_this_process_is_used_at_once(self, key_file: Path) -> None:
        ring = deployment.key_ring()
        deployment.save_key_ring(ring.rotate(key_id="k3"))
        assert deployment.key_ring().current == "k3"
