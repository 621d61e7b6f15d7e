"""Masking: what a reader sees of a field whose label their clearance does not dominate.

The functions are named and small; which one applies to which field is policy data
(``data/masking.yaml``): chosen by the field's semantic type (``id_number``, ``name``, ``phone``,
``birth_date``, ``address``, ``other``…), overridden by a rule for the field's grade. Every
function returns something derived from the value or a constant, never the value itself, and
``None`` stays ``None`` for the partial, hash and generalise functions (the reader learns only
that the field is empty; ``redact`` hides even that).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ValidationError

from tongban.security.crypto import CryptoSuite
from tongban.security.errors import SecurityConfigInvalid
from tongban.security.labels import Label, LabelScheme, default_scheme
from tongban.security.schemas import MaskingFile, MaskRuleSpec

REDACTED = "***"
MaskFn = Callable[[object], object]


# -- the masking functions ---------------------------------------------------------------------


def partial_mask(value: object, keep_start: int, keep_end: int) -> str | None:
    """``110101199003071234`` → ``110***********1234`` (3, 4); ``张三`` → ``张*`` (1, 0).

    A value too short to hide anything while keeping both ends is starred out whole.
    """
    return partial_masker(keep_start, keep_end)(value)


_STARS = tuple("*" * n for n in range(64))


def _stars(count: int) -> str:
    return _STARS[count] if count < 64 else "*" * count


def partial_masker(keep_start: int, keep_end: int) -> Callable[[object], str | None]:
    """``partial_mask`` with its ends fixed: the form the read path calls, once per value."""
    keep = keep_start + keep_end

    def mask(value: object) -> str | None:
        if value is None:
            return None
        text = value if type(value) is str else str(value)
        length = len(text)
        hidden = length - keep
        if hidden <= 0:
            return _stars(length)
        return f"{text[:keep_start]}{_stars(hidden)}{text[length - keep_end :]}"

    return mask


def redact(value: object) -> str:
    return REDACTED


def generalise_year(value: object) -> str | None:
    """A birth date (a ``date`` or ``YYYY-MM-DD``/``YYYYMMDD`` text) → its year."""
    if value is None:
        return None
    if isinstance(value, date):
        return f"{value.year:04d}"
    head = str(value).strip()[:4]
    return head if len(head) == 4 and head.isascii() and head.isdigit() else REDACTED


# Province, prefecture and county-level units, each a short name and its suffix. Names never hold
# digits, unit suffixes or street-level words, so a match cannot run on into the street address.
_NAME = r"[^省市区县旗\s\d０-９A-Za-z路街道巷弄号栋楼室村组]"
_DISTRICT = re.compile(
    rf"(?P<province>{_NAME}{{1,10}}?(?:省|自治区|特别行政区))?"
    rf"(?P<prefecture>{_NAME}{{1,12}}?(?:市|自治州|地区|盟))?"
    # …区 but not a residential compound, community, campus or park: 小区, 社区, 校区, 园区….
    rf"(?P<county>{_NAME}{{1,15}}?(?:(?<![小社园校景街片])区|县|旗|市))?"
)
_SPACE = re.compile(r"\s+")


def generalise_district(value: object) -> str | None:
    """An address → its county-level unit and above: ``浙江省杭州市西湖区文三路90号`` →
    ``浙江省杭州市西湖区``. Without a recognisable unit, the address is redacted whole."""
    if value is None:
        return None
    text = value if type(value) is str else str(value)
    if _SPACE.search(text):
        text = _SPACE.sub("", text)
    match = _DISTRICT.match(text)
    return (match.group() if match else "") or REDACTED


def keyed_hash(value: object, *, key: bytes, suite: CryptoSuite) -> str | None:
    """HMAC with the suite's hash: equal values stay equal (joinable), nothing can be read back.

    The first 128 bits, in hex: collision-free in practice and short enough for a listing.
    """
    if value is None:
        return None
    return suite.hmac(key, str(value).encode("utf-8"))[:16].hex()


# -- policy as data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MaskRule:
    function: Literal["partial", "hash", "redact", "generalise", "drop"]
    keep_start: int = 0
    keep_end: int = 0
    to: Literal["year", "district"] | None = None

    @classmethod
    def from_spec(cls, spec: MaskRuleSpec) -> MaskRule:
        return cls(spec.function, spec.keep_start or 0, spec.keep_end or 0, spec.to)


@dataclass(frozen=True)
class MaskingPolicy:
    semantic_types: Mapping[str, MaskRule]
    # (grade rank, rule), lowest rank first.
    grade_rules: tuple[tuple[int, MaskRule], ...] = ()

    def rule_for(self, label: Label, semantic: str) -> MaskRule:
        """The grade's rule if one applies at the label's grade, else the semantic type's."""
        chosen: MaskRule | None = None
        for rank, rule in self.grade_rules:
            if label.grade.rank >= rank:
                chosen = rule
        if chosen is not None:
            return chosen
        # `other` is the catch-all (the file must have it): a type the policy does not name, such
        # as `email` in the packaged one, gets the rule for anything else.
        return self.semantic_types.get(semantic) or self.semantic_types["other"]

    def uses_hash(self) -> bool:
        rules = [*self.semantic_types.values(), *(rule for _, rule in self.grade_rules)]
        return any(rule.function == "hash" for rule in rules)


