"""Probabilistic linking of department records into persons, with Splink on an embedded DuckDB.

The model (Fellegi-Sunter, as Splink implements it) compares two records field by field and adds
up a match weight per field: how much more likely that level of agreement is between records of
one person than between records of two. Its parameters are learnt without labels: u (agreement
by chance) from random pairs, m (agreement of true matches) by expectation maximisation over pairs
that share an ID number or a name and birth date. The trained model is a JSON file; the same file
drives Splink's Spark backend for national volumes (docs/entity-resolution.md).

Chinese names are compared on three views: the characters folded to simplified (so 張偉 is 张伟),
the toneless pinyin (so an input-method slip 张玮 for 张伟 still sounds the same) and the
character-level edit distance (one character differs). An exact name match counts for less when
the name is common (term-frequency adjustment): two records of 张伟 prove little.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import duckdb
import opencc
import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from pypinyin import lazy_pinyin
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from tongban.identity import numbers

MODEL_FILE = Path(__file__).parent / "data" / "person_model.json"

# Field-level evidence shown to a data steward, in this order.
COMPARISONS = ("name", "birth_date", "sex", "id_number", "phone", "address")


@dataclass(frozen=True)
class Thresholds:
    """Match probabilities: at or above ``auto`` records are linked without a person looking;
    from ``review`` up to ``auto`` a data steward decides."""

    auto: float = 0.99
    review: float = 0.5


class RecordLike(Protocol):
    @property
    def unique_id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def sex(self) -> str | None: ...
    @property
    def birth_date(self) -> str | None: ...
    @property
    def id_number(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def address(self) -> str | None: ...


# --- normalising fields ----------------------------------------------------------------------

_to_simplified = opencc.OpenCC("t2s")


@lru_cache(maxsize=200_000)
def fold_name(name: str) -> str:
    """Full-width forms folded (NFKC), spaces and the middle dot of minority names dropped,
    traditional characters folded to simplified."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if not ch.isspace() and ch not in "·•.")
    folded: str = _to_simplified.convert(text)
    return folded


@lru_cache(maxsize=200_000)
def name_pinyin(folded: str) -> str:
    return "".join(lazy_pinyin(folded)).lower()


@lru_cache(maxsize=200_000)
def fold_address(address: str) -> str:
    text = unicodedata.normalize("NFKC", address)
    folded: str = _to_simplified.convert("".join(ch for ch in text if not ch.isspace()))
    return folded


def canonical_id_number(raw: str | None) -> str | None:
    """The 18-digit resident ID for comparison: old 15-digit numbers upgraded (through
    identity.numbers). A malformed number is compared as given, never guessed at."""
    if raw is None or not raw.strip():
        return None
    try:
        return numbers.normalize_resident_id(raw)
    except ValueError:
        return unicodedata.normalize("NFKC", raw).strip().upper()


def canonical_phone(raw: str | None) -> str | None:
    if raw is None:
        return None
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", raw) if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits or None


def _birth_date(record: RecordLike, id_number: str | None) -> str | None:
    if record.birth_date:
        return record.birth_date
    if id_number is not None and numbers.resident_id_problem(id_number) is None:
        return numbers.birth_date(id_number).isoformat()  # the card says it
    return None


def prepare(records: Iterable[RecordLike]) -> pa.Table:
    """The comparison columns Splink works on, one row per record."""
    columns: dict[str, list[Any]] = {
        key: []
        for key in (
            "unique_id",
            "source",
            "name",
            "name_py",
            "surname",
            "sex",
            "birth_date",
            "birth_year",
            "id_number",
            "phone",
            "address",
        )
    }
    for record in records:
        name = fold_name(record.name)
        id_number = canonical_id_number(record.id_number)
        born = _birth_date(record, id_number)
        columns["unique_id"].append(record.unique_id)
        columns["source"].append(record.source)
        columns["name"].append(name or None)
        columns["name_py"].append(name_pinyin(name) or None)
        columns["surname"].append(name[:1] or None)
        columns["sex"].append(record.sex or None)
        columns["birth_date"].append(born)
        columns["birth_year"].append(born[:4] if born else None)
        columns["id_number"].append(id_number)
        columns["phone"].append(canonical_phone(record.phone))
        columns["address"].append(fold_address(record.address) if record.address else None)
    return pa.table({key: pa.array(values, pa.string()) for key, values in columns.items()})


# --- the model -------------------------------------------------------------------------------


