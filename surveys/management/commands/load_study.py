"""python manage.py load_study PATH | --builtin"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.definition.validate import StudyDefinitionInvalid
from surveys.services.studies import BUILTIN_STUDY_PATH, study_load_file


class Command(BaseCommand):
    help = (
        "Validate a study definition (YAML or JSON) and load it. Every error is listed "
        "with its path and nothing is written when the file is invalid. Loading the same "
        "file again changes nothing; a changed questionnaire becomes a new version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="Study file (.yaml, .yml or .json).")
        parser.add_argument("--builtin", action="store_true", help="Load the built-in co-production study.")

    def handle(self, *args: Any, path: str | None, builtin: bool, **options: Any) -> None:
        if bool(path) == builtin:
            raise CommandError("Give either a PATH or --builtin.")
        source = BUILTIN_STUDY_PATH if builtin else Path(path or "")
        if not source.is_file():
            raise CommandError(f"No such file: {source}")
        try:
            result = study_load_file(path=source)
        except StudyDefinitionInvalid as exc:
            lines = "\n".join(f"  {error}" for error in exc.errors)
            raise CommandError(
                f"{source} is not a valid study definition ({len(exc.errors)} error(s)); "
                f"nothing was loaded:\n{lines}"
            ) from exc
        study = result.study
        verb = "created" if result.study_created else "loaded"
        self.stdout.write(f"Study '{study.code}' {verb} from {source}.")
        if result.study_updated:
            self.stdout.write("  study name, description or languages updated")
        if result.service_areas_changed:
            self.stdout.write(f"  service areas: {result.service_areas_changed} created or updated")
        if result.activities_created or result.activities_updated:
            self.stdout.write(
                f"  activities: {result.activities_created} created, {result.activities_updated} updated"
            )
        for outcome in result.versions:
            state = "new version" if outcome.created else "unchanged"
            self.stdout.write(f"  questionnaire '{outcome.questionnaire}': v{outcome.number} ({state})")
        if not result.changed:
            self.stdout.write(self.style.SUCCESS("Nothing changed."))
        else:
            self.stdout.write(self.style.SUCCESS("Done."))
