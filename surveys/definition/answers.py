"""Check a respondent's answers against a questionnaire definition.

One function serves the web forms, the API and bulk loading, so they can
never disagree about what a valid response is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from surveys.definition.relevance import rule_holds
from surveys.definition.validate import CHOICE_TYPES, NUMERIC_TYPES, iter_items

TEXT_MAX_LENGTH = 2000
# The largest whole number every JSON reader holds exactly (RFC 8259, section 6);
# beyond it a number is no answer anyone typed (and 10**400 is no float at all).
NUMBER_MAX_MAGNITUDE = 2**53

AnswerErrors = dict[str, list[str]]


def is_unanswered(value: object) -> bool:
    return value is None or value == "" or value == []


def storable(value: object) -> bool:
    """Whether the database can hold the value: PostgreSQL refuses a NUL
    character in text and JSON, and a lone surrogate is no UTF-8 at all.
    Neither is ever typed by a person. (Walked without recursion: a client
    may nest lists hundreds deep.)"""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                return False
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
    return True


def visible_items(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The items shown to a respondent with these answers, in order."""
    return [
        item
        for section, item in iter_items(definition)
        if rule_holds(section.get("relevant"), answers) and rule_holds(item.get("relevant"), answers)
    ]


def answers_validate(
    definition: Mapping[str, Any], answers: object, *, only: Collection[str] | None = None
) -> AnswerErrors:
    """Every problem with ``answers``, keyed ``answers.<item code>``; empty when valid.

    Checks: unknown items, answers to items hidden by a relevance rule,
    required items left empty, value types, choice codes, ranges, lengths
    and patterns. Unanswered optional items may be omitted or null.
    ``only`` restricts the checks to those items (one page of a web form).
    """
    if not isinstance(answers, Mapping):
        return {"answers": [_("Expected an object mapping item codes to answers.")]}
    errors: AnswerErrors = {}
    items = {item["code"]: item for _section, item in iter_items(definition)}
    shown = {item["code"] for item in visible_items(definition, answers)}
    lists = definition["choice_lists"]

    if only is None:
        for code in answers:
            if code not in items:
                errors[f"answers.{code}"] = [_("Unknown item.")]
    for code, item in items.items():
        if only is not None and code not in only:
            continue
        value = answers.get(code)
        key = f"answers.{code}"
        if code not in shown:
            if not is_unanswered(value):
                errors[key] = [_("This question does not apply given your other answers; leave it empty.")]
            continue
        if is_unanswered(value):
            if item.get("required"):
                errors[key] = [_("This question requires an answer.")]
            continue
        if not storable(value):  # whatever the item's type (a number typed with a NUL is text)
            errors[key] = [_("Contains a character that is not allowed.")]
            continue
        problems = _value_problems(item, value, lists)
        if problems:
            errors[key] = _custom_message(item) or problems
    return errors


def clean_answers(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers as stored: known, visible, answered items only, in definition order."""
    shown = visible_items(definition, answers)
    return {
        item["code"]: answers[item["code"]] for item in shown if not is_unanswered(answers.get(item["code"]))
    }


def _custom_message(item: Mapping[str, Any]) -> list[str] | None:
    """The questionnaire's own constraint message, in the active language, if it has one."""
    message = item.get("constraint", {}).get("message")
    if not message:
        return None
    language = (get_language() or "en").split("-")[0]
    return [message.get(language) or next(iter(message.values()))]


def _value_problems(item: Mapping[str, Any], value: Any, lists: Mapping[str, Any]) -> list[str]:
    kind = item["type"]
    constraint = item.get("constraint", {})
    if kind in CHOICE_TYPES:
        codes = [c["code"] for c in lists[item["choices"]]]
        if kind == "multiple_choice":
            return _multiple_problems(value, codes, constraint)
        if not isinstance(value, str):
            return [_("Expected one choice code (a string).")]
        if value not in codes:
            return [
                _("'%(value)s' is not one of the choices: %(codes)s.")
                % {"value": value, "codes": ", ".join(codes)}
            ]
        return []
    if kind in NUMERIC_TYPES:
        return _number_problems(kind, value, constraint)
    return _text_problems(value, constraint)


def _multiple_problems(value: Any, codes: list[str], constraint: Mapping[str, Any]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return [_("Expected a list of choice codes.")]
    problems = []
    unknown = [v for v in value if v not in codes]
    if unknown:
        problems.append(_("Not among the choices: %(codes)s.") % {"codes": ", ".join(unknown)})
    if len(set(value)) != len(value):
        problems.append(_("A choice is ticked more than once."))
    low, high = constraint.get("min"), constraint.get("max")
    if low is not None and len(value) < low:
        problems.append(_("Tick at least %(n)s.") % {"n": int(low)})
    if high is not None and len(value) > high:
        problems.append(_("Tick at most %(n)s.") % {"n": int(high)})
    return problems


def _number_problems(kind: str, value: Any, constraint: Mapping[str, Any]) -> list[str]:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) if isinstance(value, float) else abs(value) <= NUMBER_MAX_MAGNITUDE)
    ):
        return [_("Expected a number.")]
    low = constraint.get("min", 0 if kind == "percent" else None)
    high = constraint.get("max", 100 if kind == "percent" else None)
    if kind == "percent":
        low, high = max(low, 0), min(high, 100)
    problems = []
    if constraint.get("integer") and value != int(value):
        problems.append(_("Expected a whole number."))
    if low is not None and value < low:
        problems.append(_("Must be at least %(min)s.") % {"min": _fmt(low)})
    if high is not None and value > high:
        problems.append(_("Must be at most %(max)s.") % {"max": _fmt(high)})
    return problems


def _text_problems(value: Any, constraint: Mapping[str, Any]) -> list[str]:
    if not isinstance(value, str):
        return [_("Expected text.")]
    problems = []
    limit = constraint.get("max_length", TEXT_MAX_LENGTH)
    if len(value) > limit:
        problems.append(_("At most %(n)s characters.") % {"n": limit})
    regex = constraint.get("regex")
    if regex and not re.fullmatch(regex, value):
        problems.append(_("Does not have the expected format."))
    return problems


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _fmt(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)
