"""Entity resolution runs: every pair of department records the blocking rules propose is
scored, by a model trained on the records themselves once there are enough of them, else by the
shipped (or a given) model with the prior of this register. Unlinked records joined by pairs the
link rules let link go to the person one of them already has, or to a new person, never so that
a person holds two checked ID numbers; a pair left between two persons opens a review for the
data steward. Pairs a steward called distinct are never proposed again and links a steward made
are kept. The authoritative values of the persons whose records changed are checked afterwards.
Also trains a model on the stored records."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.config import get_settings
from tongban.identity.principals import Principal
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
    # Where the parameters came from: "trained" on the register, "prior" (the given or shipped
    # model's m and u, the register's prior) or "model" (the given or shipped model as it is).
    model: str = "model"
    prior: float = 0.0
    engine: str = "duckdb"


def resolve(
    session: Session,
    subject: Principal,
    *,
    model: Path | None = None,
    thresholds: linkage.Thresholds | None = None,
) -> ResolveResult:
    """Score every pair of records the blocking rules propose: with a model trained on the
    records when there are enough of them, else with ``model`` (the shipped one by default) and
    the prior of this register. Records are joined into persons strongest pair first by the
    pairs the link rules let link (``linkage.rules``): an unlinked record goes to the person
    its group already has, or to a new person, and no person comes to hold two checked ID
    numbers. Pairs left between two persons at or above the review threshold open a review.
    Links a steward made, and pairs a steward called distinct, are kept."""
    policy.require_resolve(subject)
    started = time.perf_counter()
    thresholds = thresholds or linkage.Thresholds()
    now = utcnow()
    records = {r.id: r for r in repository.all_records(session)}
    result = ResolveResult(records=len(records))
    table = linkage.prepare(_Input(r) for r in records.values())
    checked = {
        int(uid): number
        for uid, number, ok in zip(
            table["unique_id"].to_pylist(),
            table["id_number"].to_pylist(),
            table["id_checked"].to_pylist(),
            strict=True,
        )
        if ok
    }
    pairs = _scored_pairs(session, table, model, thresholds, result) if len(records) > 1 else []
    result.pairs_scored = len(pairs)
    persons: dict[int, list[int]] = {}
    for record in records.values():
        if record.person_id is not None:
            persons.setdefault(record.person_id, []).append(record.id)
    components = linkage.link(
        [
            (int(p["unique_id_l"]), int(p["unique_id_r"]), float(p["match_probability"]))
            for p in pairs
            if p["auto"]
        ],
        checked,
        groups=persons.values(),
    )
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
            move(session, record, person, LinkReason.AUTO, actor=subject, probability=probability)
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
            "model": result.model,
            "prior": result.prior,
            "engine": result.engine,
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


def train_model(session: Session, subject: Principal, *, seed: int = 7) -> dict[str, Any]:
    """A linkage model trained on the department records in the database."""
    policy.require_resolve(subject)
    table = linkage.prepare(_Input(r) for r in repository.all_records(session))
    run = linkage.Linkage(table, db=_database())
    run.train(seed=seed)
    return run.model()


def _database() -> Any:
    """The engine the settings choose (a Spark session is made once per process)."""
    settings = get_settings()
    if settings.linkage_engine == "spark":
        spark = linkage.spark_session(settings.linkage_spark_master, settings.linkage_spark_conf)
        return linkage.database("spark", spark=spark)
    return linkage.database("duckdb")


def _scored_pairs(
    session: Session,
    table: pa.Table,
    model: Path | None,
    thresholds: linkage.Thresholds,
    result: ResolveResult,
) -> list[dict[str, Any]]:
    """The pairs at or above the review threshold, less those a steward called distinct. The
    model is trained on the records when there are enough of them; else the given (or shipped)
    model is used with the prior of this register, once it holds enough records to tell."""
    settings = get_settings()
    db = _database()
    result.engine = settings.linkage_engine
    if model is None and table.num_rows >= settings.linkage_train_records:
        run = linkage.Linkage(table, evidence=True, db=db)
        run.train()
        result.model = "trained"
    else:
        run = linkage.Linkage(
            table, model=linkage.read_model(model or linkage.MODEL_FILE), evidence=True, db=db
        )
        if table.num_rows >= settings.linkage_prior_records and run.estimate_prior():
            result.model = "prior"
    result.prior = run.prior
    distinct = repository.distinct_pairs(session)
    return [
        p
        for p in run.pairs(run.predict(thresholds.review), thresholds)
        if tuple(sorted((int(p["unique_id_l"]), int(p["unique_id_r"])))) not in distinct
    ]
