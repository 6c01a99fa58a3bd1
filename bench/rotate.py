"""Benchmark: servers side by side, measured in rotation.

On a shared VM the machine's speed drifts by tens of percent within minutes,
so figures taken one after another (bench/submit.py --yardstick) compare the
code on one machine with the yardstick on another. This serves the issue's
bare view (bench/bare_app.py) and the project of one or more checkouts at the
same time, each under gunicorn on its own port, and measures them in short
bursts, in a new random order every round: within a round they all meet the
same machine. No Celery worker is started (recompute tasks wait in the
broker), so the servers not being measured are idle.

For each checkout, every round has an API burst (wrk posting complete citizen
responses, as bench/submit.py does) and, with --html, an HTML burst (Python
client threads completing the whole web journey). Prints the median rate of
each, its gunicorn CPU per request, and the medians of the per-round ratios:
to the bare view (the issue's targets, as fractions of it: API 450/930 = 0.48,
HTML in requests 40 x 17/930 = 0.73) and to the first checkout. It checks
that the database holds every response the servers acknowledged.

    # this checkout against the issue's yardstick
    .venv/bin/python bench/rotate.py --html
    # the project's stack doing nothing of its own, against the same yardstick
    .venv/bin/python bench/rotate.py --html --floor
    # the code of an earlier commit against this one (A/B)
    git worktree add /tmp/before <commit> && .venv/bin/python bench/rotate.py /tmp/before .

Needs DATABASE_URL (PostgreSQL), REDIS_URL, CELERY_BROKER_URL and wrk, as
bench/submit.py does; every checkout is served with this interpreter's
packages.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bare import (
    ISSUE_API_TARGET,
    ISSUE_BARE_RPS,
    ISSUE_HTML_TARGET,
    bare_serve,
    bare_table_create,
    bare_table_drop,
)
from common import Server, cpu_by_program, django_setup, prepare, require_services
from submit import REQUESTS_PER_JOURNEY, bodies, response_count, run_html, run_wrk

BARE = "bare"
INSERT, PAGE = "insert", "page"  # the floor's two views (bench/floor_urls.py)


@dataclass
class Target:
    """One thing measured each round: the bare view, or a checkout's API or HTML journey."""

    name: str
    port: int
    pids: list[int]
    html: bool = False
    # The floor's targets (--floor): wrk's path and, for a page, the Cookie
    # header it sends with GET requests instead of posting bodies.
    floor: str | None = None
    path: str | None = None
    cookie: str | None = None
    rates: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    p95_ms: list[float] = field(default_factory=list)  # per request
    # CPU ms per request of the programs serving alongside gunicorn, and the
    # machine's idle share, per burst: where the cost outside gunicorn goes.
    others_ms: dict[str, list[float]] = field(default_factory=dict)
    idle: list[float] = field(default_factory=list)


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes and their children."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        for task in [pid, *children(pid)]:
            try:
                stat = Path(f"/proc/{task}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def machine_idle() -> tuple[float, float]:
    """(idle, total) CPU seconds of the whole machine so far, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (values[3] + values[4]) / ticks, sum(values[:8]) / ticks


OTHER_PROGRAMS = ("postgres", "redis-server", "wrk")


def label(checkout: str) -> str:
    """The checkout's commit, with + when its files differ from it."""
    git = ["git", "-C", checkout]
    commit = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    return f"{commit or Path(checkout).resolve().name}{'+' if dirty.stdout.strip() else ''}"


def floor_cookie(port: int) -> str:
    """The Cookie header of a visitor with a session and a CSRF cookie on the floor's server."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/floor/session/")
    response = connection.getresponse()
    response.read()
    cookies = [header.split(";", 1)[0] for header in response.headers.get_all("Set-Cookie") or []]
    if response.status != 200 or len(cookies) != 2:
        raise SystemExit(f"The floor's session did not start: {response.status} {cookies}")
    return "; ".join(cookies)


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkouts", nargs="*", default=["."], help="project checkouts to serve (default: .)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--burst", type=int, default=5, help="seconds per burst")
    parser.add_argument("--connections", type=int, default=16, help="concurrent API clients (C)")
    parser.add_argument("--html", action="store_true", help="also complete web journeys in every round")
    parser.add_argument("--html-clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, for every server")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker, for every server")
    parser.add_argument("--localities", type=int, default=20)
    parser.add_argument("--port", type=int, default=8801)
    parser.add_argument("--no-bare", action="store_true", help="compare the checkouts only")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also serve bench/floor_urls.py's views in the first checkout's stack: the bare view's "
        "code and a page with nothing of its own, behind the project's middleware",
    )
    args = parser.parse_args()
    require_services()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk).")
    if args.rounds < 1 or args.burst < 1:
        raise SystemExit("--rounds and --burst must be at least 1.")
    if args.floor and args.no_bare:
        raise SystemExit("--floor is read against the bare view: drop --no-bare.")

    django_setup()
    wave, localities = prepare(args.localities)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.write("\n".join(bodies(wave, localities, 500)) + "\n")
    path = f"/api/v1/waves/{wave}/responses/"
    processes: list[subprocess.Popen[bytes]] = []
    targets: list[Target] = []
    try:
        if not args.no_bare:
            bare_table_create()
            processes.append(bare_serve(args.port, args.workers, args.threads))
            targets.append(Target(BARE, args.port, [processes[-1].pid]))
        for n, checkout in enumerate(args.checkouts, start=1):
            port = args.port + n
            server = Server(port, args.workers, args.threads, root=Path(checkout).resolve())
            processes.append(server.process)
            name = label(checkout)
            targets.append(Target(f"{name} API", port, [server.process.pid]))
            if args.html:
                targets.append(Target(f"{name} HTML", port, [server.process.pid], html=True))
        if args.floor:
            port = args.port + len(args.checkouts) + 1
            root = Path(args.checkouts[0]).resolve()
            server = Server(port, args.workers, args.threads, root=root, settings="floor_settings")
            processes.append(server.process)
            pids, name = [server.process.pid], label(args.checkouts[0])
            targets.append(
                Target(f"{name} floor insert", port, pids, floor=INSERT, path=f"/floor/insert/{wave}/")
            )
            cookie = floor_cookie(port)
            targets.append(
                Target(f"{name} floor page", port, pids, floor=PAGE, path="/floor/page/", cookie=cookie)
            )
        before = response_count(wave)
        acknowledged = 0
        for target in targets:  # warm every server up
            acknowledged += burst(target, args, wave, localities, path, handle.name, 2)[2]
        for number in range(1, args.rounds + 1):
            order = random.sample(targets, len(targets))
            for target in order:
                started = process_cpu(target.pids)
                programs, (idle, total) = cpu_by_program(), machine_idle()
                rate, requests, stored_by_it, p95 = burst(
                    target, args, wave, localities, path, handle.name, args.burst
                )
                used = process_cpu(target.pids) - started
                programs_after, (idle_after, total_after) = cpu_by_program(), machine_idle()
                for name in OTHER_PROGRAMS:
                    spent = programs_after.get(name, 0.0) - programs.get(name, 0.0)
                    target.others_ms.setdefault(name, []).append(spent * 1000 / max(requests, 1))
                target.idle.append((idle_after - idle) / max(total_after - total, 1e-9))
                acknowledged += stored_by_it
                target.rates.append(rate)
                target.p95_ms.append(p95)
                target.cpu_ms.append(used * 1000 / max(requests, 1))
            print(
                f"round {number}: " + ", ".join(f"{t.name} {t.rates[-1]:.0f}/s" for t in targets), flush=True
            )
        stored = response_count(wave) - before
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if not args.no_bare:
            bare_table_drop()
    report(targets, args)
    # wrk stops at its deadline without reading the replies in flight: those
    # responses are stored, never acknowledged (at most one per connection and burst).
    bursts = (args.rounds + 1) * sum(1 for t in targets if not t.html and t.name != BARE and not t.floor)
    in_flight = stored - acknowledged
    ok = 0 <= in_flight <= bursts * args.connections
    print(
        f"stored {stored} = acknowledged {acknowledged} + {in_flight} in flight at wrk's deadlines"
        f"  {'OK' if ok else 'MISMATCH'}"
    )
    if not ok:
        raise SystemExit(1)


def burst(
    target: Target,
    args: argparse.Namespace,
    wave: str,
    localities: list[str],
    path: str,
    bodies_file: str,
    seconds: int,
) -> tuple[int, int, float]:
    """One burst: (responses or journeys completed per second, requests
    served, responses the server acknowledged into the project's database,
    the 95th percentile of the requests' latency in ms)."""
    if target.html:
        html = run_html(target.port, wave, localities, args.html_clients, seconds)
        if html["failures"]:
            raise SystemExit(f"{target.name}: {html['failures'][0][:300]}")
        # The rate counts the journeys done by the deadline, over the burst's
        # length: the clients' last journeys, finished after it at falling
        # concurrency, are stored but not counted.
        return (
            html["completions_by_deadline"] / seconds,
            html["requests"],
            html["completions"],
            html["request_p95"] * 1000,
        )
    result = run_wrk(target.port, target.path or path, bodies_file, seconds, args.connections, target.cookie)
    if result["other"] or result["errors"]:
        raise SystemExit(f"{target.name}: {result}")
    # The bare view and the floor write their own table, or nothing.
    stored = result["created"] if target.name != BARE and not target.floor else 0
    rate = result["created"] / (result["duration_us"] / 1e6)
    return rate, result["created"], stored, result["p95_us"] / 1000


def report(targets: list[Target], args: argparse.Namespace) -> None:
    print(
        f"\n{args.rounds} rounds of {args.burst} s bursts, gunicorn {args.workers}x{args.threads} gthread, "
        f"API C={args.connections} (wrk -t2), HTML {args.html_clients} Python client threads"
    )
    for t in targets:
        unit = "completions/s" if t.html else ("requests/s" if t.name == BARE or t.floor else "responses/s")
        print(
            f"  {t.name:<30} median {statistics.median(t.rates):8.1f} {unit:<14}"
            f"gunicorn CPU {statistics.median(t.cpu_ms):.2f} ms per request"
            + f", p95 latency {statistics.median(t.p95_ms):.0f} ms"
        )
        others = ", ".join(f"{name} {statistics.median(ms):.2f}" for name, ms in t.others_ms.items())
        print(f"  {'':<30} per request, ms of CPU: {others}; machine idle {statistics.median(t.idle):.0%}")
    bare = next((t for t in targets if t.name == BARE), None)
    if bare is not None:
        print("Per round, as a fraction of the bare view (median; the issue's target as the same fraction):")
        for t in targets:
            if t is bare or t.floor:
                continue
            scale = REQUESTS_PER_JOURNEY if t.html else 1
            target = (
                ISSUE_HTML_TARGET * REQUESTS_PER_JOURNEY if t.html else ISSUE_API_TARGET
            ) / ISSUE_BARE_RPS
            ratios = [rate * scale / b for rate, b in zip(t.rates, bare.rates, strict=True)]
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
            kind = f"in requests ({REQUESTS_PER_JOURNEY} per completion)" if t.html else "of its rate"
            print(
                f"  {t.name:<30} {statistics.median(ratios):.3f} {kind} (rounds {spread}), target {target:.2f}"
            )
    floors = [t for t in targets if t.floor]
    if bare is not None and floors:
        print(
            "The floor (the project's stack doing nothing of its own), per round as a fraction of the bare view:"
        )
        for t in floors:
            ratios = [rate / b for rate, b in zip(t.rates, bare.rates, strict=True)]
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
            print(f"  {t.name:<30} {statistics.median(ratios):.3f} (rounds {spread})")
    checkouts = [t for t in targets if t is not bare and not t.floor]
    firsts = {t.html: t for t in reversed(checkouts)}
    if len(checkouts) > len(firsts):
        print("Per round, against the first checkout (median of the ratios):")
        for t in checkouts:
            first = firsts[t.html]
            if t is not first:
                ratios = [a / b for a, b in zip(t.rates, first.rates, strict=True)]
                print(f"  {t.name:<30} {statistics.median(ratios):.3f} times {first.name}")


if __name__ == "__main__":
    main()
