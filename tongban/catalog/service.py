"""The catalog's public API: read the guide, load it from data files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import cache, policy, repository
from tongban.catalog import version as catalog_version
from tongban.catalog.errors import CatalogFileInvalid, DepartmentNotFound, ItemNotFound
from tongban.catalog.models import Department, MaterialRequirement, ServiceItem
from tongban.catalog.schemas import DepartmentSpec, ItemRead, ItemSpec
from tongban.errors import InvalidInput
from tongban.identity.principals import Principal
from tongban.kit import datafiles
from tongban.security import deployment
from tongban.security.errors import LabelInvalid

DEMO_CATALOG = "data/demo"


def search(
    session: Session,
    subject: Principal,
    *,
    text: str | None = None,
    department: str | None = None,
    audience: str | None = None,
    online_only: bool = False,
) -> Sequence[ServiceItem]:
    policy.require_read_catalog(subject)
    return repository.search_items(
        session, text=text, department_code=department, audience=audience, online_only=online_only
    )


def published(session: Session, subject: Principal) -> cache.Snapshot:
    """The published catalog (departments, active items with their guides) as read models, from
    memory while the catalog is unchanged: a request reads only its version."""
    policy.require_read_catalog(subject)
    return cache.current(session)


def published_item(session: Session, subject: Principal, code: str) -> ItemRead:
    """One item's guide from ``published``; ItemNotFound if no active item has ``code``."""
    policy.require_read_catalog(subject)
    item = cache.current(session).item(code)
    if item is None:
        raise _not_found(code)
    return item


def _not_found(code: str) -> ItemNotFound:
    return ItemNotFound("No service item has the code {code}.", field="item_code", code=code)


def get_item(session: Session, subject: Principal, code: str) -> ServiceItem:
    """An active item with its department and materials, from memory while the catalog is
    unchanged (as the database holds it, once this transaction changed the catalog)."""
    policy.require_read_catalog(subject)
    if catalog_version.changed(session):
        item = repository.item_by_code(session, code)
        if item is not None and not item.active:
            item = None
    else:
        item = cache.current(session).row(session, code)
    if item is None:
        raise _not_found(code)
    return item


def list_departments(session: Session, subject: Principal) -> Sequence[Department]:
    policy.require_read_catalog(subject)
    return repository.departments(session)


def get_department(session: Session, subject: Principal, code: str) -> Department:
    policy.require_read_catalog(subject)
    department = repository.department_by_code(session, code)
    if department is None:
        raise DepartmentNotFound("No department has the code {code}.", code=code)
    return department


def get_department_by_id(session: Session, subject: Principal, department_id: int) -> Department:
    policy.require_read_catalog(subject)
    department = session.get(Department, department_id)
    if department is None:
        raise DepartmentNotFound("No department has the code {code}.", code=str(department_id))
    return department


@dataclass
class LoadReport:
    departments_created: int = 0
    departments_updated: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_unchanged: int = 0


def demo_catalog_dir() -> Path:
    return Path(str(resources.files("tongban.catalog").joinpath(DEMO_CATALOG)))


def read_catalog_dir(directory: Path) -> tuple[list[DepartmentSpec], list[ItemSpec]]:
    """Parse and validate ``departments.yaml`` and ``items/*.yaml``; raise naming the bad file."""
    departments_path = directory / "departments.yaml"
    departments: list[DepartmentSpec] = _parse(departments_path, list[DepartmentSpec])
    known: set[str] = set()
    for index, department in enumerate(departments):
        if department.code in known:
            _invalid(
                departments_path, f"{index}.code", f"duplicate department code {department.code}"
            )
        known.add(department.code)
    items: list[ItemSpec] = []
    found_in: dict[str, Path] = {}
    for path in sorted((directory / "items").glob("*.yaml")):
        for index, item in enumerate(_parse(path, list[ItemSpec])):
            if item.code in found_in:
                _invalid(
                    path,
                    f"{index}.code",
                    f"duplicate item code {item.code} (also in {found_in[item.code].name})",
                )
            if item.department not in known:
                _invalid(path, f"{index}.department", f"unknown department {item.department}")
            for place, field in enumerate(item.fields):
                try:
                    deployment.scheme().parse_label(field.security_label)
                except LabelInvalid as exc:
                    _invalid(path, f"{index}.fields.{place}.security_label", str(exc))
            found_in[item.code] = path
            items.append(item)
    return departments, items


def _invalid(path: Path, where: str, problem: str) -> NoReturn:
    # The same message as a schema error, so every refusal names the file and the entry.
    raise CatalogFileInvalid(
        "{path}: {where}: {problem} ({count} problem(s) in all)",
        path=str(path),
        where=where,
        problem=problem,
        count=1,
    )


def _parse(path: Path, shape: Any) -> Any:
    return datafiles.load_yaml(path, shape, CatalogFileInvalid)


def load_catalog(session: Session, subject: Principal, directory: Path) -> LoadReport:
    """Create or update departments and items from data files, in the caller's transaction."""
    policy.require_manage_catalog(subject)
    department_specs, item_specs = read_catalog_dir(directory)
    return upsert(
        session, subject, departments=department_specs, items=item_specs, source=directory.name
    )


