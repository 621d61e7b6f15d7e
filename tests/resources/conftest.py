"""One local Spark per xdist worker for the tests of the Spark engine, set for small data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tongban.resources import linkage

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The tests link a few hundred records: one thread and one partition per shuffle, where
# the defaults would plan and schedule work for a cluster; a JVM that compiles less and
# collects garbage simply starts sooner and finishes short jobs sooner.
SPARK_MASTER = "local[1]"
SPARK_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
}


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = linkage.spark_session(SPARK_MASTER, SPARK_CONF)
    yield session
    session.stop()
