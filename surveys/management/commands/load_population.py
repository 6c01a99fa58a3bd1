"""python manage.py load_population FILE.csv"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.services.population import PopulationFileInvalid, population_load


class Command(BaseCommand):
    help = (
        "Load localities' adult population by age band and gender from a CSV with the columns "
        "locality,age_band,gender,population (codes as in the citizen questionnaire). Each locality "
        "in the file gets its whole table replaced; nothing is written if any line is wrong. "
        "The weighted gaps of those localities are then recomputed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            tables = population_load(text)
        except PopulationFileInvalid as invalid:
            raise CommandError(f"{file}: nothing loaded.\n" + "\n".join(invalid.errors)) from invalid
        for code, table in sorted(tables.items()):
            people = sum(sum(by_gender.values()) for by_gender in table.values())
            self.stdout.write(f"{code}: {people} people in {sum(len(g) for g in table.values())} cells")
