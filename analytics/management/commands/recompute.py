"""python manage.py recompute [--wave W] [--locality L] [--all] [--rebuild] [--processes N]"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from analytics.services import RecomputeResult, indices_rebuild, locality_recompute, wave_qvalues_update
from surveys.models import Locality, Wave
from surveys.selectors import wave_locality_pairs


def recompute_pair(pair: tuple[int, int], rebuild: bool) -> RecomputeResult:
    wave_id, locality_id = pair
    if rebuild:
        [result] = indices_rebuild(wave_id=wave_id, locality_id=locality_id, update_qvalues=False)
        return result
    return locality_recompute(wave_id=wave_id, locality_id=locality_id)


def _recompute_in_child(pair: tuple[int, int], rebuild: bool) -> RecomputeResult:
    try:
        return recompute_pair(pair, rebuild)
    finally:
        connections.close_all()


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
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="Recompute localities in this many processes (default 1).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wave, locality = options["wave"], options["locality"]
        if not (wave or locality or options["all"]):
            raise CommandError("Say what to recompute: --wave W, --locality L, or --all.")
        if options["processes"] < 1:
            raise CommandError("--processes must be at least 1.")
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
        for number, result in enumerate(
            self._results(pairs, options["rebuild"], options["processes"]), start=1
        ):
            changed += result.changed
            responses += result.responses
            if number % 50 == 0 or number == len(pairs):
                self.stdout.write(f"  {number}/{len(pairs)} localities, {responses} responses")
        for pair_wave in sorted({w for w, _ in pairs}):
            wave_qvalues_update(wave_id=pair_wave)  # once per wave, after all its localities
        what = "corrected" if options["rebuild"] else "changed"
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed {len(pairs)} (wave, locality) pairs in {time.monotonic() - started:.1f} s; "
                f"{changed} {what}."
            )
        )

    def _results(
        self, pairs: list[tuple[int, int]], rebuild: bool, processes: int
    ) -> Iterator[RecomputeResult]:
        if processes == 1:
            for pair in pairs:
                yield recompute_pair(pair, rebuild)
            return
        connections.close_all()  # children open their own connections
        with ProcessPoolExecutor(processes) as pool:
            yield from pool.map(_recompute_in_child, pairs, [rebuild] * len(pairs), chunksize=8)
