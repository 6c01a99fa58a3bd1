"""Answer validation and relevance rules on small hand-written questionnaires."""

from __future__ import annotations

from typing import Any

import pytest

from surveys.definition.answers import answers_validate, clean_answers
from surveys.definition.relevance import rule_holds

LISTS = {
    "yn": [
        {"code": "yes", "score": 1, "engaged": True, "label": {"en": "Yes"}},
        {"code": "no", "score": 0, "engaged": False, "label": {"en": "No"}},
    ],
    "fruit": [
        {"code": c, "score": i, "engaged": False, "label": {"en": c}}
        for i, c in enumerate(["apple", "pear", "plum"])
    ],
}


def definition(*items: dict[str, Any], section_relevant: dict[str, Any] | None = None) -> dict[str, Any]:
    second: dict[str, Any] = {"code": "s2", "title": {"en": "2"}, "items": list(items[1:])}
    if section_relevant:
        second["relevant"] = section_relevant
    return {
        "languages": ["en"],
        "choice_lists": LISTS,
        "sections": [{"code": "s1", "title": {"en": "1"}, "items": [items[0]]}, second],
    }


def item(code: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "type": kind, "text": {"en": code}, "required": False, **extra}


@pytest.mark.parametrize(
    ("kind", "extra", "value", "ok"),
    [
        ("single_choice", {"choices": "yn"}, "yes", True),
        ("single_choice", {"choices": "yn"}, "maybe", False),
        ("single_choice", {"choices": "yn"}, ["yes"], False),
        ("multiple_choice", {"choices": "fruit"}, ["apple", "plum"], True),
        ("multiple_choice", {"choices": "fruit"}, ["apple", "apple"], False),
        ("multiple_choice", {"choices": "fruit"}, "apple", False),
        ("multiple_choice", {"choices": "fruit", "constraint": {"max": 1}}, ["apple", "pear"], False),
        ("number", {}, 3.5, True),
        ("number", {}, True, False),
        ("number", {}, "3", False),
        ("number", {"constraint": {"integer": True}}, 3.5, False),
        ("number", {"constraint": {"min": 1, "max": 5}}, 6, False),
        ("number", {}, 2**53, True),
        ("number", {}, -(2**53) - 1, False),
        ("number", {}, 10**400, False),  # no float holds it: was an OverflowError
        ("number", {}, float("inf"), False),
        ("number", {}, float("nan"), False),
        ("percent", {}, 10**400, False),
        ("percent", {}, 100, True),
        ("percent", {}, 100.5, False),
        ("percent", {}, -1, False),
        ("text", {}, "hello", True),
        ("text", {"constraint": {"max_length": 3}}, "hello", False),
        ("text", {"constraint": {"regex": "[0-9]{4}"}}, "12345", False),
        ("text", {"constraint": {"regex": "[0-9]{4}"}}, "1234", True),
        ("text", {}, 12, False),
        ("text", {}, "nul \x00 byte", False),
        ("text", {}, "lone \ud800 surrogate", False),
    ],
)
def test_value_checks(kind: str, extra: dict[str, Any], value: Any, ok: bool) -> None:
    d = definition(item("first", "single_choice", choices="yn"), item("x", kind, **extra))
    errors = answers_validate(d, {"x": value})
    assert (errors == {}) is ok, errors


def test_required_items_must_be_answered_unless_hidden() -> None:
    d = definition(
        item("smoker", "single_choice", choices="yn", required=True),
        item("per_day", "number", required=True, relevant={"item": "smoker", "equals": "yes"}),
    )
    assert answers_validate(d, {}) == {
        "answers.smoker": ["This question requires an answer."],
    }
    assert set(answers_validate(d, {"smoker": "yes"})) == {"answers.per_day"}
    assert answers_validate(d, {"smoker": "no"}) == {}
    assert set(answers_validate(d, {"smoker": "no", "per_day": 5})) == {"answers.per_day"}


def test_a_hidden_section_hides_its_items() -> None:
    d = definition(
        item("smoker", "single_choice", choices="yn"),
        item("per_day", "number"),
        section_relevant={"item": "smoker", "equals": "yes"},
    )
    assert "answers.per_day" in answers_validate(d, {"smoker": "no", "per_day": 1})
    assert answers_validate(d, {"smoker": "yes", "per_day": 1}) == {}


def test_custom_constraint_message_replaces_the_generic_one() -> None:
    d = definition(
        item("first", "single_choice", choices="yn"),
        item("zip", "text", constraint={"regex": "[0-9]{4}", "message": {"en": "Four digits, please."}}),
    )
    assert answers_validate(d, {"zip": "12"}) == {"answers.zip": ["Four digits, please."]}


def test_answers_must_be_an_object() -> None:
    d = definition(item("first", "single_choice", choices="yn"))
    assert "answers" in answers_validate(d, ["yes"])


def test_clean_answers_drops_empty_and_keeps_order() -> None:
    d = definition(item("a", "single_choice", choices="yn"), item("b", "text"), item("c", "number"))
    assert list(clean_answers(d, {"c": 2, "b": "", "a": "yes"})) == ["a", "c"]


@pytest.mark.parametrize(
    ("rule", "answers", "holds"),
    [
        ({"item": "a", "equals": "yes"}, {"a": "yes"}, True),
        ({"item": "a", "equals": "yes"}, {}, False),
        ({"item": "a", "not_equals": "yes"}, {}, False),
        ({"not": {"item": "a", "equals": "yes"}}, {}, True),
        ({"item": "a", "in": ["yes", "no"]}, {"a": "no"}, True),
        ({"item": "a", "not_in": ["yes"]}, {"a": "no"}, True),
        ({"item": "f", "includes": "pear"}, {"f": ["apple", "pear"]}, True),
        ({"item": "f", "includes": "plum"}, {"f": ["apple", "pear"]}, False),
        ({"item": "n", "gte": 18}, {"n": 18}, True),
        ({"item": "n", "gt": 18}, {"n": 18}, False),
        ({"item": "n", "lt": 18}, {"n": "17"}, False),
        ({"item": "n", "lte": 18}, {"n": 17.5}, True),
        ({"item": "a", "answered": True}, {"a": "no"}, True),
        ({"item": "a", "answered": False}, {"a": ""}, True),
        ({"all": [{"item": "a", "equals": "yes"}, {"item": "n", "gt": 1}]}, {"a": "yes", "n": 0}, False),
        ({"any": [{"item": "a", "equals": "yes"}, {"item": "n", "gt": 1}]}, {"a": "no", "n": 2}, True),
    ],
)
def test_relevance_rules(rule: dict[str, Any], answers: dict[str, Any], holds: bool) -> None:
    assert rule_holds(rule, answers) is holds


def test_storable_walks_any_depth_without_recursion() -> None:
    from surveys.definition.answers import storable

    deep: list[object] = ["ok"]
    for _ in range(5000):
        deep = [deep]
    assert storable(deep)
    deep[0] = {"key": ["nul \x00"]}
    assert not storable(deep)
