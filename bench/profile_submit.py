"""Profile: where one API submission spends its time (cProfile, in process).

Posts --count complete citizen responses through Django's test client to the
newest bench wave (create one with bench/submit.py first) and prints the mean
time per submission and the functions with the most cumulative time.

    DATABASE_URL=... REDIS_URL=... CELERY_BROKER_URL=... .venv/bin/python bench/profile_submit.py
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import django_setup


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="cumulative or tottime")
    args = parser.parse_args()
    django_setup()
    from django.test import Client
    from rest_framework.settings import api_settings

    from surveys.models import Wave
    from surveys.synthetic import answers_generate

    wave = Wave.objects.filter(code__startswith="bench-").order_by("-created_at").first()
    if wave is None:
        raise SystemExit("No bench wave: run bench/submit.py once first.")
    locality = wave.wave_localities.values_list("locality__code", flat=True).first()
    rng = random.Random(1)
    bodies = [
        json.dumps(
            {
                "submission_id": str(uuid.uuid4()),
                "audience": "citizen",
                "locality": locality,
                "language": "en",
                "answers": answers_generate(wave.citizen_version.definition, rng),
            }
        )
        for _ in range(args.count + 20)
    ]
    for scope in ("submit_anon", "submit_wave", "anon"):
        api_settings.DEFAULT_THROTTLE_RATES[scope] = "100000000/minute"
    client = Client()
    url = f"/api/v1/waves/{wave.code}/responses/"
    for body in bodies[:20]:  # warm up caches and connections
        client.post(url, body, content_type="application/json")
    started = time.perf_counter()
    for body in bodies[20:]:
        client.post(url, body, content_type="application/json")
    plain = (time.perf_counter() - started) / args.count * 1000
    profile = cProfile.Profile()
    more = [json.dumps({**json.loads(b), "submission_id": str(uuid.uuid4())}) for b in bodies[20:]]
    profile.enable()
    for body in more:
        client.post(url, body, content_type="application/json")
    profile.disable()
    print(f"{plain:.2f} ms per submission without the profiler")
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
