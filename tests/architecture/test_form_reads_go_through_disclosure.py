"""Form values reach a reader only through ``applications.disclosure`` (mandatory access
control and decryption in one place): no other module, page or template touches the stored
form."""

from __future__ import annotations

from pathlib import Path

import tongban

ROOT = Path(tongban.__file__).parent
ALLOWED = {
    ROOT / "applications" / "models.py",
    ROOT / "applications" / "disclosure.py",
    # Writes (sealing) and the department's own back office (the outbox event): the service
    # package, whichever of its sub-modules does it.
    *(ROOT / "applications" / "service").glob("*.py"),
}


def test_only_disclosure_and_the_service_touch_the_stored_form() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted(ROOT.rglob("*"))
        if path.suffix in (".py", ".html")
        and path not in ALLOWED
        and "migrations" not in path.parts
        and "sealed_form" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_there_is_no_unsealed_form_attribute_left_to_use() -> None:
    from tongban.applications.models import Application

    assert not hasattr(Application, "form_data")
