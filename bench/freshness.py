"""Benchmark: how soon an acknowledged response shows in its locality's figures.

Starts gunicorn (production settings) and one Celery worker on PostgreSQL and
the real Redis broker, then Python client threads post complete citizen
responses at a steady --rate per second for --duration seconds. For every
201 it notes the time and the response id; a poller reads the stored
watermarks every 50 ms and notes when each response's locality was first
recomputed past it. Prints the achieved rate and the p50/p95/p99 of
(figures include the response) - (201 received).

    .venv/bin/python bench/freshness.py --rate 200 --duration 30

Needs DATABASE_URL (PostgreSQL), REDIS_URL and CELERY_BROKER_URL.
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Server, django_setup, prepare


def start_worker(concurrency: int) -> subprocess.Popen[bytes]:
    node = f"bench-{uuid.uuid4().hex[:6]}@localhost"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "coprod", "worker", "--hostname", node),
            *("--queues", "indices,default", "--concurrency", str(concurrency), "--loglevel", "WARNING"),
            *("--without-gossip", "--without-mingle"),
        ],
        cwd=ROOT,
    )
    from coprod.celery import app

    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[node], timeout=1.0):
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the Celery worker did not start")
    return process


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200, help="responses per second")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--localities", type=int, default=20)
    parser.add_argument("--clients", type=int, default=16, help="client threads sharing the rate")
    parser.add_argument(
        "--worker-concurrency", type=int, default=1, help="processes of the one Celery worker"
    )
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"Set {name} (see README).")

    django_setup()
    from analytics.models import LocalityState
    from surveys.selectors import wave_get
    from surveys.synthetic import answers_generate

    wave_code, localities = prepare(args.localities)
    wave = wave_get(wave_code)
    assert wave is not None
    rng = random.Random(3)
    bodies = [
        {
            "audience": "citizen",
            "locality": localities[i % len(localities)],
            "language": "en",
            "answers": answers_generate(wave.citizen_version.definition, rng),
        }
        for i in range(400)
    ]
    locality_ids = dict(wave.wave_localities.values_list("locality__code", "locality_id"))

    server = Server(args.port, workers=4, threads=2)
    worker = start_worker(args.worker_concurrency)
    acknowledged: list[tuple[int, int, float]] = []  # (locality id, response id, time of the 201)
    waiting: dict[int, list[tuple[int, float]]] = {i: [] for i in locality_ids.values()}  # heaps by id
    lock = threading.Lock()
    failures: list[int] = []
    seen: dict[int, float] = {}  # response id -> when the figures first included it
    stop = threading.Event()

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        interval = args.clients / args.rate
        next_at = time.monotonic() + n * interval / args.clients
        i = n
        end = time.monotonic() + args.duration
        while time.monotonic() < end:
            time.sleep(max(next_at - time.monotonic(), 0))
            next_at += interval
            body = {**bodies[i % len(bodies)], "submission_id": str(uuid.uuid4())}
            i += args.clients
            conn.request(
                "POST",
                f"/api/v1/waves/{wave_code}/responses/",
                body=json.dumps(body),
                headers={"Content-Type": "application/json"},
            )
            response = conn.getresponse()
            payload = response.read()
            if response.status != 201:
                failures.append(response.status)
                continue
            entry = (locality_ids[body["locality"]], json.loads(payload)["id"], time.monotonic())
            with lock:
                acknowledged.append(entry)
                heapq.heappush(waiting[entry[0]], (entry[1], entry[2]))

    def poller() -> None:
        from django.db import connection

        while not stop.is_set():
            now = time.monotonic()
            marks = dict(
                LocalityState.objects.filter(wave_id=wave.pk).values_list("locality_id", "watermark")
            )
            with lock:
                for locality_id, heap in waiting.items():
                    mark = marks.get(locality_id, 0)
                    while heap and heap[0][0] <= mark:
                        seen[heapq.heappop(heap)[0]] = now
            time.sleep(0.05)
        connection.close()

    try:
        watcher = threading.Thread(target=poller)
        watcher.start()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sent_for = time.monotonic() - started
        deadline = time.monotonic() + 60
        while len(seen) < len(acknowledged) and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        watcher.join()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        server.stop()

    delays = sorted(seen[r] - t for _, r, t in acknowledged if r in seen)
    missing = len(acknowledged) - len(delays)

    def pct(q: float) -> float:
        return delays[min(int(len(delays) * q), len(delays) - 1)] if delays else float("nan")

    print(
        f"sent     {len(acknowledged)} acknowledged in {sent_for:.1f} s = {len(acknowledged) / sent_for:.0f}/s"
        f" (target {args.rate:.0f}/s), {len(failures)} failed, {args.localities} localities,"
        f" 1 worker x {args.worker_concurrency}"
    )
    print(
        f"fresh    p50 {statistics.median(delays):.2f} s  p95 {pct(0.95):.2f} s  p99 {pct(0.99):.2f} s"
        f"  max {delays[-1]:.2f} s; never seen within 60 s: {missing}"
    )


if __name__ == "__main__":
    main()
