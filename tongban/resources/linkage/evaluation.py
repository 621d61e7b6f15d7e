"""Measuring a clustering against known truth (synthetic records), on a local DuckDB whatever
engine did the linking: pairwise precision and recall, the wrongly linked pairs, the persons
holding two checked ID numbers, and the recall once a steward has worked the review queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from tongban.resources.linkage.model import Thresholds
from tongban.resources.linkage.rules import Components


@dataclass(frozen=True)
class Scores:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def wrong_pairs(self) -> int:
        return self.predicted_pairs - self.correct_pairs

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


@dataclass(frozen=True)
class Evaluation:
    scores: Scores
    # Reviews opened: scored pairs at or above the review threshold left in two persons.
    reviews: int
    multi_id_clusters: int
    # Recall when a steward has decided every review rightly.
    recall_after_reviews: float


def _truth_table(truth: Sequence[tuple[str, int]]) -> pa.Table:
    return pa.table(
        {
            "unique_id": pa.array([uid for uid, _ in truth], pa.string()),
            "truth": pa.array([t for _, t in truth], pa.int64()),
        }
    )


def score(connection: duckdb.DuckDBPyConnection, clusters: pa.Table, truth: pa.Table) -> Scores:
    """Pairwise precision and recall of a clustering (unique_id, cluster_id): a pair of records
    is predicted if both are in one cluster, and true if both belong to one person."""
    connection.register("clusters_view", clusters)
    connection.register("truth_view", truth)
    row = connection.execute(
        """
        WITH j AS (
            SELECT c.cluster_id, t.truth FROM clusters_view c JOIN truth_view t USING (unique_id)
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
    connection.unregister("clusters_view")
    connection.unregister("truth_view")
    return Scores(true_pairs=int(row[0]), predicted_pairs=int(row[1]), correct_pairs=int(row[2]))


def evaluate(
    clusters: pa.Table,
    records: pa.Table,
    reviews: pa.Table,
    truth: Sequence[tuple[str, int]],
) -> Evaluation:
    """``clusters`` (unique_id, cluster_id) of the prepared ``records``, against ``truth``;
    ``reviews`` (unique_id_l, unique_id_r) the pairs a steward is asked about."""
    connection = duckdb.connect()
    truth_table = _truth_table(truth)
    scores = score(connection, clusters, truth_table)
    connection.register("clusters_view", clusters)
    connection.register("records_view", records)
    multi = connection.execute(
        "SELECT count(*) FROM (SELECT c.cluster_id FROM clusters_view c "
        "JOIN records_view r USING (unique_id) WHERE r.id_checked GROUP BY c.cluster_id "
        "HAVING count(DISTINCT r.id_number) > 1)"
    ).fetchall()[0][0]
    # The steward links each reviewed pair of one person: their clusters merge.
    connection.register("truth_view", truth_table)
    connection.register("reviews_view", reviews)
    same = connection.execute(
        "SELECT a.cluster_id, b.cluster_id FROM reviews_view v "
        "JOIN clusters_view a ON a.unique_id = v.unique_id_l "
        "JOIN clusters_view b ON b.unique_id = v.unique_id_r "
        "JOIN truth_view ta ON ta.unique_id = v.unique_id_l "
        "JOIN truth_view tb ON tb.unique_id = v.unique_id_r WHERE ta.truth = tb.truth"
    ).fetchall()
    merged: Components[str] = Components({})
    for a, b in same:
        merged.join(a, b, force=True)
    mapping = pa.table(
        {
            "cluster_id": pa.array(list(merged.parent), pa.string()),
            "merged_id": pa.array([merged.find(c) for c in merged.parent], pa.string()),
        }
    )
    connection.register("mapping_view", mapping)
    worked = connection.sql(
        "SELECT c.unique_id, coalesce(m.merged_id, c.cluster_id) AS cluster_id "
        "FROM clusters_view c LEFT JOIN mapping_view m USING (cluster_id)"
    ).to_arrow_table()
    after = score(connection, worked, truth_table)
    connection.close()
    return Evaluation(
        scores=scores,
        reviews=reviews.num_rows,
        multi_id_clusters=int(multi),
        recall_after_reviews=after.recall,
    )


# How the two records of a missed pair differ, in the order they are listed.
_DIFFERENCES = (
    ("id missing", "a.id_number IS NULL OR b.id_number IS NULL"),
    ("id differs", "a.id_number <> b.id_number"),
    ("phone missing", "a.phone IS NULL OR b.phone IS NULL"),
    ("phone changed", "a.phone <> b.phone"),
    ("moved", "a.address_tail IS DISTINCT FROM b.address_tail"),
    ("name same sound", "a.name <> b.name AND a.name_py = b.name_py"),
    ("name differs", "a.name_py <> b.name_py"),
    ("birth date missing", "a.birth_date IS NULL OR b.birth_date IS NULL"),
    ("birth date differs", "a.birth_date <> b.birth_date"),
    ("sex differs", "a.sex <> b.sex"),
    ("sex missing", "a.sex IS NULL OR b.sex IS NULL"),
)


def missed_pairs(
    clusters: pa.Table,
    records: pa.Table,
    scored: pa.Table,
    truth: Sequence[tuple[str, int]],
    thresholds: Thresholds,
) -> list[tuple[str, str, int]]:
    """The pairs of one person that ``clusters`` left apart, counted by where the model put
    them (``scored``: unique_id_l, unique_id_r, match_probability) and by how their records
    differ (``records``: the prepared table): the classes to work on first."""
    connection = duckdb.connect()
    connection.register("clusters_view", clusters)
    connection.register("records_view", records)
    connection.register("truth_view", _truth_table(truth))
    connection.register("scored_view", scored)
    differences = ", ".join(f"CASE WHEN {sql} THEN '{name}' END" for name, sql in _DIFFERENCES)
    rows = connection.execute(
        f"""
        WITH t AS (
            SELECT r.*, c.cluster_id, tr.truth FROM records_view r
            JOIN clusters_view c USING (unique_id) JOIN truth_view tr USING (unique_id)
        ),
        scores AS (
            SELECT least(unique_id_l, unique_id_r) AS x, greatest(unique_id_l, unique_id_r) AS y,
                match_probability FROM scored_view
        )
        SELECT
            CASE WHEN s.x IS NULL THEN 'not compared, or scored under 0.001'
                WHEN s.match_probability < {thresholds.review!r} THEN 'under the review threshold'
                WHEN s.match_probability < {thresholds.auto!r} THEN 'in the queue'
                ELSE 'in the queue, held back by a link rule' END AS band,
            concat_ws(', ', {differences}) AS differences,
            count(*) AS pairs
        FROM t a JOIN t b ON a.truth = b.truth AND a.unique_id < b.unique_id
        LEFT JOIN scores s ON s.x = a.unique_id AND s.y = b.unique_id
        WHERE a.cluster_id <> b.cluster_id
        GROUP BY ALL ORDER BY pairs DESC, band, differences
        """
    ).fetchall()
    connection.close()
    return [(band, differences, int(pairs)) for band, differences, pairs in rows]
