"""Who may do what in the federation.

Setting a node up, adding nodes and sending notes are the operator's (or an administrator's).
A node's identity and the registry are public: addresses and public keys, signed at the top.
A peer node may deliver messages while the registry lists it as active.
"""

from __future__ import annotations

from tongban.errors import Forbidden
from tongban.federation.models import Node
from tongban.identity.models import Account, AccountKind


def require_manage_federation(subject: Account | None) -> None:
    if subject is not None and subject.kind is not AccountKind.ADMIN:
        raise Forbidden("Only an administrator may manage the federation.")


def require_read_federation(subject: Account | None) -> None:
    """Anyone: node identities and the registry are public (and signed)."""


def require_receive(node: Node) -> None:
    if not node.active:
        raise Forbidden("This node may not deliver messages.")
