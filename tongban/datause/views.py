"""Uses of data as a person reads them: the reading department and system, the items by their
plain-language names, the purpose as stated. Never a value: only names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tongban.catalog.models import MaterialRequirement, ServiceItem
from tongban.datause import repository
from tongban.datause.models import Channel, DataUse
from tongban.kit.i18n import LocalText

PLATFORM = {
    Channel.CASE_READ: LocalText(
        "一网通办平台（工作人员查看办件）", "Tongban platform (an official opened the case)"
    ),
    Channel.MATERIAL_READ: LocalText(
        "一网通办平台（工作人员查看材料）", "Tongban platform (an official opened a material)"
    ),
    Channel.CASE_SEARCH: LocalText(
        "一网通办平台（工作人员查询办件）", "Tongban platform (an official searched cases)"
    ),
}
PURPOSES = {
    "case_handling": LocalText("办理申请 {ref}", "Handling application {ref}"),
    "counter_service": LocalText(
        "在综合窗口办理申请 {ref}", "Serving application {ref} at the single window"
    ),
    "case_search": LocalText(
        "查询办件时列出申请 {ref}", "Application {ref} listed in a search of cases"
    ),
    "case_export": LocalText(
        "导出办件时导出申请 {ref}", "Application {ref} written to an export of cases"
    ),
}
UNKNOWN = LocalText("（已删除）", "(removed)")


@dataclass(frozen=True)
class DataUseView:
    id: int
    at: datetime  # the last use, for an entry grouping an official's repeats of one day
    first_at: datetime
    times: int
    channel: Channel
    department: LocalText
    system: LocalText
    items: list[LocalText]
    purpose: LocalText
    reference: str


def build(session: Session, rows: Sequence[DataUse]) -> list[DataUseView]:
    """Views of ``rows``, with every name looked up once per page."""
    departments = repository.departments(
        session, {r.department_id for r in rows if r.department_id}
    )
    systems = repository.systems(session, {r.system_id for r in rows if r.system_id})
    resource_ids = {r.resource_id for r in rows if r.resource_id}
    resources = repository.resources(session, resource_ids)
    resource_items = repository.resource_items(session, resource_ids)
    item_ids = {r.service_item_id for r in rows if r.service_item_id}
    service_items = repository.service_items(session, item_ids)
    materials = repository.material_requirements(session, item_ids)
    views = []
    for row in rows:
        department = departments.get(row.department_id or 0)
        if row.channel is Channel.GATEWAY:
            system = systems.get(row.system_id or 0)
            resource = resources.get(row.resource_id or 0)
            system_name = LocalText(system.name, system.name) if system else UNKNOWN
            if resource is not None:
                system_name = LocalText(
                    f"{system_name.zh}，经数据共享交换平台调用“{resource.title_zh}”",
                    f"{system_name.en}, through the data sharing exchange ({resource.title_en})",
                )
            items = [
                LocalText(found.name_zh, found.name_en) if found else LocalText(code, code)
                for code in row.items
                for found in [resource_items.get((row.resource_id or 0, code))]
            ]
            purpose = LocalText(row.purpose_text or row.purpose, row.purpose_text or row.purpose)
        else:
            system_name = PLATFORM[row.channel]
            item = service_items.get(row.service_item_id or 0)
            items = _case_items(row, item, materials)
            template = PURPOSES.get(row.purpose, LocalText(row.purpose, row.purpose))
            what = f"{row.reference}（{item.name_zh}）" if item else row.reference
            what_en = f"{row.reference} ({item.name_en})" if item else row.reference
            purpose = LocalText(template.zh.format(ref=what), template.en.format(ref=what_en))
        views.append(
            DataUseView(
                row.id,
                row.at,
                row.first_at or row.at,
                row.times,
                row.channel,
                LocalText(department.name_zh, department.name_en) if department else UNKNOWN,
                system_name,
                items,
                purpose,
                row.reference,
            )
        )
    return views


def _case_items(
    row: DataUse,
    item: ServiceItem | None,
    materials: dict[tuple[int, str], MaterialRequirement],
) -> list[LocalText]:
    if row.channel is Channel.MATERIAL_READ:
        named = [materials.get((row.service_item_id or 0, code)) for code in row.items]
        return [
            LocalText(m.name_zh, m.name_en) if m is not None else LocalText(code, code)
            for code, m in zip(row.items, named, strict=True)
        ]
    labels = {f["name"]: f for f in (item.fields if item is not None else [])}
    return [
        LocalText(labels[code]["label_zh"], labels[code]["label_en"])
        if code in labels
        else LocalText(code, code)
        for code in row.items
    ]
