"""Property-based tests: answers generated from the questionnaire definition.

Every valid payload is accepted; every payload with one item corrupted is
rejected, naming that item.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.definition.answers import TEXT_MAX_LENGTH, answers_validate
from surveys.definition.relevance import rule_holds
from surveys.definition.validate import CHOICE_TYPES
from surveys.services.responses import response_submit
from tests.conftest import builtin_definition

QUESTIONNAIRES = {q["audience"]: q for q in builtin_definition().questionnaires}


def item_value(item: dict[str, Any], lists: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind, constraint = item["type"], item.get("constraint", {})
    if kind in CHOICE_TYPES:
        codes = [c["code"] for c in lists[item["choices"]]]
        if kind == "multiple_choice":
            low = max(int(constraint.get("min", 1)), 1)
            high = int(constraint.get("max", len(codes)))
            return st.lists(st.sampled_from(codes), min_size=low, max_size=high, unique=True)
        return st.sampled_from(codes)
    if kind in {"number", "percent"}:
        low = constraint.get("min", 0 if kind == "percent" else -1e6)
        high = constraint.get("max", 100 if kind == "percent" else 1e6)
        if constraint.get("integer"):
            return st.integers(min_value=int(low), max_value=int(high))
        return st.integers(int(low), int(high)) | st.floats(low, high, allow_nan=False)
    limit = constraint.get("max_length", TEXT_MAX_LENGTH)
    # Any character a person can type: no NUL, no lone surrogate (category Cs).
    return st.text(
        st.characters(exclude_characters="\x00", exclude_categories=["Cs"]),
        min_size=1,
        max_size=min(limit, 200),
    )


@st.composite
def valid_answers(draw: st.DrawFn, definition: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for section in definition["sections"]:
        if not rule_holds(section.get("relevant"), answers):
            continue
        for item in section["items"]:
            if not rule_holds(item.get("relevant"), answers):
                continue
            if item["required"] or draw(st.booleans()):
                answers[item["code"]] = draw(item_value(item, definition["choice_lists"]))
    return answers


def corruptions(item: dict[str, Any], present: bool) -> list[Any]:
    """Values that are never valid for this item (a missing required answer included)."""
    kind = item["type"]
    bad: list[Any] = [{"nested": "object"}, True]
    if kind in CHOICE_TYPES and kind != "multiple_choice":
        bad += ["not_a_choice", 3, ["a", "list"]]
    if kind == "multiple_choice":
        bad += ["not_a_list", ["not_a_choice"]]
    if kind in {"number", "percent"}:
        high = item.get("constraint", {}).get("max", 100 if kind == "percent" else None)
        bad += ["12", [1]] + ([high + 1] if high is not None else [])
    if kind == "text":
        bad += [
            42,
            "nul\x00",
            "lone \ud800 surrogate",
            "x" * (item.get("constraint", {}).get("max_length", TEXT_MAX_LENGTH) + 1),
        ]
    if item["required"] and present:
        bad.append(None)
    return bad


@pytest.mark.parametrize("audience", ["citizen", "official"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_valid_payloads_are_accepted(audience: str, data: st.DataObject) -> None:
    definition = QUESTIONNAIRES[audience]
    answers = data.draw(valid_answers(definition))
    assert answers_validate(definition, answers) == {}


@pytest.mark.parametrize("audience", ["citizen", "official"])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_corrupted_item_is_rejected_and_named(audience: str, data: st.DataObject) -> None:
    definition = QUESTIONNAIRES[audience]
    answers = data.draw(valid_answers(definition))
    items = {i["code"]: i for s in definition["sections"] for i in s["items"]}
    code = data.draw(st.sampled_from(sorted(answers)))
    value = data.draw(st.sampled_from(corruptions(items[code], present=True)))
    corrupted = dict(answers)
    if value is None:
        del corrupted[code]
    else:
        corrupted[code] = value

    errors = answers_validate(definition, corrupted)

    assert f"answers.{code}" in errors


@pytest.mark.parametrize("audience", ["citizen", "official"])
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_unknown_and_hidden_items_are_rejected_and_named(audience: str, data: st.DataObject) -> None:
    definition = QUESTIONNAIRES[audience]
    answers = data.draw(valid_answers(definition))
    extra = data.draw(st.from_regex(r"[a-z]{3,12}_unknown", fullmatch=True))
    errors = answers_validate(definition, {**answers, extra: 1})
    assert f"answers.{extra}" in errors
    if audience == "citizen" and answers.get("willing_more") == "no":
        hidden = answers_validate(definition, {**answers, "willing_areas": ["health"]})
        assert "answers.willing_areas" in hidden


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_submission_service_accepts_every_valid_citizen_payload(wave, data: st.DataObject) -> None:
    answers = data.draw(valid_answers(wave.citizen_version.definition))
    result = response_submit(
        wave=wave,
        submission_id=uuid.uuid4(),
        audience="citizen",
        locality_code="alpha",
        language="en",
        answers=answers,
    )
    assert result.created
    assert result.response.answers == answers