def settings(*, evidence: bool = False) -> SettingsCreator:
    """The comparisons and the blocking rules that choose which pairs are compared at all."""
    swapped = (
        "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
        "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
        "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)"
    )
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.CustomComparison(
                output_column_name="name",
                comparison_levels=[
                    cll.NullLevel("name"),
                    cll.ExactMatchLevel("name", term_frequency_adjustments=True),
                    cll.ExactMatchLevel("name_py").configure(label_for_charts="same sound"),
                    cll.LevenshteinLevel("name", 1),
                    cll.JaroWinklerLevel("name_py", 0.88),
                    cll.ElseLevel(),
                ],
            ),
            cl.CustomComparison(
                output_column_name="birth_date",
                comparison_levels=[
                    cll.NullLevel("birth_date"),
                    cll.ExactMatchLevel("birth_date"),
                    cll.CustomLevel(
                        swapped, label_for_charts="day and month swapped", base_dialect_str="duckdb"
                    ),
                    cll.LevenshteinLevel("birth_date", 1),
                    cll.ExactMatchLevel("birth_year"),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("sex"),
            cl.CustomComparison(
                output_column_name="id_number",
                comparison_levels=[
                    cll.NullLevel("id_number"),
                    cll.ExactMatchLevel("id_number"),
                    cll.LevenshteinLevel("id_number", 2),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("phone"),
            cl.CustomComparison(
                output_column_name="address",
                comparison_levels=[
                    cll.NullLevel("address"),
                    cll.ExactMatchLevel("address"),
                    cll.JaroWinklerLevel("address", 0.9),
                    cll.ElseLevel(),
                ],
            ),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("phone"),
            block_on("name_py", "birth_year"),
            block_on("surname", "birth_date"),
        ],
        retain_intermediate_calculation_columns=evidence,
        retain_matching_columns=evidence,
    )


class Linkage:
    """One run of the model over a set of prepared records, in its own DuckDB."""

    def __init__(
        self,
        table: pa.Table,
        *,
        model: dict[str, Any] | Path | None = None,
        evidence: bool = False,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.db = DuckDBAPI(connection or duckdb.connect())
        self.records = self.db.register(table, table_name="records")
        chosen: SettingsCreator | dict[str, Any] | str
        if model is None:
            chosen = settings(evidence=evidence)
        else:
            chosen = _load_model(model, evidence=evidence)
        self.linker = Linker(self.records, chosen, log_level=logging.WARNING)

    def train(self, *, seed: int = 7, max_pairs: float = 2e6) -> None:
        """Learn the parameters from the records themselves (no labels needed)."""
        training = self.linker.training
        training.estimate_probability_two_random_records_match(
            [block_on("id_number"), block_on("name", "birth_date", "phone")], recall=0.8
        )
        training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
        # Each round learns m for the fields its blocking rule does not fix.
        training.estimate_parameters_using_expectation_maximisation(
            block_on("id_number"), estimate_without_term_frequencies=True
        )
        training.estimate_parameters_using_expectation_maximisation(
            block_on("name_py", "birth_date"), estimate_without_term_frequencies=True
        )

    def model(self) -> dict[str, Any]:
        model: dict[str, Any] = self.linker.misc.save_model_to_json()
        return model

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.linker.misc.save_model_to_json(str(path), overwrite=True)

    def predict(self, min_probability: float) -> Any:
        """Scored pairs at or above ``min_probability`` (a SplinkDataFrame)."""
        return self.linker.inference.predict(
            threshold_match_probability=min_probability, warning_mode="never"
        )

    def cluster(self, predictions: Any, threshold: float) -> Any:
        """Records grouped by connected components of the pairs at or above ``threshold``."""
        return self.linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )

    def pairs(self, predictions: Any) -> list[dict[str, Any]]:
        """Scored pairs with the match weight of each field (needs ``evidence=True``)."""
        # The name's weight includes its term-frequency adjustment (common names count less).
        fields = ", ".join(
            "mw_name + coalesce(mw_tf_adj_name, 0) AS mw_name" if name == "name" else f"mw_{name}"
            for name in COMPARISONS
        )
        sql = (
            "SELECT unique_id_l, unique_id_r, match_weight, match_probability, "
            f"{fields} FROM {predictions.physical_name}"
        )
        cursor = self.db.duckdb_con.execute(sql)
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def train_model(records: Iterable[RecordLike], *, seed: int = 7) -> dict[str, Any]:
    """A model trained (u by sampling, m by EM) on ``records``."""
    run = Linkage(prepare(records))
    run.train(seed=seed)
    return run.model()


def _load_model(model: dict[str, Any] | Path, *, evidence: bool) -> dict[str, Any]:
    import json

    loaded: dict[str, Any] = (
        json.loads(model.read_text(encoding="utf-8")) if isinstance(model, Path) else dict(model)
    )
    loaded["retain_intermediate_calculation_columns"] = evidence
    loaded["retain_matching_columns"] = evidence
    return loaded


# --- evaluation against known truth ----------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_clusters(
    connection: duckdb.DuckDBPyConnection, clusters_table: str, truth: Sequence[tuple[str, int]]
) -> Scores:
    """Pairwise precision and recall of a clustering: a pair of records is predicted if both are
    in one cluster, and true if both belong to one person."""
    truth_table = pa.table(
        {
            "unique_id": pa.array([uid for uid, _ in truth], pa.string()),
            "truth": pa.array([t for _, t in truth], pa.int64()),
        }
    )
    connection.register("truth_view", truth_table)
    row = connection.execute(
        f"""
        WITH j AS (
            SELECT c.cluster_id, t.truth FROM {clusters_table} c JOIN truth_view t USING (unique_id)
        ),
        both_ AS (SELECT count(*) AS n FROM j GROUP BY cluster_id, truth),
        pred AS (SELECT count(*) AS n FROM j GROUP BY cluster_id),
        tru AS (SELECT count(*) AS n FROM j GROUP BY truth)
        SELECT
            (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM tru),
            (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM pred),
            (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM both_)
        """
    ).fetchall()[0]
    connection.unregister("truth_view")
    return Scores(true_pairs=int(row[0]), predicted_pairs=int(row[1]), correct_pairs=int(row[2]))
