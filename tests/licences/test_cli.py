"""`tongban licences export-key` and `tongban licences verify FILE.pdf --key KEY` (offline: the
verify command is run with an unreachable database, so it cannot be using one)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import sign_in
from tests.fixtures.cli import TONGBAN, tongban
from tests.licences.helpers import approved, pdf_of


def _verify_offline(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TONGBAN_DATABASE_URL": "postgresql+psycopg://nobody:none@127.0.0.1:1/nothing",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(TONGBAN), "licences", "verify", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_export_key_then_verify_offline(
    engine: Engine, client: TestClient, applicant_headers: dict[str, str], tmp_path: Path
) -> None:
    licence = approved(client, applicant_headers)
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(pdf_of(client, applicant_headers, licence["number"]))
    exported = tongban(engine, tmp_path, "licences", "export-key", "SAMR", "--out", "samr.json")
    assert exported.returncode == 0, exported.stdout + exported.stderr
    keys = sorted(tmp_path.glob("*.json"))
    assert keys, exported.stdout
    key = next(
        k for k in keys if _verify_offline(tmp_path, str(pdf), "--key", str(k)).returncode == 0
    )

    genuine = _verify_offline(tmp_path, str(pdf), "--key", str(key))
    assert genuine.returncode == 0, genuine.stdout + genuine.stderr
    assert "GENUINE" in genuine.stdout
    assert licence["number"] in genuine.stdout

    tampered = tmp_path / "tampered.pdf"
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    refused = _verify_offline(tmp_path, str(tampered), "--key", str(key))
    assert refused.returncode == 1
    assert "NOT_GENUINE" in refused.stdout

    not_a_key = tmp_path / "junk.txt"
    not_a_key.write_text("hello")
    bad_key = _verify_offline(tmp_path, str(pdf), "--key", str(not_a_key))
    assert bad_key.returncode == 2
    assert "not a licence public key file" in bad_key.stdout
    # An official revokes it: offline still says genuine, and says revocation is not checked.
    official = sign_in(client, "samr_officer")
    client.post(
        f"/api/v1/licences/{licence['number']}/revoke", headers=official, json={"reason": "撤销"}
    )
    after = _verify_offline(tmp_path, str(pdf), "--key", str(key))
    assert "only be checked online" in after.stdout
