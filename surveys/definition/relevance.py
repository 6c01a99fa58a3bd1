"""Relevance (skip) rules: which items a respondent is shown.

A rule is JSON (see docs/questionnaire-format.md). Any comparison with an
unanswered item is false, except ``answered: false``; ``not`` negates, so
``{"not": {"item": "x", "equals": "a"}}`` holds while ``x`` is unanswered.
"""

from collections.abc import Mapping
from typing import Any


def rule_holds(rule: Mapping[str, Any] | None, answers: Mapping[str, Any]) -> bool:
    """Whether ``rule`` holds for ``answers``; no rule always holds."""
    if rule is None:
        return True
    if "all" in rule:
        return all(rule_holds(sub, answers) for sub in rule["all"])
    if "any" in rule:
        return any(rule_holds(sub, answers) for sub in rule["any"])
    if "not" in rule:
        return not rule_holds(rule["not"], answers)
    value = answers.get(rule["item"])
    answered = value is not None and value != "" and value != []
    if "answered" in rule:
        return answered is bool(rule["answered"])
    if not answered:
        return False
    if "equals" in rule:
        return bool(value == rule["equals"])
    if "not_equals" in rule:
        return bool(value != rule["not_equals"])
    if "in" in rule:
        return value in rule["in"]
    if "not_in" in rule:
        return value not in rule["not_in"]
    if "includes" in rule:
        return isinstance(value, list) and rule["includes"] in value
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    if "gt" in rule:
        return bool(value > rule["gt"])
    if "gte" in rule:
        return bool(value >= rule["gte"])
    if "lt" in rule:
        return bool(value < rule["lt"])
    if "lte" in rule:
        return bool(value <= rule["lte"])
    raise ValueError(f"unknown relevance operator in {dict(rule)!r}")
