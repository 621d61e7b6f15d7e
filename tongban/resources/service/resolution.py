"""Entity resolution runs: every pair of department records the blocking rules propose is
scored with the saved linkage model. Unlinked records joined by pairs at or above the auto
threshold go to the person one of them already has, or to a new person; a pair in the grey zone
between two persons opens a review for the data steward. Pairs a steward called distinct are
never proposed again and links a steward made are kept. The authoritative values of the persons
whose records changed are checked afterwards. Also trains a model on the stored records."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.identity.models import Account
from tongban.kit.clock import utcnow
from tongban.resources import linkage, policy, repository
from tongban.resources.models import LinkReason, MasterPerson, MatchReview, SourceRecord
from tongban.resources.service._common import check_authority, move, person_from


@dataclass
class ResolveResult:
    records: int = 0
    pairs_scored: int = 0
    linked: int = 0
    new_persons: int = 0
    reviews_opened: int = 0
    seconds: float = 0.0


class _Components:
    """Union-find over record ids."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def resolve(
    session: Session,
    subject: Account | None,
    *,
    model: Path | None = None,
    thresholds: linkage.Thresholds | None = None,
) -> ResolveResult:
    """Score every pair of records the blocking rules propose, with the saved model. Unlinked
    records joined by pairs at or above the auto threshold go to the person one of them already
    has, or to a new person; pairs in the grey zone between two persons open a review. Links a
    steward made, and pairs a steward called distinct, are kept."""
    policy.require_resolve(subject)
    started = time.perf_counter()
    thresholds = thresholds or linkage.Thresholds()
    now = utcnow()
    records = {r.id: r for r in repository.all_records(session)}
    result = ResolveResult(records=len(records))
    pairs = _scored_pairs(session, records, model, thresholds) if len(records) > 1 else []
    result.pairs_scored = len(pairs)
    components = _Components()
    for pair in pairs:
        if pair["match_probability"] >= thresholds.auto:
            components.union(int(pair["unique_id_l"]), int(pair["unique_id_r"]))
    strongest: dict[int, float] = {}
    for pair in pairs:
        for key in ("unique_id_l", "unique_id_r"):
            rid = int(pair[key])
            strongest[rid] = max(strongest.get(rid, 0.0), float(pair["match_probability"]))
    groups: dict[int, list[SourceRecord]] = {}
    for record in records.values():
        groups.setdefault(components.find(record.id), []).append(record)
    for members in groups.values():
        unlinked = [r for r in members if r.person_id is None]
        if not unlinked:
            continue
        held = Counter(r.person_id for r in members if r.person_id is not None)
        if held:
            person = session.get(MasterPerson, held.most_common(1)[0][0])
            assert person is not None
        else:
            person = person_from(session, unlinked)
            result.new_persons += 1
        for record in unlinked:
            probability = strongest.get(record.id) if len(members) > 1 else None
            move(session, record, person, LinkReason.AUTO, actor=None, probability=probability)
            result.linked += 1
    session.flush()
    known = repository.review_pairs(session)
    for pair in pairs:
        a, b = sorted((int(pair["unique_id_l"]), int(pair["unique_id_r"])))
        if records[a].person_id == records[b].person_id or (a, b) in known:
            continue
        review = MatchReview(
            record_a_id=a,
            record_b_id=b,
            match_probability=float(pair["match_probability"]),
            match_weight=float(pair["match_weight"]),
            evidence={c: round(float(pair[f"mw_{c}"]), 2) for c in linkage.COMPARISONS},
            created_at=now,
        )
        session.add(review)
        known[(a, b)] = review
        result.reviews_opened += 1
    session.flush()
    stale = [r for r in records.values() if r.checked_at is None or r.checked_at < r.updated_at]
    outcome = check_authority(session, {r.person_id for r in stale}, now=now)
    for record in stale:
        record.checked_at = now
    result.seconds = round(time.perf_counter() - started, 2)
    audit.record(
        session,
        actor=subject,
        action="resources.resolved",
        target_type="resources",
        target_id="persons",
        details={
            "records": result.records,
            "pairs": result.pairs_scored,
            "linked": result.linked,
            "new_persons": result.new_persons,
            "reviews": result.reviews_opened,
            "value_changes": outcome.changes,
            "conflicts": outcome.conflicts_opened,
        },
    )
    return result


@dataclass
class _Input:
    """A stored record as the matcher reads it."""

    record: SourceRecord

    @property
    def unique_id(self) -> str:
        return str(self.record.id)

    @property
    def source(self) -> str:
        return self.record.source

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def sex(self) -> str | None:
        return self.record.sex

    @property
    def birth_date(self) -> str | None:
        return self.record.birth_date

    @property
    def id_number(self) -> str | None:
        return self.record.id_number

    @property
    def phone(self) -> str | None:
        return self.record.phone

    @property
    def address(self) -> str | None:
        return self.record.address


def train_model(session: Session, subject: Account | None, *, seed: int = 7) -> dict[str, Any]:
    """A linkage model trained on the department records in the database."""
    policy.require_resolve(subject)
    return linkage.train_model([_Input(r) for r in repository.all_records(session)], seed=seed)


def _scored_pairs(
    session: Session,
    records: dict[int, SourceRecord],
    model: Path | None,
    thresholds: linkage.Thresholds,
) -> list[dict[str, Any]]:
    """The pairs at or above the review threshold, less those a steward called distinct."""
    run = linkage.Linkage(
        linkage.prepare(_Input(r) for r in records.values()),
        model=model or linkage.MODEL_FILE,
        evidence=True,
    )
    distinct = repository.distinct_pairs(session)
    return [
        p
        for p in run.pairs(run.predict(thresholds.review))
        if tuple(sorted((int(p["unique_id_l"]), int(p["unique_id_r"])))) not in distinct
    ]
