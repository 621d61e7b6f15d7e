"""Running Alembic migrations from code (the CLI, `serve` and the tests all use this)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("tongban.db").joinpath("migrations"))
    )
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


@lru_cache
def _code_heads() -> frozenset[str]:
    # The release's own migrations: read once a process (readiness asks every few seconds).
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("tongban.db").joinpath("migrations"))
    )
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def at_head(engine: Engine) -> bool:
    """Whether the database's schema is the one this code expects (readiness: a process of a
    newer release must not serve before `tongban db upgrade`)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == _code_heads()
