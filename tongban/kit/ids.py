"""Identifiers shown to people: short, and with a check character that catches typos.

The check character is ISO 7064 MOD 37-2 over digits and upper-case letters (plus ``*``): it
catches every single-character error and every swap of two adjacent characters.
"""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"


def check_character(body: str) -> str:
    product = 0
    for char in body:
        product = ((product + _ALPHABET.index(char)) * 2) % 37
    return _ALPHABET[(38 - product) % 37]


def is_valid(number: str) -> bool:
    number = number.strip().upper()
    if len(number) < 2 or any(c not in _ALPHABET for c in number[:-1]):
        return False
    return check_character(number[:-1]) == number[-1]


def application_number(prefix: str, day: str) -> str:
    """``<prefix><yyyymmdd><6 random digits><check>``, e.g. ``TB20261126483920K``.

    Random rather than sequential so numbers do not reveal volumes or let anyone guess another
    applicant's number; uniqueness is enforced by the database.
    """
    body = f"{prefix}{day}{secrets.randbelow(10**6):06d}"
    return body + check_character(body)
