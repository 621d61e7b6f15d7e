"""The analytics domain's public API: the export, the figures, the early warnings and the demo
generator. Each function checks its policy first; the generator and the export are audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from tongban.analytics import (
    alerts,
    export,
    generator,
    policy,
    queries,
    repository,
    store,
    warnings,
)
from tongban.analytics.errors import FigureNotFound, InvalidFilter, NoExportYet
from tongban.analytics.sources import APPLICATION_EVENTS
from tongban.applications import evidence, sourcing
from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.config import get_settings
from tongban.errors import Forbidden
from tongban.evaluations import service as evaluations_service
from tongban.exchange import service as exchange_service
from tongban.identity.credentials import ACR_TWO_FACTOR
from tongban.identity.principals import Principal
from tongban.kit.clock import local_today, utcnow
from tongban.kit.workdays import get_calendar
from tongban.licences import demo as licences_demo
from tongban.licences import types as licence_types

MAX_DEMO_CASES = 5_000_000


def generate_demo_cases(
    session: Session,
    subject: Principal,
    *,
    cases: int,
    days: int = 365,
    seed: int = 1,
    slow_department: str = "HOUSING",
    end: datetime | None = None,
) -> generator.GenerationReport:
    """Write a year (``days``) of synthetic cases across the catalog, ending ``end`` (now)."""
    policy.require_generate_demo(subject)
    if not 1 <= cases <= MAX_DEMO_CASES:
        raise InvalidFilter(
            "The number of cases must be between 1 and {n}.", field="cases", n=MAX_DEMO_CASES
        )
    if not 7 <= days <= 3660:
        raise InvalidFilter("The period must be between 7 and 3660 days.", field="days")
    catalog_service.get_department(session, subject, slow_department)
    report = generator.generate(
        session,
        items=catalog_service.search(session, subject),
        officials=repository.officials_by_department(session),
        calendar=get_calendar(),
        cases=cases,
        days=days,
        seed=seed,
        slow_department=slow_department,
        end=end or utcnow(),
    )
    audit.record(
        session,
        actor=subject,
        action="analytics.demo_generated",
        target_type="analytics",
        target_id="demo",
        details={
            "cases": report.cases,
            "events": report.events,
            "seed": seed,
            "from": str(report.start),
            "to": str(report.end),
        },
    )
    return report


def export_events(
    session: Session,
    subject: Principal,
    *,
    directory: Path | None = None,
    batch_size: int = 200_000,
    progress: export.Progress | None = None,
) -> export.ExportReport:
    """Append the events that are new since the last run to the Parquet store."""
    policy.require_export(subject)
    settings = get_settings()
    report = export.run(
        session,
        directory or settings.analytics_path,
        timezone=settings.timezone,
        batch_size=batch_size,
        progress=progress,
    )
    audit.record(
        session,
        actor=subject,
        action="analytics.exported",
        target_type="analytics",
        target_id=str(report.directory),
        details={"new_rows": report.new_rows, "total_rows": report.total_rows},
    )
    return report


@dataclass(frozen=True)
class FigureView:
    name: str
    title: str
    source: str
    # When the data was read: now for the live database, the last export for Parquet.
    as_of: datetime | None
    filters: queries.Filters
    result: queries.Result


FIGURE_NAMES = tuple(queries.FIGURES)


def sees_every_department(session: Session, subject: Principal) -> bool:
    """Whether the reader's figures cover every department (a supervisor) or one (an official)."""
    return policy.require_view_figures(subject).everything


def figures(
    session: Session,
    subject: Principal,
    *,
    names: tuple[str, ...] = FIGURE_NAMES,
    filters: queries.Filters | None = None,
    source: str | None = None,
    directory: Path | None = None,
) -> list[FigureView]:
    """Figures for the reader's departments: an official's own, a supervisor's every one."""
    scope = policy.require_view_figures(subject)
    filters = _scoped(session, subject, scope, filters or queries.Filters(today=local_today()))
    for name in names:
        if name not in queries.FIGURES:
            raise FigureNotFound("There is no figure called {name}.", name=name)
    backend, as_of = _backend(session, source, directory)
    return [
        FigureView(
            name,
            queries.FIGURES[name].title,
            backend.name,
            as_of,
            filters,
            queries.run(backend, name, filters),
        )
        for name in names
    ]


def _scoped(
    session: Session, subject: Principal, scope: policy.Scope, filters: queries.Filters
) -> queries.Filters:
    if filters.by not in queries.KEYS:
        raise InvalidFilter("Figures can be grouped by item, department or channel.", field="by")
    if filters.period not in queries.PERIODS:
        raise InvalidFilter("The period is a week or a month.", field="period")
    if filters.start and filters.end and filters.start >= filters.end:
        raise InvalidFilter("The start date must come before the end date.", field="start")
    if filters.channel not in (None, repository.ONLINE, repository.COUNTER):
        raise InvalidFilter("The channel is online or counter.", field="channel")
    if filters.item is not None:
        catalog_service.get_item(session, subject, filters.item)
    if filters.department is not None:
        catalog_service.get_department(session, subject, filters.department)
    if scope.everything:
        return filters
    own = next(
        d for d in catalog_service.list_departments(session, subject) if d.id == scope.department_id
    )
    if filters.department not in (None, own.code):
        raise Forbidden("You can see your own department's figures only.")
    # An official grouping by department sees one row, their own.
    return queries.Filters(**{**vars(filters), "department": own.code})


