"""Synthetic department records with known truth, for training and measuring entity resolution.

Each made-up person appears in one or more department systems, each of which holds its own
record of them, with the mistakes and drift real registers have: a name typed with the wrong
character of the same sound (the usual input-method slip), a name in traditional characters, the
day and month of birth swapped, an old 15-digit ID number, a mistyped or missing ID number, a
new address after a move, a new or missing phone number. Names are shared the way Chinese names
are: surnames follow their real frequencies and given names are drawn from a small pool, so many
unrelated people carry the same name. ``truth`` says which person a record belongs to.

Everything is derived from ``seed``: the same arguments give the same records.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import opencc
from faker import Faker
from faker.providers.person.zh_CN import Provider as PersonProvider
from pypinyin import lazy_pinyin

from tongban.identity import numbers

# The department systems records come from (codes as in the demo catalog).
SOURCES = ("PSB", "HRSS", "MCA", "HEALTH", "TAX", "HOUSING")


@dataclass(frozen=True)
class Noise:
    """Probabilities of each kind of mistake or drift in one department's record."""

    homophone: float = 0.05  # one character of the name replaced by another of the same sound
    other_character: float = 0.02  # one character of the name replaced by an unrelated one
    traditional: float = 0.04  # the name written in traditional characters
    sex_wrong: float = 0.005
    sex_missing: float = 0.02
    swapped_day_month: float = 0.03
    birth_date_missing: float = 0.03
    birth_date_typo: float = 0.01  # one digit of the day mistyped
    birth_date_day_off: float = 0.005  # a day early or late (born near midnight), even at New Year
    old_id: float = 0.08  # the 15-digit number of an old card (people born before 1985)
    id_typo: float = 0.02  # one digit mistyped: the number no longer checks
    id_missing: float = 0.2
    moved: float = 0.25  # the person's address when they lived elsewhere
    address_short: float = 0.2  # the address without its province
    phone_changed: float = 0.15
    phone_missing: float = 0.1
    phone_formatted: float = 0.1  # "+86 138 0013 8000" instead of "13800138000"


@dataclass
class Record:
    unique_id: str
    source: str
    local_id: str
    name: str
    sex: str | None
    birth_date: str | None
    id_number: str | None
    phone: str | None
    address: str | None
    truth: int


@dataclass
class _Person:
    index: int
    name: str
    sex: str
    born: date
    id18: str
    id15: str | None
    phones: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)


@cache
def _given_characters() -> tuple[str, ...]:
    return tuple(sorted({ch for name in PersonProvider.first_names for ch in name}))


@cache
def _homophones() -> dict[str, tuple[str, ...]]:
    """Given-name characters grouped by their toneless pinyin: what an input method offers."""
    by_sound: dict[str, list[str]] = defaultdict(list)
    for ch in _given_characters():
        by_sound[lazy_pinyin(ch)[0]].append(ch)
    return {
        ch: tuple(other for other in by_sound[lazy_pinyin(ch)[0]] if other != ch)
        for ch in _given_characters()
    }


@cache
def _region_codes() -> tuple[str, ...]:
    return tuple(code for code in numbers.current_region_codes() if not code.endswith("00"))


_to_traditional = opencc.OpenCC("s2t")


def _resident_ids(rng: random.Random, born: date, sex: str) -> tuple[str, str]:
    region = rng.choice(_region_codes())
    sequence = rng.randrange(0, 500) * 2 + (1 if sex == "M" else 0)  # odd for men
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + numbers.resident_id_check_character(first17), (
        f"{region}{born:%y%m%d}{sequence:03d}"
    )


def _phone(rng: random.Random) -> str:
    return rng.choice(("13", "15", "17", "18", "19")) + f"{rng.randrange(10**9):09d}"


