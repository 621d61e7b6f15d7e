"""Deployment settings, read from the environment (prefix ``TONGBAN_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    session_hours: int = Field(default=8, ge=1)
    # Secure cookies need HTTPS; a local demo runs on plain HTTP.
    cookie_secure: bool = False
    # Where people reach the portal; printed in QR codes on documents.
    public_url: str = "http://127.0.0.1:8000"
    # A TrueType font with Chinese glyphs for PDF documents; found among Debian's fonts if unset.
    pdf_font: Path | None = None
    # Working-day calendar (holidays and adjusted working days) as a data file.
    calendar_file: Path | None = None

    @property
    def materials_dir(self) -> Path:
        return self.data_dir / "materials"


@lru_cache
def get_settings() -> Settings:
    return Settings()
