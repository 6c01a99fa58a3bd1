"""python manage.py create_official USERNAME --password P --locality A [--locality B] [--service-area S]"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.models import Locality, ServiceArea
from surveys.services.accounts import official_ensure


class Command(BaseCommand):
    help = (
        "Create an official bound to one or more localities (and optionally service areas). "
        "Safe to re-run: adds bindings, resets the password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--locality", action="append", required=True, help="Locality code (repeatable).")
        parser.add_argument(
            "--service-area", action="append", default=[], help="Service area code (repeatable)."
        )

    def handle(self, *args: Any, username: str, password: str, **options: Any) -> None:
        codes: list[str] = options["locality"]
        localities = list(Locality.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {loc.code for loc in localities})
        if missing:
            raise CommandError(f"Unknown localit{'y' if len(missing) == 1 else 'ies'}: {', '.join(missing)}")
        area_codes: list[str] = options["service_area"]
        areas = list(ServiceArea.objects.filter(code__in=area_codes))
        missing_areas = sorted(set(area_codes) - {a.code for a in areas})
        if missing_areas:
            raise CommandError(f"Unknown service area(s): {', '.join(missing_areas)}")
        try:
            result = official_ensure(
                username=username, password=password, localities=localities, service_areas=areas
            )
        except ValidationError as exc:
            raise CommandError(f"Password rejected: {' '.join(exc.messages)}") from exc
        verb = "created" if result.created else "updated"
        self.stdout.write(self.style.SUCCESS(f"Official '{username}' {verb}."))
        if result.localities_added:
            self.stdout.write(f"  localities added: {', '.join(result.localities_added)}")
        if result.service_areas_added:
            self.stdout.write(f"  service areas added: {', '.join(result.service_areas_added)}")
