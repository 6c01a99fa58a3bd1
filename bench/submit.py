"""Benchmark: complete citizen responses submitted over HTTP.

Starts gunicorn (production settings) on PostgreSQL with the real Redis broker
and cache, then
1. API: wrk (C code, two threads: it does not eat the two cores a Python load
   generator would) posts complete, valid citizen responses, each with a fresh
   submission_id, for --duration seconds at --connections concurrent clients;
2. HTML: --html-clients Python threads complete the whole web journey (first
   GET, locality, every page GET and POST, review, submit, receipt) for
   --html-duration seconds.
Prints responses/s and latency percentiles, and checks that the database holds
exactly the responses the server acknowledged.

Needs DATABASE_URL (PostgreSQL), REDIS_URL, CELERY_BROKER_URL and wrk
(apt-get install wrk). Anonymous throttling stays on, with rates raised so the
benchmark measures the server rather than the limiter.

    .venv/bin/python bench/submit.py --duration 20 --connections 16
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    ROOT,
    Server,
    cpu_by_program,
    cpu_delta,
    django_setup,
    prepare,
    require_services,
    server_cpu_ms,
)


def bodies(wave_code: str, localities: list[str], count: int) -> list[str]:
    """Valid citizen response bodies with a SUBMISSION_ID placeholder."""
    import json

    from surveys.selectors import wave_get
    from surveys.synthetic import answers_generate

    wave = wave_get(wave_code)
    assert wave is not None
    rng = random.Random(1)
    out = []
    for i in range(count):
        body = {
            "submission_id": "SUBMISSION_ID",
            "audience": "citizen",
            "locality": localities[i % len(localities)],
            "language": rng.choice(["en", "fr", "de", "da", "cs"]),
            "answers": answers_generate(wave.citizen_version.definition, rng),
        }
        out.append(json.dumps(body, ensure_ascii=False))
    return out


def response_count(wave_code: str) -> int:
    from surveys.models import Response

    return Response.objects.filter(wave__code=wave_code).count()


def run_wrk(
    port: int, path: str, bodies_file: str, duration: int, connections: int, get_cookie: str | None = None
) -> dict[str, int]:
    """wrk posting the bodies to ``path`` (``created`` counts the 201s); with
    ``get_cookie``, fetching ``path`` with that Cookie header (``created``
    counts the 200s)."""
    env = {**os.environ, "BENCH_BODIES": bodies_file, "BENCH_PATH": path}
    if get_cookie is not None:
        env.update(BENCH_METHOD="GET", BENCH_COOKIE=get_cookie, BENCH_OK="200")
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "submit.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    return {k: int(v) for k, v in (pair.split("=") for pair in line.split()[1:])}


# --- the HTML journey ----------------------------------------------------------------


class Browser:
    """A minimal browser: one keep-alive connection, cookies, CSRF tokens."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.latencies: list[float] = []

    def request(self, method: str, path: str, form: dict[str, Any] | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        self.latencies.append(time.perf_counter() - started)
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers.get("Location", ""), text


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REQUESTS_PER_JOURNEY = 17  # first GET, start POST, six pages GET and POST, review GET and POST, receipt


def complete_journey(
    browser: Browser, wave: str, locality: str, pages: list[tuple[int, dict[str, Any]]]
) -> str:
    status, _, html = browser.request("GET", f"/w/{wave}/")
    assert status == 200, status
    token = CSRF.search(html).group(1)  # type: ignore[union-attr]
    status, location, _ = browser.request(
        "POST", f"/w/{wave}/", {"locality": locality, "csrfmiddlewaretoken": token}
    )
    assert status == 302 and location.endswith("/p/1/"), (status, location)
    for number, form in pages:
        status, _, html = browser.request("GET", f"/w/{wave}/p/{number}/")
        assert status == 200, status
        token = CSRF.search(html).group(1)  # type: ignore[union-attr]
        status, location, html = browser.request(
            "POST", f"/w/{wave}/p/{number}/", {**form, "action": "next", "csrfmiddlewaretoken": token}
        )
        assert status == 302, (number, status, html[:500])
    status, _, html = browser.request("GET", f"/w/{wave}/review/")
    token = CSRF.search(html).group(1)  # type: ignore[union-attr]
    status, location, _ = browser.request("POST", f"/w/{wave}/review/", {"csrfmiddlewaretoken": token})
    assert status == 302 and location.endswith("/done/"), (status, location)
    status, _, html = browser.request("GET", f"/w/{wave}/done/")
    receipt = re.search(r'class="receipt" id="receipt">([0-9A-Z-]+)<', html)
    assert status == 200 and receipt, status
    # A new respondent on the same device starts afresh.
    browser.cookies.pop("sessionid", None)
    return receipt.group(1)


def journeys(wave_code: str, localities: list[str], count: int) -> list[list[tuple[int, dict[str, Any]]]]:
    """Form data, page by page, for ``count`` different respondents."""
    from surveys.selectors import wave_get
    from surveys.synthetic import answers_generate
    from surveys.views.journey import visible_pages

    wave = wave_get(wave_code)
    assert wave is not None
    definition = wave.citizen_version.definition
    rng = random.Random(2)
    out = []
    for _ in range(count):
        answers = answers_generate(definition, rng)
        pages = []
        for number in visible_pages(definition, answers):
            form: dict[str, Any] = {}
            for item in definition["sections"][number - 1]["items"]:
                value = answers.get(item["code"])
                if value is not None:
                    form[item["code"]] = value if isinstance(value, list) else str(value)
            pages.append((number, form))
        out.append(pages)
    return out


def run_html(port: int, wave: str, localities: list[str], clients: int, duration: float) -> dict[str, Any]:
    plans = journeys(wave, localities, 200)
    # (seconds the journey took, whether it finished by the deadline): the
    # journeys begun before it finish after it, at falling concurrency.
    completed: list[tuple[float, bool]] = []
    browsers: list[Browser] = []
    failures: list[str] = []
    stop_at = time.monotonic() + duration

    def client(n: int) -> None:
        browser = Browser(port)
        browsers.append(browser)
        i = n
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                complete_journey(browser, wave, localities[i % len(localities)], plans[i % len(plans)])
            except Exception as exc:  # noqa: BLE001 - counted and reported
                failures.append(repr(exc))
                browser = Browser(port)
                browsers.append(browser)
                continue
            completed.append((time.perf_counter() - started, time.monotonic() <= stop_at))
            i += clients

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies = sorted(x for b in browsers for x in b.latencies)
    return {
        "completions": len(completed),
        "completions_by_deadline": sum(in_time for _, in_time in completed),
        "elapsed": elapsed,
        "failures": failures,
        "requests": len(latencies),
        "journey_p50": statistics.median(took for took, _ in completed) if completed else 0.0,
        "request_p50": latencies[len(latencies) // 2] if latencies else 0.0,
        "request_p95": latencies[int(len(latencies) * 0.95)] if latencies else 0.0,
        "request_p99": latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=20, help="API phase, seconds")
    parser.add_argument("--connections", type=int, default=16, help="concurrent API clients (C)")
    parser.add_argument("--html-clients", type=int, default=8)
    parser.add_argument("--html-duration", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--localities", type=int, default=20)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--skip-api", action="store_true", help="only the HTML journey")
    parser.add_argument("--skip-html", action="store_true", help="only the API")
    parser.add_argument(
        "--yardstick",
        action="store_true",
        help="first measure the issue's bare view (bench/bare.py) and read the results against it",
    )
    args = parser.parse_args()

    require_services()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk).")

    django_setup()
    wave, localities = prepare(args.localities)
    bare = None
    if args.yardstick:
        from bare import measure_bare

        bare = measure_bare(args, wave, localities)
    server = Server(args.port, args.workers, args.threads)
    try:
        ok, api, html = True, None, None
        if not args.skip_api:
            api = api_phase(args, wave, localities)
            ok = api is not None and ok
        if not args.skip_html:
            html = html_phase(args, wave, localities)
            ok = html is not None and ok
    finally:
        server.stop()
    if bare:
        print_against_bare(bare, api, html)
    if not ok:
        raise SystemExit(1)


def print_against_bare(
    bare: tuple[float, float], api: tuple[float, float] | None, html: tuple[float, float] | None
) -> None:
    """The results as fractions of the bare view, beside the issue's targets as
    the same fractions; and server CPU per request as a multiple of the bare
    view's, which moves less than rates do on a VM whose speed varies (the
    bare view does not keep both cores busy, so it is a trend to follow, not
    a second form of the target)."""
    from bare import ISSUE_API_TARGET, ISSUE_BARE_RPS, ISSUE_HTML_TARGET

    rate, cpu_ms = bare
    print(
        f"AGAINST THE BARE VIEW ({rate:.0f} requests/s and {cpu_ms:.2f} ms of server CPU each on this machine now)"
    )
    if api:
        target = ISSUE_API_TARGET / ISSUE_BARE_RPS
        print(
            f"     API   {api[0] / rate:.2f} of its rate, target {target:.2f}; "
            f"{api[1] / cpu_ms:.2f} times its server CPU per request"
        )
    if html:
        target = ISSUE_HTML_TARGET * REQUESTS_PER_JOURNEY / ISSUE_BARE_RPS
        print(
            f"     HTML  {html[0] * REQUESTS_PER_JOURNEY / rate:.2f} of its rate in requests "
            f"({REQUESTS_PER_JOURNEY} per completion), target {target:.2f}; "
            f"{html[1] / cpu_ms:.2f} times its server CPU per request"
        )


def api_phase(args: argparse.Namespace, wave: str, localities: list[str]) -> tuple[float, float] | None:
    """Responses/s and server CPU ms per request, or None when the stored responses do not match."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.write("\n".join(bodies(wave, localities, 500)) + "\n")
    path = f"/api/v1/waves/{wave}/responses/"
    before = response_count(wave)
    warm = run_wrk(args.port, path, handle.name, 3, args.connections)
    cpu_before = cpu_by_program()
    api = run_wrk(args.port, path, handle.name, args.duration, args.connections)
    cpu_after = cpu_by_program()
    time.sleep(2)  # let the requests wrk abandoned at its deadline finish
    stored = response_count(wave) - before
    acknowledged = warm["created"] + api["created"]
    seconds = api["duration_us"] / 1e6
    print(f"API  C={args.connections} gunicorn {args.workers}x{args.threads} gthread, wrk -t2")
    print(f"     responses/s      {api['created'] / seconds:8.1f}  ({api['created']} in {seconds:.1f} s)")
    print(
        f"     latency ms       p50 {api['p50_us'] / 1000:.1f}  p95 {api['p95_us'] / 1000:.1f}"
        f"  p99 {api['p99_us'] / 1000:.1f}"
    )
    print(f"     non-201 replies  {api['other'] + warm['other']}  socket errors {api['errors']}")
    print(f"     CPU in the run   {cpu_delta(cpu_before, cpu_after)}")
    cpu_ms = server_cpu_ms(cpu_before, cpu_after, api["created"] + api["other"])
    print(f"     server CPU       {cpu_ms:.2f} ms per request (gunicorn, PostgreSQL, Redis)")
    # wrk stops at its deadline without waiting for the replies in flight; those
    # responses are stored but were never acknowledged to wrk: at most one per connection and run (warm-up and measured).
    in_flight = stored - acknowledged
    ok = 0 <= in_flight <= 2 * args.connections
    print(
        f"     stored {stored} = acknowledged {acknowledged} + {in_flight} in flight at wrk's deadline"
        f"  {'OK' if ok else 'MISMATCH'}"
    )
    return (api["created"] / seconds, cpu_ms) if ok else None


def html_phase(args: argparse.Namespace, wave: str, localities: list[str]) -> tuple[float, float] | None:
    """Completions/s and server CPU ms per request, or None when the stored responses do not match."""
    before = response_count(wave)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    programs_before = cpu_by_program()
    html = run_html(args.port, wave, localities, args.html_clients, args.html_duration)
    programs_after = cpu_by_program()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    stored_html = response_count(wave) - before
    print(f"HTML {args.html_clients} Python client threads, {html['requests']} requests")
    print(
        f"     completions/s    {html['completions'] / html['elapsed']:8.1f}"
        f"  ({html['completions']} in {html['elapsed']:.1f} s; median journey {html['journey_p50'] * 1000:.0f} ms)"
    )
    print(
        f"     request ms       p50 {html['request_p50'] * 1000:.1f}  p95 {html['request_p95'] * 1000:.1f}"
        f"  p99 {html['request_p99'] * 1000:.1f}"
    )
    print(f"     load generator   {client_cpu:.1f} CPU s ({client_cpu / html['elapsed']:.2f} of one core)")
    print(f"     CPU in the run   {cpu_delta(programs_before, programs_after)}")
    cpu_ms = server_cpu_ms(programs_before, programs_after, html["requests"])
    print(f"     server CPU       {cpu_ms:.2f} ms per request (gunicorn, PostgreSQL, Redis)")
    ok = stored_html == html["completions"]
    print(
        f"     stored = completed: {stored_html} = {html['completions']}"
        f"  {'OK' if ok else 'MISMATCH'}; failures {len(html['failures'])}"
    )
    if html["failures"]:
        print("     first failure:", html["failures"][0][:300])
    return (html["completions"] / html["elapsed"], cpu_ms) if ok else None


if __name__ == "__main__":
    main()
