"""The demo accounts' data-file format, validated strictly at load time."""

from __future__ import annotations

from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field

from tongban.identity.models import AdminRole, OfficialRole

USERNAME = r"^[a-z0-9][a-z0-9_.-]{2,31}$"
TOTP_SECRET = r"^[A-Z2-7]{16,64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicantSpec(_Strict):
    username: str = Field(pattern=USERNAME)
    display_name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=18, max_length=18)
    phone: str | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")


class OfficialSpec(_Strict):
    username: str = Field(pattern=USERNAME)
    display_name: str = Field(min_length=1, max_length=100)
    department: str = Field(min_length=1)
    roles: list[OfficialRole] = Field(min_length=1)
    totp_secret: str = Field(pattern=TOTP_SECRET)
    # Set by the operator loading the demo, as `tongban security clearance` would.
    clearance: str | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")


class AdminSpec(_Strict):
    username: str = Field(pattern=USERNAME)
    display_name: str = Field(min_length=1, max_length=100)
    totp_secret: str = Field(pattern=TOTP_SECRET)
    roles: list[AdminRole] = []
    # The data steward reads master data by it (see resources.disclosure).
    clearance: str | None = None


class LegalPersonSpec(_Strict):
    uscc: str = Field(min_length=18, max_length=18)
    name: str = Field(min_length=1, max_length=200)
    representative: str
    agents: list[str] = []


class DemoAccounts(_Strict):
    applicants: list[ApplicantSpec]
    officials: list[OfficialSpec]
    admins: list[AdminSpec]
    legal_persons: list[LegalPersonSpec] = []


def demo_accounts() -> DemoAccounts:
    text = (
        resources.files("tongban.identity").joinpath("data/demo_accounts.yaml").read_text("utf-8")
    )
    return DemoAccounts.model_validate(yaml.safe_load(text))
