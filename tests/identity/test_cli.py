"""The identity commands, run as the real `tongban` command against the test database:
`accounts create --role`, `accounts totp`, `companies create`."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
from sqlalchemy import Engine

from tests.fixtures.cli import tongban
from tests.identity.factories import fresh_uscc, load, new_citizen, new_official, unique
from tongban.db.session import unit_of_work
from tongban.identity import repository


class TestAccountsCreate:
    def test_an_official_gets_the_roles_given(self, engine: Engine, tmp_path: Path) -> None:
        username = unique("cli")
        result = tongban(
            engine,
            tmp_path,
            "accounts",
            "create",
            username,
            "--name",
            "命令行公务员",
            "--department",
            "TAX",
            "--role",
            "approver",
            "--role",
            "clerk",
            "--password",
            "a-long-password",
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "clerk, approver" in result.stdout
        account = load(engine, username)
        assert account.roles == ["clerk", "approver"]
        assert not account.totp_enabled, "set up at the first sign-in"

    def test_an_unknown_role_is_refused(self, engine: Engine, tmp_path: Path) -> None:
        username = unique("cli")
        result = tongban(
            engine,
            tmp_path,
            *("accounts", "create", username, "--name", "x", "--department", "TAX"),
            *("--role", "boss", "--password", "a-long-password"),
        )
        assert result.returncode == 1
        assert "no role boss" in result.stdout
        with unit_of_work(engine) as session:
            assert repository.account_by_username(session, username) is None


class TestAccountsTotp:
    def test_sets_up_an_authenticator_then_shows_the_current_code(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        official = new_official(engine, totp=False)

        first = tongban(engine, tmp_path, "accounts", "totp", official.username)

        assert first.returncode == 0, first.stdout + first.stderr
        assert "otpauth://totp/" in first.stdout
        secret = load(engine, official.username).totp_secret
        assert secret
        shown = re.search(r"secret: ([A-Z2-7 ]+)", first.stdout)
        assert shown
        assert shown[1].replace(" ", "") == secret
        code = re.search(r"current code: (\d{6})", first.stdout)
        assert code
        assert pyotp.TOTP(secret).verify(code[1], valid_window=1)

        second = tongban(engine, tmp_path, "accounts", "totp", official.username)

        assert second.returncode == 0
        assert "secret" not in second.stdout
        assert re.search(r"current code: \d{6}", second.stdout)
        assert load(engine, official.username).totp_secret == secret

    def test_reset_makes_a_new_secret(self, engine: Engine, tmp_path: Path) -> None:
        official = new_official(engine)
        result = tongban(engine, tmp_path, "accounts", "totp", official.username, "--reset")
        assert result.returncode == 0, result.stdout + result.stderr
        assert load(engine, official.username).totp_secret != official.totp_secret

    def test_an_unknown_account_is_an_error(self, engine: Engine, tmp_path: Path) -> None:
        result = tongban(engine, tmp_path, "accounts", "totp", unique("nobody"))
        assert result.returncode == 1
        assert "no account" in result.stdout


class TestCompaniesCreate:
    def test_registers_a_company_with_its_legal_representative(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        boss = new_citizen(engine)
        uscc = fresh_uscc()

        result = tongban(
            engine, tmp_path, "companies", "create", uscc, "命令行测试有限公司",
            "--representative", boss.username,
        )  # fmt: skip

        assert result.returncode == 0, result.stdout + result.stderr
        with unit_of_work(engine) as session:
            legal_person = repository.legal_person_by_uscc(session, uscc)
            assert legal_person is not None
            assert legal_person.name == "命令行测试有限公司"
            representative = repository.representative_of(session, legal_person.id)
            assert representative is not None
            assert representative.account_id == boss.id

    def test_an_invalid_code_is_refused(self, engine: Engine, tmp_path: Path) -> None:
        uscc = fresh_uscc()
        typo = uscc[:17] + ("0" if uscc[17] != "0" else "1")
        result = tongban(
            engine, tmp_path, "companies", "create", typo, "x", "--representative", "zhangsan"
        )
        assert result.returncode == 1
        assert "does not match" in result.stdout
