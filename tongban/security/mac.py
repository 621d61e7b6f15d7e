"""Mandatory access control on records: the one place every read path goes through.

A read path hands ``enforce`` the reader's clearance, the records (dicts) and the records' field
schema ``{name: (label, semantic type)}``; it gets back records holding only what the reader may
see: readable fields as they are, the rest masked, redacted or dropped as the masking policy says.
Rows are never dropped, so a count never depends on a field the reader cannot read; filtering and
sorting are allowed only on readable fields (``require_readable``), with one error for a hidden
field and a field that does not exist.

Dominance is decided once per (clearance, schema, masker) into a ``ReadPlan`` and cached; applying
a plan to a record is a dict copy plus the masking itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, NamedTuple, TypeAlias

from tongban.security.errors import FieldNotUsable, UnlabelledField, WriteDownRefused
from tongban.security.labels import Clearance, Label, dominates, join
from tongban.security.masking import Masker, MaskFn, default_masker

Record: TypeAlias = Mapping[str, Any]
# Tells a field the record lacks from one that holds None (which the masking functions keep).
_ABSENT = object()


class LabelledField(NamedTuple):
    label: Label
    # Picks the masking rule: id_number, name, phone, birth_date, address, other…
    semantic: str = "other"


@dataclass(frozen=True)
class Schema:
    """The labelled fields of one kind of record, hashable so read plans can be cached on it."""

    fields: tuple[tuple[str, LabelledField], ...]

    @classmethod
    def of(cls, fields: Mapping[str, LabelledField | tuple[Label, str]]) -> Schema:
        return cls(tuple((name, LabelledField(*spec)) for name, spec in fields.items()))

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.fields)


SchemaLike: TypeAlias = Schema | Mapping[str, LabelledField | tuple[Label, str]]


@dataclass(frozen=True)
class ReadPlan:
    """What one reader sees of one schema, decided once."""

    # Shown as they are, and so usable to filter and sort by.
    readable: frozenset[str]
    # Present in the output (readable, masked or redacted), in schema order: e.g. CSV columns.
    columns: tuple[str, ...]
    known: frozenset[str]
    constants: Mapping[str, object] = field(default_factory=dict)
    functions: tuple[tuple[str, MaskFn], ...] = ()
    dropped: tuple[str, ...] = ()

    def apply(self, records: Iterable[Record]) -> list[dict[str, Any]]:
        if not (self.constants or self.functions or self.dropped):
            # The reader may read every field: a plain copy, then one check for unlabelled keys.
            copied = list(map(dict, records))
            if not all(map(self.known.issuperset, copied)):
                raise self._unlabelled(next(r for r in copied if not self.known.issuperset(r)))
            return copied
        known, constants, functions, dropped = (
            self.known,
            self.constants,
            self.functions,
            self.dropped,
        )
        out: list[dict[str, Any]] = []
        append = out.append
        for record in records:
            if not known.issuperset(record):
                raise self._unlabelled(record)
            row = dict(record)
            # Set even where the record lacks the field: a constant tells nothing, and its
            # absence would tell that the value is missing.
            row.update(constants)
            for name, fn in functions:
                value = row.get(name, _ABSENT)
                if value is not _ABSENT:
                    row[name] = fn(value)
            for name in dropped:
                row.pop(name, None)
            append(row)
        return out

    def _unlabelled(self, record: Record) -> UnlabelledField:
        name = sorted(set(record) - self.known)[0]
        return UnlabelledField(
            "A record has a field without a security label; the read was refused.", field=name
        )


def as_schema(schema: SchemaLike) -> Schema:
    return schema if isinstance(schema, Schema) else Schema.of(schema)


@lru_cache(maxsize=4096)
def _plan(clearance: Clearance, schema: Schema, masker: Masker) -> ReadPlan:
    readable: list[str] = []
    columns: list[str] = []
    constants: dict[str, object] = {}
    functions: list[tuple[str, MaskFn]] = []
    dropped: list[str] = []
    for name, (label, semantic) in schema.fields:
        if dominates(clearance, label):
            readable.append(name)
            columns.append(name)
            continue
        action = masker.action_for(label, semantic)
        if action.kind == "drop":
            dropped.append(name)
            continue
        columns.append(name)
        if action.kind == "constant":
            constants[name] = action.constant
        else:
            assert action.fn is not None
            functions.append((name, action.fn))
    return ReadPlan(
        frozenset(readable),
        tuple(columns),
        schema.names,
        constants,
        tuple(functions),
        tuple(dropped),
    )


def plan(clearance: Clearance, schema: SchemaLike, *, masker: Masker | None = None) -> ReadPlan:
    return _plan(clearance, as_schema(schema), masker or default_masker())


def enforce(
    clearance: Clearance,
    records: Iterable[Record],
    schema: SchemaLike,
    *,
    masker: Masker | None = None,
) -> list[dict[str, Any]]:
    """New records holding only what ``clearance`` may see of ``records``; inputs are not changed.

    A key the schema does not label refuses the whole read (``UnlabelledField``): it would
    otherwise pass unchecked.
    """
    return plan(clearance, schema, masker=masker).apply(records)


def readable_fields(
    clearance: Clearance, schema: SchemaLike, *, masker: Masker | None = None
) -> frozenset[str]:
    """The fields ``clearance`` may read as they are: the only ones to filter or sort by."""
    return plan(clearance, schema, masker=masker).readable


def require_readable(
    clearance: Clearance,
    schema: SchemaLike,
    names: Iterable[str],
    *,
    masker: Masker | None = None,
) -> None:
    """Refuse to filter or sort by a field the reader may not read (or that does not exist)."""
    readable = readable_fields(clearance, schema, masker=masker)
    for name in names:
        if name not in readable:
            raise FieldNotUsable(
                "This list cannot be filtered or sorted by {name}.", field=name, name=name
            )


def query(
    clearance: Clearance,
    records: Sequence[Record],
    schema: SchemaLike,
    *,
    where: Mapping[str, object] | None = None,
    order_by: Sequence[str] = (),
    descending: bool = False,
    masker: Masker | None = None,
) -> list[dict[str, Any]]:
    """Filter (equality), sort and enforce an in-memory list, e.g. search results or an export.

    Filter and sort fields are checked first, so the result's length and order depend only on
    values the reader may read.
    """
    where = where or {}
    require_readable(clearance, schema, [*where, *order_by], masker=masker)
    chosen = [r for r in records if all(r.get(k) == v for k, v in where.items())]
    if order_by:
        # None sorts last (first when descending), and never meets a value in a comparison.
        chosen.sort(
            key=lambda r: tuple((r.get(k) is None, r.get(k)) for k in order_by),
            reverse=descending,
        )
    return enforce(clearance, chosen, schema, masker=masker)


def may_write(
    subject: Clearance,
    source_labels: Iterable[Label],
    target_label: Label,
    *,
    no_write_down: bool = True,
) -> bool:
    """Whether ``subject`` may write data derived from sources at ``source_labels`` at
    ``target_label``.

    Nobody derives from what they may not read; and with the no-write-down rule on (the default),
    the target's label must dominate every source's, so derived data never lands lower than what
    it came from. Writing up is allowed, as in Bell–LaPadula.
    """
    sources = tuple(source_labels)
    if not all(dominates(subject, source) for source in sources):
        return False
    return not (no_write_down and sources and not dominates(target_label, join(*sources)))


def require_write(
    subject: Clearance,
    source_labels: Iterable[Label],
    target_label: Label,
    *,
    no_write_down: bool = True,
) -> None:
    if not may_write(subject, source_labels, target_label, no_write_down=no_write_down):
        raise WriteDownRefused(
            "Data derived from these sources cannot be written at the label {label}.",
            label=str(target_label),
        )
