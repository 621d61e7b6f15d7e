"""Fewer materials (减材料): where each material an item asks for comes from.

A material need not be uploaded when the platform produces it from the filled form
(``generated``), when it is the applicant's own identity document and their sign-in verified
who they are at the level the catalog asks (``satisfied_by_identity``; never asked of a
company's representative acting for it), when a valid electronic licence the applicant (or
their company) holds stands in for it (``satisfied_by_licence``), or when another department
holds the fact and the exchange fetches it (``satisfied_by_data``). This module decides that,
the same way for the guide (before the person starts), the application page, and the share of
required materials a person need not upload (免提交率, ``free_share``).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from tongban.kit.i18n import LocalText


class Kind(enum.StrEnum):
    GENERATED = "generated"
    IDENTITY = "identity"
    LICENCE = "licence"
    DATA = "data"
    UPLOAD = "upload"


GENERATED_NAMES: dict[str, LocalText] = {
    "application_form": LocalText("申请书", "application form"),
    "declaration": LocalText("声明", "declaration"),
    "commitment": LocalText("告知承诺书", "commitment letter"),
}


class MaterialLike(Protocol):
    """A catalog material or an application's merged requirement."""

    code: str
    name_zh: str
    name_en: str
    required: bool
    satisfied_by_licence: str | None
    generated: str | None
    satisfied_by_identity: str | None
    satisfied_by_data: str | None


def level(acr: str | None) -> int:
    """The assurance level a sign-in's acr names (``tongban:loa:2`` is 2); 0 for none."""
    if not acr:
        return 0
    head, _, number = acr.rpartition(":")
    return int(number) if head == "tongban:loa" and number.isdigit() else 0


@dataclass(frozen=True)
class Standing:
    """What the platform knows of the one applying, as far as materials go."""

    # The sign-in's assurance level (OIDC acr); None when nobody is signed in.
    acr: str | None
    # The types of the valid licences the applicant (or their company) holds.
    licence_types: frozenset[str] = frozenset()
    # A company's representative acting for it: its register already names them.
    representative: bool = False
    # The exchange resources a fetch may come from, with the department holding each; a
    # resource missing here (or whose source is down) leaves the material to upload.
    resources: Mapping[str, LocalText] | None = None


@dataclass(frozen=True)
class Source:
    """Where one material comes from, and what the guide says replaces the upload."""

    kind: Kind
    # The generated kind, the assurance level, the licence type or the resource code.
    ref: str
    replaced_by: LocalText

    @property
    def free(self) -> bool:
        return self.kind is not Kind.UPLOAD


UPLOAD = Source(Kind.UPLOAD, "", LocalText("需上传", "upload needed"))


def generated_source(kind: str) -> Source:
    name = GENERATED_NAMES.get(kind, GENERATED_NAMES["application_form"])
    return Source(
        Kind.GENERATED,
        kind,
        LocalText(
            f"系统根据填报内容生成{name.zh}，按您的登录认证级别签名",
            f"the platform generates the {name.en} from your form and signs it for you",
        ),
    )


LEVEL_NAMES: dict[int, LocalText] = {
    1: LocalText("密码登录", "signed in with a password"),
    2: LocalText("密码加动态口令登录", "signed in with a password and an authenticator code"),
}


def identity_source(acr: str) -> Source:
    how = LEVEL_NAMES.get(level(acr), LocalText(acr, acr))
    return Source(
        Kind.IDENTITY,
        acr,
        LocalText(f"已核验的身份（实名认证，{how.zh}）", f"your verified identity ({how.en})"),
    )


def licence_source(type_code: str, name: LocalText) -> Source:
    return Source(
        Kind.LICENCE,
        type_code,
        LocalText(f"您的电子证照（{name.zh}）", f"your electronic licence ({name.en})"),
    )


def data_source(resource: str, department: LocalText) -> Source:
    return Source(
        Kind.DATA,
        resource,
        LocalText(f"从{department.zh}调取", f"fetched from the {department.en}"),
    )


def identity_suffices(needed: str, standing: Standing) -> bool:
    """Whether the sign-in vouches for the applicant's identity document: at the level the
    catalog asks or higher, or as a company's representative (the register names them)."""
    if standing.acr is None:
        return False
    return standing.representative or level(standing.acr) >= level(needed)


