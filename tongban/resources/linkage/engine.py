"""One run of the model over a set of prepared records, on DuckDB (embedded, one machine) or on
Spark (a local session or a cluster): the same definition, training, link rules and clustering
on either. Spark is imported only when chosen."""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker
from splink.internals.database_api import DatabaseAPI

from tongban.resources.linkage import model as definition
from tongban.resources.linkage import rules
from tongban.resources.linkage.model import COMPARISONS, Thresholds

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("duckdb", "spark")


def _local_cores(master: str) -> int | None:
    """The cores a local master runs on (``local``, ``local[4]``, ``local[*]``); None for a
    cluster."""
    if master == "local":
        return 1
    if not (master.startswith("local[") and master.endswith("]")):
        return None
    threads = master[len("local[") :].split(",")[0].rstrip("]")
    return (os.cpu_count() or 1) if threads == "*" else int(threads)


def session_settings(master: str, conf: Mapping[str, str] | None = None) -> dict[str, str]:
    """What ``spark_session`` asks of Spark: on a local master every shuffle has twice as many
    partitions as cores (Spark's default of 200 makes each of Splink's several hundred small
    jobs pay for 200 tasks); the deployment's ``conf`` goes over it."""
    from splink.internals.spark.jar_location import similarity_jar_location

    cores = _local_cores(master)
    settings = {
        "spark.jars": similarity_jar_location(),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
    }
    if cores is not None:
        partitions = str(2 * cores)
        settings |= {
            "spark.sql.shuffle.partitions": partitions,
            "spark.default.parallelism": partitions,
            # One JVM is driver and executor: the default 1 GB is too little for a million
            # records.
            "spark.driver.memory": "4g",
        }
    return settings | dict(conf or {})


def spark_session(master: str = "local[2]", conf: Mapping[str, str] | None = None) -> SparkSession:
    """A Spark session that can run Splink: its similarity functions' jar on the class path and
    a checkpoint directory for intermediate tables (on a cluster, give
    ``spark.checkpoint.dir`` on storage every executor reaches); its settings are
    ``session_settings``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise RuntimeError(
            "The Spark engine needs pyspark (pip install 'tongban[spark]') and Java 17."
        ) from None
    settings = session_settings(master, conf)
    checkpoint = settings.pop("spark.checkpoint.dir", None)
    builder = SparkSession.builder.master(master).appName("tongban-linkage")
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()  # the running session, if there is one
    if checkpoint or spark.sparkContext.getCheckpointDir() is None:
        spark.sparkContext.setCheckpointDir(checkpoint or tempfile.mkdtemp(prefix="tongban-spark-"))
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def database(
    engine: Engine = "duckdb",
    *,
    connection: duckdb.DuckDBPyConnection | None = None,
    spark: SparkSession | None = None,
) -> DatabaseAPI[Any]:
    if engine == "duckdb":
        return DuckDBAPI(connection or duckdb.connect())
    from splink import SparkAPI

    # Splink cuts each intermediate table loose from the plan that made it by writing it as
    # Parquet to the checkpoint directory. Keeping them in memory instead (persist) left the
    # plans growing with each of clustering's iterations: 10,000 records took 1,010 s to
    # cluster against 45 s.
    return SparkAPI(spark_session=spark or spark_session())  # type: ignore[no-untyped-call]


def _spark_frame(db: Any, table: pa.Table) -> Any:
    """The records as a Spark frame cut loose from the rows it was made of: left a local
    relation, every one of Splink's several hundred queries would carry all the rows in its
    plan, and Spark's optimiser copies them each time."""
    frame = db.spark.createDataFrame(table)
    local = _local_cores(db.spark.sparkContext.master or "") is not None
    return frame.localCheckpoint() if local else frame.checkpoint()


