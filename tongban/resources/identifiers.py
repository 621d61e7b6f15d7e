"""Checking and linking the identifiers of persons and companies.

Resident ID numbers and unified social credit codes are checked by ``identity.numbers`` (one
implementation for the whole platform); an old 15-digit ID number is kept as given and linked
together with the 18-digit number it became. The organisation code inside a unified social credit
code (characters 9 to 17) is linked too. A malformed identifier is kept with its problem noted,
never silently corrected.
"""

from __future__ import annotations

import re
import unicodedata

from tongban.identity import numbers
from tongban.kit.i18n import N_
from tongban.resources.models import CompanyScheme, PersonScheme

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_PATTERN = re.compile(r"^[0-9A-Z]{8}[0-9X]$")
_PATTERNS = {
    PersonScheme.PASSPORT: re.compile(r"^[A-Z0-9]{5,17}$"),
    PersonScheme.HK_MACAO_PERMIT: re.compile(r"^[HM][0-9]{8,10}$"),
    PersonScheme.TAIWAN_PERMIT: re.compile(r"^[0-9]{8}([0-9]{2})?$"),
    PersonScheme.SOCIAL_SECURITY: re.compile(r"^[0-9A-Z]{6,20}$"),
    PersonScheme.DEPARTMENT_LOCAL: re.compile(r"^\S{1,64}$"),
}


def clean(value: str) -> str:
    """Full-width characters folded, spaces removed, upper case: the form identifiers are
    stored and compared in."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def resident_id_problem(value: str) -> str:
    """What is wrong with a resident ID number (old 15-digit or 18-digit) in the form ``clean``
    gives; "" if nothing."""
    if len(value) == 15:
        return numbers.old_resident_id_problem(value) or ""
    return numbers.resident_id_problem(value) or ""


def person_identifiers(scheme: PersonScheme, value: str) -> list[tuple[PersonScheme, str, str]]:
    """``(scheme, value, problem)`` for an identifier as given, plus the 18-digit resident ID an
    old 15-digit one became. ``problem`` is "" for a well-formed identifier."""
    value = clean(value)
    if scheme in (PersonScheme.RESIDENT_ID, PersonScheme.OLD_RESIDENT_ID):
        problem = resident_id_problem(value)
        if len(value) != 15:
            return [(PersonScheme.RESIDENT_ID, value, problem)]
        found = [(PersonScheme.OLD_RESIDENT_ID, value, problem)]
        if not problem:
            found.append((PersonScheme.RESIDENT_ID, numbers.upgrade_resident_id(value), ""))
        return found
    pattern = _PATTERNS[scheme]
    problem = "" if pattern.match(value) else N_("This identifier is not in the expected format.")
    return [(scheme, value, problem)]


def organisation_code_check(first8: str) -> str:
    """GB 11714: weights 3 7 9 10 5 8 4 2, letters count from 10, 11 minus the sum mod 11."""
    total = sum(
        (int(ch) if ch.isdigit() else ord(ch) - 55) * w
        for ch, w in zip(first8, _ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def organisation_code_problem(code: str) -> str | None:
    if not _ORG_PATTERN.match(code):
        return N_("An organisation code has 8 digits or capital letters and a check character.")
    if organisation_code_check(code[:8]) != code[8]:
        return N_("The last character of the organisation code does not match.")
    return None


def registration_number_problem(number: str) -> str | None:
    """The 15-digit business registration number before 2015 (GB/T 17710 MOD 11,10)."""
    if not re.fullmatch(r"[0-9]{15}", number):
        return N_("A business registration number has 15 digits.")
    product = 10
    for digit in number:
        total = product % 11 + int(digit)
        product = (total % 10 or 10) * 2
    if total % 10 != 1:
        return N_("The last digit of the business registration number does not match.")
    return None


def company_identifiers(scheme: CompanyScheme, value: str) -> list[tuple[CompanyScheme, str, str]]:
    value = clean(value)
    if scheme is CompanyScheme.USCC:
        problem = numbers.uscc_problem(value)
        found = [(CompanyScheme.USCC, value, problem or "")]
        if problem is None:
            # Characters 9-17 are the organisation code, check character included.
            code = value[8:17]
            found.append(
                (CompanyScheme.ORGANISATION_CODE, code, organisation_code_problem(code) or "")
            )
        return found
    if scheme is CompanyScheme.ORGANISATION_CODE:
        value = value.replace("-", "")  # often written 12345678-9
        return [(scheme, value, organisation_code_problem(value) or "")]
    return [(scheme, value, registration_number_problem(value) or "")]
