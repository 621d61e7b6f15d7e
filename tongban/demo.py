"""The demo data set: catalog, departments and accounts, loaded into an empty database."""

from __future__ import annotations

from importlib import resources

import yaml
from sqlalchemy.orm import Session

from tongban.catalog import service as catalog_service
from tongban.identity import service as identity_service
from tongban.identity.models import AccountKind

DEMO_PASSWORD = "demo-password"


def is_empty(session: Session) -> bool:
    return not catalog_service.list_departments(session, None)


def load(session: Session) -> catalog_service.LoadReport:
    """Load everything as the command-line operator (no signed-in subject)."""
    report = catalog_service.load_catalog(session, None, catalog_service.demo_catalog_dir())
    text = (
        resources.files("tongban.identity").joinpath("data/demo_accounts.yaml").read_text("utf-8")
    )
    accounts = yaml.safe_load(text)
    for entry in accounts["applicants"]:
        identity_service.create_account(
            session, None, password=DEMO_PASSWORD, kind=AccountKind.APPLICANT, **entry
        )
    for entry in accounts["officials"]:
        department = catalog_service.get_department(session, None, entry.pop("department"))
        identity_service.create_account(
            session,
            None,
            password=DEMO_PASSWORD,
            kind=AccountKind.OFFICIAL,
            department_id=department.id,
            **entry,
        )
    for entry in accounts["admins"]:
        identity_service.create_account(
            session, None, password=DEMO_PASSWORD, kind=AccountKind.ADMIN, **entry
        )
    return report
