"""Localities' adult population by age band and gender: the figures the
weighted gaps are weighted to (docs/methodology.md, "Weighted figures").

A population file is a CSV with the columns ``locality,age_band,gender,population``;
the band and gender codes are the choice codes of the citizen questionnaire's
``age_band`` and ``gender`` items. Loading replaces each named locality's whole
table at once, or nothing when any line is wrong.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from django.db import transaction

from surveys.models import Audience, Locality, QuestionnaireVersion
from surveys.signals import population_changed

COLUMNS = ("locality", "age_band", "gender", "population")
AGE_ITEM, GENDER_ITEM = "age_band", "gender"


class PopulationFileInvalid(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def weighting_codes() -> tuple[set[str], set[str]]:
    """The age band and gender codes any citizen questionnaire offers."""
    bands: set[str] = set()
    genders: set[str] = set()
    for definition in QuestionnaireVersion.objects.filter(
        questionnaire__audience=Audience.CITIZEN
    ).values_list("definition", flat=True):
        for section in definition.get("sections", []):
            for item in section.get("items", []):
                target = {AGE_ITEM: bands, GENDER_ITEM: genders}.get(item.get("code"))
                if target is not None and item.get("choices") in definition.get("choice_lists", {}):
                    target.update(c["code"] for c in definition["choice_lists"][item["choices"]])
    return bands, genders


def population_parse(text: str) -> dict[str, dict[str, dict[str, int]]]:
    """{locality code: {age band: {gender: people}}} from a population CSV, or
    ``PopulationFileInvalid`` listing every wrong line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise PopulationFileInvalid([f"line 1: expected the columns {','.join(COLUMNS)}"])
    bands, genders = weighting_codes()
    if not bands or not genders:
        raise PopulationFileInvalid(["no citizen questionnaire asks an age_band and a gender item"])
    localities = set(Locality.objects.values_list("code", flat=True))
    tables: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    errors = []
    for line, row in enumerate(reader, start=2):
        code, band, gender, people = (str(row.get(c) or "").strip() for c in COLUMNS)
        problems = []
        if code not in localities:
            problems.append(f"unknown locality {code!r}")
        if band not in bands:
            problems.append(f"age band {band!r} is not one of {', '.join(sorted(bands))}")
        if gender not in genders:
            problems.append(f"gender {gender!r} is not one of {', '.join(sorted(genders))}")
        if not people.isdigit():
            problems.append(f"population {people!r} is not a whole number of people")
        elif gender in tables[code][band]:
            problems.append(f"{code} {band} {gender} appears twice")
        if problems:
            errors.append(f"line {line}: " + "; ".join(problems))
        else:
            tables[code][band][gender] = int(people)
    if not errors and not tables:
        errors.append("the file has no population figures")
    if errors:
        raise PopulationFileInvalid(errors)
    return {code: {band: dict(g) for band, g in table.items()} for code, table in tables.items()}


def population_set(*, locality: Locality, margins: dict[str, Any] | None) -> None:
    """Replace (or with None remove) one locality's population table; its
    weighted figures are recomputed after the transaction commits."""
    locality.population_margins = margins
    locality.full_clean()
    locality.save(update_fields=["population_margins", "updated_at"])
    population_changed_announce(locality)


def population_changed_announce(locality: Locality) -> None:
    """Tell analytics, once the transaction commits, that the locality's
    population figures changed (the admin's form saves them itself)."""
    transaction.on_commit(lambda: population_changed.send(sender=Locality, locality_id=locality.pk))


@transaction.atomic
def population_load(text: str) -> dict[str, dict[str, dict[str, int]]]:
    """Load a population CSV: every locality in it gets its new table, or none does."""
    tables = population_parse(text)
    for locality in Locality.objects.filter(code__in=tables).select_for_update():
        population_set(locality=locality, margins=tables[locality.code])
    return tables