def upsert(
    session: Session,
    subject: Principal,
    *,
    departments: Sequence[DepartmentSpec],
    items: Sequence[ItemSpec],
    source: str,
) -> LoadReport:
    """Create or update departments and items from validated specs (data files, or the items a
    federation node inherits from the level above); ``source`` names where they came from."""
    policy.require_manage_catalog(subject)
    report = LoadReport()
    by_code: dict[str, Department] = {}
    for dspec in departments:
        department = repository.department_by_code(session, dspec.code)
        values = dspec.model_dump()
        if department is None:
            department = Department(**values)
            session.add(department)
            report.departments_created += 1
        elif _assign(department, values):
            report.departments_updated += 1
        by_code[dspec.code] = department
    session.flush()
    for ispec in items:
        # Items may come from another node: their labels must name this deployment's grades.
        for field in ispec.fields:
            deployment.scheme().parse_label(field.security_label)
        department = by_code.get(ispec.department) or repository.department_by_code(
            session, ispec.department
        )
        if department is None:
            raise DepartmentNotFound("No department has the code {code}.", code=ispec.department)
        _upsert_item(session, subject, ispec, department, report)
    audit.record(
        session,
        actor=subject,
        action="catalog.loaded",
        target_type="catalog",
        target_id=source,
        details=vars(report).copy(),
    )
    return report


def put_item(session: Session, subject: Principal, code: str, spec: ItemSpec) -> ServiceItem:
    """Create or change one item from its spec (a withdrawn one is published again); its
    department must exist. Every process serves the new guide from its next request."""
    policy.require_manage_catalog(subject)
    if spec.code != code:
        raise InvalidInput(
            "The item in the body has the code {given}, the address {code}.",
            field="code",
            given=spec.code,
            code=code,
        )
    upsert(session, subject, departments=[], items=[spec], source="api")
    item = repository.item_by_code(session, code)
    assert item is not None  # just written
    if not item.active:
        item.active = True
        item.version += 1
        audit.record(
            session,
            actor=subject,
            action="catalog.item_published",
            target_type="service_item",
            target_id=code,
            details={"version": item.version},
        )
    return item


def withdraw_item(session: Session, subject: Principal, code: str) -> bool:
    """Take an item out of the published catalog (kept, so its applications stay explainable);
    False if there was no active item with that code."""
    policy.require_manage_catalog(subject)
    item = repository.item_by_code(session, code)
    if item is None or not item.active:
        return False
    item.active = False
    item.version += 1
    audit.record(
        session,
        actor=subject,
        action="catalog.item_withdrawn",
        target_type="service_item",
        target_id=code,
        details={"version": item.version},
    )
    return True


def export(session: Session, subject: Principal) -> tuple[list[DepartmentSpec], list[ItemSpec]]:
    """The published catalog as specs, the same shape data files load from."""
    policy.require_read_catalog(subject)
    items = repository.search_items(
        session, text=None, department_code=None, audience=None, online_only=False
    )
    codes = {item.department.code for item in items}
    departments = [
        DepartmentSpec.model_validate(d, from_attributes=True)
        for d in repository.departments(session)
        if d.code in codes
    ]
    return departments, [item_spec(item) for item in items]


def item_spec(item: ServiceItem) -> ItemSpec:
    values: dict[str, Any] = {
        name: getattr(item, name)
        for name in ItemSpec.model_fields
        if name not in ("department", "materials", "fields")
    }
    return ItemSpec(
        **values,
        department=item.department.code,
        materials=[
            {k: v for k, v in _material_values(m).items() if k != "position"}
            for m in item.materials
        ],
        fields=item.fields,
    )


def _upsert_item(
    session: Session,
    subject: Principal,
    spec: ItemSpec,
    department: Department,
    report: LoadReport,
) -> None:
    values = spec.model_dump(exclude={"department", "materials", "fields"})
    values["department_id"] = department.id
    values["fields"] = [f.model_dump(mode="json", exclude_none=True) for f in spec.fields]
    materials = [
        MaterialRequirement(position=n, **m.model_dump()) for n, m in enumerate(spec.materials)
    ]
    item = repository.item_by_code(session, spec.code)
    if item is None:
        item = ServiceItem(**values, materials=materials)
        session.add(item)
        session.flush()
        report.items_created += 1
        action = "catalog.item_created"
    else:
        old_materials = [_material_values(m) for m in item.materials]
        changed = _assign(item, values)
        if old_materials != [_material_values(m) for m in materials]:
            item.materials = materials
            changed = True
        if not changed:
            report.items_unchanged += 1
            return
        item.version += 1
        report.items_updated += 1
        action = "catalog.item_updated"
    audit.record(
        session,
        actor=subject,
        action=action,
        target_type="service_item",
        target_id=item.code,
        details={"version": item.version},
    )


def _material_values(material: MaterialRequirement) -> dict[str, Any]:
    return {
        c: getattr(material, c)
        for c in (
            "position",
            "code",
            "name_zh",
            "name_en",
            "form",
            "required",
            "types",
            "max_mb",
            "note_zh",
            "note_en",
            "required_grade",
            "satisfied_by_licence",
            "generated",
            "satisfied_by_identity",
            "satisfied_by_data",
        )
    }


def _assign(obj: object, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed
