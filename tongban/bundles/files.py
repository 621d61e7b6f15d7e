"""Reading bundle files: the format (``schemas``) plus what a schema cannot say — a dependency
cycle, an unknown item or question, an answer that leads nowhere — each refused with the line
of the file at fault."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tongban.bundles.errors import BundleFileInvalid
from tongban.bundles.schemas import BundleSpec
from tongban.kit import datafiles
from tongban.kit.i18n import N_

Loc = tuple[str | int, ...]


class _Problem(Exception):
    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


# A catalog item's fields as name -> (type, options): fields several items share are asked
# once, so they must mean the same in each.
FieldsOf = Callable[[str], dict[str, tuple[str, tuple[str, ...]]] | None]


def load(path: Path, fields_of: FieldsOf) -> BundleSpec:
    """The bundle in ``path``; ``fields_of`` gives a catalog item's fields (None: no such
    item)."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except OSError as exc:
        raise BundleFileInvalid(
            N_("{path} cannot be read: {problem}"), path=str(path), problem=str(exc)
        ) from exc
    except yaml.YAMLError as exc:
        raise BundleFileInvalid(
            N_("{path} is not valid YAML: {problem}"), path=str(path), problem=str(exc)
        ) from exc
    try:
        spec = BundleSpec.model_validate(raw)
        check(spec, fields_of)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _refusal(path, root, tuple(first["loc"]), first["msg"]) from exc
    except _Problem as problem:
        raise _refusal(path, root, problem.loc, problem.message) from problem
    return spec


def _refusal(path: Path, root: Any, loc: Loc, message: str) -> BundleFileInvalid:
    return BundleFileInvalid(
        N_("{path}, line {line}: {problem}"),
        path=str(path),
        line=datafiles.line_of(root, loc),
        problem=message,
    )


def check(spec: BundleSpec, fields_of: FieldsOf) -> None:
    keys = {i.key: index for index, i in enumerate(spec.items)}
    seen: dict[str, tuple[tuple[str, tuple[str, ...]], str]] = {}
    for index, entry in enumerate(spec.items):
        fields = fields_of(entry.item)
        if fields is None:
            raise _Problem(("items", index, "item"), f"no service item has the code {entry.item}")
        for name, signature in fields.items():
            earlier = seen.setdefault(name, (signature, entry.item))
            if earlier[0] != signature:
                raise _Problem(
                    ("items", index, "item"),
                    f"field {name} differs between {earlier[1]} and {entry.item}; "
                    "a merged form asks it once",
                )
        for before in entry.after:
            if before not in keys:
                raise _Problem(("items", index, "after"), f"{before} is not an item of the bundle")
    cycle = _cycle({i.key: i.after for i in spec.items})
    if cycle:
        index = keys[cycle[0]]
        raise _Problem(
            ("items", index, "after"),
            "the items depend on each other in a cycle: " + " -> ".join(cycle),
        )
    questions = {q.id: index for index, q in enumerate(spec.questions)}
    for q_index, question in enumerate(spec.questions):
        for o_index, option in enumerate(question.options):
            loc: Loc = ("questions", q_index, "options", o_index)
            outcomes = sum((option.next is not None, option.end, option.exit is not None))
            if outcomes != 1:
                raise _Problem(loc, "an answer needs exactly one outcome: next, end or exit")
            if option.next is not None and option.next not in questions:
                raise _Problem((*loc, "next"), f"there is no question {option.next}")
            for key in option.add:
                if key not in keys:
                    raise _Problem((*loc, "add"), f"{key} is not an item of the bundle")
    loop = _cycle({q.id: [o.next for o in q.options if o.next is not None] for q in spec.questions})
    if loop:
        raise _Problem(
            ("questions", questions[loop[0]]),
            "the questions lead back to each other: " + " -> ".join(loop),
        )
    if not spec.questions and not all(i.always for i in spec.items):
        raise _Problem(("items",), "items that are not always needed need a question to add them")


def _cycle(edges: dict[str, Iterable[str]]) -> list[str]:
    """A cycle in the graph as the list of its nodes (first repeated at the end), or []."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for target in edges.get(node, ()):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return []

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []
