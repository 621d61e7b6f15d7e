"""This deployment's security configuration, from the settings: label scheme, masking policy,
crypto suite and master key ring. Every read and write path asks here, so one setting changes
them all.

The key ring is re-read when its file changes, so ``tongban keys rotate`` on one machine takes
effect in running servers without a restart, within ``KEY_FILE_CHECK_SECONDS`` (the old keys stay
in the file: nothing written before the rotation becomes unreadable).
"""

from __future__ import annotations

import dataclasses
import os
import threading
from functools import lru_cache
from pathlib import Path
from time import monotonic

from tongban.config import Settings, get_settings
from tongban.security import keyfiles
from tongban.security.crypto import CryptoSuite, get_suite
from tongban.security.keys import ENV_VAR, KeyRing, dump_key_ring, load_key_ring, new_key_ring
from tongban.security.labels import Clearance, Grade, LabelScheme, default_scheme, load_scheme
from tongban.security.masking import Masker, default_policy, load_policy


@lru_cache
def scheme() -> LabelScheme:
    path = get_settings().grades_file
    return load_scheme(path) if path else default_scheme()


def suite() -> CryptoSuite:
    return get_suite(get_settings().crypto_suite)


@lru_cache
def masker() -> Masker:
    settings = get_settings()
    policy = load_policy(settings.masking_file, scheme=scheme()) if settings.masking_file else None
    policy = policy or default_policy()
    if not policy.uses_hash():
        return Masker(policy)
    # Hash masking keys its HMAC with a key derived from the master key, so equal values hash
    # equally across servers and restarts, yet nobody without the key can test a guess.
    ring = key_ring()
    derived = ring.suite.hmac(ring.keys[ring.current], b"tongban-masking-hash-key")
    return Masker(policy, derived, ring.suite)


def subject_ref(value: str) -> str:
    """A keyed hash of a person's identifier for logs: equal identifiers give equal refs (so
    "who used my data" can find them), yet the log never holds the identifier itself.

    Keyed by the ring's first key, which rotation keeps, so refs stay comparable over time.
    """
    ring = key_ring()
    first = ring.keys[next(iter(ring.keys))]
    key = ring.suite.hmac(first, b"tongban-subject-ref")
    return ring.suite.hmac(key, value.strip().upper().encode("utf-8"))[:16].hex()


def encrypt_from() -> Grade:
    return scheme().grade(get_settings().encrypt_from_grade)


def default_clearance() -> Clearance:
    return scheme().parse_clearance(get_settings().default_clearance)


def top_clearance() -> Clearance:
    """Every grade and compartment: what the data subject has over their own data."""
    current = scheme()
    return Clearance(current.highest, current.compartment_codes)


# -- the key ring ------------------------------------------------------------------------------


# How often the key file's stamp is looked at: every encryption and decryption asks for the
# ring, and a stat on each was a measurable share of a write request (issue 19).
KEY_FILE_CHECK_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class _Loaded:
    path: Path | None
    stamp: tuple[int, int] | None
    ring: KeyRing
    checked_at: float
    settings: Settings  # changed settings (a new object) are looked at at once


_lock = threading.Lock()
_loaded: _Loaded | None = None


def key_ring_path() -> Path | None:
    """The key file in use, or None when the keys come from the environment."""
    settings = get_settings()
    if settings.master_keys_file:
        return settings.master_keys_file
    if os.environ.get(ENV_VAR):
        return None
    return settings.generated_master_keys_file


def key_ring() -> KeyRing:
    global _loaded
    loaded, now, settings = _loaded, monotonic(), get_settings()
    if loaded and loaded.settings is settings and now - loaded.checked_at < KEY_FILE_CHECK_SECONDS:
        return loaded.ring
    path = key_ring_path()
    stamp = _stamp(path) if path else None
    if loaded and loaded.path == path and loaded.stamp == stamp:
        _loaded = dataclasses.replace(loaded, checked_at=now, settings=settings)
        return loaded.ring
    with _lock:
        if path is not None and stamp is None and path == get_settings().generated_master_keys_file:
            _create_key_file(path)
            stamp = _stamp(path)
        ring = load_key_ring(suite=suite(), path=path)
        _loaded = _Loaded(path, stamp, ring, now, settings)
        return ring


def save_key_ring(ring: KeyRing) -> Path:
    """Write ``ring`` over the key file in use (atomically: a crash leaves the old file)."""
    path = key_ring_path()
    if path is None:
        raise RuntimeError(f"The master keys come from {ENV_VAR}; update it there.")
    global _loaded
    _write_private(path, dump_key_ring(ring))
    _loaded = None  # this process uses it from now on; others within KEY_FILE_CHECK_SECONDS
    return path


def reset() -> None:
    """Forget cached configuration (after the settings change, e.g. in tests)."""
    global _loaded
    _loaded = None
    scheme.cache_clear()
    masker.cache_clear()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


def _create_key_file(path: Path) -> None:
    keyfiles.create_once(path, dump_key_ring(new_key_ring(suite())))


def _write_private(path: Path, text: str) -> None:
    keyfiles.replace(path, text)
