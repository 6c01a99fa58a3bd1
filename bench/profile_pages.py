"""Profile: where the citizens' web journey spends its time (in process).

Walks --journeys complete journeys (first GET to receipt, 17 requests each)
through Django's test client against the newest bench wave (create one with
bench/submit.py first), reusing one client as gunicorn reuses its handler,
and prints the median time per request type; with --profile, the functions
with the most cumulative time over a second round.

    DJANGO_SETTINGS_MODULE=coprod.settings.production SECRET_KEY=... ALLOWED_HOSTS=testserver \\
    SECURE_SSL_REDIRECT=0 THROTTLE_WEB_START=10000000/minute THROTTLE_SUBMIT_ANON=10000000/minute \\
    DATABASE_URL=... REDIS_URL=... CELERY_BROKER_URL=... .venv/bin/python bench/profile_pages.py
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import django_setup

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--journeys", type=int, default=40)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    django_setup()
    from django.test import Client
    from submit import journeys

    from surveys.models import Wave
    from surveys.selectors import wave_localities

    wave = Wave.objects.filter(code__startswith="bench-").order_by("-created_at").first()
    if wave is None:
        raise SystemExit("No bench wave: run bench/submit.py once first.")
    localities = [loc.code for loc in wave_localities(wave)]
    plans = journeys(wave.code, localities, 50)
    client = Client(enforce_csrf_checks=True)
    times: dict[str, list[float]] = defaultdict(list)

    def timed(name: str, request: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        response = request()
        times[name].append(time.perf_counter() - started)
        return response

    def post(path: str, data: dict[str, Any]) -> Any:
        # As a browser sends a form (the test client's default is multipart).
        return client.post(
            path, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
        )

    def journey(n: int) -> None:
        base = f"/w/{wave.code}"
        client.cookies.clear()  # a new respondent
        token = CSRF.search(timed("start GET", lambda: client.get(f"{base}/")).content.decode()).group(1)  # type: ignore[union-attr]
        form = {"locality": localities[n % len(localities)], "csrfmiddlewaretoken": token}
        timed("start POST", lambda: post(f"{base}/", form))
        for number, answers in plans[n % len(plans)]:
            page = timed("page GET", lambda number=number: client.get(f"{base}/p/{number}/"))
            token = CSRF.search(page.content.decode()).group(1)  # type: ignore[union-attr]
            data = {**answers, "action": "next", "csrfmiddlewaretoken": token}
            sent = timed("page POST", lambda number=number, data=data: post(f"{base}/p/{number}/", data))
            assert sent.status_code == 302, sent.status_code
        token = CSRF.search(
            timed("review GET", lambda: client.get(f"{base}/review/")).content.decode()
        ).group(1)  # type: ignore[union-attr]
        sent = timed("review POST", lambda: post(f"{base}/review/", {"csrfmiddlewaretoken": token}))
        assert sent.status_code == 302, sent.status_code
        timed("done GET", lambda: client.get(f"{base}/done/"))

    for n in range(5):  # warm up caches and connections
        journey(n)
    times.clear()
    started = time.perf_counter()
    for n in range(args.journeys):
        journey(n)
    elapsed = time.perf_counter() - started
    requests = sum(len(v) for v in times.values())
    print(
        f"{elapsed / args.journeys * 1000:.1f} ms per journey, {elapsed / requests * 1000:.2f} ms per request"
    )
    for name, values in times.items():
        print(f"  {name:12} median {statistics.median(values) * 1000:6.2f} ms  ({len(values)} requests)")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for n in range(args.journeys):
            journey(n)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
