"""What a score alone may not decide. A pair at or above the auto threshold is linked without a
person looking, unless the two records disagree on sex and share no identifier (a woman's
record with no ID number or phone is not a man's because the names sound alike): such a pair
goes to the steward. And records are joined into persons strongest pair first, never so that
one person holds two different resident ID numbers that both pass GB 11643's check: a chain of
links through a record without an ID number stops there, and the pairs that would have joined
two numbers go to the steward."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

# A pair whose records disagree on sex (both known) and share neither ID number nor phone.
SEX_CONFLICT = (
    "(sex_l IS NOT NULL AND sex_r IS NOT NULL AND sex_l <> sex_r "
    "AND NOT coalesce(id_number_l = id_number_r, FALSE) "
    "AND NOT coalesce(phone_l = phone_r, FALSE))"
)


def auto_condition(auto: float) -> str:
    """SQL over scored pairs (their matching columns retained): linked without a person."""
    return f"match_probability >= {auto!r} AND NOT {SEX_CONFLICT}"


def sex_conflict(sex_l: str | None, sex_r: str | None, *, shared_identifier: bool) -> bool:
    """``SEX_CONFLICT`` for one pair in Python (the service's pairs)."""
    return sex_l is not None and sex_r is not None and sex_l != sex_r and not shared_identifier


N = TypeVar("N", str, int)


class Components(Generic[N]):
    """Union-find over records that refuses to join two different checked ID numbers."""

    def __init__(self, checked_ids: Mapping[N, str]) -> None:
        self.parent: dict[N, N] = {}
        self.ids: dict[N, frozenset[str]] = {n: frozenset((i,)) for n, i in checked_ids.items()}

    def find(self, x: N) -> N:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def join(self, a: N, b: N, *, force: bool = False) -> bool:
        """Join the groups of ``a`` and ``b``; False (and nothing joined) if that would put two
        different checked ID numbers together, unless ``force`` (a steward's decision)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ia, ib = self.ids.get(ra, frozenset()), self.ids.get(rb, frozenset())
        if not force and not (ia <= ib or ib <= ia):
            return False
        self.parent[ra] = rb
        if ia | ib:
            self.ids[rb] = ia | ib
        return True


def link(
    edges: Iterable[tuple[N, N, float]],
    checked_ids: Mapping[N, str],
    *,
    groups: Iterable[Iterable[N]] = (),
) -> Components[N]:
    """Records joined by ``edges`` (pairs to link, with their probability), strongest first,
    after the ``groups`` that are given (the persons records already belong to)."""
    components: Components[N] = Components(checked_ids)
    for group in groups:
        members = list(group)
        for other in members[1:]:
            components.join(members[0], other, force=True)
    # Probabilities rounded so that engines differing in the last bits order pairs alike.
    for a, b, _p in sorted(edges, key=lambda e: (-round(e[2], 9), e[0], e[1])):
        components.join(a, b)
    return components