class Linkage:
    """The model over ``table`` (``fields.prepare``), with the parameters of ``model`` (a
    trained model's JSON; None: untrained, to be trained on these records)."""

    def __init__(
        self,
        table: pa.Table,
        *,
        model: dict[str, Any] | None = None,
        evidence: bool = False,
        db: DatabaseAPI[Any] | None = None,
    ) -> None:
        self.db = db or database()
        self.dialect: str = self.db.sql_dialect.sql_dialect_str
        records: Any = _spark_frame(self.db, table) if self.dialect == "spark" else table
        # A name of its own: on one Spark session temporary views are shared.
        self.records = self.db.register(records, table_name=f"records_{uuid.uuid4().hex[:12]}")
        self.linker = Linker(
            self.records,
            definition.settings_for(self.dialect, model, evidence=evidence),
            log_level=logging.WARNING,
        )

    @property
    def prior(self) -> float:
        prior: float = self.linker._settings_obj._probability_two_random_records_match
        return prior

    def train(self, *, seed: int = 7, max_pairs: float = 2e6) -> None:
        """Learn every parameter from the records themselves (no labels needed)."""
        definition.train(self.linker, seed=seed, max_pairs=max_pairs)

    def estimate_prior(self) -> bool:
        """Keep the learnt m and u, but take the prior from these records; False (and the
        model's prior kept) where the rules join no pair at all."""
        before = self.prior
        try:
            definition.estimate_prior(self.linker)
        except ValueError:  # more deterministic matches than the assumed recall allows
            return False
        if 0 < self.prior < 1:
            return True
        self.linker._settings_obj._probability_two_random_records_match = before
        return False

    def model(self) -> dict[str, Any]:
        model: dict[str, Any] = self.linker.misc.save_model_to_json()
        return model

    def predict(self, min_probability: float) -> Any:
        """Scored pairs at or above ``min_probability`` (a SplinkDataFrame)."""
        return self.linker.inference.predict(
            threshold_match_probability=min_probability, warning_mode="never"
        )

    def rows(self, sql: str) -> pa.Table:
        """The result of ``sql`` on this run's engine."""
        frame = self.db.query_sql(sql)
        table: pa.Table = frame.as_pyarrow_table()
        frame.drop_table_from_database_and_remove_from_cache()
        return table

    def pairs(self, predictions: Any, thresholds: Thresholds) -> list[dict[str, Any]]:
        """Scored pairs with the match weight of each field (needs ``evidence=True``), whether
        the link rules let them link without a person (``auto``), and their checked ID
        numbers."""
        # The name's weight includes its term-frequency adjustment (common names count less).
        fields = ", ".join(
            "mw_name + coalesce(mw_tf_adj_name, 0) AS mw_name" if name == "name" else f"mw_{name}"
            for name in COMPARISONS
        )
        sql = (
            "SELECT unique_id_l, unique_id_r, match_weight, match_probability, "
            f"{fields}, ({rules.auto_condition(thresholds.auto)}) AS auto, "
            "CASE WHEN id_checked_l THEN id_number_l END AS checked_id_l, "
            "CASE WHEN id_checked_r THEN id_number_r END AS checked_id_r "
            f"FROM {predictions.physical_name}"
        )
        result: list[dict[str, Any]] = self.rows(sql).to_pylist()
        return result

    def cluster(self, predictions: Any, thresholds: Thresholds) -> Any:
        """Records grouped into persons (a SplinkDataFrame of unique_id, cluster_id): connected
        components of the pairs the link rules let link, and within the rare component that
        would hold two checked ID numbers, the same joining strongest pair first that the
        service does (``rules.link``)."""
        edges = self.db.query_sql(
            "SELECT unique_id_l, unique_id_r, match_probability "
            f"FROM {predictions.physical_name} WHERE {rules.auto_condition(thresholds.auto)}"
        )
        components = self.linker.clustering.cluster_pairwise_predictions_at_threshold(edges, None)
        name = components.physical_name
        members = self.rows(
            "SELECT unique_id, cluster_id, "
            "CASE WHEN id_checked THEN id_number END AS checked_id "
            f"FROM {name} WHERE cluster_id IN (SELECT cluster_id FROM {name} WHERE id_checked "
            "GROUP BY cluster_id HAVING count(DISTINCT id_number) > 1)"
        ).to_pylist()
        if not members:
            edges.drop_table_from_database_and_remove_from_cache()
            return self.db.query_sql(f"SELECT unique_id, cluster_id FROM {name}")
        within = self.rows(
            "SELECT e.unique_id_l, e.unique_id_r, e.match_probability "
            f"FROM {edges.physical_name} e JOIN {name} c ON e.unique_id_l = c.unique_id "
            f"WHERE c.cluster_id IN (SELECT cluster_id FROM {name} WHERE id_checked "
            "GROUP BY cluster_id HAVING count(DISTINCT id_number) > 1)"
        ).to_pylist()
        edges.drop_table_from_database_and_remove_from_cache()
        split = rules.link(
            [(e["unique_id_l"], e["unique_id_r"], e["match_probability"]) for e in within],
            {m["unique_id"]: m["checked_id"] for m in members if m["checked_id"] is not None},
        )
        groups: dict[str, list[str]] = {}
        for m in members:
            groups.setdefault(split.find(m["unique_id"]), []).append(m["unique_id"])
        moved = {uid: min(group) for group in groups.values() for uid in group}
        overrides = self.db.register(
            pa.table(
                {
                    "unique_id": pa.array(list(moved), pa.string()),
                    "cluster_id": pa.array(list(moved.values()), pa.string()),
                }
            ),
            table_name=f"split_{uuid.uuid4().hex[:12]}",
        )
        return self.db.query_sql(
            "SELECT c.unique_id, coalesce(o.cluster_id, c.cluster_id) AS cluster_id "
            f"FROM {name} c LEFT JOIN {overrides.physical_name} o ON c.unique_id = o.unique_id"
        )

    def reviews(self, predictions: Any, clusters: Any) -> pa.Table:
        """The scored pairs (at or above the review threshold ``predictions`` was made with)
        whose records ``clusters`` left in two persons: what a steward is asked about."""
        return self.rows(
            "SELECT p.unique_id_l, p.unique_id_r "
            f"FROM {predictions.physical_name} p "
            f"JOIN {clusters.physical_name} a ON a.unique_id = p.unique_id_l "
            f"JOIN {clusters.physical_name} b ON b.unique_id = p.unique_id_r "
            "WHERE a.cluster_id <> b.cluster_id"
        )
