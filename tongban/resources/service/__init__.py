"""The resources domain's public API: the person and company registers, department records,
entity resolution, the data steward's review queue, reversible links, authoritative values and
conflicts, and data quality figures. Split by job into the sub-modules below; callers keep
``from tongban.resources import service`` and ``service.fn(...)``."""

from __future__ import annotations

from tongban.resources.service.conflicts import (
    ConflictView,
    confirm_conflict,
    correct_conflict,
    dismiss_conflict,
    list_conflicts,
    may_close_conflicts,
    may_see_conflicts,
)
from tongban.resources.service.elements import (
    elements_file,
    list_elements,
    load_elements,
    read_elements,
)
from tongban.resources.service.figures import quality_figures
from tongban.resources.service.records import ImportResult, import_records
from tongban.resources.service.registers import (
    PersonView,
    add_person_identifier,
    find_companies,
    find_persons,
    get_company,
    get_person,
    pid_of,
    register_company,
    register_person,
)
from tongban.resources.service.resolution import ResolveResult, resolve, train_model
from tongban.resources.service.steward import (
    QueueSize,
    ReviewView,
    decide_review,
    link_record,
    list_reviews,
    queue_size,
    undo_link,
    unlink_record,
)

__all__ = [
    "ConflictView",
    "ImportResult",
    "PersonView",
    "QueueSize",
    "ResolveResult",
    "ReviewView",
    "add_person_identifier",
    "confirm_conflict",
    "correct_conflict",
    "decide_review",
    "dismiss_conflict",
    "elements_file",
    "find_companies",
    "find_persons",
    "get_company",
    "get_person",
    "import_records",
    "link_record",
    "list_conflicts",
    "list_elements",
    "list_reviews",
    "load_elements",
    "may_close_conflicts",
    "may_see_conflicts",
    "pid_of",
    "quality_figures",
    "queue_size",
    "read_elements",
    "register_company",
    "register_person",
    "resolve",
    "train_model",
    "undo_link",
    "unlink_record",
]
