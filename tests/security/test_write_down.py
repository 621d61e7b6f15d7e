"""No write down on the write paths that derive data from labelled data.

Prefill copies a person's ID number (the ``id_number`` element, ``important:identity``) into a
form field: a field labelled lower (``internal:identity``) would hold it below its label, so the
copy is refused, audited, and the applicant types the value in; a field at the element's label
is filled. With the deployment's ``no_write_down`` setting off, the lower field is filled too.
"""

from __future__ import annotations

import secrets
import uuid

import pytest
from sqlalchemy import Engine, func, select

from tests.audit.helpers import sequenced
from tests.fixtures.principals import OPERATOR
from tests.resources.test_service import _id_pair
from tongban.applications import disclosure
from tongban.applications import service as applications_service
from tongban.audit.models import AuditEntry
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemSpec
from tongban.config import get_settings
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.security import deployment, writes
from tongban.security.errors import WriteDownRefused

SOURCE_ITEM = "HEALTH-0001"  # its id_number field is filled from the applicant's ID number


def _item_with_id_number_at(engine: Engine, label: str) -> str:
    """A copy of the source item whose prefilled ID number field is labelled ``label``."""
    # Codes start with the department's; 8000-8999 are no demo item's.
    code = f"HEALTH-{8000 + secrets.randbelow(1000)}"
    with unit_of_work(engine) as session:
        spec = catalog_service.item_spec(catalog_service.get_item(session, OPERATOR, SOURCE_ITEM))
        data = spec.model_dump()
        data["code"] = code
        (field,) = [f for f in data["fields"] if f["name"] == "id_number"]
        assert field["source"] == "applicant.id_number"
        field["security_label"] = label
        catalog_service.upsert(
            session, OPERATOR, departments=[], items=[ItemSpec.model_validate(data)], source="test"
        )
    return code


def _applicant(engine: Engine) -> Account:
    with unit_of_work(engine) as session:
        return identity_service.create_account(
            session,
            OPERATOR,
            username=f"wd_{uuid.uuid4().hex[:10]}",
            password="demo-password",
            display_name="钱测试",
            kind=AccountKind.APPLICANT,
            id_number=_id_pair()[0],
            phone="13800138000",
        )


def _prefilled(engine: Engine, item_code: str) -> tuple[int, dict[str, object]]:
    """The last audit entry before the start, and the draft's values and prefill states."""
    applicant = _applicant(engine)
    with unit_of_work(engine) as session:
        before = sequenced(session).execute(select(func.max(AuditEntry.seq))).scalar_one() or 0
    with unit_of_work(engine) as session:
        account = session.get(Account, applicant.id)
        assert account is not None
        application = applications_service.start(session, account, item_code=item_code)
        id_number = account.id_number
        values = disclosure.unseal(application.number, application.sealed_form)
        states = disclosure.prefill_states(application)
    return before, {"values": values, "states": states, "id_number": id_number}


def _refusals(engine: Engine, item_code: str, after: int) -> list[AuditEntry]:
    with unit_of_work(engine) as session:
        return list(
            sequenced(session)
            .execute(
                select(AuditEntry).where(
                    AuditEntry.seq > after,
                    AuditEntry.action == "security.write_refused",
                    AuditEntry.target_id == f"form field {item_code}.id_number",
                )
            )
            .scalars()
        )


class TestPrefill:
    def test_a_lower_field_is_not_filled_and_the_refusal_is_audited(self, engine: Engine) -> None:
        code = _item_with_id_number_at(engine, "internal:identity")
        before, found = _prefilled(engine, code)
        values, states = found["values"], found["states"]
        assert isinstance(values, dict)
        assert isinstance(states, dict)
        assert values.get("id_number") in (None, "")
        assert "id_number" not in states
        # The rest of the prefill goes on: the name is internal:identity, like its field.
        assert "applicant_name" in states
        (refusal,) = _refusals(engine, code, before)
        assert refusal.details == {
            "sources": {"applicant.id_number": "important:identity"},
            "target": "internal:identity",
            "no_write_down": True,
        }
        assert str(found["id_number"]) not in str(refusal.details)

    def test_a_field_at_the_elements_label_is_filled(self, engine: Engine) -> None:
        code = _item_with_id_number_at(engine, "important:identity")
        before, found = _prefilled(engine, code)
        values = found["values"]
        assert isinstance(values, dict)
        assert values["id_number"] == found["id_number"]
        assert _refusals(engine, code, before) == []

    def test_with_the_rule_off_the_lower_field_is_filled(
        self, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "no_write_down", False)
        code = _item_with_id_number_at(engine, "internal:identity")
        before, found = _prefilled(engine, code)
        values = found["values"]
        assert isinstance(values, dict)
        assert values["id_number"] == found["id_number"]
        assert _refusals(engine, code, before) == []


class TestTheCheck:
    def test_a_refused_write_says_where_and_which_labels_but_no_value(self, engine: Engine) -> None:
        scheme = deployment.scheme()
        with unit_of_work(engine) as session, pytest.raises(WriteDownRefused) as refused:
            writes.check(
                session,
                OPERATOR,
                sources={"form.mother_id_number": scheme.parse_label("important:identity")},
                target=scheme.parse_label("internal"),
                place="export TEST.csv",
            )
        assert refused.value.status_code == 403
        assert "export TEST.csv" in str(refused.value)
        assert "important:identity" in str(refused.value)
