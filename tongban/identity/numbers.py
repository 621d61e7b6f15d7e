"""The numbers that identify subjects, checked the way the national standards define them.

Resident ID numbers (GB 11643-1999): a 6-digit region code, an 8-digit birth date, a 3-digit
sequence and an ISO 7064 MOD 11-2 check character. Before 1999 cards carried 15 digits: the same
region, a 6-digit birth date (19YYMMDD without the century) and the sequence, no check character;
``upgrade_resident_id`` converts one to the 18-digit number the person holds now.

Unified social credit codes (GB 32100-2015) of companies and other organisations: 18 characters
from an alphabet of digits and capital letters without I, O, Z, S and V (easily mistaken), the
registration authority and kind of organisation, a 6-digit region code, the 9-character
organisation code and a weighted MOD 31 check character.

Phone numbers: mainland mobile numbers (11 digits), and landlines with their area code.

Registration, the counter and every form field of these types check them with the functions
here, so a number one of them refuses is refused by all.

Region codes come from python-stdnum's table (``cn/loc``), which marks codes that were abolished
or renamed with the years they were in use (``[-2010]崇文区``, ``[1983-]上城区``). GB 11643-1999
makes the first six digits the code of the county where the person's household is registered,
and a number, once given, is the person's for life (Resident Identity Card Law, art. 3): it is
given at registration, at or after birth, under a code in use then. So:

- a code abolished before the birth year cannot appear in the number: refused;
- a code created after the birth year can (registered, or first given a number, after it was
  created): accepted. python-stdnum refuses it, wanting the code in use in the birth year itself;
- the table knows years, not days: a code abolished in the birth year is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from stdnum import numdb
from stdnum.cn import uscc as stdnum_uscc

from tongban.kit.clock import local_today
from tongban.kit.i18n import N_

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
# ASCII digits only: a bare \d would also match full-width digits typed with a Chinese IME.
_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")
_OLD_PATTERN = re.compile(r"^[0-9]{15}$")
_PERIOD = re.compile(r"^\[(?P<start>\d*)-(?P<end>\d*)\](?P<name>.*)$")

# Mainland mobile numbers, and landlines with their area code (a form's contact number).
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_PATTERN = re.compile(rf"^[{USCC_ALPHABET}]{{2}}[0-9]{{6}}[{USCC_ALPHABET}]{{10}}$")


@dataclass(frozen=True)
class Region:
    """An administrative division as the region table knows it."""

    code: str
    province: str
    # Current name, or the last one if the code is no longer in use.
    name: str
    # Every name the code has had, with the years it was in use where the table knows them.
    history: tuple[str, ...]
    # The last year the code was in use; None while it still is.
    last_year: int | None

    @property
    def abolished(self) -> bool:
        return self.last_year is not None


@cache
def regions() -> dict[str, Region]:
    """Every region code python-stdnum's table has ever held, current or abolished."""
    found: dict[str, Region] = {}
    for _length, low, high, props, children in numdb.get("cn/loc").prefixes:
        for _child_length, child_low, child_high, child_props, _ in children:
            for suffix in range(int(child_low), int(child_high) + 1):
                code = f"{low}{suffix:04d}"
                assert low == high, "province entries are single codes"
                history = tuple(child_props.get("county", "").split(","))
                periods = [_PERIOD.match(entry) for entry in history]
                # In use while any of its names has no end year (or no years at all).
                ends = [int(p["end"]) if p is not None and p["end"] else None for p in periods]
                last_year = None if None in ends else max(e for e in ends if e is not None)
                last = periods[-1]
                found[code] = Region(
                    code=code,
                    province=props.get("province", ""),
                    name=last["name"] if last else history[-1],
                    history=history,
                    last_year=last_year,
                )
    return found


def region(code: str) -> Region | None:
    return regions().get(code)


@cache
def current_region_codes() -> tuple[str, ...]:
    """The codes still in use, in order: a number given today carries one of these."""
    return tuple(code for code, r in sorted(regions().items()) if not r.abolished)


# --- resident ID numbers ----------------------------------------------------------------------


def resident_id_check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


# The standard sets no earliest birth date. Numbers were first given out in 1984, with the first
# resident identity cards, and only to living people; nobody is known to have lived past 122
# years. So a birth year before 1862 belongs to no one who was ever given a number, while 1862 to
# 1899 (people over 85 in 1984) is accepted. A birth date after today is refused: the number is
# given at registration, after birth.
EARLIEST_BIRTH_YEAR = 1984 - 122


