"""Sign-in and accounts: passwords, session tokens and who may create accounts."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.audit import helpers as audit_helpers
from tests.conftest import PASSWORD
from tests.fixtures.principals import ANONYMOUS, OPERATOR
from tongban.catalog import service as catalog_service
from tongban.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from tongban.identity import registration
from tongban.identity import service as identity_service
from tongban.identity.errors import ClaimCodeInvalid
from tongban.identity.models import Account, AccountKind, WebSession
from tongban.identity.numbers import current_region_codes, resident_id_check_character
from tongban.kit.clock import utcnow
from tongban.notifications.models import Notification

WRONG = "Wrong username or password."


def unique(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def demo(session: Session, username: str) -> Account:
    account = identity_service.get_by_username(session, username)
    assert account is not None, username
    return account


def applicant(session: Session, password: str = PASSWORD) -> Account:
    return identity_service.create_account(
        session,
        OPERATOR,
        username=unique(),
        password=password,
        display_name="测试",
        kind=AccountKind.APPLICANT,
    )


class TestAuthenticate:
    def test_the_right_password_returns_the_account(self, db: Session) -> None:
        account = identity_service.authenticate(db, username="zhangsan", password=PASSWORD)
        assert account.username == "zhangsan"
        assert account.kind is AccountKind.APPLICANT

    def test_a_wrong_password_is_refused(self, db: Session) -> None:
        with pytest.raises(Unauthenticated, match=WRONG) as refused:
            identity_service.authenticate(db, username="zhangsan", password=PASSWORD + "x")
        assert refused.value.status_code == 401

    def test_an_unknown_username_gets_the_same_answer(self, db: Session) -> None:
        with pytest.raises(Unauthenticated, match=WRONG):
            identity_service.authenticate(db, username=unique("nobody"), password=PASSWORD)

    def test_an_inactive_account_is_refused_even_with_the_right_password(self, db: Session) -> None:
        account = applicant(db)
        account.active = False
        db.flush()

        with pytest.raises(Unauthenticated, match=WRONG):
            identity_service.authenticate(db, username=account.username, password=PASSWORD)

    def test_the_password_is_stored_only_as_an_argon2_hash(self, db: Session) -> None:
        account = applicant(db)
        assert PASSWORD not in account.password_hash
        assert account.password_hash.startswith("$argon2")


class TestOpenSession:
    def test_gives_a_token_that_is_stored_only_as_a_hash(self, db: Session) -> None:
        account = demo(db, "lisi")

        token = identity_service.open_session(db, account)

        rows = db.execute(select(WebSession).where(WebSession.account_id == account.id))
        hashes = {row.token_hash for row in rows.scalars()}
        assert hashlib.sha256(token.encode()).hexdigest() in hashes
        assert token not in hashes
        assert len(token) >= 32

    def test_records_the_sign_in_in_the_audit_log(self, db: Session) -> None:
        account = demo(db, "lisi")
        before = len(
            audit_helpers.entries_for(db, target_type="account", target_id=str(account.id))
        )

        identity_service.open_session(db, account)

        entries = audit_helpers.entries_for(db, target_type="account", target_id=str(account.id))
        assert len(entries) == before + 1
        assert (entries[-1].action, entries[-1].actor) == ("identity.signed_in", "lisi")

    def test_each_sign_in_gets_its_own_token(self, db: Session) -> None:
        account = demo(db, "lisi")
        assert identity_service.open_session(db, account) != identity_service.open_session(
            db, account
        )


class TestAccountForToken:
    def test_a_live_token_names_its_account(self, db: Session) -> None:
        account = demo(db, "zhangsan")
        token = identity_service.open_session(db, account)
        assert identity_service.account_for_token(db, token) is account

    def test_an_expired_token_names_nobody(self, db: Session) -> None:
        account = applicant(db)
        token = identity_service.open_session(db, account)
        db.flush()
        row = db.execute(select(WebSession).where(WebSession.account_id == account.id)).scalar_one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.flush()
        db.expire_all()

        assert identity_service.account_for_token(db, token) is None

    def test_a_token_is_live_until_it_expires(self, db: Session) -> None:
        account = applicant(db)
        token = identity_service.open_session(db, account)
        db.flush()
        row = db.execute(select(WebSession).where(WebSession.account_id == account.id)).scalar_one()
        assert row.expires_at > utcnow() + timedelta(hours=1)
        row.expires_at = utcnow() + timedelta(minutes=1)
        db.flush()

        assert identity_service.account_for_token(db, token) is account

    def test_an_unknown_token_names_nobody(self, db: Session) -> None:
        assert identity_service.account_for_token(db, "not-a-token") is None

    def test_a_deactivated_accounts_token_names_nobody(self, db: Session) -> None:
        account = applicant(db)
        token = identity_service.open_session(db, account)
        account.active = False
        db.flush()

        assert identity_service.account_for_token(db, token) is None


class TestCloseSession:
    def test_the_closed_token_no_longer_works_and_others_still_do(self, db: Session) -> None:
        account = applicant(db)
        closing = identity_service.open_session(db, account)
        other = identity_service.open_session(db, account)
        db.flush()

        identity_service.close_session(db, closing)

        assert identity_service.account_for_token(db, closing) is None
        assert identity_service.account_for_token(db, other) is account

    def test_closing_an_unknown_token_is_harmless(self, db: Session) -> None:
        identity_service.close_session(db, "not-a-token")


class TestCreateAccount:
    @pytest.mark.parametrize("creator", [None, "admin"], ids=["command-line", "admin"])
    def test_the_command_line_and_an_admin_may_create_accounts(
        self, db: Session, creator: str | None
    ) -> None:
        subject = demo(db, creator) if creator else OPERATOR
        username = unique()

        account = identity_service.create_account(
            db,
            subject,
            username=username,
            password=PASSWORD,
            display_name="新用户",
            kind=AccountKind.APPLICANT,
        )

        assert account.id is not None
        assert identity_service.authenticate(db, username=username, password=PASSWORD) is account
        entry = audit_helpers.entries_for(db, target_type="account", target_id=str(account.id))[0]
        assert entry.action == "identity.account_created"
        assert entry.actor == (creator or "operator:tests")
        assert entry.details == {"username": username, "kind": "applicant"}

    @pytest.mark.parametrize("creator", ["zhangsan", "samr_officer"])
    def test_anyone_else_is_forbidden(self, db: Session, creator: str) -> None:
        username = unique()
        with pytest.raises(Forbidden) as refused:
            identity_service.create_account(
                db,
                demo(db, creator),
                username=username,
                password=PASSWORD,
                display_name="x",
                kind=AccountKind.ADMIN,
            )
        assert refused.value.status_code == 403
        assert identity_service.get_by_username(db, username) is None

    @pytest.mark.parametrize("length", [0, 1, identity_service.MIN_PASSWORD_LENGTH - 1])
    def test_a_short_password_is_refused(self, db: Session, length: int) -> None:
        with pytest.raises(InvalidInput) as refused:
            applicant(db, password="p" * length)
        assert refused.value.field == "password"
        assert refused.value.params == {"n": identity_service.MIN_PASSWORD_LENGTH}

    def test_a_password_of_exactly_the_minimum_length_is_enough(self, db: Session) -> None:
        password = "p" * identity_service.MIN_PASSWORD_LENGTH
        account = applicant(db, password=password)
        assert identity_service.authenticate(db, username=account.username, password=password)

    def test_a_taken_username_is_a_409_conflict(self, db: Session) -> None:
        with pytest.raises(Conflict) as refused:
            identity_service.create_account(
                db,
                OPERATOR,
                username="zhangsan",
                password=PASSWORD,
                display_name="另一个张三",
                kind=AccountKind.APPLICANT,
            )
        assert refused.value.status_code == 409
        assert refused.value.field == "username"
        assert demo(db, "zhangsan").display_name == "张三"

    def test_an_official_needs_a_department(self, db: Session) -> None:
        with pytest.raises(InvalidInput) as refused:
            identity_service.create_account(
                db,
                OPERATOR,
                username=unique(),
                password=PASSWORD,
                display_name="x",
                kind=AccountKind.OFFICIAL,
            )
        assert refused.value.field == "department"

    def test_only_an_official_keeps_a_department(self, db: Session) -> None:
        samr = catalog_service.get_department(db, OPERATOR, "SAMR")
        common = {"password": PASSWORD, "display_name": "x", "department_id": samr.id}

        official = identity_service.create_account(
            db, OPERATOR, username=unique(), kind=AccountKind.OFFICIAL, **common
        )
        citizen = identity_service.create_account(
            db, OPERATOR, username=unique(), kind=AccountKind.APPLICANT, **common
        )

        assert official.department_id == samr.id
        assert citizen.department_id is None


REGION_CODES = current_region_codes()


def fresh_id_number() -> str:
    """A valid resident ID number no other test uses (they are unique per account)."""
    n = uuid.uuid4().int
    born = date(1930, 1, 1) + timedelta(days=n % 25000)
    first17 = f"{REGION_CODES[n % len(REGION_CODES)]}{born:%Y%m%d}{(n >> 64) % 1000:03d}"
    return first17 + resident_id_check_character(first17)


def _code_to(session: Session, phone: str) -> str:
    """The registration code queued for ``phone`` (before delivery blanks it out)."""
    body = session.scalars(
        select(Notification.body)
        .where(Notification.address == phone, Notification.event == "registration_code")
        .order_by(Notification.id.desc())
    ).first()
    assert body is not None, f"no code for {phone}"
    found = re.search(r"(?<!\d)\d{6}(?!\d)", body)
    assert found, body
    return found.group(0)


def _register(session: Session, *, id_number: str, display_name: str = "王五") -> str:
    """Step one with a phone of its own; returns the code that went there."""
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    registration.request(
        session, ANONYMOUS, display_name=display_name, id_number=id_number, phone=phone
    )
    return _code_to(session, phone)


class TestRegistration:
    def test_opens_an_applicant_account_with_tidied_input(self, db: Session) -> None:
        username = unique("reg")
        id_number = fresh_id_number()
        code = _register(db, id_number=id_number.lower(), display_name=" 王五 ")

        account = registration.finish(
            db,
            ANONYMOUS,
            id_number=id_number.lower(),
            code=code,
            username=f"  {username.upper()} ",
            password=PASSWORD,
        )

        assert (account.username, account.display_name) == (username, "王五")
        assert account.id_number == id_number.upper()
        assert account.kind is AccountKind.APPLICANT

    def test_a_malformed_id_number_is_refused_naming_the_field(self, db: Session) -> None:
        number = fresh_id_number()
        typo = number[:-1] + ("0" if number[-1] != "0" else "1")
        with pytest.raises(InvalidInput) as refused:
            registration.request(
                db, ANONYMOUS, display_name="王五", id_number=typo, phone="13900139000"
            )
        assert refused.value.field == "id_number"

    def test_one_id_number_opens_one_account_and_its_holder_is_told(self, db: Session) -> None:
        id_number = fresh_id_number()
        code = _register(db, id_number=id_number)
        holder = registration.finish(
            db, ANONYMOUS, id_number=id_number, code=code, username=unique("reg"), password=PASSWORD
        )
        # A second try queues no code at all: step two has nothing to open.
        phone = "13900139001"
        registration.request(db, ANONYMOUS, display_name="王五", id_number=id_number, phone=phone)
        with pytest.raises(ClaimCodeInvalid):
            registration.finish(
                db,
                ANONYMOUS,
                id_number=id_number,
                code=code,
                username=unique("reg"),
                password=PASSWORD,
            )
        told = db.scalars(
            select(Notification.event).where(Notification.recipient_id == holder.id)
        ).all()
        assert "registration_attempt" in told

    def test_someone_signed_in_cannot_register(self, db: Session) -> None:
        zhangsan = demo(db, "zhangsan")
        with pytest.raises(Forbidden):
            registration.request(
                db, zhangsan, display_name="王五", id_number=fresh_id_number(), phone="13900139000"
            )
        with pytest.raises(Forbidden):
            registration.finish(
                db,
                zhangsan,
                id_number=fresh_id_number(),
                code="123456",
                username=unique("reg"),
                password=PASSWORD,
            )

    @pytest.mark.parametrize("username", ["ab", "has space", "中文名", "-leading", "x" * 33])
    def test_a_bad_username_is_refused(self, db: Session, username: str) -> None:
        id_number = fresh_id_number()
        code = _register(db, id_number=id_number)
        with pytest.raises(InvalidInput) as refused:
            registration.finish(
                db, ANONYMOUS, id_number=id_number, code=code, username=username, password=PASSWORD
            )
        assert refused.value.field == "username"
