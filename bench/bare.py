"""Benchmark: the yardstick the submission targets are set against.

Issue #3 scales its targets to "a bare Django view that parses such a body and
inserts one JSON row into PostgreSQL, under gunicorn" (930 requests/s on the
machine the issue was written on). This serves exactly that view
(bench/bare_app.py) with gunicorn gthread and posts the same bodies with the
same wrk script as bench/submit.py, so the project's figures can be read as a
fraction of what this machine does with no framework work at all.

    DATABASE_URL=postgres://... .venv/bin/python bench/bare.py --duration 20 --workers 2 --threads 2
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, cpu_by_program, cpu_delta, django_setup, prepare, server_cpu_ms
from submit import bodies, run_wrk

# The issue's figures for its own machine: the bare view's rate and the two targets.
ISSUE_BARE_RPS = 930.0
ISSUE_API_TARGET = 450.0  # responses/s
ISSUE_HTML_TARGET = 40.0  # completions/s, 17 requests each


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765, help="the bare view listens on PORT + 1")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to PostgreSQL (see README).")
    django_setup()
    wave, localities = prepare(5)  # only for realistic bodies
    measure_bare(args, wave, localities)


def measure_bare(args: argparse.Namespace, wave: str, localities: list[str]) -> tuple[float, float]:
    """Serve the bare view, post ``args.duration`` seconds of responses with
    wrk, print the figures and return requests/s and server CPU ms per request."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.write("\n".join(bodies(wave, localities, 500)) + "\n")
    bare_table_create()

    port = args.port + 1
    server = bare_serve(port, args.workers, args.threads)
    try:
        path = f"/api/v1/waves/{wave}/responses/"
        run_wrk(port, path, handle.name, 3, args.connections)  # warm-up
        before = cpu_by_program()
        result = run_wrk(port, path, handle.name, args.duration, args.connections)
        after = cpu_by_program()
    finally:
        server.terminate()
        server.wait(timeout=20)
        bare_table_drop()
    seconds = result["duration_us"] / 1e6
    rate = result["created"] / seconds
    print(f"BARE C={args.connections} gunicorn {args.workers}x{args.threads} gthread, wrk -t2")
    print(f"     requests/s       {rate:8.1f}  ({result['created']} in {seconds:.1f} s)")
    print(
        f"     latency ms       p50 {result['p50_us'] / 1000:.1f}  p95 {result['p95_us'] / 1000:.1f}"
        f"  p99 {result['p99_us'] / 1000:.1f}"
    )
    print(f"     non-201 replies  {result['other']}  socket errors {result['errors']}")
    print(f"     CPU in the run   {cpu_delta(before, after)}")
    cpu_ms = server_cpu_ms(before, after, result["created"] + result["other"])
    print(f"     server CPU       {cpu_ms:.2f} ms per request (gunicorn, PostgreSQL, Redis)")
    print(
        f"     targets scaled   API {ISSUE_API_TARGET * rate / ISSUE_BARE_RPS:.0f} responses/s, "
        f"HTML {ISSUE_HTML_TARGET * rate / ISSUE_BARE_RPS:.1f} completions/s "
        f"(the issue's 450 and 40 at its bare {ISSUE_BARE_RPS:.0f}/s)"
    )
    return rate, cpu_ms


def bare_table_create() -> None:
    """The bare view's table, empty."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_response")
        cursor.execute("CREATE TABLE bench_bare_response (id bigserial PRIMARY KEY, body jsonb NOT NULL)")


def bare_table_drop() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_response")


def bare_serve(port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    """gunicorn serving the bare view on ``port``, as the project's own is served; once it listens."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, "bare_app:application", "--chdir", str(ROOT / "bench"), "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
         "--log-level", "warning", "--access-logfile", "/dev/null"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": ""},
    )  # fmt: skip
    try:
        _wait_until_listening(port)
    except BaseException:
        server.terminate()
        raise
    return server


def _wait_until_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start within 30 s")


if __name__ == "__main__":
    main()
