"""Templates per event and channel, from a data file, and their rendering.

A template may use only the personalisation fields its event declares, and an event may declare
only ``ALLOWED_FIELDS``: numbers, names, dates and statuses. A form's values never reach a
message, so a notification (an SMS read over someone's shoulder, an e-mail in a shared inbox)
cannot leak classified data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tongban.kit import datafiles
from tongban.kit.i18n import LocalText
from tongban.notifications.errors import (
    PersonalisationInvalid,
    TemplateFileInvalid,
    UnknownTemplate,
)
from tongban.notifications.models import Channel

ALLOWED_FIELDS = frozenset(
    {
        "name",  # the recipient's display name
        "number",  # application number
        "item",  # service item name
        "department",
        "status",
        "due_on",
        "days_left",
        "result_number",
        "reason",  # what the official wrote to the applicant
        "reply",  # a department's reply to a rating
        "code",  # a one-time code
        "minutes",
        "text",  # free text of a bulk notice, written by an administrator
        "reconsideration_days",  # the time limits of the remedies against a refusal
        "lawsuit_months",
        "hall",  # a service hall's name, for a booked counter visit
        "time",  # a booked slot's local date and time
    }
)
PLACEHOLDER = re.compile(r"\(\(([a-z_]+)\)\)")
# An SMS longer than this is split into several by carriers and costs more: refuse at load.
SMS_MAX_CHARS = 300
MAX_VALUE_CHARS = 500


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ChannelTemplate(_Strict):
    subject_zh: str = ""
    subject_en: str = ""
    body_zh: str = Field(min_length=1)
    body_en: str = Field(min_length=1)


class EventTemplate(_Strict):
    name_zh: str
    name_en: str
    fields: list[str] = Field(min_length=1)
    # Values removed from the stored message once it is delivered (one-time codes).
    sensitive: list[str] = []
    sms: ChannelTemplate | None = None
    email: ChannelTemplate | None = None
    in_app: ChannelTemplate | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        unknown = sorted(set(self.fields) - ALLOWED_FIELDS)
        if unknown:
            raise ValueError(f"personalisation fields not allowed in messages: {unknown}")
        if not set(self.sensitive) <= set(self.fields):
            raise ValueError("sensitive fields must be among the fields")
        channels = self.channels()
        if not channels:
            raise ValueError("an event needs a template for at least one channel")
        for channel, template in channels.items():
            for text in (
                template.subject_zh,
                template.subject_en,
                template.body_zh,
                template.body_en,
            ):
                used = set(PLACEHOLDER.findall(text))
                if not used <= set(self.fields):
                    raise ValueError(
                        f"{channel.value} template uses {sorted(used - set(self.fields))}, "
                        "which the event does not declare"
                    )
            if channel is Channel.EMAIL and not (template.subject_zh and template.subject_en):
                raise ValueError("an e-mail template needs a subject in both languages")
            if channel is Channel.SMS and max(len(template.body_zh), len(template.body_en)) > (
                SMS_MAX_CHARS
            ):
                raise ValueError(f"an SMS template may have at most {SMS_MAX_CHARS} characters")
        return self

    def channels(self) -> dict[Channel, ChannelTemplate]:
        found = {Channel.SMS: self.sms, Channel.EMAIL: self.email, Channel.IN_APP: self.in_app}
        return {c: t for c, t in found.items() if t is not None}


class TemplateFile(_Strict):
    events: dict[str, EventTemplate]


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def load(path: Path) -> dict[str, EventTemplate]:
    found: TemplateFile = datafiles.load_yaml(path, TemplateFile, TemplateFileInvalid)
    return found.events


@lru_cache
def catalog() -> dict[str, EventTemplate]:
    path = Path(str(resources.files("tongban.notifications").joinpath("data/templates.yaml")))
    return load(path)


def event(name: str) -> EventTemplate:
    found = catalog().get(name)
    if found is None:
        raise UnknownTemplate("There is no notification template {name}.", field="event", name=name)
    return found


def render(
    name: str,
    channel: Channel,
    personalisation: dict[str, str | LocalText],
    locale: str,
) -> Rendered:
    """The message for ``channel`` in ``locale``; every declared field must be given."""
    template = event(name)
    channel_template = template.channels().get(channel)
    if channel_template is None:
        raise UnknownTemplate(
            "The template {name} has no {channel} version.",
            field="channel",
            name=name,
            channel=channel.value,
        )
    missing = [f for f in template.fields if f not in personalisation]
    extra = sorted(set(personalisation) - set(template.fields))
    if missing or extra:
        raise PersonalisationInvalid(
            "The template {name} takes the fields {fields}; missing {missing}, not taken {extra}.",
            field="personalisation",
            name=name,
            fields=", ".join(template.fields),
            missing=", ".join(missing) or "-",
            extra=", ".join(extra) or "-",
        )
    values = {
        k: v.pick(locale) if isinstance(v, LocalText) else str(v)
        for k, v in personalisation.items()
    }
    for key, value in values.items():
        if len(value) > MAX_VALUE_CHARS:
            raise PersonalisationInvalid(
                "The value of {key} is longer than {n} characters.",
                field="personalisation",
                key=key,
                n=MAX_VALUE_CHARS,
            )
    zh = locale.startswith("zh")

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)

    subject = channel_template.subject_zh if zh else channel_template.subject_en
    body = channel_template.body_zh if zh else channel_template.body_en
    return Rendered(fill(subject), fill(body))
