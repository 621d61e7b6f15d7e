"""Deployment settings, read from the environment (prefix ``TONGBAN_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGBAN_", env_file=".env", extra="ignore")

    # An SQLite file in the working directory keeps a first run free of any server.
    database_url: str = "sqlite:///tongban.db"
    # Uploaded materials live here, named by content hash.
    data_dir: Path = Path("var")
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    # Upper bound for any single upload; a material may set a lower one.
    max_upload_mb: int = Field(default=20, ge=1, le=200)
    # Sign-in sessions end this long after sign-in (absolute) or after this long unused (idle).
    session_hours: int = Field(default=8, ge=1)
    session_idle_minutes: int = Field(default=30, ge=1)
    # A session's last use is written at most this often (a write per request would cost).
    session_touch_seconds: int = Field(default=60, ge=1)
    # Time to finish sign-in (enter the authenticator code, or set one up) after the password.
    sign_in_step_minutes: int = Field(default=10, ge=1)
    # After this many failed sign-ins in a row an account is locked, first for lock_seconds, then
    # twice as long after each further failure, up to lock_max_seconds.
    sign_in_max_failures: int = Field(default=5, ge=1)
    sign_in_lock_seconds: int = Field(default=60, ge=1)
    sign_in_lock_max_seconds: int = Field(default=3600, ge=1)
    # Shown in authenticator apps next to the account name.
    totp_issuer: str = "Tongban"
    # Secure cookies need HTTPS; a local demo runs on plain HTTP.
    cookie_secure: bool = False
    # Where people reach the portal; printed in QR codes on documents.
    public_url: str = "http://127.0.0.1:8000"
    # A TrueType font with Chinese glyphs for PDF documents; found among Debian's fonts if unset.
    pdf_font: Path | None = None
    # Outbox delivery: retries back off exponentially from base to max; then the message is dead.
    outbox_max_attempts: int = Field(default=10, ge=1)
    outbox_base_delay_seconds: float = Field(default=2.0, gt=0)
    outbox_max_delay_seconds: float = Field(default=3600.0, gt=0)
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    # Working-day calendar (holidays and adjusted working days) as a data file.
    calendar_file: Path | None = None
    # Analytics: where the Parquet export lives (default: <data_dir>/analytics), and which source
    # the dashboard reads: "live" (the database itself, right for small deployments) or
    # "parquet" (the export, refreshed by `tongban analytics export` from cron).
    analytics_dir: Path | None = None
    analytics_source: Literal["live", "parquet"] = "live"

    @property
    def materials_dir(self) -> Path:
        return self.data_dir / "materials"

    @property
    def analytics_path(self) -> Path:
        return self.analytics_dir or self.data_dir / "analytics"


@lru_cache
def get_settings() -> Settings:
    return Settings()
