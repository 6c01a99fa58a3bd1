"""Benchmark: reading the gap report of a large wave.

Against a wave already computed (e.g. the one bench/rebuild.py loads: 1,000
localities), starts gunicorn on production settings and times, as a survey
manager: the gap API (activity level, one page of 100 rows), the wave's gap
table page, and the full CSV of every row. Prints medians and p95 of --runs
sequential requests each.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coprod_rebuild REDIS_URL=... CELERY_BROKER_URL=... \\
      .venv/bin/python bench/report.py --wave rebuild-1795899986
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Server, django_setup


def timed(port: int, path: str, token: str, runs: int) -> tuple[list[float], int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, size, status = [], 0, 0
    for n in range(runs + 1):  # the first request only warms caches and connections
        started = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Token {token}"})
        response = conn.getresponse()
        body = response.read()
        if n:
            times.append(time.perf_counter() - started)
        size, status = len(body), response.status
    return sorted(times), size, status


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wave", required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"Set {name} (see README).")
    # One signing key for this process and the server, so the session cookie made
    # here is valid there.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    django_setup()
    from rest_framework.authtoken.models import Token

    from analytics.models import GapRow
    from surveys.services.accounts import manager_ensure

    user = manager_ensure(username="bench-manager", password=None).user
    token = Token.objects.get_or_create(user=user)[0].key
    rows = GapRow.objects.filter(wave__code=args.wave).count()
    if not rows:
        raise SystemExit(f"Wave {args.wave} has no gap rows: run bench/rebuild.py first.")

    server = Server(args.port, workers=2, threads=2)
    try:
        # The API is called with the manager's token, the page with a session cookie.
        session = _session_cookie(args.port, user)
        cases = [
            (
                "gap API, activity level, 100 rows",
                f"/api/v1/waves/{args.wave}/gaps/?level=activity&page_size=100",
                args.runs,
            ),
            ("gap table page (activity level)", f"/dashboard/{args.wave}/gaps/", args.runs),
            ("full CSV, every row", f"/api/v1/waves/{args.wave}/gaps/?format=csv", max(args.runs // 5, 3)),
        ]
        print(f"wave {args.wave}: {rows} gap rows")
        for label, path, runs in cases:
            if path.startswith("/dashboard/"):
                times, size, status = _timed_with_cookie(args.port, path, session, runs)
            else:
                times, size, status = timed(args.port, path, token, runs)
            p95 = times[min(int(len(times) * 0.95), len(times) - 1)]
            print(
                f"{label:40} status {status}  median {statistics.median(times) * 1000:7.1f} ms"
                f"  p95 {p95 * 1000:7.1f} ms  ({size / 1024:.0f} KiB, {runs} runs)"
            )
    finally:
        server.stop()


def _session_cookie(port: int, user: object) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)  # type: ignore[attr-defined]
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()  # type: ignore[attr-defined]
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _timed_with_cookie(port: int, path: str, cookie: str, runs: int) -> tuple[list[float], int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, size, status = [], 0, 0
    for n in range(runs + 1):  # the first request only warms caches and connections
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read()
        if n:
            times.append(time.perf_counter() - started)
        size, status = len(body), response.status
    return sorted(times), size, status


if __name__ == "__main__":
    main()