def _backend(
    session: Session, source: str | None, directory: Path | None
) -> tuple[queries.Backend, datetime | None]:
    settings = get_settings()
    source = source or settings.analytics_source
    if source == "live":
        return queries.live_backend(session, settings.timezone), utcnow()
    if source != "parquet":
        raise InvalidFilter("The source is live or parquet.", field="source")
    folder = directory or settings.analytics_path
    state = export.read_manifest(folder).get(APPLICATION_EVENTS.name)
    if state is None or state.rows == 0:
        raise NoExportYet("Nothing has been exported yet: run `tongban analytics export` first.")
    exported_at = datetime.fromisoformat(state.exported_at) if state.exported_at else None
    return store.backend(folder), exported_at


def early_warnings(
    session: Session,
    subject: Principal,
    *,
    today: date | None = None,
    within_working_days: int = 2,
    source: str | None = None,
    directory: Path | None = None,
) -> warnings.Warnings:
    """Cases about to pass their promised time limit (or past it), and departments whose figures
    got worse from one week to the next."""
    scope = policy.require_view_warnings(subject)
    today = today or local_today()
    department = None
    if not scope.everything:
        department = next(
            d.code
            for d in catalog_service.list_departments(session, subject)
            if d.id == scope.department_id
        )
    backend, as_of = _backend(session, source, directory)
    return warnings.compute(
        backend,
        today=today,
        calendar=get_calendar(),
        department=department,
        within_working_days=within_working_days,
        as_of=as_of,
        horizon=today + timedelta(days=3 * within_working_days + 14),
    )


def may_notify_supervisors(subject: Principal) -> bool:
    try:
        policy.require_notify_warnings(subject)
    except Forbidden:
        return False
    return True


def notify_supervisors(
    session: Session,
    subject: Principal,
    *,
    today: date | None = None,
    source: str | None = None,
    directory: Path | None = None,
) -> alerts.Told:
    """Tell every supervisor of today's early warnings across all departments, each warning
    at most once a day (``tongban analytics notify-warnings`` from cron, or the page's
    button)."""
    policy.require_notify_warnings(subject)
    today = today or local_today()
    found = early_warnings(session, subject, today=today, source=source, directory=directory)
    told = alerts.tell(session, subject, found, today)
    audit.record(
        session,
        actor=subject,
        action="analytics.warnings_sent",
        target_type="analytics",
        target_id=today.isoformat(),
        details={
            "cases": len(found.at_risk),
            "departments": len(found.worsening),
            "supervisors": told.supervisors,
            "messages": told.messages,
        },
    )
    return told


@dataclass(frozen=True)
class Ratings:
    """Satisfaction from the good/bad evaluations and the rectification of bad ones, read live
    from the evaluations domain (they are few: one per finished case at most)."""

    departments: list[evaluations_service.Figures]
    items: list[evaluations_service.Figures]
    rectifications: list[evaluations_service.RectificationFigures]


def ratings(session: Session, subject: Principal) -> Ratings:
    """Satisfaction per department and item and rectification status: an official's own
    department's, a supervisor's every one."""
    scope = policy.require_view_figures(subject)
    found = evaluations_service.satisfaction(session, subject)
    rectifications = evaluations_service.rectification_figures(session, subject)
    if scope.department_id is None:
        return Ratings(found.departments, found.items, rectifications)
    own = catalog_service.get_department_by_id(session, subject, scope.department_id)
    own_items = {i.code for i in catalog_service.search(session, subject, department=own.code)}
    return Ratings(
        [f for f in found.departments if f.code == own.code],
        [f for f in found.items if f.code in own_items],
        [r for r in rectifications if r.code == own.code],
    )


@dataclass(frozen=True)
class EvidenceGrades:
    """How credible the materials of one item's requirement were, over its filed cases."""

    item_code: str
    material: str
    required_grade: str
    # Materials per grade, A to D.
    counts: dict[str, int]

    @property
    def below_required(self) -> int:
        return sum(n for g, n in self.counts.items() if not evidence.meets(g, self.required_grade))


def evidence_grades(session: Session, subject: Principal) -> list[EvidenceGrades]:
    """Credibility grades of the materials of filed applications, per item and material, for
    the reader's departments (an official's own, a supervisor's every one)."""
    scope = policy.require_view_figures(subject)
    found: dict[tuple[str, str, str], dict[evidence.Grade, int]] = {}
    for item, material, required, grade, count in repository.evidence_grades(
        session, scope.department_id
    ):
        counts = found.setdefault((item, material, required), dict.fromkeys(evidence.ORDER, 0))
        counts[evidence.parse(grade)] += count
    return [
        EvidenceGrades(item, material, required, {g.value: n for g, n in counts.items()})
        for (item, material, required), counts in found.items()
    ]


def materials_free_share(
    session: Session,
    subject: Principal,
    *,
    acr: str = ACR_TWO_FACTOR,
    licence_types_held: tuple[str, ...] = licences_demo.HELD_TYPES,
) -> sourcing.FreeShare:
    """免提交率: per published item and overall, the share of required materials a person need
    not upload when signed in at ``acr`` holding licences of ``licence_types_held`` (by
    default a verified person holding the demo licences), with the resources the exchange
    holds now. Read from the catalog; no case is looked at."""
    policy.require_view_figures(subject)
    published = catalog_service.published(session, subject)
    return sourcing.free_share(
        published.items,
        acr=acr,
        licence_types=licence_types_held,
        resources=exchange_service.holders(session, subject),
        licence_names=licence_types.names(),
    )
