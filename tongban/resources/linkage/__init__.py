"""Probabilistic linking of department records into persons, with Splink on an embedded DuckDB
or on Spark (the same definition on both; ``engine.py``).

The model (Fellegi-Sunter, as Splink implements it) compares two records field by field and adds
up a match weight per field: how much more likely that level of agreement is between records of
one person than between records of two. Its parameters are learnt without labels: u (agreement
by chance) from random pairs, m (agreement of true matches) by expectation maximisation over pairs
that share an ID number or a name and birth date, and the prior (how likely two records taken at
random are one person's) from the pairs that deterministic rules join, on the register at hand.

Chinese names are compared on three views: the characters folded to simplified (so 張偉 is 张伟),
the toneless pinyin (so an input-method slip 张玮 for 张伟 still sounds the same) and the
character-level edit distance (one character differs). An exact name match counts for less when
the name is common in the register (term-frequency adjustment): two records of 张伟 prove little.

What a score alone may not decide is in ``rules.py``: a sex disagreement without a shared
identifier goes to the steward, and no person holds two different checked ID numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tongban.resources.linkage.engine import (
    ENGINES,
    Engine,
    Linkage,
    database,
    spark_session,
)
from tongban.resources.linkage.evaluation import Evaluation, Scores, evaluate, missed_pairs, score
from tongban.resources.linkage.fields import (
    RecordLike,
    canonical_id_number,
    canonical_phone,
    fold_address,
    fold_name,
    id_checked,
    name_pinyin,
    prepare,
)
from tongban.resources.linkage.model import (
    COMPARISONS,
    MODEL_FILE,
    ModelMismatch,
    Thresholds,
    read_model,
    settings,
    settings_for,
)
from tongban.resources.linkage.rules import Components, link

__all__ = [
    "COMPARISONS",
    "ENGINES",
    "MODEL_FILE",
    "Components",
    "Engine",
    "Evaluation",
    "Linkage",
    "ModelMismatch",
    "RecordLike",
    "Scores",
    "Thresholds",
    "canonical_id_number",
    "canonical_phone",
    "database",
    "evaluate",
    "fold_address",
    "fold_name",
    "id_checked",
    "link",
    "missed_pairs",
    "name_pinyin",
    "prepare",
    "read_model",
    "score",
    "settings",
    "settings_for",
    "spark_session",
    "train_model",
]


def train_model(records: Iterable[RecordLike], *, seed: int = 7, **engine: Any) -> dict[str, Any]:
    """A model trained (prior and u by sampling, m by EM) on ``records``."""
    run = Linkage(prepare(records), db=database(**engine) if engine else None)
    run.train(seed=seed)
    return run.model()
