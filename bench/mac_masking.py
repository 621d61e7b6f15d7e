"""Overhead of mandatory access control and masking on a list read (issue 4's benchmark).

10,000 records of 30 fields, read by the issue's adversary: an official cleared ``internal``
(with the ``household`` compartment). Of the 30 fields, 20 are public or internal and pass as
they are; 5 identity fields (``important:identity``) are masked by type — name, ID number and
phone partly shown, birth date to the year, address to the district; 3 health fields
(``important:health``) and 2 core finance fields are redacted.

Baseline: the same list read without MAC, the way the platform reads a list: the rows are fetched
from the database (an SQLite file, SQLAlchemy Core), turned into dicts and serialised as the JSON
an API returns. The measured run does the same with ``mac.enforce`` between fetching and
serialising. ``ratio`` is the one the issue asks for; ``memory_ratio`` compares the in-memory step
alone against a bare copy of each dict, the harshest baseline there is. Both run in the same
process, interleaved, several times; each figure is the median. As in ``timeit``, the garbage
collector is paused while a run is timed; time is this process's CPU time, so other work on a
shared machine does not land in one side or the other.

Run: ``.venv/bin/python bench/mac_masking.py [--quick]``. The last line is the result.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, insert, select

from tongban.security import mac
from tongban.security.labels import default_scheme
from tongban.security.mac import LabelledField, Schema
from tongban.security.masking import default_masker

RECORDS = 10_000
SCHEME = default_scheme()

FIELDS: dict[str, LabelledField] = {
    # 5 identity fields, masked by semantic type for this reader.
    "name": LabelledField(SCHEME.label("important", "identity"), "name"),
    "id_number": LabelledField(SCHEME.label("important", "identity"), "id_number"),
    "phone": LabelledField(SCHEME.label("important", "identity"), "phone"),
    "birth_date": LabelledField(SCHEME.label("important", "identity"), "birth_date"),
    "address": LabelledField(SCHEME.label("important", "identity"), "address"),
    # 3 health fields and 2 core fields: redacted.
    "diagnosis": LabelledField(SCHEME.label("important", "health"), "other"),
    "hospital": LabelledField(SCHEME.label("important", "health"), "other"),
    "insurance_no": LabelledField(SCHEME.label("important", "health"), "other"),
    "bank_account": LabelledField(SCHEME.label("core", "finance"), "id_number"),
    "annual_income": LabelledField(SCHEME.label("core", "finance"), "other"),
}
for i in range(10):
    FIELDS[f"public_{i}"] = LabelledField(SCHEME.public(), "other")
for i in range(5):
    FIELDS[f"internal_{i}"] = LabelledField(SCHEME.label("internal"), "other")
for i in range(5):
    FIELDS[f"household_{i}"] = LabelledField(SCHEME.label("internal", "household"), "other")
SCHEMA = Schema.of(FIELDS)
assert len(SCHEMA.fields) == 30

READER = SCHEME.clearance("internal", "household")
EVERYTHING = SCHEME.clearance("core", *SCHEME.compartment_codes)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
DISTRICTS = ["浙江省杭州市西湖区", "北京市朝阳区", "上海市浦东新区", "广东省深圳市南山区"]


def make_records(count: int, seed: int = 4) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for n in range(count):
        record: dict[str, Any] = {
            "name": rng.choice(SURNAMES) + rng.choice(["伟", "芳", "娜", "强", "敏静", "秀英"]),
            "id_number": f"{rng.randrange(110000, 659999)}19{rng.randrange(50, 99)}"
            f"{rng.randrange(1, 12):02d}{rng.randrange(1, 28):02d}{rng.randrange(1000, 9999)}",
            "phone": f"1{rng.choice('3456789')}{rng.randrange(10**8, 10**9)}",
            "birth_date": f"19{rng.randrange(50, 99)}-{rng.randrange(1, 12):02d}-15",
            "address": f"{rng.choice(DISTRICTS)}文三路{rng.randrange(1, 300)}号",
            "diagnosis": rng.choice(["糖尿病", "高血压", "哮喘"]),
            "hospital": "浙江大学医学院附属第一医院",
            "insurance_no": f"ZJ{rng.randrange(10**9, 10**10)}",
            "bank_account": f"6222{rng.randrange(10**11, 10**12)}",
            "annual_income": rng.randrange(30_000, 300_000),
        }
        for i in range(10):
            record[f"public_{i}"] = f"TB2026{n:06d}-{i}"
        for i in range(5):
            record[f"internal_{i}"] = rng.randrange(1000)
        for i in range(5):
            record[f"household_{i}"] = f"户{rng.randrange(10**6)}"
        records.append(record)
    return records


def stored_table(records: list[dict[str, Any]]) -> tuple[Any, Table]:
    """The records in an SQLite table of 30 columns, as a department's data would be."""
    engine = create_engine(f"sqlite:///{tempfile.mkdtemp(prefix='mac-bench-')}/records.db")
    table = Table(
        "records",
        MetaData(),
        Column("row_id", Integer, primary_key=True),
        *(
            Column(name, Integer if isinstance(value, int) else Text)
            for name, value in records[0].items()
        ),
    )
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), records)
    return engine, table


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        fn()
        return (time.process_time() - start) * 1000
    finally:
        gc.enable()


