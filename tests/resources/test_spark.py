"""The Spark engine on a local Spark (one session per worker, tests/resources/conftest.py): it
links exactly what DuckDB links with the same model, and the service runs on it when the
setting says so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from pyspark.sql import SparkSession
from sqlalchemy import Engine

from tests.resources.conftest import SPARK_CONF, SPARK_MASTER
from tests.resources.test_resolution import _checked_id
from tests.resources.test_service import HEADER, _import, _name, _person_of, _phone, _resolve
from tongban.config import get_settings
from tongban.resources import linkage, synthetic
from tongban.resources.linkage.engine import session_settings
from tongban.resources.synthetic import Record

# Both on the worker that started the JVM (xdist's loadgroup), started before quicker tests.
pytestmark = [
    pytest.mark.xdist_group("spark"),
    pytest.mark.slow(reason="a JVM starts, and Splink links hundreds of records on Spark"),
]


def _records() -> list[Record]:
    """Synthetic records and, among them, a chain that would join two checked ID numbers
    through a record without one (the rule that splits it runs on both engines)."""
    made = synthetic.generate(400, seed=11)
    born = date(1971, 3, 9)
    name = _name()
    first, second = _checked_id(born, 15), _checked_id(born, 97, region="310104")
    phone, address = _phone(), "临江市西路7号"
    return [
        *made,
        Record("x1", "PSB", "x1", name, "M", str(born), first, _phone(), address, -1),
        Record("x2", "MCA", "x2", name, "M", str(born), None, phone, address, -1),
        Record("x3", "TAX", "x3", name, "M", str(born), second, phone, "临江市北路2号", -2),
    ]


def _outcome(run: linkage.Linkage) -> tuple[dict[tuple[str, str], float], set[frozenset[str]]]:
    thresholds = linkage.Thresholds()
    predictions = run.predict(thresholds.review)
    pairs = {
        (p["unique_id_l"], p["unique_id_r"]): p["match_probability"]
        for p in run.rows(
            f"SELECT unique_id_l, unique_id_r, match_probability FROM {predictions.physical_name}"
        ).to_pylist()
    }
    members: dict[Any, set[str]] = {}
    for row in run.cluster(predictions, thresholds).as_pyarrow_table().to_pylist():
        members.setdefault(row["cluster_id"], set()).add(row["unique_id"])
    return pairs, {frozenset(m) for m in members.values()}


class TestSparkEngine:
    def test_spark_links_exactly_what_duckdb_links(self, spark: SparkSession) -> None:
        table = linkage.prepare(_records())
        model = linkage.read_model(linkage.MODEL_FILE)
        on_duckdb = _outcome(linkage.Linkage(table, model=model))
        on_spark = _outcome(
            linkage.Linkage(table, model=model, db=linkage.database("spark", spark=spark))
        )
        assert on_spark[0].keys() == on_duckdb[0].keys()
        for pair, probability in on_duckdb[0].items():
            assert on_spark[0][pair] == pytest.approx(probability, abs=1e-9)
        assert on_spark[1] == on_duckdb[1]
        # The chain was cut on both: x1 and x3 hold two checked numbers.
        assert not any({"x1", "x3"} <= cluster for cluster in on_spark[1])
        assert sum(len(c) - 1 for c in on_spark[1]) > 100  # it did link


class TestLocalSession:
    def test_a_local_session_is_set_for_few_cores(self) -> None:
        # Twice the cores, not Spark's 200 partitions per shuffle; the deployment's conf wins.
        assert session_settings("local[2]")["spark.sql.shuffle.partitions"] == "4"
        assert "spark.sql.shuffle.partitions" not in session_settings("spark://c:7077")
        ours = session_settings("local[2]", {"spark.sql.shuffle.partitions": "1"})
        assert ours["spark.sql.shuffle.partitions"] == "1"

    def test_the_records_are_a_frame_of_their_own(self, spark: SparkSession) -> None:
        db = linkage.database("spark", spark=spark)
        run = linkage.Linkage(linkage.prepare(synthetic.generate(50, seed=2)), db=db)
        # The records are a frame of their own, not rows every query's plan would carry.
        plan = spark.table(run.records.physical_name)._jdf.queryExecution().optimizedPlan()
        assert "LocalRelation" not in plan.toString()


@pytest.fixture
def on_spark(spark: SparkSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TONGBAN_LINKAGE_ENGINE", "spark")
    # The service asks for the session with the settings' master and conf: the same as the
    # running one's, or it would set the shuffles back to the production default.
    monkeypatch.setenv("TONGBAN_LINKAGE_SPARK_MASTER", SPARK_MASTER)
    monkeypatch.setenv("TONGBAN_LINKAGE_SPARK_CONF", json.dumps(SPARK_CONF))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


class TestResolveOnSpark:
    def test_the_service_resolves_on_spark(self, engine: Engine, on_spark: None) -> None:
        born, name, tag = date(1966, 6, 6), _name(), "s" + _phone()[-7:]
        number = _checked_id(born, 41)
        _import(engine, "PSB", HEADER + f"p{tag},{name},M,{born},{number},,\n")
        _import(engine, "HRSS", HEADER + f"h{tag},{name},M,{born},{number},,\n")
        result = _resolve(engine)
        assert result.engine == "spark"
        assert _person_of(engine, "PSB", f"p{tag}") == _person_of(engine, "HRSS", f"h{tag}")
