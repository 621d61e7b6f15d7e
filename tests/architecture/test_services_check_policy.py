"""Every service function that works on the database takes the acting subject second and checks
a policy before anything else (CKAN's test_actions_have_auth_fn), so web, CLI and workers all get
the same checks."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import tongban

# Infrastructure called by other services or by sign-in itself, with the reason it has no policy.
EXEMPT = {
    "tongban.audit.service.record": "called inside other services' transactions",
    "tongban.audit.service.verify": "operator command; reads only hashes",
    "tongban.audit.service.entries_for": "called by services that checked their own policy",
    "tongban.identity.service.authenticate": "sign-in: there is no subject yet",
    "tongban.identity.service.open_session": "sign-in: follows authenticate",
    "tongban.identity.service.sign_in": "sign-in (API): password and code at once",
    "tongban.identity.service.start_sign_in": "sign-in: follows authenticate",
    "tongban.identity.service.check_totp": "sign-in: the second step",
    "tongban.identity.service.pending_sign_in": "sign-in: between the steps",
    "tongban.identity.service.finish_sign_in": "sign-in: after the second step",
    "tongban.identity.service.account_for_token": "resolves the subject itself",
    "tongban.identity.service.session_for_token": "resolves the subject itself",
    "tongban.connectors.service.system_for_request": "resolves the signing system itself",
    "tongban.federation.service.authenticate_message": "resolves the signing node itself",
    "tongban.federation.service.queue": "called inside other services' transactions",
    "tongban.federation.service.sign_answer": "signs this node's own answer, whoever asked",
    "tongban.identity.service.close_session": "sign-out by the token's holder",
    "tongban.identity.service.get_by_username": "lookup for the CLI and tests",
    "tongban.identity.oidc.service.machine_account_for_token": "resolves the subject itself",
}


def _service_modules() -> list[ModuleType]:
    modules = []
    for info in pkgutil.walk_packages(tongban.__path__, "tongban."):
        if info.name.endswith(".service"):
            modules.append(importlib.import_module(info.name))
    return modules


def _defined_in(fn: object, module: ModuleType) -> bool:
    """A service module's own function, or, when ``service`` is a package, one it re-exports
    from its own sub-modules (a domain's public API split by job)."""
    home = getattr(fn, "__module__", "")
    return home == module.__name__ or (
        hasattr(module, "__path__") and home.startswith(module.__name__ + ".")
    )


def _public_db_functions() -> list[tuple[str, object]]:
    found = []
    for module in _service_modules():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or not _defined_in(fn, module):
                continue
            params = list(inspect.signature(fn).parameters)
            if params and params[0] == "session":
                found.append((f"{module.__name__}.{name}", fn))
    return found


def test_there_are_service_functions_to_check() -> None:
    assert len(_public_db_functions()) > 15


@pytest.mark.parametrize(
    ("name", "fn"), [pytest.param(name, fn, id=name) for name, fn in _public_db_functions()]
)
def test_service_takes_subject_and_checks_policy(name: str, fn: object) -> None:
    if name in EXEMPT:
        return
    params = list(inspect.signature(fn).parameters)  # type: ignore[arg-type]
    assert params[1] == "subject", f"{name}: the acting subject must be the 2nd parameter"
    source = inspect.getsource(fn)  # type: ignore[arg-type]
    assert "policy.require_" in source, f"{name} does not call a policy.require_* check"
