"""Entity resolution on synthetic department records with known truth, on DuckDB or Spark.

Generates N records (tongban.resources.synthetic, default noise), trains the Splink model on them
(prior from deterministic rules, u by random sampling, m by EM, no labels), scores the candidate
pairs, links those the link rules allow into persons (connected components, never two checked
ID numbers in one person) and compares with the truth: pairwise precision, recall and F1, the
wrongly linked pairs, the reviews a steward would be asked (and per 100,000 records), the
persons holding two checked ID numbers (always 0), and the recall once a steward has worked the
queue rightly. ``seconds`` is the linking time (prepare, train, predict, cluster, reviews);
generating the records is reported apart. ``peak_mb`` is the peak resident memory of this
process plus, on Spark, that of its JVM.

    python bench/entity_resolution.py --records 100000
    python bench/entity_resolution.py --quick                   # 10,000 records, under a minute
    python bench/entity_resolution.py --records 100000 --engine spark --spark-master 'local[2]'
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path
from typing import Any

import duckdb

from tongban.resources import linkage, synthetic


def _peak_mb(spark: Any) -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if spark is not None:
        # The JVM is a child still running: its high-water mark from /proc.
        pid = spark.sparkContext._gateway.proc.pid
        status = Path(f"/proc/{pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        peak += int(line.split()[1]) / 1024
    return peak


def _print_missed(
    run: linkage.Linkage,
    clusters: Any,
    table: Any,
    records: list[synthetic.Record],
    thresholds: linkage.Thresholds,
) -> None:
    scored = run.predict(0.001)
    missed = linkage.missed_pairs(
        clusters.as_pyarrow_table(),
        table,
        run.rows("SELECT unique_id_l, unique_id_r, match_probability FROM " + scored.physical_name),
        [(r.unique_id, r.truth) for r in records],
        thresholds,
    )
    print(f"missed pairs: {sum(n for _, _, n in missed)}")
    for band, differences, pairs in missed:
        print(f"{pairs:6d}  {band:40s} {differences}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=None, help="how many records (10000)")
    parser.add_argument("--quick", action="store_true", help="10,000 records")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", choices=linkage.ENGINES, default="duckdb")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    parser.add_argument("--spark-master", default="local[2]", help="Spark master URL")
    parser.add_argument(
        "--missed", action="store_true", help="count the missed pairs by how their records differ"
    )
    args = parser.parse_args()
    count = args.records or 10_000
    thresholds = linkage.Thresholds()

    started = time.perf_counter()
    records = synthetic.generate(count, seed=args.seed)
    generated = time.perf_counter() - started
    print(f"generated {len(records)} records in {generated:.1f} s")

    spark = None
    if args.engine == "spark":
        started = time.perf_counter()
        spark = linkage.spark_session(args.spark_master)
        print(f"Spark session ({args.spark_master}) in {time.perf_counter() - started:.1f} s")
        db = linkage.database("spark", spark=spark)
    else:
        connection = duckdb.connect()
        connection.execute(f"SET threads = {args.threads}")
        db = linkage.database("duckdb", connection=connection)

    started = time.perf_counter()
    table = linkage.prepare(records)
    prepared = time.perf_counter() - started
    run = linkage.Linkage(table, db=db)
    run.train(seed=args.seed)
    trained = time.perf_counter() - started
    predictions = run.predict(thresholds.review)
    predicted = time.perf_counter() - started
    clusters = run.cluster(predictions, thresholds)
    reviews = run.reviews(predictions, clusters)
    seconds = time.perf_counter() - started
    print(
        f"prepare {prepared:.1f} s, train {trained - prepared:.1f} s "
        f"(prior {run.prior:.3g}), predict {predicted - trained:.1f} s, "
        f"cluster and reviews {seconds - predicted:.1f} s"
    )
    evaluation = linkage.evaluate(
        clusters.as_pyarrow_table(), table, reviews, [(r.unique_id, r.truth) for r in records]
    )
    if args.missed:
        _print_missed(run, clusters, table, records, thresholds)
    peak = _peak_mb(spark)
    scores = evaluation.scores
    print(
        f"true pairs {scores.true_pairs}, linked pairs {scores.predicted_pairs}, "
        f"correct {scores.correct_pairs}, reviews {evaluation.reviews}"
    )
    print(
        f"RESULT name=entity_resolution engine={args.engine} records={count} "
        f"precision={scores.precision:.4f} recall={scores.recall:.4f} f1={scores.f1:.4f} "
        f"wrong_pairs={scores.wrong_pairs} reviews={evaluation.reviews} "
        f"reviews_per_100k={evaluation.reviews * 100_000 / count:.0f} "
        f"multi_id_clusters={evaluation.multi_id_clusters} "
        f"recall_after_reviews={evaluation.recall_after_reviews:.4f} "
        f"seconds={seconds:.1f} peak_mb={peak:.0f}"
    )
    if spark is not None:
        spark.stop()


if __name__ == "__main__":
    main()