def _birth_problem(code: str, year: int, month: int, day: int) -> str | None:
    """What is wrong with the birth date of a number with a known region code, if anything."""
    try:
        born = date(year, month, day)
    except ValueError:
        return N_("The birth date inside the ID number does not exist.")
    if born.year < EARLIEST_BIRTH_YEAR or born > local_today():
        return N_("The birth date inside the ID number is out of range.")
    last_year = regions()[code].last_year
    # Given at or after birth, under a code in use then (see the module's notes).
    if last_year is not None and born.year > last_year:
        return N_(
            "The region code inside the ID number was abolished before the birth date inside it."
        )
    return None


def resident_id_problem(number: str) -> str | None:
    """None for a valid 18-digit resident ID, else what is wrong with it (an English msgid)."""
    number = number.strip().upper()
    if _OLD_PATTERN.match(number):
        return N_(
            "This is an old 15-digit ID number; please give the 18-digit number of your "
            "current card."
        )
    if not _PATTERN.match(number):
        return N_("A resident ID number has 17 digits followed by a digit or X.")
    if region(number[:6]) is None:
        return N_("The first six digits of the ID number are not a region code.")
    problem = _birth_problem(number[:6], int(number[6:10]), int(number[10:12]), int(number[12:14]))
    if problem:
        return problem
    if resident_id_check_character(number[:17]) != number[17]:
        return N_("The last character of the ID number does not match; please check for a typo.")
    return None


def old_resident_id_problem(number: str) -> str | None:
    """None for a valid 15-digit resident ID of before 1999, else what is wrong with it."""
    number = number.strip()
    if not _OLD_PATTERN.match(number):
        return N_("An old resident ID number has 15 digits.")
    if region(number[:6]) is None:
        return N_("The first six digits of the ID number are not a region code.")
    return _birth_problem(
        number[:6], 1900 + int(number[6:8]), int(number[8:10]), int(number[10:12])
    )


def upgrade_resident_id(number: str) -> str:
    """The 18-digit number that replaced a 15-digit one: the century 19 inserted before the year
    and the check character appended (GB 11643-1999, appendix). ValueError if it is not valid."""
    number = number.strip()
    problem = old_resident_id_problem(number)
    if problem:
        raise ValueError(problem)
    first17 = f"{number[:6]}19{number[6:]}"
    return first17 + resident_id_check_character(first17)


def normalize_resident_id(number: str) -> str:
    """An ID number as stored: upper case, no spaces, old 15-digit numbers upgraded to 18 digits.

    ValueError (with the problem as message) if it is neither a valid 18- nor 15-digit number.
    """
    number = number.strip().upper()
    if _OLD_PATTERN.match(number):
        return upgrade_resident_id(number)
    problem = resident_id_problem(number)
    if problem:
        raise ValueError(problem)
    return number


def birth_date(number: str) -> date:
    """The birth date in a valid 18-digit resident ID number."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


# --- unified social credit codes --------------------------------------------------------------


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character: weights 3^i mod 31, total taken from 31, mod 31."""
    return str(stdnum_uscc.calc_check_digit(first17))


def uscc_problem(code: str) -> str | None:
    """None for a valid unified social credit code, else what is wrong with it (English msgid)."""
    code = code.strip().upper()
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return N_(
            "A unified social credit code has 18 characters: digits and capital letters "
            "other than I, O, Z, S and V."
        )
    if not _USCC_PATTERN.match(code):
        return N_("Characters 3 to 8 of a unified social credit code are a region code (digits).")
    if uscc_check_character(code[:17]) != code[17]:
        return N_(
            "The last character of the unified social credit code does not match; please check "
            "for a typo."
        )
    return None


# --- phone numbers ----------------------------------------------------------------------------


def mobile_problem(number: str) -> str | None:
    """None for a mainland mobile number (11 digits), else what is wrong with it (English msgid):
    the number an account's text messages go to."""
    if not _MOBILE.match(number.strip()):
        return N_("A mobile number has 11 digits and starts with 13 to 19.")
    return None


def phone_problem(number: str) -> str | None:
    """None for a mobile number or a landline with its area code, else what is wrong with it."""
    number = number.strip()
    if _MOBILE.match(number) or _LANDLINE.match(number):
        return None
    return N_("A phone number is a mobile number (11 digits) or a landline with its area code.")