def measure(runs: dict[str, Callable[[], object]], repetitions: int) -> dict[str, float]:
    """Median milliseconds per run, the runs interleaved so drift in the machine hits all."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repetitions):
        for name, fn in runs.items():
            samples[name].append(timed(fn))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (seconds)")
    args = parser.parse_args()
    repetitions = 7 if args.quick else 31

    records = make_records(RECORDS)
    names = [name for name, _ in SCHEMA.fields]

    # The plan is built once per (clearance, schema) and cached; time that apart (after the
    # masking policy file has been read, which happens once per process).
    default_masker()
    mac._plan.cache_clear()
    start = time.perf_counter()
    mac.plan(READER, SCHEMA)
    plan_ms = (time.perf_counter() - start) * 1000
    mac.plan(EVERYTHING, SCHEMA)

    engine, table = stored_table(records)
    query = select(*(table.c[name] for name in names))

    def fetch() -> list[dict[str, Any]]:
        with engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def read_plain() -> str:
        return json.dumps(fetch(), ensure_ascii=False)

    def read_enforced() -> str:
        return json.dumps(mac.enforce(READER, fetch(), SCHEMA), ensure_ascii=False)

    def baseline() -> list[dict[str, Any]]:
        return [dict(r) for r in records]

    def projection() -> list[dict[str, Any]]:
        return [{name: r[name] for name in names} for r in records]

    def enforced() -> list[dict[str, Any]]:
        return mac.enforce(READER, records, SCHEMA)

    def enforced_full_clearance() -> list[dict[str, Any]]:
        return mac.enforce(EVERYTHING, records, SCHEMA)

    results = measure(
        {
            "baseline": baseline,
            "mac": enforced,
            "projection": projection,
            "mac_full": enforced_full_clearance,
            "read": read_plain,
            "read_mac": read_enforced,
        },
        repetitions,
    )
    base, mac_ms = results["baseline"], results["mac"]
    print(f"repetitions={repetitions} plan_build_ms={plan_ms:.3f}")
    print(
        f"reader={READER} readable=20 masked=5 redacted=5: "
        f"baseline_copy_ms={base:.2f} mac_ms={mac_ms:.2f} ratio={mac_ms / base:.2f}"
    )
    print(
        f"same read against a projection loop (dict comprehension over the 30 fields): "
        f"projection_ms={results['projection']:.2f} ratio={mac_ms / results['projection']:.2f}"
    )
    print(
        f"reader cleared for everything (copy + unlabelled-field check only): "
        f"mac_ms={results['mac_full']:.2f} ratio={results['mac_full'] / base:.2f}"
    )
    read, read_mac = results["read"], results["read_mac"]
    print(f"list read (database, dicts, JSON): read_ms={read:.2f} read_mac_ms={read_mac:.2f}")
    print(
        f"RESULT name=mac_masking records={RECORDS} fields={len(names)} "
        f"baseline_ms={read:.2f} mac_ms={read_mac:.2f} ratio={read_mac / read:.2f} "
        f"memory_baseline_ms={base:.2f} memory_mac_ms={mac_ms:.2f} "
        f"memory_ratio={mac_ms / base:.2f}"
    )


if __name__ == "__main__":
    main()
