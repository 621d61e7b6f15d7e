"""The proactive service domain's public API (主动服务、免申即享): run the rules, hold a run
that would reach too many people for an administrator, and let a person take up or decline
what was offered to them."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session

from tongban.applications import grants
from tongban.applications import service as applications_service
from tongban.applications.models import Application
from tongban.applications.states import Action
from tongban.audit import service as audit
from tongban.catalog.models import ServiceItem
from tongban.config import get_settings
from tongban.errors import InvalidInput
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.identity.principals import Principal, account_id
from tongban.kit.clock import local_today, utcnow
from tongban.kit.i18n import LocalText
from tongban.notifications import events as notifications
from tongban.proactive import policy, queries
from tongban.proactive.errors import OfferClosed, OfferNotFound, RunNotFound, RunNotPending
from tongban.proactive.models import Offer, OfferStatus, ProactiveRun, RunStatus
from tongban.proactive.rules import Rule, load_rules
from tongban.proactive.schemas import Constant
from tongban.resources import life_events
from tongban.security.principals import Internal

# Reported while a long run goes on: (rule code, offers handled, offers in all).
Progress = Callable[[str, int, int], None]


@dataclass
class RunOutcome:
    rule: str
    run_id: int
    status: RunStatus
    population: int
    candidates: int
    offers: int
    granted: int


def run(
    session: Session,
    subject: Principal,
    *,
    only: Sequence[str] = (),
    directory: Path | None = None,
    today: date | None = None,
    max_share: float | None = None,
    guard_minimum: int | None = None,
    progress: Progress | None = None,
    send: bool = True,
) -> list[RunOutcome]:
    """Evaluate every active rule (or those in ``only``) once over the whole population:
    make the new offers, grant those granted without application, tell the people.
    ``send`` False only makes the offers (the benchmark of the rules' evaluation): they stay
    unsent, ``notified_at`` empty."""
    policy.require_run(subject)
    settings = get_settings()
    share = settings.proactive_max_share if max_share is None else max_share
    minimum = settings.proactive_guard_minimum if guard_minimum is None else guard_minimum
    rules = [r for r in load_rules(session, directory) if r.spec.active]
    if only:
        rules = [r for r in rules if r.code in only]
    outcomes = []
    for rule in rules:
        outcomes.append(
            _run_rule(
                session,
                subject,
                rule,
                today=today or local_today(),
                limit=None,
                share=share,
                minimum=minimum,
                progress=progress,
                send=send,
            )
        )
    return outcomes


def _run_rule(
    session: Session,
    subject: Principal,
    rule: Rule,
    *,
    today: date,
    limit: ProactiveRun | None,
    share: float,
    minimum: int,
    progress: Progress | None,
    send: bool = True,
) -> RunOutcome:
    now = utcnow()
    found = queries.candidates(rule.spec, today=today, now=now)
    candidates = session.execute(queries.count(found)).scalar_one()
    population = session.execute(queries.population(rule.spec.subject)).scalar_one()
    allowed = max(minimum, math.floor(population * share))
    if limit is None and candidates > allowed:
        held = ProactiveRun(
            rule=rule.code,
            status=RunStatus.PENDING,
            population=population,
            candidates=candidates,
            started_at=now,
        )
        session.add(held)
        session.flush()
        audit.record(
            session,
            actor=subject,
            action="proactive.run_held",
            target_type="proactive_run",
            target_id=str(held.id),
            details={"rule": rule.code, "candidates": candidates, "population": population},
        )
        return RunOutcome(rule.code, held.id, held.status, population, candidates, 0, 0)
    record = limit or ProactiveRun(
        rule=rule.code,
        status=RunStatus.DONE,
        population=population,
        candidates=candidates,
        started_at=now,
    )
    session.add(record)
    session.flush()
    status = OfferStatus.GRANTED if rule.spec.grant else OfferStatus.OFFERED
    session.execute(
        insert(Offer).from_select(
            [
                "rule",
                "subject_ref",
                "occasion",
                "recipient_id",
                "legal_person_id",
                "run_id",
                "status",
                "created_at",
                "note",
            ],
            select(
                literal(rule.code),
                found.c.subject_ref,
                found.c.occasion,
                found.c.recipient_id,
                found.c.legal_person_id,
                literal(record.id),
                literal(status.value),
                literal(now),
                literal(""),
            ),
        )
    )
    if send:
        made = _deliver(session, subject, rule, record, progress)
    else:
        made = session.execute(queries.offers_of(record.id)).scalar_one()
    record.offers, record.finished_at = made, utcnow()
    audit.record(
        session,
        actor=subject,
        action="proactive.run",
        target_type="proactive_run",
        target_id=str(record.id),
        details={"rule": rule.code, "offers": made, "status": record.status.value},
    )
    granted = made if rule.spec.grant and send else 0
    return RunOutcome(rule.code, record.id, record.status, population, candidates, made, granted)


def _deliver(
    session: Session,
    subject: Principal,
    rule: Rule,
    record: ProactiveRun,
    progress: Progress | None,
) -> int:
    """Grant (免申即享) and tell each person of the run's new offers."""
    offers = session.execute(select(Offer).where(Offer.run_id == record.id)).scalars().all()
    accounts = {
        a.id: a
        for a in session.execute(
            select(Account).where(Account.id.in_({o.recipient_id for o in offers}))
        ).scalars()
    }
    for done, offer in enumerate(offers, 1):
        recipient = accounts[offer.recipient_id]
        if rule.spec.grant is not None:
            application = _grant(session, subject, rule, offer, recipient)
            offer.application_number, offer.decided_at = application.number, utcnow()
            _tell(session, "service_granted", rule, offer, recipient, application.number)
        else:
            _tell(session, "service_offered", rule, offer, recipient, "")
        offer.notified_at = utcnow()
        if progress is not None:
            progress(rule.code, done, len(offers))
    session.flush()
    return len(offers)


def _grant(
    session: Session, subject: Principal, rule: Rule, offer: Offer, recipient: Account
) -> Application:
    assert rule.item is not None
    assert rule.spec.grant is not None
    basis = rule.spec.grant
    application = grants.grant(
        session,
        subject,
        item_code=rule.item.code,
        applicant=recipient,
        decided_by=_service_account(session, rule.item),
        form=_form(session, rule, offer, recipient),
        legal_basis=f"{basis.legal_basis_zh}（{rule.spec.name_zh}）",
        legal_person_id=offer.legal_person_id,
    )
    audit.record(
        session,
        actor=subject,
        action="proactive.granted",
        target_type="proactive_offer",
        target_id=str(offer.id),
        details={"rule": rule.code, "application": application.number},
    )
    return application


def _service_account(session: Session, item: ServiceItem) -> Account:
    """The department's account in whose name proactive service decides (its password random
    and never shown: nobody signs in as it)."""
    username = f"system.proactive.{item.department.code.lower()}"[:64]
    account = identity_service.get_by_username(session, username)
    if account is None:
        account = identity_service.create_account(
            session,
            Internal("the account proactive service acts as"),
            username=username,
            password=secrets.token_urlsafe(32),
            display_name="主动服务（免申即享）",
            kind=AccountKind.OFFICIAL,
            department_id=item.department_id,
        )
    return account


def _tell(
    session: Session, event: str, rule: Rule, offer: Offer, recipient: Account, number: str
) -> None:
    personalisation: dict[str, str | LocalText] = {
        "name": recipient.display_name,
        "item": rule.offered_name,
    }
    if number:
        personalisation["number"] = number
    notifications.notify(
        session,
        event=event,
        recipient=recipient,
        personalisation=personalisation,
        reference=f"offer:{offer.id}",
    )


def _form(session: Session, rule: Rule, offer: Offer, recipient: Account) -> dict[str, str]:
    """The offered item's fields filled from master data, as the rule maps them."""
    subject_values = (
        life_events.person_facts(session, offer.subject_ref)
        if rule.spec.subject == "person"
        else life_events.company_facts(session, offer.subject_ref)
    )
    recipient_values = {
        "name": recipient.display_name,
        "id_number": recipient.id_number,
        "phone": recipient.phone,
    }
    form: dict[str, str] = {}
    for field, source in rule.spec.prefill.items():
        if isinstance(source, Constant):
            value: str | None = source.value
        else:
            side, _, element = source.partition(".")
            value = (subject_values if side == "subject" else recipient_values).get(element)
        if value not in (None, ""):
            form[field] = str(value)
    return form


# --- the mass-offer guard ----------------------------------------------------------------------


def confirm(
    session: Session,
    subject: Principal,
    run_id: int,
    *,
    directory: Path | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> RunOutcome:
    """Send a run the guard held: the rule is evaluated again now (the population may have
    changed since) and its offers made, whatever their number."""
    policy.require_confirm_run(subject)
    held = session.get(ProactiveRun, run_id)
    if held is None:
        raise RunNotFound("There is no run {id}.", id=run_id)
    if held.status is not RunStatus.PENDING:
        raise RunNotPending("Run {id} is not waiting for confirmation.", id=run_id)
    rule = _rule(session, held.rule, directory)
    held.status, held.confirmed_at = RunStatus.CONFIRMED, utcnow()
    held.confirmed_by_id = account_id(subject)
    audit.record(
        session,
        actor=subject,
        action="proactive.run_confirmed",
        target_type="proactive_run",
        target_id=str(held.id),
        details={"rule": held.rule, "candidates": held.candidates},
    )
    return _run_rule(
        session,
        subject,
        rule,
        today=today or local_today(),
        limit=held,
        share=1.0,
        minimum=0,
        progress=progress,
    )


def list_runs(session: Session, subject: Principal, *, limit: int = 50) -> list[ProactiveRun]:
    policy.require_read_runs(subject)
    stmt = select(ProactiveRun).order_by(ProactiveRun.id.desc()).limit(limit)
    return list(session.execute(stmt).scalars())


def get_run(session: Session, subject: Principal, run_id: int) -> ProactiveRun:
    policy.require_read_runs(subject)
    found = session.get(ProactiveRun, run_id)
    if found is None:
        raise RunNotFound("There is no run {id}.", id=run_id)
    return found


def _rule(session: Session, code: str, directory: Path | None) -> Rule:
    for rule in load_rules(session, directory):
        if rule.code == code:
            return rule
    raise RunNotFound("The rule {code} of this run no longer exists.", code=code)


# --- the person's side -------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferView:
    offer: Offer
    rule: Rule | None
    prefill: dict[str, str]

    @property
    def name(self) -> LocalText:
        if self.rule is None:
            return LocalText(self.offer.rule, self.offer.rule)
        return LocalText(self.rule.spec.name_zh, self.rule.spec.name_en)

    def labelled(self) -> list[tuple[LocalText, str]]:
        """The prefilled values with their form labels, as the person will see the form."""
        if self.rule is None or self.rule.item is None:
            return []
        labels = {
            f.name: LocalText(f.label_zh, f.label_en)
            for f in applications_service.field_specs(self.rule.item)
        }
        return [
            (labels.get(name, LocalText(name, name)), value) for name, value in self.prefill.items()
        ]


def my_offers(
    session: Session, subject: Principal, *, directory: Path | None = None
) -> list[OfferView]:
    person = policy.require_own_offers(subject)
    offers = (
        session.execute(
            select(Offer).where(Offer.recipient_id == person.id).order_by(Offer.id.desc())
        )
        .scalars()
        .all()
    )
    rules = {r.code: r for r in load_rules(session, directory)} if offers else {}
    views = []
    for offer in offers:
        rule = rules.get(offer.rule)
        shown = (
            _form(session, rule, offer, person)
            if rule is not None and offer.status is OfferStatus.OFFERED
            else {}
        )
        views.append(OfferView(offer, rule, shown))
    return views


def _own_offer(session: Session, person: Account, offer_id: int) -> Offer:
    offer = session.get(Offer, offer_id)
    if offer is None or offer.recipient_id != person.id:
        raise OfferNotFound("No offer {id} is open to you.", id=offer_id)
    if offer.status is not OfferStatus.OFFERED:
        raise OfferClosed("This offer was already {status}.", status=offer.status.value)
    return offer


@dataclass(frozen=True)
class Taken:
    offer: Offer
    application: Application | None  # None: a bundle, started from its own page
    submitted: bool


def accept(
    session: Session, subject: Principal, offer_id: int, *, directory: Path | None = None
) -> Taken:
    """The person's one confirmation: the offered item becomes an application, filled in from
    master data, and is submitted at once when nothing else is needed (else left as a draft
    showing what is missing)."""
    person = policy.require_own_offers(subject)
    offer = _own_offer(session, person, offer_id)
    rule = _rule(session, offer.rule, directory)
    if rule.item is not None:
        # Once-only lookups first: they end the transaction they find open, so before any change.
        applications_service.look_up(session, person, item_codes=[rule.item.code])
    offer.status, offer.decided_at = OfferStatus.APPLIED, utcnow()
    if rule.item is None:
        audit.record(
            session,
            actor=person,
            action="proactive.offer_taken",
            target_type="proactive_offer",
            target_id=str(offer.id),
            details={"rule": rule.code, "bundle": rule.spec.offer.bundle},
        )
        return Taken(offer, None, False)
    application = applications_service.start(
        session,
        person,
        item_code=rule.item.code,
        form=_form(session, rule, offer, person),
        acting_for=offer.legal_person_id,
    )
    submitted = False
    try:
        with session.begin_nested():
            applications_service.act(session, person, application.number, Action.SUBMIT)
        submitted = True
    except InvalidInput:
        pass  # a field or material only the person can give: the draft says which
    offer.application_number = application.number
    audit.record(
        session,
        actor=person,
        action="proactive.offer_taken",
        target_type="proactive_offer",
        target_id=str(offer.id),
        details={"rule": rule.code, "application": application.number, "submitted": submitted},
    )
    return Taken(offer, application, submitted)


def decline(session: Session, subject: Principal, offer_id: int) -> Offer:
    person = policy.require_own_offers(subject)
    offer = _own_offer(session, person, offer_id)
    offer.status, offer.decided_at = OfferStatus.DECLINED, utcnow()
    audit.record(
        session,
        actor=person,
        action="proactive.offer_declined",
        target_type="proactive_offer",
        target_id=str(offer.id),
        details={"rule": offer.rule},
    )
    return offer
