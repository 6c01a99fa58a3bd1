"""Validate a study definition file and normalise it for storage.

Two passes: the JSON Schema (``study.schema.json``) checks the shape, then the
rules a schema cannot express (references, uniqueness, pairing of activities,
relevance rules pointing backwards, translations complete). Every problem is
reported with its path, e.g. ``questionnaires[0].sections[2].items[4].choices:
unknown list 'freq5'``, so a survey manager can fix the whole file in one go.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match

SCHEMA_PATH = Path(__file__).with_name("study.schema.json")

CHOICE_TYPES = frozenset({"single_choice", "multiple_choice", "frequency", "likert"})
SINGLE_CHOICE_TYPES = CHOICE_TYPES - {"multiple_choice"}
NUMERIC_TYPES = frozenset({"number", "percent"})
CONSTRAINT_KEYS = {
    "number": {"min", "max", "integer", "message"},
    "percent": {"min", "max", "integer", "message"},
    "text": {"max_length", "regex", "message"},
    "multiple_choice": {"min", "max", "message"},
}
TEXT_KEYS = frozenset({"name", "description", "title", "introduction", "text", "hint", "label", "message"})
COMPARISONS = ("gt", "gte", "lt", "lte")
RULE_OPERATORS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "includes",
    *COMPARISONS,
    "answered",
)


@dataclass(frozen=True)
class DefinitionError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class StudyDefinitionInvalid(Exception):
    """The definition breaks the format; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[DefinitionError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class StudyDefinition:
    """A validated study, ready to load. Questionnaire definitions are normalised
    (defaults filled in, only the choice lists they use) and self-contained."""

    code: str
    name: dict[str, str]
    description: dict[str, str]
    languages: list[str]
    service_areas: list[dict[str, Any]]
    activities: list[dict[str, Any]]
    questionnaires: list[dict[str, Any]] = field(default_factory=list)


def definition_checksum(definition: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON form: equal definitions, equal checksums."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def format_path(parts: Sequence[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def study_definition_validate(data: object) -> StudyDefinition:
    """Check a parsed study file; return it normalised.

    Raises StudyDefinitionInvalid listing every error with its path.
    """
    schema_errors = [_schema_error(e) for e in _schema_validator().iter_errors(data)]
    if schema_errors:
        raise StudyDefinitionInvalid(sorted(set(schema_errors), key=lambda e: e.path))
    assert isinstance(data, dict)
    checker = _SemanticChecker(data)
    errors = checker.check()
    if errors:
        raise StudyDefinitionInvalid(errors)
    return checker.result()


def _schema_error(error: SchemaError) -> DefinitionError:
    # A failed oneOf (relevance rules) carries one error per branch; report the
    # branch that came closest rather than "is not valid under any schema".
    while error.validator == "oneOf" and error.context:
        error = best_match(_rule_branch_errors(error)) or error
    path = format_path(list(error.absolute_path))
    message = error.message
    if (
        error.validator in {"minProperties", "maxProperties"}
        and isinstance(error.instance, dict)
        and "item" in error.instance
    ):
        message = f"a rule on an item needs exactly one operator: {', '.join(RULE_OPERATORS)}"
    if error.validator == "additionalProperties":
        message = message.replace("Additional properties are not allowed", "unknown key(s)")
    return DefinitionError(path, message)


_RULE_BRANCHES = ("all", "any", "not")


def _rule_branch_errors(error: SchemaError) -> list[SchemaError]:
    """The errors of the relevance-rule branch the author evidently meant."""
    instance = error.instance if isinstance(error.instance, dict) else {}
    meant = next((i for i, key in enumerate(_RULE_BRANCHES) if key in instance), len(_RULE_BRANCHES))
    chosen = [e for e in error.context or [] if e.relative_schema_path and e.relative_schema_path[0] == meant]
    return chosen or list(error.context or [])


class _SemanticChecker:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.errors: list[DefinitionError] = []
        self.languages: list[str] = data["study"]["languages"]
        self.lists: dict[str, list[dict[str, Any]]] = data["choice_lists"]
        self.activities = {a["code"]: a for a in data["activities"]}

    def error(self, path: Sequence[str | int], message: str) -> None:
        self.errors.append(DefinitionError(format_path(path), message))

    def check(self) -> list[DefinitionError]:
        self._check_texts(self.data, [])
        self._check_unique(self.data["service_areas"], ["service_areas"], "service area")
        self._check_unique(self.data["activities"], ["activities"], "activity")
        area_codes = {a["code"] for a in self.data["service_areas"]}
        for i, activity in enumerate(self.data["activities"]):
            if activity["service_area"] not in area_codes:
                self.error(
                    ["activities", i, "service_area"],
                    f"unknown service area '{activity['service_area']}'",
                )
        for name, choices in self.lists.items():
            self._check_unique(choices, ["choice_lists", name], "choice")
        self._check_questionnaires()
        return self.errors

    # --- texts ------------------------------------------------------------------
    def _check_texts(self, node: object, path: list[str | int]) -> None:
        """Every translatable text carries exactly the study's languages."""
        if isinstance(node, list):
            for i, child in enumerate(node):
                self._check_texts(child, [*path, i])
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, dict):
                missing = [lang for lang in self.languages if lang not in value]
                extra = [lang for lang in value if lang not in self.languages]
                if missing:
                    self.error([*path, key], f"missing translation(s): {', '.join(missing)}")
                if extra:
                    self.error([*path, key], f"language(s) not in study.languages: {', '.join(extra)}")
            elif key != "relevant":
                self._check_texts(value, [*path, key])

    def _check_unique(self, rows: list[dict[str, Any]], path: list[str | int], what: str) -> None:
        seen: dict[str, int] = {}
        for i, row in enumerate(rows):
            code = row["code"]
            if code in seen:
                self.error([*path, i, "code"], f"duplicate {what} code '{code}' (first at [{seen[code]}])")
            else:
                seen[code] = i

    # --- questionnaires ---------------------------------------------------------
    def _check_questionnaires(self) -> None:
        questionnaires = self.data["questionnaires"]
        self._check_unique(questionnaires, ["questionnaires"], "questionnaire")
        audiences = [q["audience"] for q in questionnaires]
        if sorted(audiences) != ["citizen", "official"]:
            self.error(["questionnaires"], "expected one citizen and one official questionnaire")
        for qi, questionnaire in enumerate(questionnaires):
            self._check_questionnaire(questionnaire, ["questionnaires", qi])

    def _check_questionnaire(self, questionnaire: dict[str, Any], qpath: list[str | int]) -> None:
        audience = questionnaire["audience"]
        self._check_unique(questionnaire["sections"], [*qpath, "sections"], "section")
        items_seen: dict[str, dict[str, Any]] = {}
        measured: dict[str, str] = {}
        for si, section in enumerate(questionnaire["sections"]):
            spath: list[str | int] = [*qpath, "sections", si]
            if "relevant" in section:
                self._check_rule(section["relevant"], [*spath, "relevant"], items_seen)
            for ii, item in enumerate(section["items"]):
                ipath: list[str | int] = [*spath, "items", ii]
                code = item["code"]
                if code in items_seen:
                    self.error([*ipath, "code"], f"duplicate item code '{code}'")
                self._check_item(item, ipath, audience, items_seen)
                activity = item.get("activity")
                if activity in self.activities:
                    if activity in measured:
                        self.error(
                            [*ipath, "activity"],
                            f"activity '{activity}' is already measured by item '{measured[activity]}'",
                        )
                    else:
                        measured[activity] = code
                items_seen.setdefault(code, item)
        for activity in self.activities:
            if activity not in measured:
                self.error(qpath, f"activity '{activity}' is not measured by any {audience} item")

    def _check_item(
        self,
        item: dict[str, Any],
        path: list[str | int],
        audience: str,
        earlier: Mapping[str, dict[str, Any]],
    ) -> None:
        kind = item["type"]
        list_name = item.get("choices")
        if kind in CHOICE_TYPES:
            if list_name is None:
                self.error(path, f"a {kind} item needs 'choices'")
            elif list_name not in self.lists:
                self.error([*path, "choices"], f"unknown list '{list_name}'")
        elif list_name is not None:
            self.error([*path, "choices"], f"a {kind} item takes no choices")

        activity = item.get("activity")
        if activity is not None:
            if activity not in self.activities:
                self.error([*path, "activity"], f"unknown activity '{activity}'")
            elif audience == "official" and kind != "percent":
                self.error([*path, "type"], "an official item measuring an activity must be 'percent'")
            elif audience == "citizen":
                if kind not in SINGLE_CHOICE_TYPES:
                    self.error(
                        [*path, "type"],
                        "a citizen item measuring an activity must be a single choice, frequency or likert",
                    )
                elif list_name in self.lists and not any(c.get("engaged") for c in self.lists[list_name]):
                    self.error([*path, "choices"], f"list '{list_name}' marks no choice as engaged")

        constraint = item.get("constraint")
        if constraint is not None:
            self._check_constraint(constraint, [*path, "constraint"], kind)
        if "relevant" in item:
            self._check_rule(item["relevant"], [*path, "relevant"], earlier)

    def _check_constraint(self, constraint: dict[str, Any], path: list[str | int], kind: str) -> None:
        allowed = CONSTRAINT_KEYS.get(kind, set())
        for key in constraint:
            if key not in allowed:
                self.error([*path, key], f"not a constraint of a {kind} item")
        low, high = constraint.get("min"), constraint.get("max")
        if low is not None and high is not None and low > high:
            self.error(path, f"min ({low}) is greater than max ({high})")
        if kind == "percent":
            for key in ("min", "max"):
                value = constraint.get(key)
                if value is not None and not 0 <= value <= 100:
                    self.error([*path, key], "a percent bound must lie between 0 and 100")
        if kind == "multiple_choice":
            for key in ("min", "max"):
                value = constraint.get(key)
                if value is not None and (value != int(value) or value < 0):
                    self.error([*path, key], "the number of choices must be a whole number")
        regex = constraint.get("regex")
        if regex is not None and "regex" in allowed:
            try:
                re.compile(regex)
            except re.error as exc:
                self.error([*path, "regex"], f"invalid regular expression: {exc}")

    # --- relevance --------------------------------------------------------------
    def _check_rule(
        self, rule: dict[str, Any], path: list[str | int], earlier: Mapping[str, dict[str, Any]]
    ) -> None:
        for combinator in ("all", "any"):
            if combinator in rule:
                for i, sub in enumerate(rule[combinator]):
                    self._check_rule(sub, [*path, combinator, i], earlier)
                return
        if "not" in rule:
            self._check_rule(rule["not"], [*path, "not"], earlier)
            return
        code = rule["item"]
        target = earlier.get(code)
        if target is None:
            self.error([*path, "item"], f"'{code}' is not an earlier item of this questionnaire")
            return
        operator = next(op for op in RULE_OPERATORS if op in rule)
        value = rule[operator]
        kind = target["type"]
        choice_codes = (
            {c["code"] for c in self.lists.get(target.get("choices", ""), [])}
            if kind in CHOICE_TYPES
            else None
        )
        if operator == "answered":
            return
        if operator == "includes":
            if kind != "multiple_choice":
                self.error([*path, operator], f"'includes' needs a multiple choice item, '{code}' is {kind}")
            elif choice_codes is not None and value not in choice_codes:
                self.error([*path, operator], f"'{value}' is not a choice of '{code}'")
            return
        if operator in COMPARISONS:
            if kind not in NUMERIC_TYPES:
                self.error(
                    [*path, operator], f"'{operator}' needs a number or percent item, '{code}' is {kind}"
                )
            return
        values = value if isinstance(value, list) else [value]
        if kind == "multiple_choice":
            self.error([*path, operator], f"use 'includes' for the multiple choice item '{code}'")
        elif choice_codes is not None:
            for v in values:
                if v not in choice_codes:
                    self.error([*path, operator], f"'{v}' is not a choice of '{code}'")
        elif kind in NUMERIC_TYPES and any(
            isinstance(v, bool) or not isinstance(v, int | float) for v in values
        ):
            self.error([*path, operator], f"'{code}' is numeric; compare it with numbers")

    # --- normalised result ------------------------------------------------------
    def result(self) -> StudyDefinition:
        study = self.data["study"]
        activities = [
            {**a, "phase": a.get("phase", "delivery"), "position": i}
            for i, a in enumerate(self.data["activities"])
        ]
        service_areas = [{**a, "position": i} for i, a in enumerate(self.data["service_areas"])]
        return StudyDefinition(
            code=study["code"],
            name=study["name"],
            description=study.get("description", {}),
            languages=self.languages,
            service_areas=service_areas,
            activities=activities,
            questionnaires=[self._normalise(q) for q in self.data["questionnaires"]],
        )

    def _normalise(self, questionnaire: dict[str, Any]) -> dict[str, Any]:
        used_lists = sorted(
            {i["choices"] for s in questionnaire["sections"] for i in s["items"] if "choices" in i}
        )
        sections = [
            {
                **section,
                "items": [{**item, "required": item.get("required", False)} for item in section["items"]],
            }
            for section in questionnaire["sections"]
        ]
        return {
            "format": 1,
            "code": questionnaire["code"],
            "audience": questionnaire["audience"],
            "languages": self.languages,
            "title": questionnaire["title"],
            "introduction": questionnaire.get("introduction", {}),
            "choice_lists": {
                name: [{**c, "engaged": c.get("engaged", False)} for c in self.lists[name]]
                for name in used_lists
            },
            "sections": sections,
        }


def iter_items(definition: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(section, item) pairs of a normalised questionnaire definition, in order."""
    for section in definition["sections"]:
        for item in section["items"]:
            yield section, item
