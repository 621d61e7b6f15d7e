"""What a bundle's application takes from an earlier item's result instead of asking the
applicant (``Application.from_results``, kept when it is linked to its bundle): form fields
filled from a field of the licence that item issues, materials met by the licence itself. Until
that item is approved they are not asked, so they never stop a submission; on its approval
the values are filled in and the licence attached (``service.bundles``)."""

from __future__ import annotations

from tongban.applications.disclosure import case_fields
from tongban.applications.models import Application
from tongban.catalog.schemas import FieldSpec


def given_fields(application: Application) -> dict[str, tuple[str, str]]:
    """Field name -> (the code of the item whose licence gives it, the licence's field)."""
    fields = (application.from_results or {}).get("fields", {})
    return {name: (code, licence_field) for name, (code, licence_field) in fields.items()}


def given_materials(application: Application) -> dict[str, str]:
    """Material code -> the code of the item whose licence it is."""
    return dict((application.from_results or {}).get("materials", {}))


def fields_to_fill(application: Application) -> list[FieldSpec]:
    """The form as the applicant must complete it: a field a result gives is not required of
    them (it is filled in when that result comes)."""
    given = given_fields(application)
    return [
        spec.model_copy(update={"required": False}) if spec.name in given else spec
        for spec in case_fields(application)
    ]
