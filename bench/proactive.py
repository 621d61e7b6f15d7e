"""Ten proactive service rules over a million persons (issue 11's benchmark, target < 60 s).

A fresh database (SQLite file by default, or PostgreSQL with ``--pg``) is migrated and given
the demo catalog; then, in bulk (executemany in chunks, no ORM objects): N persons with birth
dates spread over 100 years, their resident ID identifiers, an applicant account for 60 % of
them, a birth registered with both parents for 1 in 200, and N/20 companies with their USCC,
legal person, representative, licence end date and insured-employee history.

The ten rules are the six packaged ones plus four variants (turning 65, 70 and 90; a licence
ending within 60 days). ``proactive.service.run`` evaluates them as the scheduled job does —
each rule one counting and one ``INSERT ... SELECT`` statement over the whole population —
with ``send=False``: sending (one message, or one granted application, per offer) is per
person by nature and not the evaluation being measured. ``seconds`` is that evaluation.

Baseline, measured in the same run: the same rules' SQL restricted to one person (or company)
at a time, for a sample of ``--sample`` subjects per rule, extrapolated to the population —
what a person-by-person job in Python would cost. ``ratio`` = baseline seconds / set-wise
seconds.

Run: ``.venv/bin/python bench/proactive.py [--quick] [--persons N] [--pg]``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, Table, func, insert, select, text

from tongban import demo
from tongban.config import get_settings
from tongban.db.engine import make_engine
from tongban.db.migrate import upgrade
from tongban.db.session import unit_of_work
from tongban.identity.models import Account, LegalPerson, LegalPersonAgent
from tongban.identity.numbers import (
    current_region_codes,
    resident_id_check_character,
    uscc_check_character,
)
from tongban.kit.clock import local_today, utcnow
from tongban.proactive import queries, service
from tongban.proactive.rules import load_rules, rules_dir
from tongban.resources.models import (
    CompanyIdentifier,
    CompanyValue,
    CompanyValueChange,
    MasterCompany,
    MasterPerson,
    PersonIdentifier,
    PersonRelation,
)
from tongban.security.principals import Operator

OPERATOR = Operator("bench")

PG_SERVER_URL = os.environ.get(
    "TONGBAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
FULL_PERSONS = 1_000_000
QUICK_PERSONS = 50_000
CHUNK = 50_000
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

EXTRA_RULES = {
    "turns-65.yaml": ("age_reached", "years: 65\n  within_days: 30", "HRSS-0004"),
    "turns-70.yaml": ("age_reached", "years: 70\n  within_days: 30", "HRSS-0004"),
    "turns-90.yaml": ("age_reached", "years: 90\n  within_days: 30", "MCA-0003"),
}


def write_rules(directory: Path) -> None:
    """The packaged rules and four variants: ten in all."""
    for path in rules_dir().glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    for name, (kind, params, item) in EXTRA_RULES.items():
        code = name.removesuffix(".yaml")
        (directory / name).write_text(
            f"code: bench-{code}\nname_zh: 基准{code}\nname_en: Bench {code}\n"
            f"subject: person\ntrigger:\n  kind: {kind}\n  {params}\noffer:\n  item: {item}\n",
            encoding="utf-8",
        )
    (directory / "licence-60.yaml").write_text(
        "code: bench-licence-60\nname_zh: 基准执照60天\nname_en: Bench licence 60 days\n"
        "subject: company\ntrigger:\n  kind: date_within\n  element: licence_expires_on\n"
        "  days: 60\noffer:\n  item: SAMR-0003\n",
        encoding="utf-8",
    )


def chunks(rows: Iterator[dict[str, object]]) -> Iterator[list[dict[str, object]]]:
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk(engine: Engine, table: Table, rows: Iterator[dict[str, object]]) -> int:
    count = 0
    with engine.begin() as conn:
        for batch in chunks(rows):
            conn.execute(insert(table), batch)
            count += len(batch)
    return count


def fill(engine: Engine, persons: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    codes = current_region_codes()
    today = local_today()
    now = utcnow()
    first = date(today.year - 100, 1, 1)
    span = (today - first).days
    with engine.begin() as conn:
        base = conn.execute(select(func.coalesce(func.max(MasterPerson.id), 0))).scalar_one()
        account_base = conn.execute(select(func.max(Account.id))).scalar_one()
    births = [first + timedelta(days=rng.randrange(span)) for _ in range(persons)]
    ids = [f"{rng.choice(codes)}{born:%Y%m%d}{i % 1000:03d}" for i, born in enumerate(births, 1)]
    ids = [n + resident_id_check_character(n) for n in ids]
    run = uuid.uuid4().hex[:6]
    stamp = {"created_at": now, "updated_at": now}
    bulk(
        engine,
        MasterPerson.__table__,  # type: ignore[arg-type]
        (
            {
                "id": base + i,
                "pid": f"B{run}{i:010d}",
                "name": "基准人员",
                "sex": "12"[i % 2],
                "birth_date": born.isoformat(),
                "active": True,
                **stamp,
            }
            for i, born in enumerate(births, 1)
        ),
    )
    bulk(
        engine,
        PersonIdentifier.__table__,  # type: ignore[arg-type]
        (
            {
                "person_id": base + i,
                "scheme": "resident_id",
                "value": number,
                "issuer": "CN",
                "problem": "",
                **stamp,
            }
            for i, number in enumerate(ids, 1)
        ),
    )
    reachable = [i for i in range(1, persons + 1) if rng.random() < 0.6]
    accounts = bulk(
        engine,
        Account.__table__,  # type: ignore[arg-type]
        (
            {
                "id": account_base + n,
                "username": f"b{run}{i}",
                "display_name": "基准人员",
                "kind": "applicant",
                "password_hash": "!",
                "id_number": ids[i - 1],
                "active": True,
                "roles": [],
                "totp_enabled": False,
                "failed_logins": 0,
                **stamp,
            }
            for n, i in enumerate(reachable, 1)
        ),
    )
    # A birth registered in the last weeks for 1 in 200: children born recently, parents adult.
    adults = [i for i in range(1, persons + 1) if 20 <= (today - births[i - 1]).days // 365 < 45]
    children = [i for i in range(1, persons + 1) if (today - births[i - 1]).days < 50]
    relations = []
    for child in children[: persons // 200]:
        father, mother = rng.sample(adults, 2)
        for relation, parent in (("father", father), ("mother", mother)):
            relations.append(
                {
                    "person_id": base + child,
                    "relation": relation,
                    "relative_id": base + parent,
                    "source": "HEALTH",
                    "registered_at": now - timedelta(days=rng.randrange(40)),
                }
            )
    bulk(engine, PersonRelation.__table__, iter(relations))  # type: ignore[arg-type]
    companies = fill_companies(engine, persons // 20, reachable, base, account_base, rng, run)
    return {"persons": persons, "accounts": accounts, "births": len(relations) // 2, **companies}


def fill_companies(
    engine: Engine,
    count: int,
    reachable: list[int],
    person_base: int,
    account_base: int,
    rng: random.Random,
    run: str,
) -> dict[str, int]:
    now = utcnow()
    today = local_today()
    stamp = {"created_at": now, "updated_at": now}
    with engine.begin() as conn:
        company_base = conn.execute(
            select(func.coalesce(func.max(MasterCompany.id), 0))
        ).scalar_one()
        legal_base = conn.execute(select(func.coalesce(func.max(LegalPerson.id), 0))).scalar_one()
    codes = current_region_codes()
    usccs = []
    for _ in range(count):
        first17 = f"91{rng.choice(codes)}" + "".join(rng.choices(USCC_ALPHABET, k=9))
        usccs.append(first17 + uscc_check_character(first17))
    usccs = list(dict.fromkeys(usccs))
    bulk(
        engine,
        MasterCompany.__table__,  # type: ignore[arg-type]
        (
            {"id": company_base + i, "cid": f"K{run}{i:010d}", "name": "基准公司", **stamp}
            for i in range(1, len(usccs) + 1)
        ),
    )
    bulk(
        engine,
        CompanyIdentifier.__table__,  # type: ignore[arg-type]
        (
            {
                "company_id": company_base + i,
                "scheme": "uscc",
                "value": uscc,
                "problem": "",
                **stamp,
            }
            for i, uscc in enumerate(usccs, 1)
        ),
    )
    bulk(
        engine,
        LegalPerson.__table__,  # type: ignore[arg-type]
        (
            {"id": legal_base + i, "uscc": uscc, "name": "基准公司", **stamp}
            for i, uscc in enumerate(usccs, 1)
        ),
    )
    representatives = rng.sample(range(1, len(reachable) + 1), len(usccs))
    bulk(
        engine,
        LegalPersonAgent.__table__,  # type: ignore[arg-type]
        (
            {
                "legal_person_id": legal_base + i,
                "account_id": account_base + n,
                "role": "legal_representative",
                "granted_at": now,
            }
            for i, n in enumerate(representatives, 1)
        ),
    )
    bulk(
        engine,
        CompanyValue.__table__,  # type: ignore[arg-type]
        (
            {
                "company_id": company_base + i,
                "element": "licence_expires_on",
                "value": (today + timedelta(days=rng.randrange(-30, 3650))).isoformat(),
                "source": "SAMR",
                "updated_at": now,
            }
            for i in range(1, len(usccs) + 1)
        ),
    )
    changes = []
    for i in range(1, len(usccs) + 1):
        old: str | None = None
        for _ in range(rng.randrange(3)):
            new = str(rng.randrange(0, 3) if old is None else int(old) + rng.randrange(0, 5))
            changes.append(
                {
                    "company_id": company_base + i,
                    "element": "insured_employees",
                    "old_value": old,
                    "new_value": new,
                    "source": "HRSS",
                    "at": now,
                }
            )
            old = new
    bulk(engine, CompanyValueChange.__table__, iter(changes))  # type: ignore[arg-type]
    return {"companies": len(usccs)}


def baseline(engine: Engine, directory: Path, sample: int, population: dict[str, int]) -> float:
    """The same rules one subject at a time, ``sample`` subjects each, extrapolated."""
    seconds = 0.0
    with unit_of_work(engine) as session:
        rules = load_rules(session, directory)
        persons = list(session.execute(select(MasterPerson.id).limit(sample * 50)).scalars())
        companies = list(session.execute(select(MasterCompany.id).limit(sample * 50)).scalars())
        today, now = local_today(), utcnow()
        rng = random.Random(3)
        for rule in rules:
            pool = companies if rule.spec.subject == "company" else persons
            chosen = rng.sample(pool, min(sample, len(pool)))
            size = population["companies" if rule.spec.subject == "company" else "persons"]
            started = time.perf_counter()
            for subject_id in chosen:
                found = queries.candidates(rule.spec, today=today, now=now, only_subject=subject_id)
                session.execute(select(found)).all()
            seconds += (time.perf_counter() - started) / len(chosen) * size
    return seconds


def database(args: argparse.Namespace, workdir: Path) -> tuple[Engine, str | None]:
    if not args.pg:
        return make_engine(f"sqlite:///{workdir / 'bench.db'}"), None
    name = f"tongban_bench_proactive_{uuid.uuid4().hex[:8]}"
    server = make_engine(PG_SERVER_URL)
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return make_engine(PG_SERVER_URL.rsplit("/", 1)[0] + f"/{name}"), name


def drop(name: str | None) -> None:
    if name is None:
        return
    server = make_engine(PG_SERVER_URL)
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PERSONS} persons")
    parser.add_argument("--persons", type=int, default=None)
    parser.add_argument("--sample", type=int, default=200, help="baseline subjects per rule")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    persons = args.persons or (QUICK_PERSONS if args.quick else FULL_PERSONS)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.environ["TONGBAN_DATA_DIR"] = str(workdir / "data")
        get_settings.cache_clear()
        engine, pg_name = database(args, workdir)
        try:
            upgrade(engine)
            with unit_of_work(engine) as session:
                demo.load(session)
            started = time.perf_counter()
            population = fill(engine, persons)
            print(f"generated {population} in {time.perf_counter() - started:.1f} s")
            if pg_name is not None:
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
            else:
                with engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
            rules = workdir / "rules"
            rules.mkdir()
            write_rules(rules)
            started = time.perf_counter()
            with unit_of_work(engine) as session:
                outcomes = service.run(
                    session, OPERATOR, directory=rules, max_share=1.0, guard_minimum=0, send=False
                )
            seconds = time.perf_counter() - started
            for outcome in outcomes:
                print(f"  {outcome.rule}: {outcome.offers} offer(s)")
            offers = sum(o.offers for o in outcomes)
            base = baseline(engine, rules, args.sample, population)
            print(f"baseline (one subject at a time, extrapolated): {base:.1f} s")
            backend = "postgresql" if pg_name else "sqlite"
            print(
                f"RESULT name=proactive persons={persons} rules={len(outcomes)} offers={offers} "
                f"seconds={seconds:.2f} baseline_seconds={base:.1f} ratio={base / seconds:.1f} "
                f"backend={backend} started={datetime.now(UTC):%Y-%m-%dT%H:%M}"
            )
        finally:
            engine.dispose()
            drop(pg_name)


if __name__ == "__main__":
    main()
