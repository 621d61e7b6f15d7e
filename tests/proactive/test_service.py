"""Proactive service on a real database: a registered birth offers each parent once, however
often the job runs, and a parent's confirmation becomes an application; granting without
application (免申即享) records an approved case and tells the person; the mass-offer guard holds
a run for an administrator; company rules reach the legal representative."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from tests.audit.helpers import sequenced
from tests.fixtures.principals import OPERATOR
from tests.proactive.factories import Resident, company, id_number, resident
from tongban.applications import service as applications_service
from tongban.applications.models import Application
from tongban.applications.states import Status
from tongban.audit.models import AuditEntry
from tongban.db.session import unit_of_work
from tongban.identity.models import Account
from tongban.kit.clock import local_today
from tongban.notifications.models import Notification
from tongban.proactive import service
from tongban.proactive.errors import OfferClosed, RunNotPending
from tongban.proactive.models import Offer, OfferStatus, ProactiveRun, RunStatus
from tongban.resources import life_events
from tongban.resources.errors import RecordFileInvalid


def _birth(engine: Engine) -> tuple[Resident, Resident, str, str]:
    father = resident(engine, born=date(1990, 3, 4), name="王父", sex="1")
    mother = resident(engine, born=date(1992, 7, 8), name="李母", sex="2")
    name = "王" + random.choice("一二三四五六七八九") + random.choice("甲乙丙丁")
    born = local_today() - timedelta(days=3)
    with unit_of_work(engine) as session:
        birth = life_events.register_birth(
            session,
            OPERATOR,
            name=name,
            sex="1",
            birth_date=born.isoformat(),
            id_number=id_number(born),
            parents={"father": father.pid, "mother": mother.pid},
        )
        return father, mother, birth.child.pid, name


def _offers(engine: Engine, rule: str, subject_ref: str) -> list[Offer]:
    with unit_of_work(engine) as session:
        stmt = select(Offer).where(Offer.rule == rule, Offer.subject_ref == subject_ref)
        return list(session.execute(stmt).scalars())


def _run(engine: Engine, *rules: str, **options: object) -> list[service.RunOutcome]:
    with unit_of_work(engine) as session:
        return service.run(session, OPERATOR, only=rules, **options)  # type: ignore[arg-type]


class TestBirth:
    def test_each_parent_is_offered_once_however_often_the_job_runs(self, engine: Engine) -> None:
        father, mother, child, _ = _birth(engine)
        _run(engine, "newborn-household")
        _run(engine, "newborn-household")
        offers = _offers(engine, "newborn-household", child)
        assert sorted(o.recipient_id for o in offers) == sorted(
            [father.account_id, mother.account_id]
        )
        assert {o.status for o in offers} == {OfferStatus.OFFERED}
        with unit_of_work(engine) as session:
            for offer in offers:
                sent = session.execute(
                    select(Notification).where(
                        Notification.reference == f"offer:{offer.id}",
                        Notification.event == "service_offered",
                    )
                ).scalars()
                assert {n.recipient_id for n in sent} == {offer.recipient_id}

    def test_a_parents_confirmation_becomes_a_prefilled_application(self, engine: Engine) -> None:
        father, _, child, name = _birth(engine)
        _run(engine, "newborn-household")
        (offer,) = [
            o
            for o in _offers(engine, "newborn-household", child)
            if o.recipient_id == father.account_id
        ]
        with unit_of_work(engine) as session:
            account = session.get(Account, father.account_id)
            taken = service.accept(session, account, offer.id)
            assert taken.application is not None
            number = taken.application.number
        with unit_of_work(engine) as session:
            account = session.get(Account, father.account_id)
            application = applications_service.get(session, account, number)
            form = applications_service.disclose(session, account, application).values
            assert application.item.code == "PSB-0003"
            assert application.applicant_id == father.account_id
            assert form["baby_name"] == name
            assert form["guardian_id_number"] == father.id_number
            stored = session.get(Offer, offer.id)
            assert stored is not None
            assert stored.status is OfferStatus.APPLIED
            assert stored.application_number == number

    def test_a_taken_offer_cannot_be_taken_again(self, engine: Engine) -> None:
        _, mother, child, _ = _birth(engine)
        _run(engine, "newborn-household")
        (offer,) = [
            o
            for o in _offers(engine, "newborn-household", child)
            if o.recipient_id == mother.account_id
        ]
        with unit_of_work(engine) as session:
            account = session.get(Account, mother.account_id)
            service.decline(session, account, offer.id)
        with unit_of_work(engine) as session:
            account = session.get(Account, mother.account_id)
            with pytest.raises(OfferClosed):
                service.accept(session, account, offer.id)


class TestGrantWithoutApplication:
    def test_turning_80_grants_the_allowance_and_tells_the_person(self, engine: Engine) -> None:
        # Born in 1902: only this test's person turns 80 on the day the run pretends it is.
        born = date(1902, 1, 1) + timedelta(days=random.randrange(300))
        elder = resident(engine, born=born, name="高寿老人")
        today = born.replace(year=1982) + timedelta(days=2)
        (outcome,) = _run(engine, "turns-80-allowance", today=today)
        assert outcome.status is RunStatus.DONE
        (offer,) = _offers(engine, "turns-80-allowance", elder.pid)
        assert offer.status is OfferStatus.GRANTED
        assert offer.application_number is not None
        with unit_of_work(engine) as session:
            application = session.execute(
                select(Application).where(Application.number == offer.application_number)
            ).scalar_one()
            assert application.status is Status.APPROVED
            assert application.applicant_id == elder.account_id
            assert "老年人权益保障法" in application.last_reason
            audited = (
                sequenced(session)
                .execute(
                    select(AuditEntry).where(
                        AuditEntry.target_id == application.number,
                        AuditEntry.action == "application.granted_without_application",
                    )
                )
                .scalar_one()
            )
            assert audited.actor.startswith("system.proactive.")
            told = (
                session.execute(
                    select(Notification).where(
                        Notification.recipient_id == elder.account_id,
                        Notification.event == "service_granted",
                    )
                )
                .scalars()
                .all()
            )
            assert told
            assert all(application.number in n.body for n in told)
        assert _run(engine, "turns-80-allowance", today=today)[0].offers == 0


class TestMassOfferGuard:
    def test_a_run_above_the_share_is_held_until_confirmed(self, engine: Engine) -> None:
        father, mother, child, _ = _birth(engine)
        (held,) = _run(engine, "newborn-household", max_share=0.0001, guard_minimum=0)
        assert held.status is RunStatus.PENDING
        assert held.candidates >= 2
        assert _offers(engine, "newborn-household", child) == []
        with unit_of_work(engine) as session:
            outcome = service.confirm(session, OPERATOR, held.run_id)
        assert outcome.status is RunStatus.CONFIRMED
        offers = _offers(engine, "newborn-household", child)
        assert {o.recipient_id for o in offers} == {father.account_id, mother.account_id}
        with unit_of_work(engine) as session:
            run = session.get(ProactiveRun, held.run_id)
            assert run is not None
            assert run.status is RunStatus.CONFIRMED
            with pytest.raises(RunNotPending):
                service.confirm(session, OPERATOR, held.run_id)


class TestCompanies:
    def test_an_expiring_licence_is_offered_to_the_representative(self, engine: Engine) -> None:
        firm = company(engine)
        ends = (local_today() + timedelta(days=12)).isoformat()
        with unit_of_work(engine) as session:
            life_events.set_company_value(
                session, OPERATOR, firm.cid, element="licence_expires_on", value=ends
            )
        _run(engine, "licence-expiring")
        _run(engine, "licence-expiring")
        (offer,) = _offers(engine, "licence-expiring", firm.cid)
        assert offer.recipient_id == firm.representative.account_id
        assert offer.legal_person_id == firm.legal_person_id
        assert offer.occasion == ends
        with unit_of_work(engine) as session:
            account = session.get(Account, firm.representative.account_id)
            taken = service.accept(session, account, offer.id)
            assert taken.application is not None
            assert taken.application.legal_person_id == firm.legal_person_id
            form = applications_service.disclose(session, account, taken.application).values
            assert form["credit_code"] == firm.uscc
            assert form["operator_name"] == "临江测试科技有限公司"

    def test_the_first_employee_is_offered_once(self, engine: Engine) -> None:
        firm = company(engine)
        with unit_of_work(engine) as session:
            for count in ("0", "1", "2"):
                life_events.set_company_value(
                    session, OPERATOR, firm.cid, element="insured_employees", value=count
                )
        _run(engine, "first-employee")
        _run(engine, "first-employee")
        (offer,) = _offers(engine, "first-employee", firm.cid)
        assert offer.status is OfferStatus.OFFERED
        assert offer.recipient_id == firm.representative.account_id
        assert offer.occasion == "insured_employees>=1"

    def test_a_company_without_employees_is_not_offered(self, engine: Engine) -> None:
        firm = company(engine)
        with unit_of_work(engine) as session:
            life_events.set_company_value(
                session, OPERATOR, firm.cid, element="insured_employees", value="0"
            )
        _run(engine, "first-employee")
        assert _offers(engine, "first-employee", firm.cid) == []

    def test_a_value_of_the_wrong_form_is_refused(self, engine: Engine) -> None:
        firm = company(engine)
        with (
            unit_of_work(engine) as session,
            pytest.raises(RecordFileInvalid, match="insured_employees"),
        ):
            life_events.set_company_value(
                session, OPERATOR, firm.cid, element="insured_employees", value="many"
            )
