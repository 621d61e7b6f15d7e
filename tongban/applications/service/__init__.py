"""The applications domain's public API. Each function runs in the caller's transaction, checks
its policy first and writes one audit entry per change.

Callers use the package (``from tongban.applications import service``); its sub-modules each
hold one job: ``drafting`` (opening and filling in a draft, what still stops its submission),
``materials`` (uploads and the counter check of originals), ``transitions`` (``act`` with its
effects), ``publishing`` (the outbox event and the applicant's notification a transition sends),
``reading`` (one case, lists, progress, the decision document), ``search`` (an official's search
and export), ``bundles`` (a department's application in a bundle case) and ``maintenance``
(operator and scheduler jobs). ``_common`` holds the helpers they share.
"""

from tongban.applications.coverage import names, promised_days, requirements
from tongban.applications.disclosure import case_fields, field_specs, prefill_states
from tongban.applications.results import given_fields, given_materials
from tongban.applications.service._common import NUMBER_PREFIX
from tongban.applications.service.bundles import bundle_applications, link_to_bundle
from tongban.applications.service.drafting import (
    Gaps,
    gaps,
    look_up,
    missing,
    start,
    start_at_counter,
    update_form,
)
from tongban.applications.service.maintenance import (
    count_applications,
    rewrap_forms,
    warn_due_soon,
)
from tongban.applications.service.materials import (
    add_material,
    awaiting_originals,
    check_original,
    open_material,
    remove_material,
)
from tongban.applications.service.publishing import NOTIFIED
from tongban.applications.service.reading import (
    TimeLimit,
    applicant_name,
    assess_evidence,
    decision_document,
    disclose,
    for_tracking,
    get,
    get_without_recording,
    list_mine,
    progress,
    time_limit,
    work_queue,
)
from tongban.applications.service.search import (
    SEARCH_LIMIT,
    CaseSearch,
    department_items,
    search_cases,
)
from tongban.applications.service.transitions import MAX_REASON, act, next_actions

__all__ = [
    "MAX_REASON",
    "NOTIFIED",
    "NUMBER_PREFIX",
    "SEARCH_LIMIT",
    "CaseSearch",
    "Gaps",
    "TimeLimit",
    "act",
    "add_material",
    "applicant_name",
    "assess_evidence",
    "awaiting_originals",
    "bundle_applications",
    "case_fields",
    "check_original",
    "count_applications",
    "decision_document",
    "department_items",
    "disclose",
    "field_specs",
    "for_tracking",
    "gaps",
    "get",
    "get_without_recording",
    "given_fields",
    "given_materials",
    "link_to_bundle",
    "look_up",
    "list_mine",
    "missing",
    "names",
    "next_actions",
    "open_material",
    "prefill_states",
    "progress",
    "promised_days",
    "remove_material",
    "requirements",
    "rewrap_forms",
    "search_cases",
    "start",
    "start_at_counter",
    "time_limit",
    "update_form",
    "warn_due_soon",
    "work_queue",
]
