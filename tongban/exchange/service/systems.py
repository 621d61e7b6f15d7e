"""Department systems at the exchange: the client credentials a system calls the gateway with
(issued by the identity provider, secret shown once) and the systems an official may ask for
data for.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.connectors import lookup as connector_lookup
from tongban.connectors.models import DepartmentSystem
from tongban.exchange import policy
from tongban.exchange.errors import ResourceNotFound
from tongban.exchange.service import _common
from tongban.identity.oidc import service as oidc_service
from tongban.identity.principals import Principal


def issue_credentials(
    session: Session, subject: Principal, *, system_code: str
) -> oidc_service.Registration:
    """Client credentials for a department system (secret shown once): its tokens call the
    exchange gateway (scope ``exchange``) and report back on cases (scope ``connectors``)."""
    policy.require_manage_credentials(subject)
    system = connector_lookup.system_by_code(session, system_code)
    if system is None or system.account_id is None:
        raise ResourceNotFound(
            "No department system has the code {code}.", field="system", code=system_code
        )
    return oidc_service.register_machine_client(
        session,
        subject,
        name=f"{system.name} (machine client)",
        account=_common.system_account(session, system),
        scopes=("exchange", "connectors"),
    )


def my_systems(session: Session, subject: Principal) -> list[DepartmentSystem]:
    """The systems an official may ask for data for: their department's."""
    viewer = policy.require_view_requests(subject)
    if viewer.department_id is None:
        return []
    return connector_lookup.systems_of_department(session, viewer.department_id)
