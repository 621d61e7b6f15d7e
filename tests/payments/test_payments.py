"""Paying a case's fee through the simulated provider, over real HTTP: the provider's signed
notification confirms a payment, once (a repeated or late one changes nothing, a forged one is
refused); a failed or timed-out payment may be tried again; the return asks the provider when no
notification came; an approver refunds; a case whose fee is unpaid cannot complete; and the
daily reconciliation per department matches the provider's own settlement list, or says where
it does not."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import take
from tests.audit.helpers import entries_for
from tests.conftest import sign_in
from tests.payments.conftest import FEE_FEN, case_with_fee
from tongban.applications import service as applications_service
from tongban.applications.errors import ApplicationNotFound
from tongban.applications.states import Action, Status
from tongban.config import get_settings
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden
from tongban.identity import service as identity_service
from tongban.identity.models import Account
from tongban.kit import http
from tongban.kit.clock import local_today, utcnow
from tongban.payments import service, signing
from tongban.payments.errors import (
    FeeUnpaid,
    NotificationRefused,
    NotPayableNow,
    NotRefundable,
)
from tongban.payments.models import Payment, PaymentStatus
from tongban.payments.simulated import SimulatedProvider

OFFICIAL = "psb_officer"


def _account(session: object, username: str) -> Account:
    account = identity_service.get_by_username(session, username)  # type: ignore[arg-type]
    assert account is not None, username
    return account


def begin(engine: Engine, username: str, number: str, platform: str) -> Payment:
    with unit_of_work(engine) as session:
        return service.begin(session, _account(session, username), number, base_url=platform)


def reread(engine: Engine, reference: str) -> Payment:
    with unit_of_work(engine) as session:
        payment = session.query(Payment).filter_by(reference=reference).one()
        session.expunge(payment)
        return payment


def payment_actions(engine: Engine, number: str) -> list[str]:
    with unit_of_work(engine) as session:
        return [
            e.action
            for e in entries_for(session, target_type="application", target_id=number)
            if e.action.startswith("payment.")
        ]


def paid_case(
    engine: Engine, platform: str, provider: SimulatedProvider
) -> tuple[str, str, Payment]:
    username, number = case_with_fee(engine)
    payment = begin(engine, username, number, platform)
    assert payment.provider_id is not None
    provider.finish(payment.provider_id, "success")
    return username, number, reread(engine, payment.reference)


def paid_but_not_told(
    engine: Engine, platform: str, provider: SimulatedProvider
) -> tuple[str, str, Payment]:
    """Paid at the provider, whose notification never reached the platform."""
    username, number = case_with_fee(engine)
    payment = begin(engine, username, number, platform)
    assert payment.provider_id is not None
    provider.finish(payment.provider_id, "success", notify=False)
    return username, number, payment


class TestPaying:
    def test_the_person_is_sent_to_the_provider_and_its_notification_confirms_it(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        username, number = case_with_fee(engine)
        payment = begin(engine, username, number, platform)
        assert payment.status is PaymentStatus.STARTED
        assert payment.amount_fen == FEE_FEN
        assert payment.next_url.startswith(f"{platform}/simulated-provider/payments/sim_")
        assert len(payment.reference) >= 32  # unguessable
        assert payment.provider_id is not None

        # The person pays at the provider; it posts its signed notification to the platform.
        provider.finish(payment.provider_id, "success", notify=False)
        assert reread(engine, payment.reference).status is PaymentStatus.STARTED
        assert provider.send_notification(payment.provider_id) == 200
        confirmed = reread(engine, payment.reference)
        assert confirmed.status is PaymentStatus.SUCCESS
        assert confirmed.paid_at is not None
        assert payment_actions(engine, number) == [
            "payment.created",
            "payment.started",
            "payment.success",
        ]

    def test_a_repeated_or_late_notification_changes_nothing(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        _, number, payment = paid_case(engine, platform, provider)
        assert payment.provider_id is not None
        assert payment.status is PaymentStatus.SUCCESS
        # The same notification again, then an earlier state's and a contradicting one late.
        for status in (None, "started", "failed", "timed_out"):
            assert provider.send_notification(payment.provider_id, status=status) == 200  # type: ignore[arg-type]
        after = reread(engine, payment.reference)
        assert after.status is PaymentStatus.SUCCESS
        assert after.paid_at == payment.paid_at
        assert payment_actions(engine, number).count("payment.success") == 1
        assert "payment.failed" not in payment_actions(engine, number)

    def test_a_notification_not_signed_with_the_providers_key_is_refused(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        username, number = case_with_fee(engine)
        payment = begin(engine, username, number, platform)
        assert payment.provider_id is not None
        body, good = provider.notification(payment.provider_id, status="success")
        forged = signing.sign(b"not the provider's key", body)
        for signature in (forged, "", good[:-2] + ("00" if good[-2:] != "00" else "11")):
            answer = http.client().post(
                f"{platform}{service.NOTIFICATIONS_PATH}",
                content=body,
                headers={signing.HEADER: signature},
            )
            assert answer.status_code == 401
            assert answer.json()["error"]["code"] == NotificationRefused.code
        # A body changed after signing fails too.
        changed = json.dumps({**json.loads(body), "amount_fen": 1}).encode()
        answer = http.client().post(
            f"{platform}{service.NOTIFICATIONS_PATH}",
            content=changed,
            headers={signing.HEADER: good},
        )
        assert answer.status_code == 401
        assert reread(engine, payment.reference).status is PaymentStatus.STARTED

    @pytest.mark.parametrize("outcome", ["failed", "timed_out"])
    def test_after_a_failed_or_timed_out_payment_the_person_may_try_again(
        self, engine: Engine, platform: str, provider: SimulatedProvider, outcome: str
    ) -> None:
        username, number = case_with_fee(engine)
        first = begin(engine, username, number, platform)
        assert first.provider_id is not None
        provider.finish(first.provider_id, outcome)  # type: ignore[arg-type]
        assert reread(engine, first.reference).status is PaymentStatus(outcome)
        with unit_of_work(engine) as session:
            case = applications_service.get(session, _account(session, username), number)
            fee = service.for_case(session, _account(session, username), case)
            assert (fee.state, fee.payable) == ("unpaid", True)

        second = begin(engine, username, number, platform)
        assert second.reference != first.reference
        assert second.status is PaymentStatus.STARTED
        assert second.provider_id is not None
        provider.finish(second.provider_id, "success")
        assert reread(engine, second.reference).status is PaymentStatus.SUCCESS
        # The first one stays as it ended.
        assert reread(engine, first.reference).status is PaymentStatus(outcome)

    def test_a_payment_begun_moments_ago_is_resumed_not_charged_twice(
        self, engine: Engine, platform: str
    ) -> None:
        username, number = case_with_fee(engine)
        first = begin(engine, username, number, platform)
        again = begin(engine, username, number, platform)
        assert again.reference == first.reference

    def test_an_abandoned_payment_that_succeeds_late_is_recorded_as_taken_twice(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        username, number = case_with_fee(engine)
        abandoned = begin(engine, username, number, platform)
        with unit_of_work(engine) as session:
            row = session.query(Payment).filter_by(reference=abandoned.reference).one()
            row.created_at = utcnow() - timedelta(hours=1)
        second = begin(engine, username, number, platform)
        assert second.reference != abandoned.reference
        assert second.provider_id is not None
        assert abandoned.provider_id is not None
        provider.finish(second.provider_id, "success")
        provider.finish(abandoned.provider_id, "success")
        # The money was taken twice: both say so, and the late one is flagged for a refund.
        assert reread(engine, abandoned.reference).status is PaymentStatus.SUCCESS
        with unit_of_work(engine) as session:
            flags = [
                (e.details["reference"], e.details["duplicate"])
                for e in entries_for(session, target_type="application", target_id=number)
                if e.action == "payment.success"
            ]
        assert flags == [(second.reference, False), (abandoned.reference, True)]

    def test_the_return_asks_the_provider_when_no_notification_came(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        username, number, payment = paid_but_not_told(engine, platform, provider)
        with unit_of_work(engine) as session:
            back = service.on_return(session, _account(session, username), payment.reference)
            assert back.status is PaymentStatus.SUCCESS
        assert "payment.success" in payment_actions(engine, number)

    def test_only_the_applicant_pays_and_only_a_submitted_case(
        self, engine: Engine, platform: str
    ) -> None:
        username, draft = case_with_fee(engine, Status.DRAFT)
        with pytest.raises(NotPayableNow):
            begin(engine, username, draft, platform)
        _, number = case_with_fee(engine)
        with pytest.raises(ApplicationNotFound):
            begin(engine, username, number, platform)


class TestCompleting:
    def test_the_officials_complete_is_refused_while_the_fee_is_unpaid(
        self, engine: Engine, client: TestClient
    ) -> None:
        _, number = case_with_fee(engine)
        headers = sign_in(client, OFFICIAL)
        answer = client.post(
            f"/api/v1/applications/{number}/actions",
            headers=headers,
            json={"action": "complete", "result_note": "请到窗口领取"},
        )
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert error["code"] == FeeUnpaid.code
        assert error["message"] == "费用¥120.00尚未缴纳：申请人缴费后方可办结。"
        english = client.post(
            f"/api/v1/applications/{number}/actions",
            headers={**headers, "Accept-Language": "en"},
            json={"action": "complete"},
        )
        assert english.json()["error"]["message"] == (
            "The fee of ¥120.00 is unpaid: the case cannot be completed until the applicant "
            "has paid it."
        )
        with unit_of_work(engine) as session:
            official = _account(session, OFFICIAL)
            assert applications_service.get(session, official, number).status is Status.APPROVED

    def test_without_a_provider_fees_are_taken_offline_and_the_case_completes(
        self, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _, number = case_with_fee(engine)
        monkeypatch.setenv("TONGBAN_PAYMENTS_PROVIDER", "")
        get_settings.cache_clear()
        try:
            with unit_of_work(engine) as session:
                official = _account(session, OFFICIAL)
                take(session, official, number, Action.COMPLETE)
                assert applications_service.get(session, official, number).status is (
                    Status.COMPLETED
                )
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()

    def test_once_paid_the_case_completes(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        _, number, _ = paid_case(engine, platform, provider)
        with unit_of_work(engine) as session:
            take(session, _account(session, OFFICIAL), number, Action.COMPLETE)


class TestRefunds:
    def test_an_approver_refunds_and_the_fee_is_unpaid_again(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        username, number, payment = paid_case(engine, platform, provider)
        assert payment.provider_id is not None
        with unit_of_work(engine) as session, pytest.raises(Forbidden):
            service.refund(session, _account(session, username), payment.reference, reason="x")
        with unit_of_work(engine) as session:
            refunded = service.refund(
                session, _account(session, OFFICIAL), payment.reference, reason="重复收费"
            )
            assert refunded.status is PaymentStatus.REFUNDED
        assert provider.charge(payment.provider_id).status == "refunded"
        with unit_of_work(engine) as session, pytest.raises(NotRefundable):
            service.refund(session, _account(session, OFFICIAL), payment.reference, reason="又一次")
        # A late success notification does not undo the refund.
        provider.send_notification(payment.provider_id, status="success")
        assert reread(engine, payment.reference).status is PaymentStatus.REFUNDED
        assert "payment.refunded" in payment_actions(engine, number)
        with unit_of_work(engine) as session, pytest.raises(FeeUnpaid):
            take(session, _account(session, OFFICIAL), number, Action.COMPLETE)


class TestReconciliation:
    def test_the_days_report_matches_the_providers_settlement_list(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        _, _, kept = paid_case(engine, platform, provider)
        _, _, given_back = paid_case(engine, platform, provider)
        with unit_of_work(engine) as session:
            service.refund(session, _account(session, OFFICIAL), given_back.reference, reason="退")
        ours = {kept.provider_id, given_back.provider_id}
        with unit_of_work(engine) as session:
            report = service.reconcile(session, _account(session, OFFICIAL), day=local_today())
        assert report.department_code == "PSB"
        lines = {(line.kind, line.provider_id): line for line in report.lines}
        for key in [("payment", kept.provider_id), ("payment", given_back.provider_id)]:
            assert lines[key].outcome == "matched"
            assert lines[key].ours_fen == lines[key].theirs_fen == FEE_FEN
        assert lines[("refund", given_back.provider_id)].outcome == "matched"
        # The report's lines are the provider's list of the day for the department, no more.
        settled = {
            (s.kind, s.provider_id)
            for s in provider.settlements(local_today())
            if s.department_code == "PSB"
        }
        assert {k for k, line in lines.items() if line.theirs_fen is not None} == settled
        assert ours <= {p for _, p in settled}

    def test_a_lost_notification_is_confirmed_by_asking_the_provider(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        _, number, payment = paid_but_not_told(engine, platform, provider)
        with unit_of_work(engine) as session:
            report = service.reconcile(session, _account(session, OFFICIAL), day=local_today())
        line = next(line for line in report.lines if line.provider_id == payment.provider_id)
        assert (line.outcome, line.number) == ("confirmed_now", number)
        assert reread(engine, payment.reference).status is PaymentStatus.SUCCESS

    def test_a_payment_missing_from_the_providers_list_is_shown_and_audited(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        _, number, payment = paid_case(engine, platform, provider)
        assert payment.provider_id is not None
        # The provider's record of it is gone (its list and the platform's disagree).
        state = json.loads(provider.state_file.read_text("utf-8"))
        del state[payment.provider_id]
        provider.state_file.write_text(json.dumps(state), "utf-8")
        with unit_of_work(engine) as session:
            report = service.reconcile(session, _account(session, OFFICIAL), day=local_today())
        line = next(line for line in report.lines if line.provider_id == payment.provider_id)
        assert (line.outcome, line.ours_fen, line.theirs_fen) == (
            "missing_at_provider",
            FEE_FEN,
            None,
        )
        assert line in report.mismatches
        # Nothing is corrected silently: the payment stays paid, the mismatch is audited.
        assert reread(engine, payment.reference).status is PaymentStatus.SUCCESS
        with unit_of_work(engine) as session:
            audited = entries_for(session, target_type="department", target_id="PSB")
        details = [e.details for e in audited if e.action == "payments.reconciliation_mismatch"]
        assert any(
            {"kind": "payment", "provider_id": payment.provider_id, "outcome": line.outcome}
            in d["lines"]
            for d in details
        )

    def test_a_settlement_of_a_payment_that_failed_here_is_shown_unknown(
        self, engine: Engine, platform: str, provider: SimulatedProvider
    ) -> None:
        username, number = case_with_fee(engine)
        payment = begin(engine, username, number, platform)
        assert payment.provider_id is not None
        provider.finish(payment.provider_id, "timed_out")
        # The provider's list says it took the money after all.
        state = json.loads(provider.state_file.read_text("utf-8"))
        state[payment.provider_id] |= {"status": "success", "paid_at": utcnow().isoformat()}
        provider.state_file.write_text(json.dumps(state), "utf-8")
        with unit_of_work(engine) as session:
            report = service.reconcile(session, _account(session, OFFICIAL), day=local_today())
        line = next(line for line in report.lines if line.provider_id == payment.provider_id)
        assert (line.outcome, line.number, line.ours_fen, line.theirs_fen) == (
            "unknown",
            number,
            None,
            FEE_FEN,
        )
        # Not taken from the list: the payment stays as the provider last told it.
        assert reread(engine, payment.reference).status is PaymentStatus.TIMED_OUT

    def test_only_the_departments_officials_see_its_report(self, engine: Engine) -> None:
        with unit_of_work(engine) as session, pytest.raises(Forbidden):
            service.reconcile(
                session, _account(session, "samr_officer"), department_code="PSB", day=local_today()
            )
