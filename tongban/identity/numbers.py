"""Resident ID numbers (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence and an
ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

import re
from datetime import date

from tongban.kit.clock import local_today
from tongban.kit.i18n import N_

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
# ASCII digits only: a bare \d would also match full-width digits typed with a Chinese IME.
_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")


def resident_id_check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def resident_id_problem(number: str) -> str | None:
    """None for a well-formed resident ID, else what is wrong with it (an English msgid)."""
    number = number.strip().upper()
    if not _PATTERN.match(number):
        return N_("A resident ID number has 17 digits followed by a digit or X.")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return N_("The birth date inside the ID number does not exist.")
    if born.year < 1900 or born > local_today():
        return N_("The birth date inside the ID number is out of range.")
    if resident_id_check_character(number[:17]) != number[17]:
        return N_("The last character of the ID number does not match; please check for a typo.")
    return None
