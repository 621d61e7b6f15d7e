"""Entity resolution on synthetic department records with known truth.

Generates N records (tongban.resources.synthetic, default noise), trains the Splink model on them
(u by random sampling, m by EM, no labels), scores the candidate pairs, links those at or above
the auto-link threshold into persons (connected components) and compares with the truth:
pairwise precision, recall and F1. ``seconds`` is the linking time (prepare, train, predict,
cluster); generating the records is reported apart.

    python bench/entity_resolution.py --records 100000
    python bench/entity_resolution.py --quick          # 10,000 records, well under a minute
"""

from __future__ import annotations

import argparse
import time

import duckdb

from tongban.resources import linkage, synthetic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=None, help="how many records (10000)")
    parser.add_argument("--quick", action="store_true", help="10,000 records")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    args = parser.parse_args()
    count = args.records or 10_000
    thresholds = linkage.Thresholds()

    started = time.perf_counter()
    records = synthetic.generate(count, seed=args.seed)
    generated = time.perf_counter() - started
    print(f"generated {len(records)} records in {generated:.1f} s")

    started = time.perf_counter()
    table = linkage.prepare(records)
    prepared = time.perf_counter() - started
    connection = duckdb.connect()
    connection.execute(f"SET threads = {args.threads}")
    run = linkage.Linkage(table, connection=connection)
    run.train(seed=args.seed)
    trained = time.perf_counter() - started
    predictions = run.predict(thresholds.review)
    pair_count = connection.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[
        0
    ]
    predicted = time.perf_counter() - started
    clusters = run.cluster(predictions, thresholds.auto)
    seconds = time.perf_counter() - started
    print(
        f"prepare {prepared:.1f} s, train {trained - prepared:.1f} s, "
        f"predict {predicted - trained:.1f} s ({pair_count[0] if pair_count else 0} pairs "
        f"at p >= {thresholds.review}), cluster {seconds - predicted:.1f} s"
    )
    scores = linkage.score_clusters(
        connection, clusters.physical_name, [(r.unique_id, r.truth) for r in records]
    )
    print(
        f"true pairs {scores.true_pairs}, linked pairs {scores.predicted_pairs}, "
        f"correct {scores.correct_pairs}"
    )
    print(
        f"RESULT name=entity_resolution records={count} precision={scores.precision:.4f} "
        f"recall={scores.recall:.4f} f1={scores.f1:.4f} seconds={seconds:.1f}"
    )


if __name__ == "__main__":
    main()
