"""Credentials without the database: password hashes (argon2id), TOTP codes (RFC 6238), the
lockout backoff and the assurance level a way of signing in gives (acr, amr)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tongban.config import get_settings
from tongban.errors import Overloaded
from tongban.kit import clock


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int) -> tuple[PasswordHasher, str]:
    """An argon2id hasher with these parameters, and a hash made by it that is checked against
    when the username is unknown, so both paths cost the same argon2 verification."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    return hasher, hasher.hash("not-a-real-password")


def _hasher() -> tuple[PasswordHasher, str]:
    settings = get_settings()
    return _hasher_for(
        settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism
    )


MIN_PASSWORD_LENGTH = 10

# Assurance levels (OIDC acr) and authentication methods (RFC 8176 amr) a sign-in gives.
ACR_PASSWORD = "tongban:loa:1"
ACR_TWO_FACTOR = "tongban:loa:2"
AMR_PASSWORD = ("pwd",)
AMR_TWO_FACTOR = ("pwd", "otp")

# Codes from the previous and the next 30-second step are accepted too: phone clocks drift.
TOTP_WINDOW = 1
TOTP_INTERVAL = 30
_CODE = re.compile(r"^[0-9]{6}$")
_BASE32 = re.compile(r"^[A-Z2-7]{16,64}$")


# The hash of an account with no password yet (opened at the counter, not claimed): not an
# argon2 hash, so no password ever matches it.
NO_PASSWORD = "!"


class HashingPool:
    """At most ``size`` password hashes computed at once in this process, and sign-in's checks
    at most ``share`` seconds spent hashing per second (a budget that refills at that pace, up
    to ``burst``).
    argon2 takes cores and 64 MiB for ~0.1 s: unbounded, a sign-in flood would take every
    thread and core from the other routes, and even ``size`` threads hashing without pause take
    whole cores. A hash waits its turn at most ``wait`` seconds, then the sign-in is answered
    503 with Retry-After (the client tries again; nothing was checked or counted)."""

    def __init__(self, size: int, wait: float, share: float = 1.0, burst: float = 1.0) -> None:
        self.size, self.wait, self.share, self.burst = size, wait, share, burst
        self._slots = threading.BoundedSemaphore(size)
        self.busy = 0  # read by /metrics
        self._budget = burst
        self._refilled = time.monotonic()
        self._budget_lock = threading.Lock()

    def _overloaded(self) -> Overloaded:
        return Overloaded(
            "Signing in is very busy; please try again in a moment.",
            retry_after=max(1, round(self.wait)),
        )

    def _pause(self) -> float:
        """Seconds until the budget allows the next hash (0: at once)."""
        with self._budget_lock:
            now = time.monotonic()
            refill = (now - self._refilled) * self.share
            self._budget = min(self.burst, self._budget + refill)
            self._refilled = now
            return 0.0 if self._budget > 0 else -self._budget / self.share

    def _spent(self, seconds: float) -> None:
        with self._budget_lock:
            self._budget -= seconds

    @contextmanager
    def turn(self, *, paced: bool = True) -> Iterator[None]:
        """A hash's turn. ``paced=False``: the budget is spent but not waited for (a password
        set or changed, rare and limited elsewhere, or the demo loader's accounts in a row)."""
        asked = time.monotonic()
        if not self._slots.acquire(timeout=self.wait):
            raise self._overloaded()
        try:
            pause = self._pause()
            if pause > 0 and paced:
                if time.monotonic() - asked + pause > self.wait:
                    raise self._overloaded()
                time.sleep(pause)
            self.busy += 1
            began = time.monotonic()
            try:
                yield
            finally:
                self.busy -= 1
                self._spent(time.monotonic() - began)
        finally:
            self._slots.release()


_pool: HashingPool | None = None
_pool_lock = threading.Lock()


def hashing_pool() -> HashingPool:
    global _pool
    settings = get_settings()
    with _pool_lock:
        wanted = (
            settings.hashing_pool_size,
            settings.hashing_wait_seconds,
            settings.hashing_share,
        )
        if _pool is None or (_pool.size, _pool.wait, _pool.share) != wanted:
            _pool = HashingPool(*wanted)
        return _pool


def hash_password(password: str) -> str:
    hasher, _ = _hasher()
    with hashing_pool().turn(paced=False):
        return hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether the password fits the hash; with no hash (unknown user) the same work is done.
    A hash records its own parameters, so one made with other settings still verifies."""
    hasher, dummy = _hasher()
    with hashing_pool().turn():
        try:
            return hasher.verify(password_hash or dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the settings' (then the sign-in
    that just verified the password stores a new one)."""
    hasher, _ = _hasher()
    return hasher.check_needs_rehash(password_hash)


def acr_for(amr: Sequence[str]) -> str:
    return ACR_TWO_FACTOR if "otp" in amr else ACR_PASSWORD


# --- TOTP ------------------------------------------------------------------------------------


def new_totp_secret() -> str:
    """160 random bits in base32, as RFC 4226 recommends and authenticator apps expect."""
    return pyotp.random_base32()


def valid_totp_secret(secret: str) -> bool:
    return bool(_BASE32.match(secret))


def totp_step(at: datetime | None = None) -> int:
    """The number of the 30-second step ``at`` (now by default) falls in."""
    return int((at or clock.utcnow()).timestamp()) // TOTP_INTERVAL


def totp_code(secret: str, at: datetime | None = None) -> str:
    """The code an authenticator app shows at ``at`` (now by default)."""
    return pyotp.TOTP(secret).at(at or clock.utcnow())


def accepted_totp_step(
    secret: str, code: str, *, last_step: int | None, at: datetime | None = None
) -> int | None:
    """The time step whose code ``code`` is, if it is current (within the window) and newer than
    the last code accepted; else None. A code is good once: a code seen over someone's shoulder
    or intercepted cannot be used again."""
    code = code.strip().replace(" ", "")
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    now = totp_step(at)
    for step in range(now - TOTP_WINDOW, now + TOTP_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=username, issuer_name=get_settings().totp_issuer
    )


def qr_data_uri(text: str) -> str:
    """A QR code as an inline SVG data URI (the pages' CSP allows data: images, not scripts)."""
    return str(segno.make(text, error="m").svg_data_uri(scale=5, border=2))


def spaced(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- lockout ---------------------------------------------------------------------------------


def lock_duration(failures: int) -> timedelta | None:
    """How long an account is locked after ``failures`` failed sign-ins in a row: nothing below
    the limit, then the base time, doubling with each further failure, capped."""
    settings = get_settings()
    over = failures - settings.sign_in_max_failures
    if over < 0:
        return None
    seconds = settings.sign_in_lock_seconds * 2 ** min(over, 32)
    return timedelta(seconds=min(seconds, settings.sign_in_lock_max_seconds))