class Generator:
    def __init__(self, *, seed: int = 7, noise: Noise | None = None) -> None:
        self.rng = random.Random(seed)
        self.faker = Faker("zh_CN")
        self.faker.seed_instance(seed)
        self.noise = noise or Noise()
        surnames = PersonProvider.last_names
        self._surnames = list(surnames)
        self._surname_weights = [float(w) for w in surnames.values()]
        self._addresses: list[str] = []

    def _address(self) -> str:
        # A pool of addresses reused now and then, as neighbours share a building.
        if len(self._addresses) < 50_000 or self.rng.random() < 0.3:
            address = self.faker.address().rsplit(" ", 1)[0]  # drop the postcode
            self._addresses.append(address)
            return address
        return self.rng.choice(self._addresses)

    def _person(self, index: int) -> _Person:
        rng = self.rng
        surname = rng.choices(self._surnames, self._surname_weights)[0]
        given = "".join(rng.choices(_given_characters(), k=1 if rng.random() < 0.3 else 2))
        sex = rng.choice("MF")
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 66))
        id18, id15 = _resident_ids(rng, born, sex)
        return _Person(
            index=index,
            name=surname + given,
            sex=sex,
            born=born,
            id18=id18,
            id15=id15 if born.year < 1985 else None,
            phones=[_phone(rng) for _ in range(2)],
            addresses=[self._address() for _ in range(2)],
        )

    def _name(self, person: _Person) -> str:
        rng, noise, name = self.rng, self.noise, person.name
        roll = rng.random()
        position = rng.randrange(1, len(name))  # a slip in the given name, not the surname
        if roll < noise.homophone and _homophones()[name[position]]:
            name = (
                name[:position] + rng.choice(_homophones()[name[position]]) + name[position + 1 :]
            )
        elif roll < noise.homophone + noise.other_character:
            name = name[:position] + rng.choice(_given_characters()) + name[position + 1 :]
        if rng.random() < noise.traditional:
            name = _to_traditional.convert(name)
        return name

    def _sex(self, person: _Person) -> str | None:
        roll = self.rng.random()
        if roll < self.noise.sex_missing:
            return None
        if roll < self.noise.sex_missing + self.noise.sex_wrong:
            return "F" if person.sex == "M" else "M"
        return person.sex

    def _birth_date(self, person: _Person) -> str | None:
        rng, noise, born = self.rng, self.noise, person.born
        roll = rng.random()
        if roll < noise.birth_date_missing:
            return None
        roll -= noise.birth_date_missing
        if roll < noise.swapped_day_month and born.day <= 12:
            return f"{born.year:04d}-{born.day:02d}-{born.month:02d}"
        if roll < noise.swapped_day_month + noise.birth_date_typo:
            day = born.day % 10 + 10 * ((born.day // 10 + 1) % 3) or 1
            if day <= 28 and day != born.day:
                return f"{born.year:04d}-{born.month:02d}-{day:02d}"
            return born.isoformat()
        if roll < noise.swapped_day_month + noise.birth_date_typo + noise.birth_date_day_off:
            return (born + timedelta(days=rng.choice((-1, 1)))).isoformat()
        return born.isoformat()

    def _id_number(self, person: _Person) -> str | None:
        rng, noise = self.rng, self.noise
        roll = rng.random()
        if roll < noise.id_missing:
            return None
        roll -= noise.id_missing
        number = person.id18
        if person.id15 is not None and roll < noise.old_id:
            number = person.id15
        if rng.random() < noise.id_typo:
            position = rng.randrange(len(number) - 1)
            digit = str((int(number[position]) + rng.randrange(1, 10)) % 10)
            number = number[:position] + digit + number[position + 1 :]
        return number

    def _phone(self, person: _Person) -> str | None:
        rng, noise = self.rng, self.noise
        roll = rng.random()
        if roll < noise.phone_missing:
            return None
        phone = (
            person.phones[1]
            if roll < noise.phone_missing + noise.phone_changed
            else (person.phones[0])
        )
        if rng.random() < noise.phone_formatted:
            phone = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
        return phone

    def _address_of(self, person: _Person) -> str | None:
        rng, noise = self.rng, self.noise
        address = person.addresses[1] if rng.random() < noise.moved else person.addresses[0]
        if rng.random() < noise.address_short and "省" in address:
            address = address.split("省", 1)[1]
        return address

    def records(self, count: int) -> Iterator[Record]:
        """``count`` records; people appear in 1 to 4 departments (about 2 on average)."""
        made, index = 0, 0
        while made < count:
            person = self._person(index)
            copies = min(count - made, self.rng.choices((1, 2, 3, 4), (30, 35, 25, 10))[0])
            for source in self.rng.sample(SOURCES, copies):
                made += 1
                yield Record(
                    unique_id=f"r{made}",
                    source=source,
                    local_id=f"{source}-{made:08d}",
                    name=self._name(person),
                    sex=self._sex(person),
                    birth_date=self._birth_date(person),
                    id_number=self._id_number(person),
                    phone=self._phone(person),
                    address=self._address_of(person),
                    truth=person.index,
                )
            index += 1


def generate(count: int, *, seed: int = 7, noise: Noise | None = None) -> list[Record]:
    return list(Generator(seed=seed, noise=noise).records(count))