def parse_policy(
    text: str, *, scheme: LabelScheme | None = None, source: str = "masking file"
) -> MaskingPolicy:
    scheme = scheme or default_scheme()
    try:
        spec = MaskingFile.model_validate(yaml.safe_load(text) or {})
    except (ValidationError, yaml.YAMLError) as exc:
        raise SecurityConfigInvalid(
            "The {source} is not valid: {problem}", source=source, problem=str(exc)
        ) from exc
    grade_rules = sorted(
        (scheme.grade(code).rank, MaskRule.from_spec(rule)) for code, rule in spec.grades.items()
    )
    return MaskingPolicy(
        {name: MaskRule.from_spec(rule) for name, rule in spec.semantic_types.items()},
        tuple(grade_rules),
    )


def load_policy(path: Path, *, scheme: LabelScheme | None = None) -> MaskingPolicy:
    return parse_policy(path.read_text(encoding="utf-8"), scheme=scheme, source=str(path))


@lru_cache
def default_policy() -> MaskingPolicy:
    text = resources.files("tongban.security").joinpath("data/masking.yaml").read_text("utf-8")
    return parse_policy(text, source="packaged masking file")


# -- from a rule to what the read path does ----------------------------------------------------


@dataclass(frozen=True)
class MaskAction:
    """``drop`` the field, put a ``constant`` in its place, or ``apply`` a function to it."""

    kind: Literal["drop", "constant", "apply"]
    constant: object = None
    fn: MaskFn | None = None


DROP = MaskAction("drop")
REDACT = MaskAction("constant", REDACTED)


@dataclass(frozen=True, eq=False)
class Masker:
    """A policy with what its functions need at run time: the hash key and suite.

    Compared by identity: read plans are cached per masker.
    """

    policy: MaskingPolicy
    hash_key: bytes | None = field(default=None, repr=False)
    suite: CryptoSuite | None = None

    def __post_init__(self) -> None:
        if self.policy.uses_hash() and (self.hash_key is None or self.suite is None):
            raise SecurityConfigInvalid(
                "The masking policy hashes values but no hash key and suite are configured."
            )

    def action_for(self, label: Label, semantic: str) -> MaskAction:
        return self.compile(self.policy.rule_for(label, semantic))

    def compile(self, rule: MaskRule) -> MaskAction:
        if rule.function == "drop":
            return DROP
        if rule.function == "redact":
            return REDACT
        if rule.function == "partial":
            return MaskAction("apply", fn=partial_masker(rule.keep_start, rule.keep_end))
        if rule.function == "generalise":
            return MaskAction(
                "apply", fn=generalise_year if rule.to == "year" else generalise_district
            )
        if self.hash_key is None or self.suite is None:  # also checked at construction
            raise SecurityConfigInvalid("Hash masking needs a hash key and a suite.")
        return MaskAction("apply", fn=partial(keyed_hash, key=self.hash_key, suite=self.suite))


@lru_cache
def default_masker() -> Masker:
    return Masker(default_policy())
