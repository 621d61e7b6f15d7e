"""Who acts, when no signed-in account does: the principals besides accounts.

Every service takes a principal, never ``None``, and its policy matches on the principal's type:

- ``identity.models.Account``: a person (kind ``applicant``, 个人/企业经办人) or an official or
  administrator (kind ``official``/``admin``, with department, roles and clearance) signed in;
- ``connectors.models.DepartmentSystem``: a department's system calling with its own credentials;
- ``federation.models.Node``: another deployment, by its signed message;
- ``Operator``: someone at the command line of the deployment (``tongban ...``), who holds the
  machine and its keys and so may do what an administrator may;
- ``Internal``: the platform acting on its own behalf for a reason it names (a remote node's
  message applied, a worker's job, the demo loaded): allowed only where a
  policy says so;
- ``Anonymous``: a visitor who has not signed in (public pages, tracking by code).

They live here, below identity and every domain, so that any layer may name them; the union with
accounts is ``identity.principals.Principal``. The audit log names an account by its username
and any other principal by its kind and name (``describe``).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Operator:
    """Someone at the command line: the name is who ran the command (the machine's user, or
    ``TONGBAN_OPERATOR`` where several share one)."""

    name: str

    @classmethod
    def at_console(cls) -> Operator:
        return cls(os.environ.get("TONGBAN_OPERATOR") or _login_name())


@dataclass(frozen=True)
class Internal:
    """The platform itself, for the reason given (recorded in the audit log)."""

    reason: str


@dataclass(frozen=True)
class Anonymous:
    """A visitor who has not signed in."""


ANONYMOUS = Anonymous()
# The principals that are no account: an audit entry names them by kind and name.
Unsigned = Operator | Internal | Anonymous


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "console"


def describe(principal: Unsigned) -> str:
    """How the audit log names an unsigned principal: kind and name, e.g. ``operator:alice``,
    ``internal:apply a catalog item from node 110000``."""
    match principal:
        case Operator(name=name):
            return f"operator:{name}"
        case Internal(reason=reason):
            return f"internal:{reason}"
        case Anonymous():
            return "anonymous"
