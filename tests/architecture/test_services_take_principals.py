"""Every service and policy function that takes the acting principal types it as one of the
principal types, never optional and never untyped: a policy matches on the principal's type, so
``None`` (which once meant the operator, the platform and a visitor alike) has no place."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

import tongban
from tongban.applications.policy import TrackingPass
from tongban.connectors.models import DepartmentSystem
from tongban.federation.models import Node
from tongban.identity.models import Account
from tongban.security.principals import Anonymous, Internal, Operator

PRINCIPAL_PARAMETERS = ("subject", "principal")
# Person and official are accounts (by kind); a department system and a node act by their own
# credentials; a tracking pass is what typing in a one-time code gives.
PRINCIPAL_TYPES = {Account, Operator, Internal, Anonymous, DepartmentSystem, Node, TrackingPass}


def _checked_modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(tongban.__path__, "tongban."):
        last = info.name.rsplit(".", 1)[-1]
        inside_service = ".service." in info.name
        if last in ("service", "policy") or inside_service:
            yield importlib.import_module(info.name)


def _functions() -> list[tuple[str, Callable[..., object], str]]:
    found = []
    for module in _checked_modules():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            for parameter in inspect.signature(fn).parameters:
                if parameter in PRINCIPAL_PARAMETERS:
                    found.append((f"{module.__name__}.{name}", fn, parameter))
    return found


def _members(annotation: object) -> tuple[object, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(m for arg in typing.get_args(annotation) for m in _members(arg))
    return (annotation,)


def principal_problem(fn: Callable[..., object], parameter: str) -> str | None:
    """Why ``fn``'s ``parameter`` is no typed principal, or None when it is one."""
    try:
        hints = typing.get_type_hints(fn)
    except NameError as exc:
        return f"its annotations cannot be resolved ({exc})"
    if parameter not in hints:
        return "it is not annotated"
    members = _members(hints[parameter])
    if type(None) in members:
        return "it may be None: pass Operator, Internal(reason) or ANONYMOUS instead"
    strangers = [m for m in members if m not in PRINCIPAL_TYPES]
    if strangers:
        return f"{strangers} are not principal types"
    return None


def test_there_are_functions_to_check() -> None:
    assert len(_functions()) > 300


@pytest.mark.parametrize(
    ("name", "fn", "parameter"),
    [pytest.param(name, fn, parameter, id=name) for name, fn, parameter in _functions()],
)
def test_the_principal_is_typed(name: str, fn: Callable[..., object], parameter: str) -> None:
    problem = principal_problem(fn, parameter)
    assert problem is None, f"{name}({parameter}): {problem}"


class TestTheCheckItself:
    """The check fails on the shapes it exists to catch."""

    def test_an_optional_subject_fails(self) -> None:
        def service(session: object, subject: Account | None) -> None: ...

        assert principal_problem(service, "subject") is not None

    def test_an_untyped_subject_fails(self) -> None:
        def service(session, subject):  # type: ignore[no-untyped-def]
            ...

        assert principal_problem(service, "subject") == "it is not annotated"

    def test_any_other_type_fails(self) -> None:
        def service(session: object, subject: object) -> None: ...

        assert principal_problem(service, "subject") is not None

    def test_a_principal_passes(self) -> None:
        def service(session: object, subject: Account | Operator | Internal) -> None: ...

        assert principal_problem(service, "subject") is None
