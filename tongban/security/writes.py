"""No write down: data derived from labelled data lands only where its label allows.

Every write path that copies or derives values from labelled data into another place (a
prefilled form field from a person's master data or a shared resource, a department system's
copy of a case or of a master-data change) asks ``check`` with the sources' labels and the
place's label. With the ``no_write_down`` setting on (the default) the place's label must
dominate every source's (``mac.may_write``); a refused write is audited and raises
``WriteDownRefused`` with the place and both labels, which say nothing of the values.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.config import get_settings
from tongban.identity.principals import Principal
from tongban.security import deployment, mac
from tongban.security.errors import WriteDownRefused
from tongban.security.labels import Clearance, Label, join


def allowed(sources: Mapping[str, Label], target: Label, *, subject: Clearance | None) -> bool:
    """Whether data from ``sources`` may be written at ``target`` by ``subject`` (the
    platform itself, acting for the data subject, when None)."""
    return mac.may_write(
        subject or deployment.top_clearance(),
        sources.values(),
        target,
        no_write_down=get_settings().no_write_down,
    )


def check(
    session: Session,
    actor: Principal,
    *,
    sources: Mapping[str, Label],
    target: Label,
    place: str,
    subject: Clearance | None = None,
) -> None:
    """Refuse (audited) to write data derived from ``sources`` ({name: label}) to ``place``
    labelled ``target``."""
    if allowed(sources, target, subject=subject):
        return
    needed = join(*sources.values()) if sources else target
    audit.record(
        session,
        actor=actor,
        action="security.write_refused",
        target_type="write",
        target_id=place[:200],
        details={
            "sources": {name: str(label) for name, label in sources.items()},
            "target": str(target),
            "no_write_down": get_settings().no_write_down,
        },
    )
    raise WriteDownRefused(
        "{place} is labelled {label}, below {needed} of the data it would hold: "
        "the write was refused.",
        place=place,
        label=str(target),
        needed=str(needed),
    )
