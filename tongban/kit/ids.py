"""Identifiers shown to people: short, and with check characters that catch typos.

The check is ISO 7064 MOD 1271-36: two characters from the digits and upper-case letters, a pure
system that catches every single-character error and every swap of two adjacent characters.
(MOD 37-2, with one check character, would need a ``*`` now and then: awkward to read out, and a
character that URLs and spreadsheets treat specially.)
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MODULUS = 1271
_RADIX = len(ALPHABET)


def _residue(text: str) -> int:
    total = 0
    for char in text:
        total = (total * _RADIX + ALPHABET.index(char)) % _MODULUS
    return total


def check_characters(body: str) -> str:
    """The two check characters for ``body`` (digits and upper-case letters)."""
    value = (_MODULUS + 1 - _residue(body + "00")) % _MODULUS
    high, low = divmod(value, _RADIX)
    return ALPHABET[high] + ALPHABET[low]


def is_valid(number: str) -> bool:
    number = number.strip().upper()
    if len(number) < 3 or any(c not in ALPHABET for c in number):
        return False
    return _residue(number) == 1


def application_number(prefix: str, day: str) -> str:
    """``<prefix><yyyymmdd><6 random digits><2 check characters>``, e.g. ``TB20261126483920K7``.

    Random rather than sequential so numbers do not reveal volumes or let anyone guess another
    applicant's number; uniqueness is enforced by the database.
    """
    body = f"{prefix}{day}{secrets.randbelow(10**6):06d}"
    return body + check_characters(body)


def booking_code() -> str:
    """``B<5 random characters><2 check characters>``, e.g. ``B7K2Q9XM``: short enough to read
    out at a counter, checkable when typed in. Uniqueness is enforced by the database."""
    body = "B" + "".join(secrets.choice(ALPHABET) for _ in range(5))
    return body + check_characters(body)
