"""The exchange gateway's cost per key lookup, against a bare indexed SELECT of the same row
(issue 5's benchmark), on SQLite and on PostgreSQL.

Setup: a fresh database per backend with the demo catalog, N persons in the master data
register (resident ID + six authoritative values each), the resource ``PSB-POPULATION`` served
from that register, and the housing department's system holding a grant for its items, cleared
``internal:identity`` (so the ID number, ``important:identity``, comes back masked).

Measured, interleaved in the same run, each lookup in its own transaction as a request would be:
- **bare**: the person's values by resident ID: one indexed SELECT (identifier → values);
- **gateway**: ``exchange.service.query`` for one key: the grant check with the rate window
  counted, the caller's clearance, the same fetch, MAC and masking, and the call's log row, its
  journaled audit entry and its "who used my data" rows, then commit (what the caller waits for);
- **sequenced**: the same, plus appending the journaled audit entries to the hash chain
  (``audit.journal``, which a web process's sequencer runs moments after the commits), timed
  after each round and added to the calls' time;
- **batched**: the gateway with 100 keys a call, sequencing included.

The calling system is loaded once, as a request's token names it: authenticating the caller is
outside every figure, as it is outside the bare SELECT.

``ratio`` = gateway rate / bare rate (target ≥ 0.3). Time is wall-clock on the same connection
pool; each figure is the median of several rounds.

Run: ``.venv/bin/python bench/gateway.py [--quick] [--backend sqlite|postgresql]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, select, text

from tongban import demo
from tongban.audit import journal
from tongban.connectors.models import DepartmentSystem
from tongban.connectors.schemas import SystemSpec
from tongban.db.engine import make_engine
from tongban.db.migrate import upgrade
from tongban.db.session import sessions_for, take_follow_ups, unit_of_work
from tongban.exchange import service as exchange
from tongban.exchange.models import Grant
from tongban.exchange.schemas import ResourceSpec, SharingRequestIn
from tongban.identity import numbers
from tongban.identity import service as identity_service
from tongban.integration import docking
from tongban.kit.clock import utcnow
from tongban.resources.models import (
    ElementValue,
    MasterPerson,
    PersonIdentifier,
    PersonScheme,
)
from tongban.security import service as security_service
from tongban.security.principals import Operator

OPERATOR = Operator("bench")

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ELEMENTS = ("name", "sex", "birth_date", "id_number", "address", "phone")
LABELS = {
    "name": ("internal:identity", "name"),
    "sex": ("internal:identity", "other"),
    "birth_date": ("internal:identity", "birth_date"),
    "id_number": ("important:identity", "id_number"),
    "address": ("internal:identity", "address"),
    "phone": ("internal:identity", "phone"),
}
PURPOSE = "housing_subsidy_review"


@contextmanager
def database(backend: str) -> Iterator[Engine]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
            upgrade(engine)
            yield engine
            engine.dispose()
        return
    name = f"tongban_bench_{uuid.uuid4().hex[:8]}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_SERVER.rsplit("/", 1)[0] + f"/{name}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


def resident_id(n: int) -> str:
    """A valid resident ID unique to ``n``: a thousand people born each day from 1950 on (the
    register withholds a number several persons hold, so the keys must not repeat)."""
    born = date(1950, 1, 1) + timedelta(days=n // 1000)
    body = f"330102{born:%Y%m%d}{n % 1000:03d}"
    return body + numbers.resident_id_check_character(body)


def seed(engine: Engine, persons: int) -> tuple[int, list[str]]:
    """The demo data, ``persons`` people, the resource, and a granted system: its id and keys."""
    with unit_of_work(engine) as session:
        demo.load(session)
    keys = []
    with unit_of_work(engine) as session:
        now = utcnow()
        for n in range(persons):
            key = resident_id(n)
            person = MasterPerson(pid=f"P{n:012d}", name=f"测试{n}", sex="1", birth_date=key[6:14])
            session.add(person)
            session.flush()
            session.add(
                PersonIdentifier(person_id=person.id, scheme=PersonScheme.RESIDENT_ID, value=key)
            )
            values = {
                "name": f"测试{n}",
                "sex": "1",
                "birth_date": f"{key[6:10]}-{key[10:12]}-{key[12:14]}",
                "id_number": key,
                "address": f"浙江省杭州市西湖区文三路{n}号",
                "phone": f"138{n:08d}",
            }
            for element, value in values.items():
                session.add(
                    ElementValue(
                        person_id=person.id,
                        element=element,
                        value=value,
                        source="PSB",
                        updated_at=now,
                    )
                )
            keys.append(key)
    spec = ResourceSpec.model_validate(
        {
            "code": "PSB-POPULATION",
            "title_zh": "人口基础信息",
            "title_en": "Basic population data",
            "department": "PSB",
            "store": "persons",
            "key": "id_number",
            "update_frequency": "realtime",
            "items": [
                {
                    "code": element,
                    "name_zh": element,
                    "name_en": element,
                    "type": "string",
                    "security_label": LABELS[element][0],
                    "semantic": LABELS[element][1],
                    "maintainer": "公安局人口管理处",
                    "sharing": "unconditional",
                }
                for element in ELEMENTS
            ],
        }
    )
    with unit_of_work(engine) as session:
        exchange.register_resources(session, OPERATOR, [spec])
        system = docking.register_system(
            session,
            OPERATOR,
            SystemSpec.model_validate(
                {
                    "code": "HOUSING-BENCH",
                    "name": "住房保障系统",
                    "department": "HOUSING",
                    "secret": "b" * 40,
                }
            ),
        )
        security_service.set_clearance(
            session, OPERATOR, username="system.housing-bench", clearance="internal:identity"
        )
        session.flush()
        system_id = system.id
    with unit_of_work(engine) as session:
        request = exchange.request_sharing(
            session,
            identity_service.get_by_username(session, "admin"),
            SharingRequestIn(
                resource="PSB-POPULATION",
                system="HOUSING-BENCH",
                items=list(ELEMENTS),
                purpose=PURPOSE,
                purpose_text="benchmark",
                legal_basis="benchmark",
                days=30,
            ),
        )
        for grant in session.execute(select(Grant).where(Grant.request_id == request.id)).scalars():
            grant.rate_per_minute = 10_000_000
    return system_id, keys


def bare(engine: Engine) -> Callable[[str], object]:
    lookup = (
        select(ElementValue.element, ElementValue.value)
        .join(PersonIdentifier, PersonIdentifier.person_id == ElementValue.person_id)
        .where(PersonIdentifier.scheme == PersonScheme.RESIDENT_ID)
    )

    def run(key: str) -> object:
        statement = lookup.where(PersonIdentifier.value == key)
        with engine.connect() as connection:
            rows = connection.execute(statement).all()
            connection.commit()
        return rows

    return run


def gateway(engine: Engine, system_id: int) -> Callable[[list[str]], object]:
    """One call a transaction, as the web layer runs it: the system is the one its token names
    (authenticating the caller is outside both figures). Sequencing the journal into the audit
    log is left for ``sequence`` to time, as the web layer leaves it for after the answer."""
    sessions = sessions_for(engine)
    with sessions() as session:
        system = session.get_one(DepartmentSystem, system_id)

    def run(keys: list[str]) -> object:
        with sessions() as session:
            answer = exchange.query(
                session, system, resource="PSB-POPULATION", purpose=PURPOSE, keys=keys
            )
            session.commit()
        assert all(r["found"] for r in answer.records), keys
        take_follow_ups(session)
        return answer

    return run


def sequence(engine: Engine) -> float:
    """Seconds to sequence every journaled entry into the audit chain (batches of up to
    ``journal.BATCH``, as under load)."""
    sessions = sessions_for(engine)
    started = time.perf_counter()
    journal.sequence_pending(sessions, wait=True)
    elapsed = time.perf_counter() - started
    with sessions() as session:
        assert journal.count_pending(session) == 0, "sequencing failed; see the log"
    return elapsed


def rate(fn: Callable[[list[str]], object], keys: list[str], batch: int) -> float:
    """Keys looked up per second, ``batch`` keys a call."""
    started = time.perf_counter()
    for start in range(0, len(keys), batch):
        fn(keys[start : start + batch])
    return len(keys) / (time.perf_counter() - started)


def one_by_one(fn: Callable[[str], object]) -> Callable[[list[str]], object]:
    return lambda keys: [fn(key) for key in keys]


@dataclass(frozen=True)
class Rates:
    bare: float
    single: float  # the gateway, one key a call: the call with its journal entry
    sequenced: float  # the same, with sequencing its journal entries into the audit log
    batched: float  # the gateway, BATCH keys a call, with sequencing


BATCH = 100


def measure(backend: str, persons: int, lookups: int, rounds: int) -> Rates:
    with database(backend) as engine:
        system_id, keys = seed(engine, persons)
        if backend == "postgresql":
            # Planner statistics for the freshly loaded tables, as a live database has them.
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
        chooser = random.Random(5)
        plain, served = one_by_one(bare(engine)), gateway(engine, system_id)
        # Warm caches (plans, key ring, prepared statements) before timing.
        rate(plain, keys[:50], 1)
        rate(served, keys[:50], 1)
        sequence(engine)
        bare_rates, single_rates, sequenced_rates, batched_rates = [], [], [], []
        for _ in range(rounds):
            sample = [chooser.choice(keys) for _ in range(lookups)]
            bare_rates.append(rate(plain, sample, 1))
            single = rate(served, sample, 1)
            single_rates.append(single)
            sequenced_rates.append(lookups / (lookups / single + sequence(engine)))
            batched = rate(served, sample, BATCH)
            batched_rates.append(lookups / (lookups / batched + sequence(engine)))
        return Rates(
            statistics.median(bare_rates),
            statistics.median(single_rates),
            statistics.median(sequenced_rates),
            statistics.median(batched_rates),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run under a minute")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    args = parser.parse_args()
    persons, lookups, rounds = (2_000, 300, 3) if args.quick else (50_000, 2_000, 5)
    figures: list[str] = []
    ratios = []
    for backend in args.backend or ["sqlite", "postgresql"]:
        rates = measure(backend, persons, lookups, rounds)
        ratio = rates.single / rates.bare
        sequenced_ratio = rates.sequenced / rates.bare
        batch_ratio = rates.batched / rates.bare
        ratios.append(ratio)
        short = "pg" if backend == "postgresql" else backend
        print(
            f"{backend}: bare SELECT {rates.bare:,.0f} keys/s; gateway one key a call "
            f"{rates.single:,.0f}/s (ratio {ratio:.2f}, target ≥ 0.3), with its audit entries "
            f"sequenced {rates.sequenced:,.0f}/s (ratio {sequenced_ratio:.2f}); {BATCH} keys a "
            f"call {rates.batched:,.0f}/s (ratio {batch_ratio:.2f})"
        )
        figures += [
            f"{short}_bare_per_s={rates.bare:.0f}",
            f"{short}_gateway_per_s={rates.single:.0f}",
            f"{short}_ratio={ratio:.2f}",
            f"{short}_sequenced_per_s={rates.sequenced:.0f}",
            f"{short}_sequenced_ratio={sequenced_ratio:.2f}",
            f"{short}_batched_per_s={rates.batched:.0f}",
            f"{short}_batch_ratio={batch_ratio:.2f}",
        ]
    print(f"RESULT name=gateway persons={persons} {' '.join(figures)} ratio={min(ratios):.2f}")


if __name__ == "__main__":
    main()
