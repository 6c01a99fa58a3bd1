"""python manage.py create_wave CODE --study STUDY --localities A,B,C [--open] ..."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from django.db import transaction

from surveys.errors import InvalidWave, InvalidWaveTransition
from surveys.selectors import study_get
from surveys.services.waves import localities_ensure, wave_ensure, wave_open


def _codes(value: str) -> list[str]:
    codes = [c.strip() for c in value.split(",") if c.strip()]
    if not codes:
        raise ValueError("empty")
    return codes


class Command(BaseCommand):
    help = (
        "Create a wave of a study with its localities (creating missing localities by code). "
        "Safe to re-run: an existing wave gains missing localities and the given thresholds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="Wave code, e.g. 2026-spring.")
        parser.add_argument("--study", required=True, help="Study code, e.g. coproduction.")
        parser.add_argument(
            "--localities", required=True, type=_codes, help="Comma-separated locality codes."
        )
        parser.add_argument("--name", help="Display name (default: the code).")
        parser.add_argument("--open", action="store_true", help="Open the wave for responses now.")
        parser.add_argument("--min-citizens", type=int, help="Citizen suppression threshold (default 10).")
        parser.add_argument("--min-officials", type=int, help="Official suppression threshold (default 3).")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["code"]
        study = study_get(options["study"])
        if study is None:
            raise CommandError(
                f"Unknown study '{options['study']}'. "
                "Load it first: manage.py load_study PATH (or --builtin)."
            )
        for locality_code in options["localities"]:
            try:
                validate_slug(locality_code)
            except ValidationError:
                raise CommandError(
                    f"Invalid locality code '{locality_code}': use letters, digits, '-' and '_'."
                ) from None
        try:
            with transaction.atomic():
                localities = localities_ensure(codes=options["localities"])
                result = wave_ensure(
                    code=code,
                    study=study,
                    name=options["name"],
                    localities=localities.localities,
                    min_citizens=options["min_citizens"],
                    min_officials=options["min_officials"],
                )
                wave = result.wave
                if options["open"]:
                    wave = wave_open(wave=wave)
        except (InvalidWave, InvalidWaveTransition) as exc:
            details = getattr(exc, "errors", None)
            message = "; ".join(f"{k}: {' '.join(v)}" for k, v in details.items()) if details else str(exc)
            raise CommandError(f"Cannot create wave '{code}': {message}") from exc

        if localities.created:
            self.stdout.write(f"Localities created: {', '.join(localities.created)}")
        if result.created:
            self.stdout.write(
                f"Wave '{wave.code}' created for study '{study.code}' "
                f"(citizen questionnaire v{wave.citizen_version.number}, "
                f"official questionnaire v{wave.official_version.number})."
            )
        else:
            self.stdout.write(f"Wave '{wave.code}' already exists.")
        if result.localities_added:
            self.stdout.write(f"  localities added: {', '.join(result.localities_added)}")
        if result.thresholds_changed:
            self.stdout.write("  settings updated")
        self.stdout.write(
            f"  status: {wave.status}; thresholds: {wave.min_citizens} citizens, "
            f"{wave.min_officials} officials"
        )
