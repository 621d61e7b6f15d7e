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


def require_manage_federation(subject: Account | None) -> None:
    if subject is not None and subject.kind is not AccountKind.ADMIN:
        raise Forbidden("Only an administrator may manage the federation.")


def require_read_federation(subject: Account | None) -> None:
    """Anyone: node identities and the registry are public (and signed)."""


def require_apply_elsewhere(subject: Account | None, *, for_someone: bool) -> Account | None:
    """A person files their own application with another region; a counter clerk (or the
    operator) files one for the person in front of them, accepting it on behalf of the handling
    region (收件地与办理地分离). Returns the clerk who does so, if any."""
    if for_someone:
        if subject is None:
            return None
        if subject.kind is AccountKind.OFFICIAL and OfficialRole.CLERK.value in subject.roles:
            return subject
        raise Forbidden("Only a counter clerk may file an application for someone else.")
    if subject is None or subject.kind is not AccountKind.APPLICANT:
        raise Forbidden("Only applicants can apply; officials act on applications.")
    return None


def require_person(subject: Account | None) -> Account:
    if subject is None:
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


def require_sign_in_upstream(subject: Account | None) -> None:
    """Anyone may start (or finish) a sign-in through the parent node: it is how one signs in."""


def require_request_data(subject: Account | None, department_id: int | None) -> Account | None:
    """An official of the department whose system will call, an administrator, or the operator."""
    if subject is None or subject.kind is AccountKind.ADMIN:
        return subject
    if subject.kind is AccountKind.OFFICIAL and (
        department_id is None or subject.department_id == department_id
    ):
        return subject
    raise Forbidden("You may ask for data only for your own department's systems.")


def require_call_remote(subject: DepartmentSystem) -> DepartmentSystem:
    if not subject.active or subject.account_id is None:
        raise Forbidden("This department system may not use the exchange.")
    return subject
