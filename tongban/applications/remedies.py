"""The remedies against a decision (administrative reconsideration, an administrative lawsuit)
and their time limits, from a data file: the applicant is told of them with every refusal."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tongban.applications.errors import RemediesFileInvalid
from tongban.kit import datafiles


class Remedies(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reconsideration_days: int = Field(gt=0)
    lawsuit_months: int = Field(gt=0)


def load(path: Path) -> Remedies:
    found: Remedies = datafiles.load_yaml(path, Remedies, RemediesFileInvalid)
    return found


@lru_cache
def current() -> Remedies:
    return load(Path(str(resources.files("tongban.applications").joinpath("data/remedies.yaml"))))
