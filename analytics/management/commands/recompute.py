"""python manage.py recompute [--wave W] [--locality L] [--all]"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.services import indices_rebuild, locality_recompute
from surveys.models import Locality, Wave
from surveys.selectors import wave_locality_pairs


class Command(BaseCommand):
    help = "Recompute engagement indices now, synchronously (from scratch; idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wave", help="Wave code.")
        parser.add_argument("--locality", help="Locality code (with or without --wave).")
        parser.add_argument("--all", action="store_true", help="Every wave and locality.")
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Recompute even where figures are fresh, and report any figure that had to change.",
        )

    def handle(
        self, *args: Any, wave: str | None, locality: str | None, all: bool, rebuild: bool, **options: Any
    ) -> None:
        if not (wave or locality or all):
            raise CommandError("Say what to recompute: --wave W, --locality L, or --all.")
        wave_id = locality_id = None
        if wave:
            found = Wave.objects.filter(code=wave).first()
            if found is None:
                raise CommandError(f"Unknown wave '{wave}'.")
            wave_id = found.pk
        if locality:
            place = Locality.objects.filter(code=locality).first()
            if place is None:
                raise CommandError(f"Unknown locality '{locality}'.")
            locality_id = place.pk
        pairs = wave_locality_pairs(wave_id, locality_id)
        if not pairs:
            raise CommandError("Nothing in scope: no wave has that locality.")
        started = time.monotonic()
        changed = responses = 0
        for number, (pair_wave, pair_locality) in enumerate(pairs, start=1):
            if rebuild:
                [result] = indices_rebuild(wave_id=pair_wave, locality_id=pair_locality)
            else:
                result = locality_recompute(wave_id=pair_wave, locality_id=pair_locality)
            changed += result.changed
            responses += result.responses
            if number % 50 == 0 or number == len(pairs):
                self.stdout.write(f"  {number}/{len(pairs)} localities, {responses} responses")
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed {len(pairs)} (wave, locality) pairs in {time.monotonic() - started:.1f} s; "
                f"{changed} changed."
            )
        )
