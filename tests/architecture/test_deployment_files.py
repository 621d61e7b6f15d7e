"""The deployment files (deploy/) and the README's production section say the same: the same
commands, with options the command line takes, and settings that exist."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import typer

from tongban.cli import app
from tongban.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_FILE = "/etc/tongban/tongban.env"


def _production_section() -> str:
    start = README.index("## Running it in production")
    return README[start : README.index("\n## ", start + 1)]


def _readme_commands() -> list[list[str]]:
    block = re.search(r"```sh\n(.*?)```", _production_section(), re.S)
    assert block is not None
    return [
        shlex.split(line.split("#", 1)[0]) for line in block.group(1).splitlines() if line.strip()
    ]


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return unit


def _unit_command(name: str) -> list[str]:
    words = shlex.split(_unit(name)["Service"]["ExecStart"])
    if words[:2] == ["/bin/sh", "-c"]:
        words = shlex.split(words[2].removeprefix("exec "))
    assert words[0].endswith("/tongban"), words
    return ["tongban", *words[1:]]


def _parses(command: list[str]) -> None:
    """The command line takes these options (parsed as `tongban` would, not run)."""
    group = typer.main.get_command(app)
    context = group.make_context("tongban", command[1:2] + ["--help"], resilient_parsing=True)
    sub = group.get_command(context, command[1])  # type: ignore[attr-defined]
    assert sub is not None, command
    sub.make_context(command[1], command[2:])


def test_the_units_run_the_commands_the_readme_shows() -> None:
    shown = _readme_commands()
    for name in ("tongban-web.service", "tongban-worker.service"):
        command = _unit_command(name)
        assert command in shown, f"{name} runs {command}, the README shows {shown}"
        _parses(command)
    backup = _unit_command("tongban-backup.service")
    assert backup[:2] == ["tongban", "backup"]
    assert any(c[:2] == ["tongban", "backup"] and c[2].startswith("/var/backups/") for c in shown)
    assert backup[2].startswith("/var/backups/tongban/")
    for command in shown:
        _parses(command)


def test_every_unit_reads_the_settings_file() -> None:
    for path in (DEPLOY / "systemd").glob("*.service"):
        assert _unit(path.name)["Service"]["EnvironmentFile"] == ENV_FILE, path.name
    assert ENV_FILE in (DEPLOY / "tongban.env").read_text(encoding="utf-8")
    for name in ("tongban-web.service", "tongban-worker.service"):
        assert name in _production_section()


def test_the_settings_file_names_real_settings_the_readme_explains() -> None:
    fields = {f"TONGBAN_{name.upper()}" for name in Settings.model_fields}
    names = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "tongban.env").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert names
    for name in names:
        assert name in fields, f"{name} is no setting"
        assert f"`{name}`" in README, f"{name} is not in the README"
    section = _production_section()
    for name in re.findall(r"`(TONGBAN_[A-Z_]+)`", section):
        assert name in fields, f"the README names {name}, which is no setting"
