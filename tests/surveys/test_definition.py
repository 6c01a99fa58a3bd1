"""The study definition validator and `load_study` on broken files."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from surveys.definition.validate import StudyDefinitionInvalid, definition_checksum, study_definition_validate
from surveys.models import Activity, Questionnaire, QuestionnaireVersion, Study
from surveys.services.studies import BUILTIN_STUDY_PATH, study_file_parse, study_yaml_load

Mutation = Callable[[dict[str, Any]], None]


def builtin() -> dict[str, Any]:
    return copy.deepcopy(study_yaml_load(BUILTIN_STUDY_PATH.read_text()))


def citizen_item(d: dict[str, Any], section: int, item: int) -> dict[str, Any]:
    return d["questionnaires"][0]["sections"][section]["items"][item]


def official_item(d: dict[str, Any], section: int, item: int) -> dict[str, Any]:
    return d["questionnaires"][1]["sections"][section]["items"][item]


def _set(target: Callable[[dict[str, Any]], dict[str, Any]], **values: Any) -> Mutation:
    return lambda d: target(d).update(values)


# Each broken file: a mutation of the built-in study and an error it must report.
BROKEN: dict[str, tuple[Mutation, str]] = {
    "unknown choice list": (
        _set(lambda d: citizen_item(d, 2, 4), choices="freq7"),
        "questionnaires[0].sections[2].items[4].choices: unknown list 'freq7'",
    ),
    "missing translation": (
        lambda d: d["study"]["name"].pop("cs"),
        "study.name: missing translation(s): cs",
    ),
    "language not declared": (
        lambda d: d["service_areas"][1]["name"].update(sv="Miljö"),
        "service_areas[1].name: language(s) not in study.languages: sv",
    ),
    "duplicate item code": (
        _set(lambda d: citizen_item(d, 0, 1), code="safety_secure_home"),
        "questionnaires[0].sections[0].items[1].code: duplicate item code 'safety_secure_home'",
    ),
    "unknown activity": (
        _set(lambda d: citizen_item(d, 3, 0), activity="safety.juggling"),
        "questionnaires[0].sections[3].items[0].activity: unknown activity 'safety.juggling'",
    ),
    "activity unmeasured by officials": (
        lambda d: d["questionnaires"][1]["sections"][1]["items"].pop(0),
        "questionnaires[1]: activity 'safety.secure_home' is not measured by any official item",
    ),
    "activity measured twice": (
        _set(lambda d: citizen_item(d, 0, 1), activity="safety.secure_home"),
        "questionnaires[0].sections[0].items[1].activity: activity 'safety.secure_home' is already measured",
    ),
    "official activity item not percent": (
        _set(lambda d: official_item(d, 1, 0), type="number"),
        "questionnaires[1].sections[1].items[0].type: an official item measuring an activity must be 'percent'",
    ),
    "relevance refers to a later item": (
        _set(lambda d: citizen_item(d, 4, 0), relevant={"item": "comments", "answered": True}),
        "questionnaires[0].sections[4].items[0].relevant.item: 'comments' is not an earlier item",
    ),
    "relevance value not a choice": (
        _set(lambda d: citizen_item(d, 4, 1), relevant={"item": "willing_more", "in": ["yes", "perhaps"]}),
        "questionnaires[0].sections[4].items[1].relevant.in: 'perhaps' is not a choice of 'willing_more'",
    ),
    "relevance operator unknown": (
        _set(lambda d: citizen_item(d, 4, 1), relevant={"item": "willing_more", "like": "y%"}),
        "questionnaires[0].sections[4].items[1].relevant",
    ),
    "nested rule without an operator": (
        _set(lambda d: citizen_item(d, 4, 1), relevant={"all": [{"item": "willing_more"}]}),
        "questionnaires[0].sections[4].items[1].relevant.all[0]: a rule on an item needs exactly one operator",
    ),
    "unknown item type": (
        _set(lambda d: citizen_item(d, 5, 2), type="slider"),
        "questionnaires[0].sections[5].items[2].type: 'slider' is not one of",
    ),
    "min above max": (
        _set(lambda d: citizen_item(d, 5, 2), constraint={"min": 10, "max": 1}),
        "questionnaires[0].sections[5].items[2].constraint: min (10) is greater than max (1)",
    ),
    "choices on a number item": (
        _set(lambda d: citizen_item(d, 5, 2), choices="freq5"),
        "questionnaires[0].sections[5].items[2].choices: a number item takes no choices",
    ),
    "choice item without a list": (
        lambda d: citizen_item(d, 5, 0).pop("choices"),
        "questionnaires[0].sections[5].items[0]: a single_choice item needs 'choices'",
    ),
    "bad regex": (
        _set(lambda d: citizen_item(d, 4, 2), constraint={"regex": "(unclosed"}),
        "questionnaires[0].sections[4].items[2].constraint.regex: invalid regular expression",
    ),
    "percent bound outside 0..100": (
        _set(lambda d: official_item(d, 1, 0), constraint={"max": 120}),
        "questionnaires[1].sections[1].items[0].constraint.max: a percent bound must lie between 0 and 100",
    ),
    "activity in unknown service area": (
        _set(lambda d: d["activities"][0], service_area="transport"),
        "activities[0].service_area: unknown service area 'transport'",
    ),
    "duplicate choice code": (
        _set(lambda d: d["choice_lists"]["freq5"][1], code="never"),
        "choice_lists.freq5[1].code: duplicate choice code 'never'",
    ),
    "unknown top-level key": (
        lambda d: d.update(colour="blue"),
        "unknown key(s) ('colour' was unexpected)",
    ),
    "two citizen questionnaires": (
        _set(lambda d: d["questionnaires"][1], audience="citizen"),
        "questionnaires: expected one citizen and one official questionnaire",
    ),
    "bad code pattern": (
        _set(lambda d: citizen_item(d, 0, 0), code="Safety Home"),
        "questionnaires[0].sections[0].items[0].code: 'Safety Home' does not match",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_file_is_rejected_with_its_path_and_nothing_is_written(
    case: str, tmp_path: Path, db: None
) -> None:
    mutate, expected = BROKEN[case]
    data = builtin()
    mutate(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))

    with pytest.raises(CommandError) as raised:
        call_command("load_study", str(path))

    assert expected in str(raised.value)
    assert "nothing was loaded" in str(raised.value)
    assert not Study.objects.exists()
    assert not Activity.objects.exists()
    assert not QuestionnaireVersion.objects.exists()


def test_every_error_is_listed_not_just_the_first() -> None:
    data = builtin()
    citizen_item(data, 2, 4)["choices"] = "freq7"
    data["study"]["name"].pop("cs")
    official_item(data, 1, 0)["type"] = "number"

    with pytest.raises(StudyDefinitionInvalid) as raised:
        study_definition_validate(data)

    paths = {e.path for e in raised.value.errors}
    assert {
        "questionnaires[0].sections[2].items[4].choices",
        "study.name",
        "questionnaires[1].sections[1].items[0].type",
    } <= paths


def test_a_file_that_is_not_yaml_is_rejected(tmp_path: Path, db: None) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("study: [unclosed\n")
    with pytest.raises(CommandError, match="not valid YAML"):
        call_command("load_study", str(path))
    assert not Questionnaire.objects.exists()


def test_the_builtin_study_is_valid_and_complete() -> None:
    study = study_definition_validate(study_file_parse(BUILTIN_STUDY_PATH))

    assert study.code == "coproduction"
    assert study.languages == ["en", "fr", "de", "da", "cs"]
    per_area: dict[str, list[str]] = {}
    for activity in study.activities:
        per_area.setdefault(activity["service_area"], []).append(activity["kind"])
    assert set(per_area) == {"safety", "environment", "health"}
    for kinds in per_area.values():
        assert len(kinds) >= 5
        assert {"individual", "collective"} <= set(kinds)
    citizen = next(q for q in study.questionnaires if q["audience"] == "citizen")
    codes = {item["code"] for section in citizen["sections"] for item in section["items"]}
    assert {"age_band", "gender", "education", "employment", "area_type", "willing_more"} <= codes


def test_yaml_and_json_forms_are_equivalent(tmp_path: Path) -> None:
    json_path = tmp_path / "study.json"
    json_path.write_text(json.dumps(study_file_parse(BUILTIN_STUDY_PATH), ensure_ascii=False))

    from_yaml = study_definition_validate(study_file_parse(BUILTIN_STUDY_PATH))
    from_json = study_definition_validate(study_file_parse(json_path))

    assert [definition_checksum(q) for q in from_yaml.questionnaires] == [
        definition_checksum(q) for q in from_json.questionnaires
    ]


def test_yaml_words_like_yes_and_no_stay_choice_codes() -> None:
    data = study_yaml_load("codes: [yes, no, on, off, 18_29, true]")
    assert data == {"codes": ["yes", "no", "on", "off", "18_29", True]}


def test_the_published_json_schema_is_valid_and_accepts_the_builtin_study() -> None:
    import jsonschema

    from surveys.definition.validate import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(study_file_parse(BUILTIN_STUDY_PATH), schema)


def test_a_repeated_key_is_an_error_not_a_silent_overwrite(tmp_path: Path, db: None) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("format: 1\nformat: 1\n")
    with pytest.raises(CommandError, match="duplicate key 'format'"):
        call_command("load_study", str(path))


def test_dates_stay_text_and_a_schema_reference_is_allowed() -> None:
    data = builtin()
    data["$schema"] = "./study.schema.json"
    assert study_yaml_load("when: 2024-01-01") == {"when": "2024-01-01"}
    study_definition_validate(data)
