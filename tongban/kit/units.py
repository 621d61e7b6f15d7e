"""Units of measure a form field or a licence field may declare, and exact conversion between
units of one dimension (a form asks for yuan, a business licence prints 万元)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, Inexact, localcontext
from typing import Literal

UnitName = Literal["yuan", "10k_yuan", "sqm", "month", "year"]


@dataclass(frozen=True)
class Unit:
    dimension: str
    # How many of the dimension's base unit one of this unit is.
    factor: Decimal
    zh: str
    en: str


UNITS: dict[UnitName, Unit] = {
    "yuan": Unit("money", Decimal(1), "元", "yuan"),
    "10k_yuan": Unit("money", Decimal(10_000), "万元", "10,000 yuan"),
    "sqm": Unit("area", Decimal(1), "平方米", "m²"),
    "month": Unit("time", Decimal(1), "个月", "months"),
    "year": Unit("time", Decimal(12), "年", "years"),
}


def convertible(source: UnitName | None, target: UnitName | None) -> bool:
    """Whether a value in ``source`` can be shown in ``target``: the same unit (or neither has
    one), or two units of one dimension."""
    if source is None or target is None:
        return source == target
    return UNITS[source].dimension == UNITS[target].dimension


def convert(value: Decimal, source: UnitName, target: UnitName) -> Decimal:
    """``value`` in ``source`` expressed in ``target``, exactly; ValueError for units of two
    dimensions or a result that has no exact decimal form."""
    if not convertible(source, target):
        raise ValueError(f"{source} cannot be converted to {target}")
    if source == target:
        return value
    with localcontext() as context:
        context.prec = 60
        context.traps[Inexact] = True
        try:
            return value * UNITS[source].factor / UNITS[target].factor
        except Inexact:
            raise ValueError(f"{value} {source} has no exact value in {target}") from None


def plain(value: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
