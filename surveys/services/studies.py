"""Loading study definitions into the database."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from surveys.definition.validate import (
    DefinitionError,
    StudyDefinition,
    StudyDefinitionInvalid,
    definition_checksum,
    study_definition_validate,
)
from surveys.models import Activity, Questionnaire, QuestionnaireVersion, ServiceArea, Study

BUILTIN_STUDY_PATH = Path(__file__).resolve().parent.parent / "studies" / "coproduction.yaml"


@dataclass
class VersionOutcome:
    questionnaire: str
    number: int
    created: bool


@dataclass
class StudyLoadResult:
    study: Study
    study_created: bool
    versions: list[VersionOutcome] = field(default_factory=list)
    study_updated: bool = False
    service_areas_changed: int = 0
    activities_created: int = 0
    activities_updated: int = 0

    @property
    def changed(self) -> bool:
        return (
            self.study_created
            or self.study_updated
            or self.service_areas_changed > 0
            or self.activities_created > 0
            or self.activities_updated > 0
            or any(v.created for v in self.versions)
        )


class StudyYamlLoader(yaml.SafeLoader):
    """YAML with YAML 1.2's plain scalars: ``yes``, ``no``, ``on`` and ``off``
    stay strings, ``18_29`` is not the number 1829 and ``2024-01-01`` is not a
    date, so codes need no quoting. Only true/false are booleans and only plain
    digits are integers. A key repeated in one mapping is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # A repeated key would silently keep only its last value: refuse it.
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_YAML11_ONLY = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:timestamp")
StudyYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML11_ONLY]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StudyYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
StudyYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)


def study_yaml_load(text: str) -> object:
    """Parse YAML text with StudyYamlLoader (a SafeLoader: no arbitrary objects)."""
    return yaml.load(text, Loader=StudyYamlLoader)  # noqa: S506 - a SafeLoader subclass


def study_file_parse(path: Path) -> object:
    """Read a study file (YAML or JSON by extension); raises StudyDefinitionInvalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyDefinitionInvalid([DefinitionError("", f"cannot read {path}: {exc}")]) from exc
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return study_yaml_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise StudyDefinitionInvalid(
            [DefinitionError("", f"not valid {path.suffix[1:].upper() or 'YAML'}: {exc}")]
        ) from exc


def study_load_file(*, path: Path) -> StudyLoadResult:
    """Validate and load a study file. Nothing is written when it is invalid."""
    return study_load(definition=study_definition_validate(study_file_parse(path)))


@transaction.atomic
def study_load(*, definition: StudyDefinition) -> StudyLoadResult:
    """Create or update a study from a validated definition.

    Idempotent: loading the same definition again changes nothing. A
    questionnaire whose normalised definition differs from its latest
    version gets a new version; earlier versions (and the waves and
    responses that use them) are never touched.
    """
    study, created = Study.objects.select_for_update().get_or_create(
        code=definition.code,
        defaults={
            "name": definition.name,
            "description": definition.description,
            "languages": definition.languages,
        },
    )
    study_updated = False
    if not created:
        study_updated = _update_fields(
            study,
            name=definition.name,
            description=definition.description,
            languages=definition.languages,
        )
    result = StudyLoadResult(study=study, study_created=created, study_updated=study_updated)

    areas: dict[str, ServiceArea] = {}
    for row in definition.service_areas:
        area, area_created = ServiceArea.objects.get_or_create(
            study=study, code=row["code"], defaults={"name": row["name"], "position": row["position"]}
        )
        if area_created or _update_fields(area, name=row["name"], position=row["position"]):
            result.service_areas_changed += 1
        areas[row["code"]] = area

    for row in definition.activities:
        values = {
            "service_area": areas[row["service_area"]],
            "kind": row["kind"],
            "phase": row["phase"],
            "name": row["name"],
            "position": row["position"],
        }
        activity, activity_created = Activity.objects.get_or_create(
            study=study, code=row["code"], defaults=values
        )
        if activity_created:
            result.activities_created += 1
        elif _update_fields(activity, **values):
            result.activities_updated += 1

    for definition_json in definition.questionnaires:
        result.versions.append(_questionnaire_load(study, definition_json))
    return result


def _questionnaire_load(study: Study, definition: dict[str, Any]) -> VersionOutcome:
    questionnaire, _ = Questionnaire.objects.get_or_create(
        study=study, code=definition["code"], defaults={"audience": definition["audience"]}
    )
    _update_fields(questionnaire, audience=definition["audience"])
    # Serialise version numbering per questionnaire: a concurrent load of the
    # same file waits here and then finds the version already there.
    Questionnaire.objects.select_for_update().filter(pk=questionnaire.pk).get()
    checksum = definition_checksum(definition)
    latest = questionnaire.versions.order_by("-number").first()
    if latest is not None and latest.checksum == checksum:
        return VersionOutcome(questionnaire.code, latest.number, created=False)
    version = QuestionnaireVersion.objects.create(
        questionnaire=questionnaire,
        number=(latest.number + 1) if latest else 1,
        definition=definition,
        checksum=checksum,
    )
    return VersionOutcome(questionnaire.code, version.number, created=True)


def _update_fields(instance: Any, **values: Any) -> bool:
    """Set changed fields and save only those; whether anything changed."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed:
        instance.save(update_fields=[*changed, "updated_at"])
    return bool(changed)
