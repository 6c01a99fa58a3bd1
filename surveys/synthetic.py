"""Synthetic answers that satisfy a questionnaire, and a population table:
for the demo wave, tests and benchmarks.

Answers are generated item by item in questionnaire order, honouring relevance
rules and constraints, so every generated response passes ``answers_validate``.
What an activity item gets is left to the caller (an engagement probability
for citizens, an estimate for officials), which is how the demo builds a known
perception gap.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from surveys.definition.relevance import rule_holds
from surveys.definition.validate import CHOICE_TYPES

# An adult population by age band and gender, in thousands of people: the
# shape of the demo's and the benchmarks' population tables (the weighted
# variant's target), scaled per locality.
ADULT_POPULATION_THOUSANDS = {
    "18_29": {"female": 9, "male": 10},
    "30_44": {"female": 12, "male": 12},
    "45_59": {"female": 11, "male": 11},
    "60_74": {"female": 9, "male": 8},
    "75_plus": {"female": 5, "male": 3},
}


def population_scaled(factor: int) -> dict[str, dict[str, int]]:
    """ADULT_POPULATION_THOUSANDS with every cell multiplied by ``factor``."""
    return {
        band: {gender: count * factor for gender, count in genders.items()}
        for band, genders in ADULT_POPULATION_THOUSANDS.items()
    }


# (activity code) -> probability that a citizen is engaged in it
EngagementRate = Callable[[str], float]
# (activity code) -> an official's estimate in percent
Estimate = Callable[[str], float]


def answers_generate(
    definition: Mapping[str, Any],
    rng: random.Random,
    *,
    engaged_rate: EngagementRate | None = None,
    estimate: Estimate | None = None,
    optional_skip: float = 0.1,
) -> dict[str, Any]:
    """One respondent's answers to ``definition``."""
    answers: dict[str, Any] = {}
    lists = definition["choice_lists"]
    for section in definition["sections"]:
        if not rule_holds(section.get("relevant"), answers):
            continue
        for item in section["items"]:
            if not rule_holds(item.get("relevant"), answers):
                continue
            if not item.get("required") and rng.random() < optional_skip:
                continue
            value = _value(item, lists, rng, engaged_rate, estimate)
            if value is not None:
                answers[item["code"]] = value
    return answers


def _value(
    item: Mapping[str, Any],
    lists: Mapping[str, list[dict[str, Any]]],
    rng: random.Random,
    engaged_rate: EngagementRate | None,
    estimate: Estimate | None,
) -> Any:
    kind = item["type"]
    constraint = item.get("constraint", {})
    activity = item.get("activity")
    if kind in CHOICE_TYPES:
        choices = lists[item["choices"]]
        if kind == "multiple_choice":
            low = int(constraint.get("min", 0))
            high = int(constraint.get("max", len(choices)))
            k = rng.randint(max(low, 1 if item.get("required") else 0), max(low, min(high, len(choices))))
            return [c["code"] for c in rng.sample(choices, k)] or None
        if activity and engaged_rate is not None:
            engaged = rng.random() < engaged_rate(activity)
            pool = [c for c in choices if bool(c.get("engaged")) == engaged] or choices
            return rng.choice(pool)["code"]
        return rng.choice(choices)["code"]
    if kind == "percent":
        low, high = max(constraint.get("min", 0), 0), min(constraint.get("max", 100), 100)
        raw = estimate(activity) if activity and estimate is not None else rng.uniform(low, high)
        return round(min(max(raw, low), high))
    if kind == "number":
        low = constraint.get("min", 0)
        high = constraint.get("max", low + 100)
        if constraint.get("integer"):
            return rng.randint(int(low), int(high))
        return round(rng.uniform(low, high), 2)
    # Free text: only when it must be answered; the demo has nothing to say.
    return "-" if item.get("required") else None
