"""Checking a filled form against the item's field schema."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tongban.catalog.schemas import FieldSpec
from tongban.errors import InvalidInput
from tongban.identity.numbers import phone_problem, resident_id_problem, uscc_problem
from tongban.kit.i18n import LocalText

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean(fields: list[FieldSpec], data: dict[str, Any], *, complete: bool) -> dict[str, Any]:
    """Return the form with values normalised; raise on the first bad field.

    A draft may leave required fields empty (``complete=False``); a submission may not.
    """
    known = {f.name for f in fields}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput("The form has no field named {name}.", field=unknown[0], name=unknown[0])
    cleaned: dict[str, Any] = {}
    for spec in fields:
        value = data.get(spec.name)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, "", False) and spec.type != "checkbox" or value is None:
            if spec.required and complete:
                raise InvalidInput("Please fill in {label}.", field=spec.name, label=_label(spec))
            continue
        cleaned[spec.name] = _clean_value(spec, value)
    if complete:
        for spec in fields:
            if spec.type == "checkbox" and spec.required and cleaned.get(spec.name) is not True:
                raise InvalidInput("Please confirm {label}.", field=spec.name, label=_label(spec))
    return cleaned


def _label(spec: FieldSpec) -> LocalText:
    return LocalText(spec.label_zh, spec.label_en)


def _clean_value(spec: FieldSpec, value: Any) -> Any:
    if spec.type == "checkbox":
        if isinstance(value, bool):
            return value
        if value in ("on", "true", "1", "yes"):
            return True
        raise InvalidInput(
            "{label} must be ticked or left empty.", field=spec.name, label=_label(spec)
        )
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidInput(
            "{label} has a value of the wrong kind.", field=spec.name, label=_label(spec)
        )
    text = str(value)
    match spec.type:
        case "text" | "textarea":
            limit = spec.max_length or (2000 if spec.type == "textarea" else 200)
            if len(text) > limit:
                raise InvalidInput(
                    "{label} may have at most {n} characters.",
                    field=spec.name,
                    label=_label(spec),
                    n=limit,
                )
            return text
        case "number":
            try:
                number = Decimal(text)
            except InvalidOperation:
                number = Decimal("NaN")
            if not number.is_finite():
                raise InvalidInput("{label} must be a number.", field=spec.name, label=_label(spec))
            if spec.min is not None and number < spec.min:
                raise InvalidInput(
                    "{label} must be at least {n}.", field=spec.name, label=_label(spec), n=spec.min
                )
            if spec.max is not None and number > spec.max:
                raise InvalidInput(
                    "{label} must be at most {n}.", field=spec.name, label=_label(spec), n=spec.max
                )
            # Stored as text: exact, and JSON has no decimal type.
            return str(number)
        case "date":
            try:
                return date.fromisoformat(text).isoformat()
            except ValueError:
                raise InvalidInput(
                    "{label} must be a date like 2026-01-31.", field=spec.name, label=_label(spec)
                ) from None
        case "select":
            allowed = [o.value for o in spec.options or []]
            if text not in allowed:
                raise InvalidInput(
                    "{label} must be one of the listed choices.",
                    field=spec.name,
                    label=_label(spec),
                )
            return text
        # Typed identifiers are checked by the same functions as registration and the counter.
        case "id_number":
            problem = resident_id_problem(text)
            if problem:
                raise InvalidInput(problem, field=spec.name)
            return text.upper()
        case "credit_code":
            problem = uscc_problem(text)
            if problem:
                raise InvalidInput(problem, field=spec.name)
            return text.upper()
        case "phone":
            problem = phone_problem(text)
            if problem:
                raise InvalidInput(problem, field=spec.name)
            return text
        case "email":
            if not _EMAIL.match(text) or len(text) > 254:
                raise InvalidInput(
                    "{label} must be an e-mail address.", field=spec.name, label=_label(spec)
                )
            return text
    raise AssertionError(f"unhandled field type {spec.type}")
