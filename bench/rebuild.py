"""Benchmark: full rebuild of a large wave's engagement indices.

Loads a wave of --citizens citizen and --officials-per-locality official
responses across --localities localities through the validating bulk path
(surveys.services.bulk, COPY into PostgreSQL; --load-processes in parallel),
then runs the full rebuild (`manage.py recompute --wave W --rebuild
--processes N`: the code path of the nightly analytics.rebuild tasks, one
(wave, locality) at a time per process) and prints its wall time and peak
memory (max RSS of the largest process).

    .venv/bin/python bench/rebuild.py --citizens 1000000 --localities 1000

Needs DATABASE_URL (PostgreSQL). Reuse an already loaded wave with --wave.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from surveys.synthetic import population_scaled  # no models: importable before Django is set up

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coprod.settings.local")

# An adult population by age band and gender (the weighted variant's target),
# in people: the demo's table.
POPULATION = population_scaled(100)


def _setup() -> None:
    import django

    django.setup()


def prepare(localities: int, officials: int) -> str:
    from django.core.management import call_command

    from surveys.selectors import study_get
    from surveys.services.accounts import official_ensure
    from surveys.services.waves import localities_ensure, wave_ensure, wave_open

    call_command("migrate", verbosity=0)
    call_command("load_study", builtin=True, verbosity=0)
    study = study_get("coproduction")
    assert study is not None
    places = localities_ensure(codes=[f"rb-{i:04d}" for i in range(localities)]).localities
    code = f"rebuild-{int(time.time())}"
    wave_open(wave=wave_ensure(code=code, study=study, localities=places).wave)
    for n in range(officials):
        official_ensure(username=f"rb-official-{n}", password=None, localities=places)
    return code


def load_part(wave_code: str, part: int, parts: int, citizens: int, localities: int, officials: int) -> int:
    """Load this process's share of the responses; returns how many."""
    _setup()
    from surveys.signals import response_submitted

    # The rebuild recomputes every locality anyway: without a broker the load's
    # announcements would run a thousand recomputes in process after each chunk.
    response_submitted.disconnect(dispatch_uid="analytics.recompute")
    from django.contrib.auth.models import User

    from surveys.selectors import wave_get
    from surveys.services.bulk import BulkRow, responses_bulk_load
    from surveys.synthetic import answers_generate

    wave = wave_get(wave_code)
    assert wave is not None
    citizen_def = wave.citizen_version.definition
    official_def = wave.official_version.definition
    rng = random.Random(part)
    codes = [f"rb-{i:04d}" for i in range(localities)]
    officials_ids = list(
        User.objects.filter(username__startswith="rb-official-").values_list("pk", flat=True)
    )
    loaded = 0
    chunk = 50_000
    mine = range(part, citizens, parts)
    for start in range(0, len(mine), chunk):
        indexes = mine[start : start + chunk]
        rows = (
            BulkRow(
                locality_code=codes[i % localities],
                language="en",
                answers=answers_generate(
                    citizen_def, rng, engaged_rate=lambda a, i=i: 0.3 + (i % localities) / localities / 2
                ),
            )
            for i in indexes
        )
        loaded += responses_bulk_load(wave=wave, rows=rows).loaded
    official_rows = [
        BulkRow(
            locality_code=codes[loc],
            language="en",
            answers=answers_generate(official_def, rng, estimate=lambda a: rng.uniform(5, 60)),
            audience="official",
            respondent_id=officials_ids[n],
        )
        for loc in range(part, localities, parts)
        for n in range(min(officials, len(officials_ids)))
    ]
    loaded += responses_bulk_load(wave=wave, rows=official_rows).loaded
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--citizens", type=int, default=1_000_000)
    parser.add_argument("--localities", type=int, default=1000)
    parser.add_argument("--officials-per-locality", type=int, default=10)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--wave", help="Rebuild an already loaded wave instead of loading one.")
    parser.add_argument(
        "--processes", type=int, default=2, help="rebuild processes (the machine has 2 cores)"
    )
    parser.add_argument(
        "--population",
        choices=["keep", "all", "none"],
        default="keep",
        help="give every locality of the wave a population table (all: the rebuild then computes "
        "the weighted variant everywhere), remove them (none), or leave them as they are",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to PostgreSQL.")

    _setup()
    from django.db import connection

    wave = args.wave
    if wave is None:
        wave = prepare(args.localities, args.officials_per_locality)
        connection.close()
        started = time.monotonic()
        with ProcessPoolExecutor(args.load_processes) as pool:
            futures = [
                pool.submit(
                    load_part,
                    wave,
                    p,
                    args.load_processes,
                    args.citizens,
                    args.localities,
                    args.officials_per_locality,
                )
                for p in range(args.load_processes)
            ]
            loaded = sum(f.result() for f in futures)
        seconds = time.monotonic() - started
        print(f"load     {loaded} responses (validated, COPY) in {seconds:.1f} s = {loaded / seconds:.0f}/s")
    if args.population != "keep":
        from surveys.models import Locality

        table = POPULATION if args.population == "all" else None
        Locality.objects.filter(wave_localities__wave__code=wave).update(population_margins=table)
        print(f"population tables: {args.population}")
    # Fresh planner statistics, as docs/operations.md advises after a bulk load.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    # The rebuild, as the nightly task runs it, in a process of its own whose
    # peak memory a small launcher reports (the loading processes must not count).
    launcher = (
        "import resource, subprocess, sys;"
        f"subprocess.run([sys.executable, 'manage.py', 'recompute', '--wave', {wave!r}, '--rebuild', '--processes', {str(args.processes)!r}], check=True);"
        "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", launcher], cwd=ROOT, capture_output=True, text=True, check=True
    )
    seconds = time.monotonic() - started
    lines = result.stdout.strip().splitlines()
    peak_mb = int(next(x for x in lines if x.startswith("PEAK_KB")).split()[1]) / 1024
    print(next(x for x in lines if x.startswith("Recomputed")))
    print(f"rebuild  wave {wave}: {seconds:.1f} s wall, peak memory (max RSS of a child) {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
