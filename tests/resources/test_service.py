"""Master data on a real database: registers and identifiers, record import, entity resolution
with the shipped model, the review queue, reversible links, authoritative values and quality."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.audit.helpers import sequenced
from tests.conftest import DemoCopy
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import new_official
from tongban.audit.models import AuditEntry
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden
from tongban.identity import numbers
from tongban.identity.models import Account
from tongban.identity.numbers import resident_id_check_character
from tongban.identity.principals import Principal
from tongban.resources import repository, service
from tongban.resources.errors import AlreadyDecided, RecordFileInvalid
from tongban.resources.models import (
    CompanyScheme,
    ConflictStatus,
    LinkEvent,
    PersonScheme,
    ReviewStatus,
    SourceRecord,
    ValueChange,
)
from tongban.resources.schemas import read_record_csv

_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉"


def _name() -> str:
    # Unique enough that records of other tests never match these.
    return random.choice("欧阳司马诸葛") + "".join(random.choices(_GIVEN, k=3))


def _id_pair() -> tuple[str, str, date]:
    """An 18-digit resident ID and the 15-digit one it replaced."""
    born = date(1950, 1, 1) + timedelta(days=random.randrange(15000))
    sequence = f"{random.randrange(1000):03d}"
    first17 = f"110101{born:%Y%m%d}{sequence}"
    return first17 + resident_id_check_character(first17), f"110101{born:%y%m%d}{sequence}", born


def _phone() -> str:
    return f"139{random.randrange(10**8):08d}"


def _import(engine: Engine, source: str, csv_text: str) -> service.ImportResult:
    with unit_of_work(engine) as session:
        return service.import_records(
            session, OPERATOR, source=source, rows=read_record_csv(csv_text)
        )


def _resolve(engine: Engine) -> service.ResolveResult:
    with unit_of_work(engine) as session:
        return service.resolve(session, OPERATOR)


def _person_of(engine: Engine, source: str, local_id: str) -> str | None:
    with unit_of_work(engine) as session:
        record = session.execute(
            select(SourceRecord).where(
                SourceRecord.source == source, SourceRecord.local_id == local_id
            )
        ).scalar_one()
        if record.person_id is None:
            return None
        return service.find_persons(
            session, OPERATOR, scheme=PersonScheme.DEPARTMENT_LOCAL, value=local_id
        )[0].pid


HEADER = "local_id,name,sex,birth_date,id_number,phone,address\n"


class TestRegisters:
    def test_an_old_id_number_links_the_18_digit_one_and_finds_the_person(self, db) -> None:  # type: ignore[no-untyped-def]
        id18, id15, _ = _id_pair()
        person = service.register_person(
            db,
            OPERATOR,
            name=_name(),
            identifiers_given=[(PersonScheme.OLD_RESIDENT_ID, id15, "")],
        )
        db.flush()
        assert numbers.upgrade_resident_id(id15) == id18
        found = service.find_persons(db, OPERATOR, scheme=PersonScheme.RESIDENT_ID, value=id18)
        assert [p.pid for p in found] == [person.pid]
        view = service.get_person(db, OPERATOR, person.pid)
        assert {(i["scheme"], i["value"], i["problem"]) for i in view.identifiers} == {
            (PersonScheme.OLD_RESIDENT_ID, id15, ""),
            (PersonScheme.RESIDENT_ID, id18, ""),
        }

    def test_a_malformed_identifier_is_kept_and_flagged(self, db) -> None:  # type: ignore[no-untyped-def]
        id18, _, _ = _id_pair()
        typo = id18[:-1] + ("0" if id18[-1] != "0" else "1")
        person = service.register_person(
            db, OPERATOR, name=_name(), identifiers_given=[(PersonScheme.RESIDENT_ID, typo, "")]
        )
        db.flush()
        (identifier,) = service.get_person(db, OPERATOR, person.pid).identifiers
        assert identifier["value"] == typo  # not "fixed"
        assert "does not match" in identifier["problem"]

    def test_a_company_uscc_links_its_organisation_code(self, db) -> None:  # type: ignore[no-untyped-def]
        first17 = "91110101" + "MA01234" + f"{random.randrange(100):02d}"
        uscc = first17 + numbers.uscc_check_character(first17)
        company = service.register_company(
            db, OPERATOR, name="临江测试有限公司", identifiers_given=[(CompanyScheme.USCC, uscc)]
        )
        db.flush()
        found = service.find_companies(
            db, OPERATOR, scheme=CompanyScheme.ORGANISATION_CODE, value=uscc[8:17]
        )
        assert [c.cid for c in found] == [company.cid]


class TestImport:
    def test_a_bad_file_names_its_lines_and_loads_nothing(self) -> None:
        text = (
            HEADER + "a1,张三,M,1980-01-01,,,\n,李四,F,,,,\na3,王五,X,,,,\na4,赵六,,1980-02-30,,,\n"
        )
        with pytest.raises(RecordFileInvalid) as caught:
            read_record_csv(text)
        message = str(caught.value)
        assert "3: local_id" in message
        assert "4: sex" in message
        assert "5: birth_date" in message
        assert "2:" not in message.split("wrong:")[1]

    def test_malformed_id_numbers_are_stored_as_sent_and_flagged(self, engine: Engine) -> None:
        id18, _, born = _id_pair()
        local = uuid.uuid4().hex[:8]
        result = _import(engine, "TAX", HEADER + f"t{local},{_name()},M,{born},{id18[:-1]}Q,,\n")
        assert (result.created, result.flagged) == (1, 1)
        with unit_of_work(engine) as session:
            record = session.execute(
                select(SourceRecord).where(SourceRecord.local_id == f"t{local}")
            ).scalar_one()
            assert record.id_number == f"{id18[:-1]}Q"
            assert record.id_problem


class TestResolve:
    def test_the_first_record_of_a_new_register_gets_a_person_of_its_own(
        self, tmp_path: Path, demo_copy: DemoCopy
    ) -> None:
        with demo_copy(tmp_path) as fresh:
            id18, _, born = _id_pair()
            _import(fresh, "PSB", HEADER + f"first,{_name()},M,{born},{id18},,\n")
            result = _resolve(fresh)
            assert (result.records, result.new_persons, result.linked) == (1, 1, 1)
            assert _person_of(fresh, "PSB", "first") is not None

    def test_records_of_one_person_are_linked_to_one_platform_id(self, engine: Engine) -> None:
        id18, id15, born = _id_pair()
        name, phone, tag = _name(), _phone(), uuid.uuid4().hex[:8]
        _import(engine, "PSB", HEADER + f"p{tag},{name},M,{born},{id18},{phone},临江市人民路1号\n")
        _import(engine, "HRSS", HEADER + f"h{tag},{name},男,{born},{id15},{phone},\n")
        _import(engine, "HEALTH", HEADER + f"m{tag},{name},M,{born},,{phone},临江市人民路1号\n")
        result = _resolve(engine)
        assert result.linked >= 3
        pids = {
            _person_of(engine, s, f"{p}{tag}")
            for s, p in (("PSB", "p"), ("HRSS", "h"), ("HEALTH", "m"))
        }
        assert len(pids) == 1
        assert None not in pids
        with unit_of_work(engine) as session:
            (person,) = service.find_persons(
                session, OPERATOR, scheme=PersonScheme.OLD_RESIDENT_ID, value=id15
            )
            assert person.pid in pids
            actions = (
                sequenced(session)
                .execute(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(1))
                .scalar_one()
            )
            assert actions == "resources.resolved"

    def test_a_grey_pair_goes_to_review_and_a_steward_link_can_be_undone(
        self, engine: Engine
    ) -> None:
        # Same name and birth date, nothing else shared: the model is unsure.
        _, _, born = _id_pair()
        name, tag = _name(), uuid.uuid4().hex[:8]
        _import(engine, "MCA", HEADER + f"a{tag},{name},F,{born},,{_phone()},\n")
        _import(engine, "TAX", HEADER + f"b{tag},{name},F,{born},,,\n")
        _resolve(engine)
        first, second = _person_of(engine, "MCA", f"a{tag}"), _person_of(engine, "TAX", f"b{tag}")
        assert first != second
        with unit_of_work(engine) as session:
            (view,) = [
                v
                for v in service.list_reviews(session, OPERATOR)
                if v.record_a["local_id"] == f"a{tag}"
            ]
            assert 0.5 <= (view.match_probability or 0) < 0.99
            assert view.evidence["name"] > 0
            assert view.evidence["birth_date"] > 0
            review_id = view.id
        with unit_of_work(engine) as session:
            service.decide_review(session, OPERATOR, review_id, same=True)
        assert _person_of(engine, "TAX", f"b{tag}") == first
        with unit_of_work(engine) as session, pytest.raises(AlreadyDecided):
            service.decide_review(session, OPERATOR, review_id, same=False)
        with unit_of_work(engine) as session:
            event = session.execute(
                select(LinkEvent).order_by(LinkEvent.id.desc()).limit(1)
            ).scalar_one()
            service.undo_link(session, OPERATOR, event.id)
        assert _person_of(engine, "TAX", f"b{tag}") == second
        _resolve(engine)  # the steward's undo is not overruled
        assert _person_of(engine, "TAX", f"b{tag}") == second

    def test_a_distinct_pair_is_not_proposed_again(self, engine: Engine) -> None:
        _, _, born = _id_pair()
        name, tag = _name(), uuid.uuid4().hex[:8]
        _import(engine, "MCA", HEADER + f"a{tag},{name},M,{born},,{_phone()},\n")
        _import(engine, "TAX", HEADER + f"b{tag},{name},M,{born},,,\n")
        _resolve(engine)
        with unit_of_work(engine) as session:
            (view,) = [
                v
                for v in service.list_reviews(session, OPERATOR)
                if v.record_a["local_id"] == f"a{tag}"
            ]
            service.decide_review(session, OPERATOR, view.id, same=False)
        assert _resolve(engine).reviews_opened == 0
        with unit_of_work(engine) as session:
            assert not [
                v
                for v in service.list_reviews(session, OPERATOR)
                if v.record_a["local_id"] == f"a{tag}"
            ]
            decided = service.list_reviews(session, OPERATOR, status=ReviewStatus.DISTINCT)
            assert any(v.record_a["local_id"] == f"a{tag}" for v in decided)

    def test_unlink_splits_a_record_off_and_undo_puts_it_back(self, engine: Engine) -> None:
        id18, _, born = _id_pair()
        name, tag = _name(), uuid.uuid4().hex[:8]
        _import(engine, "PSB", HEADER + f"p{tag},{name},M,{born},{id18},,\n")
        _import(engine, "HRSS", HEADER + f"h{tag},{name},M,{born},{id18},,\n")
        _resolve(engine)
        together = _person_of(engine, "PSB", f"p{tag}")
        assert _person_of(engine, "HRSS", f"h{tag}") == together
        with unit_of_work(engine) as session:
            record = session.execute(
                select(SourceRecord).where(SourceRecord.local_id == f"h{tag}")
            ).scalar_one()
            split = service.unlink_record(session, OPERATOR, record.id)
            split_id = split.id
        apart = _person_of(engine, "HRSS", f"h{tag}")
        assert apart != together
        with unit_of_work(engine) as session:
            service.undo_link(session, OPERATOR, split_id)
        assert _person_of(engine, "HRSS", f"h{tag}") == together
        with unit_of_work(engine) as session:
            actions = list(
                sequenced(session)
                .execute(
                    select(AuditEntry.action).where(AuditEntry.target_type == "resource_record")
                )
                .scalars()
            )
            assert "resources.record_unlinked" in actions
            assert "resources.link_undone" in actions


def _address_conflict(engine: Engine) -> tuple[str | None, str, str, str, date]:
    """The elements loaded and a person whose HRSS address disagrees with that of HOUSING, the
    address's authority: (pid, name, tag, ID number, birth date)."""
    with unit_of_work(engine) as session:
        service.load_elements(session, OPERATOR, service.read_elements())
    id18, _, born = _id_pair()
    name, tag = _name(), uuid.uuid4().hex[:8]
    _import(engine, "PSB", HEADER + f"p{tag},{name},M,{born},{id18},,临江市人民路1号\n")
    _import(engine, "HRSS", HEADER + f"h{tag},{name},M,{born},{id18},,临江市解放路9号\n")
    _import(engine, "HOUSING", HEADER + f"g{tag},{name},M,{born},{id18},,临江市人民路1号\n")
    _resolve(engine)
    return _person_of(engine, "PSB", f"p{tag}"), name, tag, id18, born


