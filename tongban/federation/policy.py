"""Who may do what in the federation.

Setting a node up, adding nodes and sending notes are the operator's (or an administrator's).
A node's identity and the registry are public: addresses and public keys, signed at the top.
A peer node may deliver messages while the registry lists it as active.
"""

from __future__ import annotations

from tongban.connectors.models import DepartmentSystem
from tongban.errors import Forbidden, Unauthenticated
from tongban.federation.models import Node
from tongban.identity.models import Account, AccountKind, OfficialRole
from tongban.identity.principals import Principal, is_admin, is_trusted
from tongban.security.principals import Internal, Operator


def node_principal(node: Node) -> Internal:
    """How a node's signed message acts here: the platform, applying it for that node."""
    return Internal(f"a message from node {node.code}")


def require_manage_federation(subject: Principal) -> None:
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may manage the federation.")


def require_read_federation(subject: Principal) -> None:
    """Anyone: node identities and the registry are public (and signed)."""


def require_apply_elsewhere(subject: Principal, *, for_someone: bool) -> Account | None:
    """A person files their own application with another region; a counter clerk (or the
    operator) files one for the person in front of them, accepting it on behalf of the handling
    region (收件地与办理地分离). Returns the clerk who does so, if any."""
    match subject:
        case Operator() | Internal() if for_someone:
            return None
        case Account(kind=AccountKind.OFFICIAL) if for_someone and (
            OfficialRole.CLERK.value in subject.roles
        ):
            return subject
        case Account(kind=AccountKind.APPLICANT) if not for_someone:
            return None
    if for_someone:
        raise Forbidden("Only a counter clerk may file an application for someone else.")
    raise Forbidden("Only applicants can apply; officials act on applications.")


def require_person(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    return subject


def require_receive(node: Node) -> None:
    if not node.active:
        raise Forbidden("This node may not deliver messages.")


def require_child(node: Node, local_code: str) -> None:
    """A node asking for a sign-on client must be one of this node's children in the registry."""
    require_receive(node)
    if node.parent_code != local_code:
        raise Forbidden("Only a node directly below this one may sign people in through it.")


def require_witness(node: Node, local_code: str) -> None:
    """A node's audit checkpoints are kept by its parent: the node sending them must be one of
    this node's children in the registry."""
    require_receive(node)
    if node.parent_code != local_code:
        raise Forbidden("Only a node directly below this one may keep its checkpoints here.")


def require_sign_in_upstream(subject: Principal) -> None:
    """Anyone may start (or finish) a sign-in through the parent node: it is how one signs in."""


def require_request_data(subject: Principal, department_id: int | None) -> Account | None:
    """An official of the department whose system will call, an administrator, or the operator."""
    match subject:
        case Operator() | Internal():
            return None
        case Account(kind=AccountKind.ADMIN):
            return subject
        case Account(kind=AccountKind.OFFICIAL) if (
            department_id is None or subject.department_id == department_id
        ):
            return subject
    raise Forbidden("You may ask for data only for your own department's systems.")


def require_call_remote(subject: DepartmentSystem) -> DepartmentSystem:
    if not subject.active or subject.account_id is None:
        raise Forbidden("This department system may not use the exchange.")
    return subject
