"""Reading bundle files: the format (``schemas``) plus what a schema cannot say — a dependency
cycle, an unknown item or question, an answer that leads nowhere, an item asking for what an
earlier one issues — each refused with the line of the file at fault."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


Signature = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class ItemFacts:
    """What the file is checked against, of one catalog item."""

    # Name -> (type, options): fields several items share are asked once, so they must mean
    # the same in each.
    fields: dict[str, Signature]
    # Code -> (the licence type that stands in for it, the file types it accepts).
    materials: dict[str, tuple[str | None, tuple[str, ...]]]
    # The licence type the item issues on approval, with the licence's fields.
    issues: tuple[str, tuple[str, ...]] | None


# A catalog item's facts (None: no such item).
FactsOf = Callable[[str], ItemFacts | None]
# A catalog item's department code: a department's items of a bundle are one application.
DepartmentOf = Callable[[str], str | None]


def load(path: Path, facts_of: FactsOf, department_of: DepartmentOf | None = None) -> BundleSpec:
    """The bundle in ``path``; ``facts_of`` gives what the file needs of a catalog item (None:
    no such item), ``department_of`` its department."""
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
        check(spec, facts_of, department_of)
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


def check(spec: BundleSpec, facts_of: FactsOf, department_of: DepartmentOf | None = None) -> None:
    keys = {i.key: index for index, i in enumerate(spec.items)}
    seen: dict[str, tuple[Signature, str]] = {}
    facts: dict[str, ItemFacts] = {}
    for index, entry in enumerate(spec.items):
        found = facts_of(entry.item)
        if found is None:
            raise _Problem(("items", index, "item"), f"no service item has the code {entry.item}")
        facts[entry.key] = found
        for name, signature in found.fields.items():
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
    _check_results(spec, facts)
    if department_of is not None:
        _check_departments(spec, department_of)
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


def _check_results(spec: BundleSpec, facts: dict[str, ItemFacts]) -> None:
    """A bundle never asks for what one of its own items will issue: a later item takes the
    earlier one's licence (as a material) and the licence's values (as form fields) from its
    result. Each source must be an item listed before it, that it comes after, issuing a licence
    that has the value or stands in for the material."""
    order = {i.key: index for index, i in enumerate(spec.items)}
    after = {i.key: i.after for i in spec.items}
    taken: dict[str, str] = {}  # field name -> the key of an item taking it from a result
    for index, entry in enumerate(spec.items):
        loc: Loc = ("items", index, "from_results")
        own = facts[entry.key]
        before = _reachable(after, entry.key)
        for name, source in entry.from_results.items():
            key, _, value = source.partition(".")
            if key not in order:
                raise _Problem(loc, f"{key} is not an item of the bundle")
            if key not in before:
                raise _Problem(loc, f"{entry.key} does not come after {key}: add it to after")
            if order[key] > index:
                raise _Problem(loc, f"{key} gives {entry.key} its result: list it before")
            issued = facts[key].issues
            if issued is None:
                raise _Problem(loc, f"{key} issues no licence to take {name} from")
            licence, licence_fields = issued
            if name in own.fields:
                if value not in licence_fields:
                    raise _Problem(
                        loc, f"the licence {licence} that {key} issues has no field {value!r}"
                    )
                taken[name] = entry.key
            elif name in own.materials:
                stands_in, file_types = own.materials[name]
                if value or stands_in != licence or "pdf" not in file_types:
                    raise _Problem(
                        loc, f"the material {name} is not met by the licence {licence} ({key})"
                    )
            else:
                raise _Problem(loc, f"{name} is neither a field nor a material of {entry.item}")
        for key in sorted(before, key=order.__getitem__):
            issued = facts[key].issues
            if issued is None:
                continue
            licence, licence_fields = issued
            asked = [m for m, (stands_in, _) in own.materials.items() if stands_in == licence]
            asked += [f for f in own.fields if f in licence_fields]
            for name in asked:
                if name not in entry.from_results:
                    raise _Problem(
                        loc if entry.from_results else ("items", index),
                        f"{name} is what {key} issues: take it from its result "
                        f"(from_results) instead of asking for it",
                    )
    for index, entry in enumerate(spec.items):
        for name in facts[entry.key].fields:
            if name in taken and name not in entry.from_results:
                raise _Problem(
                    ("items", index),
                    f"{taken[name]} takes {name} from a result, but {entry.key} asks for it: "
                    "a merged form asks it once",
                )


def _reachable(edges: dict[str, list[str]], start: str) -> set[str]:
    """The keys ``start`` comes after, directly or through others."""
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo.extend(edges.get(key, ()))
    return seen


def _check_departments(spec: BundleSpec, department_of: DepartmentOf) -> None:
    """A department's items are handled as one application, which starts when the other
    departments' items it waits for are approved: departments waiting for each other (A's
    item after B's, B's after another of A's) would never start."""
    department = {i.key: department_of(i.item) or i.item for i in spec.items}
    edges: dict[str, set[str]] = {}
    for entry in spec.items:
        for before in entry.after:
            if department[before] != department[entry.key]:
                edges.setdefault(department[entry.key], set()).add(department[before])
    cycle = _cycle({d: sorted(targets) for d, targets in sorted(edges.items())})
    if cycle:
        index = next(
            n
            for n, i in enumerate(spec.items)
            if department[i.key] == cycle[0] and any(department[b] == cycle[1] for b in i.after)
        )
        raise _Problem(
            ("items", index, "after"),
            "a department's items are one application, and the departments would wait for "
            "each other: " + " -> ".join(cycle),
        )


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