class TestAuthority:
    def test_the_authority_sets_the_value_and_others_are_checked(self, engine: Engine) -> None:
        pid, name, tag, id18, born = _address_conflict(engine)
        with unit_of_work(engine) as session:
            conflicts = [c for c in service.list_conflicts(session, OPERATOR) if c.pid == pid]
            assert [(c.element, c.other_source, c.other_value) for c in conflicts] == [
                ("address", "HRSS", "临江市解放路9号")
            ]
            assert conflicts[0].authority == "HOUSING"
        # The authority's record changes: history kept, the conflict closes when HRSS agrees.
        _import(engine, "HOUSING", HEADER + f"g{tag},{name},M,{born},{id18},,临江市解放路9号\n")
        _resolve(engine)
        with unit_of_work(engine) as session:
            person = repository.person_by_pid(session, pid or "")
            assert person is not None
            changes = list(
                session.execute(
                    select(ValueChange).where(
                        ValueChange.person_id == person.id, ValueChange.element == "address"
                    )
                ).scalars()
            )
            assert [(c.old_value, c.new_value) for c in changes] == [
                (None, "临江市人民路1号"),
                ("临江市人民路1号", "临江市解放路9号"),
            ]
            resolved = service.list_conflicts(session, OPERATOR, status=ConflictStatus.RESOLVED)
            assert any(c.pid == pid for c in resolved)
            figures = service.quality_figures(session, OPERATOR)
            assert {f.source for f in figures} >= {"PSB", "HRSS", "HOUSING"}


class TestListConflicts:
    def test_a_conflict_is_routed_to_the_authoritys_department(self, engine: Engine) -> None:
        pid, *_ = _address_conflict(engine)
        housing = new_official(engine, department="HOUSING")
        other = new_official(engine, department="PSB")
        with unit_of_work(engine) as session:

            def pids(subject: Principal, department: str | None = None) -> set[str]:
                found = service.list_conflicts(session, subject, department=department)
                return {c.pid for c in found}

            assert pid in pids(session.get(Account, housing.id))
            assert pid not in pids(session.get(Account, other.id))
            assert pid in pids(OPERATOR, "HOUSING")
            assert pid not in pids(OPERATOR, "PSB")
            with pytest.raises(Forbidden):
                pids(session.get(Account, other.id), "HOUSING")
