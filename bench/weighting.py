"""How much the weighted variant adds to one locality's recompute.

Times ``locality_recompute`` (forced, median of --runs) for the busiest
locality of the bench waves without population figures, then with a
population table of 5 age bands x 2 genders, and prints both and the ratio.
Restores the locality's table afterwards.

    DATABASE_URL=... .venv/bin/python bench/weighting.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import django_setup
from rebuild import POPULATION


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    django_setup()
    from django.db.models import Count

    from analytics.models import GapRow, LocalityState
    from analytics.services import locality_recompute
    from surveys.models import Locality, Response, Wave

    busiest = (
        Response.objects.filter(wave__code__startswith="bench-", is_current=True)
        .values("wave_id", "locality_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if busiest is None:
        raise SystemExit("No bench wave: run bench/submit.py first.")
    wave = Wave.objects.get(pk=busiest["wave_id"])
    locality = Locality.objects.get(pk=busiest["locality_id"])
    saved = locality.population_margins

    def timed() -> float:
        times = []
        for _ in range(args.runs):
            LocalityState.objects.filter(wave=wave, locality=locality).delete()
            started = time.perf_counter()
            locality_recompute(wave_id=wave.pk, locality_id=locality.pk)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    try:
        Locality.objects.filter(pk=locality.pk).update(population_margins=None)
        plain = timed()
        Locality.objects.filter(pk=locality.pk).update(population_margins=POPULATION)
        locality_recompute(wave_id=wave.pk, locality_id=locality.pk)  # imports svy once
        weighted = timed()
        method = set(
            GapRow.objects.filter(wave=wave, locality=locality, weighted=True).values_list(
                "weighting_method", flat=True
            )
        )
    finally:
        Locality.objects.filter(pk=locality.pk).update(population_margins=saved)
        locality_recompute(wave_id=wave.pk, locality_id=locality.pk)
    print(f"locality {locality.code}: {busiest['n']} responses, weighting: {' '.join(sorted(method))}")
    print(f"recompute without population figures  {plain * 1000:7.1f} ms (median of {args.runs})")
    print(f"recompute with the weighted variant   {weighted * 1000:7.1f} ms  ({weighted / plain:.2f}x)")


if __name__ == "__main__":
    main()
