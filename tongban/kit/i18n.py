"""Translations (zh-CN default, en) from Babel .po catalogs, and text that carries both names."""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


@dataclass(frozen=True)
class LocalText:
    """A value with a Chinese and an English form (a department name, a field label)."""

    zh: str
    en: str

    def __str__(self) -> str:
        return self.en

    def pick(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


def pick(obj: Any, attribute: str, locale: str) -> Any:
    """``obj.<attribute>_zh`` or ``obj.<attribute>_en`` (or dict keys) by locale."""
    suffix = "zh" if locale.startswith("zh") else "en"
    key = f"{attribute}_{suffix}"
    return obj[key] if isinstance(obj, dict) else getattr(obj, key)


@lru_cache
def translations(locale: str) -> gettext.NullTranslations:
    """Message ids are English; other locales read their .po file, compiled in memory."""
    if locale == "en":
        return gettext.NullTranslations()
    po_path = resources.files("tongban.web").joinpath(f"locale/{locale}/LC_MESSAGES/messages.po")
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translate(message: str, locale: str, **params: Any) -> str:
    text = translations(locale).gettext(message)
    if not params:
        return text
    resolved = {k: v.pick(locale) if isinstance(v, LocalText) else v for k, v in params.items()}
    return text.format(**resolved)


def negotiate(requested: str | None, accept_language: str | None) -> str:
    """The explicit choice if valid, else the first supported Accept-Language, else zh_CN."""
    if requested in LOCALES:
        return requested
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE
