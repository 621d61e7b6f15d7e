"""The model's one definition: the comparisons, the blocking rules and the training steps, for
DuckDB and Spark alike. A trained model (a JSON file) is only its learnt parameters as far as
this module is concerned: they are put back into the definition rendered for the engine at
hand, so a model trained on one engine drives the other."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import splink.blocking_rule_library as brl
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

MODEL_FILE = Path(__file__).parent.parent / "data" / "person_model.json"

# Field-level evidence shown to a data steward, in this order.
COMPARISONS = ("name", "birth_date", "sex", "id_number", "phone", "address")

# Pairs these rules join are taken as matches when the prior is estimated from a register:
# a shared ID number, or the same name, birth date and phone. They find about 80 % of matches.
DETERMINISTIC_RULES = (("id_number",), ("name", "birth_date", "phone"))
DETERMINISTIC_RECALL = 0.8


class ModelMismatch(ValueError):
    """A saved model whose comparisons are not those of this definition (an older model)."""


@dataclass(frozen=True)
class Thresholds:
    """Match probabilities: at or above ``auto`` records are linked without a person looking;
    from ``review`` up to ``auto`` a data steward decides."""

    auto: float = 0.99
    # Low enough that the queue holds the pairs the model cannot tell (a record without ID
    # number, phone or birth date against a namesake who moved): on the benchmark, recall once
    # the queue is worked rises from 0.998 to 0.9995 at under 0.5 % of records reviewed.
    review: float = 0.1


def settings(*, evidence: bool = False) -> SettingsCreator:
    """The comparisons and the blocking rules that choose which pairs are compared at all."""
    swapped = (
        "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
        "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
        "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)"
    )
    # A one-character typo always breaks GB 11643's check character, so two numbers that both
    # pass it and still differ belong to two people, however close they are.
    id_typo = "levenshtein(id_number_l, id_number_r) <= 2 AND NOT (id_checked_l AND id_checked_r)"
    # Two names of three characters or more that differ in one: most of the name agrees, where
    # two-character names one apart share only the surname (王伟 and 王芳).
    one_of_three = "length(name_l) >= 3 AND length(name_r) >= 3 AND levenshtein(name_l, name_r) = 1"
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.CustomComparison(
                output_column_name="name",
                comparison_levels=[
                    cll.NullLevel("name"),
                    cll.ExactMatchLevel("name", term_frequency_adjustments=True),
                    cll.ExactMatchLevel("name_py").configure(label_for_charts="same sound"),
                    cll.CustomLevel(
                        one_of_three,
                        label_for_charts="one character of three differs",
                        base_dialect_str="duckdb",
                    ),
                    cll.LevenshteinLevel("name", 1),
                    cll.JaroWinklerLevel("name_py", 0.88),
                    cll.ElseLevel(),
                ],
            ),
            cl.CustomComparison(
                output_column_name="birth_date",
                comparison_levels=[
                    cll.NullLevel("birth_date"),
                    cll.ExactMatchLevel("birth_date"),
                    cll.CustomLevel(
                        swapped, label_for_charts="day and month swapped", base_dialect_str="duckdb"
                    ),
                    cll.LevenshteinLevel("birth_date", 1),
                    # Across a month's or a year's end (31 December and 1 January).
                    cll.AbsoluteDateDifferenceLevel(
                        "birth_date", input_is_string=True, threshold=1, metric="day"
                    ).configure(label_for_charts="a day apart"),
                    cll.ExactMatchLevel("birth_year"),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("sex"),
            cl.CustomComparison(
                output_column_name="id_number",
                comparison_levels=[
                    cll.NullLevel("id_number"),
                    cll.ExactMatchLevel("id_number"),
                    cll.CustomLevel(
                        id_typo,
                        label_for_charts="a typo (one number fails the check)",
                        base_dialect_str="duckdb",
                    ),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("phone"),
            cl.CustomComparison(
                output_column_name="address",
                comparison_levels=[
                    cll.NullLevel("address"),
                    cll.ExactMatchLevel("address"),
                    cll.ExactMatchLevel("address_tail").configure(
                        label_for_charts="same but for the province"
                    ),
                    cll.JaroWinklerLevel("address", 0.9),
                    cll.ElseLevel(),
                ],
            ),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("phone"),
            block_on("name_py", "birth_year"),
            block_on("surname", "birth_date"),
            block_on("surname", "new_year"),
            # Neighbours and a person's records at one address, whatever the given name says.
            block_on("surname", "address_tail"),
            # A record with neither birth date nor ID number meets its namesakes.
            brl.CustomRule(
                "l.name_py = r.name_py AND (l.birth_date IS NULL OR r.birth_date IS NULL)",
                sql_dialect="duckdb",
            ),
        ],
        # The link rules read the sex, ID numbers and phones of each pair.
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=evidence,
    )


_LEVEL_PARAMETERS = ("m_probability", "u_probability", "tf_adjustment_weight")


def read_model(model: dict[str, Any] | Path) -> dict[str, Any]:
    if isinstance(model, Path):
        loaded: dict[str, Any] = json.loads(model.read_text(encoding="utf-8"))
        return loaded
    return model


def settings_for(
    dialect: str, model: dict[str, Any] | None, *, evidence: bool = False
) -> dict[str, Any]:
    """The definition rendered for ``dialect``, carrying the parameters ``model`` learnt (on
    either engine). ModelMismatch if the model compares other fields or levels."""
    rendered: dict[str, Any] = settings(evidence=evidence).create_settings_dict(dialect)
    if model is None:
        return rendered
    ours, theirs = rendered["comparisons"], model.get("comparisons", [])
    if [c["output_column_name"] for c in ours] != [c["output_column_name"] for c in theirs]:
        raise ModelMismatch("The model compares other fields than this version of tongban.")
    for comparison, learnt in zip(ours, theirs, strict=True):
        levels, learnt_levels = comparison["comparison_levels"], learnt["comparison_levels"]
        if [_label(level) for level in levels] != [_label(level) for level in learnt_levels]:
            raise ModelMismatch(
                f"The model's levels of {comparison['output_column_name']} are not this "
                "version's: train a new model."
            )
        for level, learnt_level in zip(levels, learnt_levels, strict=True):
            for key in _LEVEL_PARAMETERS:
                if key in learnt_level:
                    level[key] = learnt_level[key]
    rendered["probability_two_random_records_match"] = model["probability_two_random_records_match"]
    return rendered


def _label(level: dict[str, Any]) -> str:
    label: str = level.get("label_for_charts", "")
    return label


def train(linker: Any, *, seed: int, max_pairs: float) -> None:
    """Learn the parameters from the records themselves (no labels needed): the prior from
    pairs the deterministic rules join, u from random pairs, m by expectation maximisation."""
    training = linker.training
    estimate_prior(linker)
    training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    # Each round learns m for the fields its blocking rule does not fix.
    training.estimate_parameters_using_expectation_maximisation(
        block_on("id_number"), estimate_without_term_frequencies=True
    )
    training.estimate_parameters_using_expectation_maximisation(
        block_on("name_py", "birth_date"), estimate_without_term_frequencies=True
    )


def estimate_prior(linker: Any) -> None:
    """The probability that two records of this register, taken at random, are one person's:
    it falls as a register grows, so it is estimated on the register at hand."""
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*rule) for rule in DETERMINISTIC_RULES], recall=DETERMINISTIC_RECALL
    )