def source_of(
    material: MaterialLike,
    standing: Standing,
    *,
    licence_names: Mapping[str, LocalText] | None = None,
) -> Source:
    """The first way the platform has of providing ``material`` for ``standing``, strongest
    evidence first (a licence and a fetched record are grade A), else an upload."""
    if material.generated:
        return generated_source(material.generated)
    if material.satisfied_by_licence and material.satisfied_by_licence in standing.licence_types:
        name = (licence_names or {}).get(material.satisfied_by_licence)
        return licence_source(
            material.satisfied_by_licence,
            name or LocalText(material.name_zh, material.name_en),
        )
    resources = standing.resources or {}
    if material.satisfied_by_data and material.satisfied_by_data in resources:
        return data_source(material.satisfied_by_data, resources[material.satisfied_by_data])
    if material.satisfied_by_identity and identity_suffices(
        material.satisfied_by_identity, standing
    ):
        assert standing.acr is not None
        return identity_source(standing.acr)
    return UPLOAD


def possible_sources(
    material: MaterialLike,
    *,
    licence_names: Mapping[str, LocalText] | None = None,
    resources: Mapping[str, LocalText] | None = None,
) -> list[Source]:
    """Every way the catalog allows, whoever applies: what the guide tells a person before
    they start (an empty list: it must be uploaded)."""
    found = []
    if material.generated:
        found.append(generated_source(material.generated))
    if material.satisfied_by_licence:
        name = (licence_names or {}).get(material.satisfied_by_licence)
        found.append(
            licence_source(
                material.satisfied_by_licence,
                name or LocalText(material.name_zh, material.name_en),
            )
        )
    if material.satisfied_by_data and material.satisfied_by_data in (resources or {}):
        found.append(
            data_source(material.satisfied_by_data, (resources or {})[material.satisfied_by_data])
        )
    if material.satisfied_by_identity:
        found.append(identity_source(material.satisfied_by_identity))
    return found


def guide(
    materials: Iterable[MaterialLike],
    departments: Mapping[str, LocalText],
    licence_names: Mapping[str, LocalText],
) -> dict[str, list[Source]]:
    """For the guide, by material code: what may replace each upload. A resource's code starts
    with its department's (``exchange.schemas.ResourceSpec``), which names where it comes
    from without asking the exchange."""
    resources = {
        m.satisfied_by_data: departments[m.satisfied_by_data.split("-")[0]]
        for m in materials
        if m.satisfied_by_data and m.satisfied_by_data.split("-")[0] in departments
    }
    return {
        m.code: possible_sources(m, licence_names=licence_names, resources=resources)
        for m in materials
    }


class ItemLike(Protocol):
    code: str
    name_zh: str
    name_en: str
    audience: str

    @property
    def materials(self) -> Iterable[MaterialLike]: ...


@dataclass(frozen=True)
class ItemShare:
    code: str
    name: LocalText
    required: int
    free: int
    # Per required material: its code and where it comes from.
    sources: list[tuple[str, Source]]

    @property
    def share(self) -> Decimal:
        return percent(self.free, self.required)


@dataclass(frozen=True)
class FreeShare:
    """免提交率: the share of required materials a person need not upload."""

    items: list[ItemShare]

    @property
    def required(self) -> int:
        return sum(i.required for i in self.items)

    @property
    def free(self) -> int:
        return sum(i.free for i in self.items)

    @property
    def share(self) -> Decimal:
        return percent(self.free, self.required)


def percent(part: int, whole: int) -> Decimal:
    """A percentage to one decimal place; 100 where nothing is asked."""
    if whole == 0:
        return Decimal("100.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def free_share(
    items: Iterable[ItemLike],
    *,
    acr: str | None,
    licence_types: Collection[str],
    resources: Mapping[str, LocalText],
    licence_names: Mapping[str, LocalText] | None = None,
) -> FreeShare:
    """The share for a person signed in at ``acr`` who holds licences of ``licence_types``:
    a company's item is applied for as its representative (with the company's licences)."""
    found = []
    for item in items:
        standing = Standing(
            acr,
            frozenset(licence_types),
            representative=item.audience == "company",
            resources=resources,
        )
        sources = [
            (m.code, source_of(m, standing, licence_names=licence_names))
            for m in item.materials
            if m.required
        ]
        found.append(
            ItemShare(
                item.code,
                LocalText(item.name_zh, item.name_en),
                len(sources),
                sum(1 for _, s in sources if s.free),
                sources,
            )
        )
    return FreeShare(found)
