"""Data quality figures for officials: completeness, validity, consistency with the
authoritative source and timeliness, per department (source) and data element, computed from
the department records and the authoritative values held now (see ``resources.quality``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.resources import policy, quality, repository


def quality_figures(session: Session, subject: Principal) -> list[quality.Figure]:
    """Completeness, validity, consistency and timeliness per department and element."""
    policy.require_read_quality(subject)
    return quality.figures(
        repository.all_records(session),
        repository.authoritative_values(session),
        now=utcnow(),
    )
