"""The pipeline on the real services: PostgreSQL, the Redis broker and a real
Celery worker started by the test suite. Figures follow responses within
seconds, bursts coalesce, and nothing is lost when the broker or a worker fails."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client, override_settings

from analytics import pending
from analytics.models import GapRow, IndexRow, LocalityState
from analytics.services import lagging_pairs, locality_recompute
from analytics.tasks import reconcile_task
from coprod.celery import app
from surveys.models import Audience, Response, Wave
from surveys.services.responses import response_submit
from surveys.synthetic import answers_generate
from tests.analytics.reference import assert_matches, expected_indices

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def citizen_body(wave: Wave, locality: str, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    return {
        "submission_id": str(uuid.uuid4()),
        "audience": "citizen",
        "locality": locality,
        "language": "en",
        "answers": answers_generate(wave.citizen_version.definition, rng, engaged_rate=lambda a: 0.55),
    }


def submit(wave: Wave, locality: str, seed: int) -> Response:
    body = citizen_body(wave, locality, seed)
    return response_submit(
        wave=wave, submission_id=uuid.UUID(body["submission_id"]), audience=Audience.CITIZEN,
        locality_code=locality, language="en", answers=body["answers"],
    ).response  # fmt: skip


def wait_fresh(wave: Wave, localities: list[Any], timeout: float = 30.0) -> float:
    """Seconds until every locality's figures include every response."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        states = LocalityState.objects.filter(wave=wave, locality__in=localities).count()
        if states == len(localities) and not lagging_pairs(wave.pk):
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"figures still lag after {timeout} s: {lagging_pairs(wave.pk)}")


@pytest.fixture
def live_wave(celery_worker: str, postgres: None, wave: Wave) -> Wave:
    """An open wave, with the real worker consuming the indices queue."""
    pending._broker_down_until = 0.0
    pending._pending_until.clear()
    return wave


def test_loading_population_figures_reweights_on_the_worker(live_wave: Wave, locality_a, locality_b) -> None:
    """A population table loaded through the service reaches the real worker
    over the broker, which stores the weighted rows beside the unweighted."""
    from surveys.services.population import population_set

    for seed in range(12):
        submit(live_wave, "alpha", seed)
    wait_fresh(live_wave, [locality_a])
    assert not GapRow.objects.filter(wave=live_wave, weighted=True).exists()

    codes = live_wave.citizen_version.definition["choice_lists"]
    bands = [c["code"] for c in codes["age_band"]]
    with transaction.atomic():  # the signal goes out on commit, as in production
        population_set(locality=locality_a, margins={b: {"female": 100, "male": 100} for b in bands})
    deadline = time.monotonic() + 30
    while not GapRow.objects.filter(wave=live_wave, locality=locality_a, weighted=True).exists():
        assert time.monotonic() < deadline, "the worker never stored the weighted rows"
        time.sleep(0.1)
    assert GapRow.objects.filter(wave=live_wave, locality=locality_a, weighted=True).count() == 22
    assert GapRow.objects.filter(wave=live_wave, locality=locality_a, weighted=False).count() == 22
    assert not lagging_pairs(live_wave.pk)


def test_figures_follow_responses_and_equal_a_fresh_computation(
    live_wave: Wave, locality_a, locality_b
) -> None:
    client = Client()
    for i in range(30):
        locality = "alpha" if i % 3 else "beta"
        response = client.post(
            f"/api/v1/waves/{live_wave.code}/responses/",
            json.dumps(citizen_body(live_wave, locality, i)),
            content_type="application/json",
            REMOTE_ADDR=f"10.5.0.{i}",
        )
        assert response.status_code == 201

    waited = wait_fresh(live_wave, [locality_a, locality_b])

    assert waited < 10
    for locality in (locality_a, locality_b):
        assert_matches(
            list(IndexRow.objects.filter(wave=live_wave, locality=locality)),
            expected_indices(live_wave, locality.pk),
        )
    assert GapRow.objects.filter(wave=live_wave).count() == 2 * (18 + 3 + 1)


def test_a_burst_to_one_locality_coalesces_into_a_handful_of_recomputes(live_wave: Wave, locality_a) -> None:
    burst = 200
    started = time.monotonic()
    for i in range(burst):
        submit(live_wave, "alpha", i)
    elapsed = time.monotonic() - started

    wait_fresh(live_wave, [locality_a])

    recomputes = LocalityState.objects.get(wave=live_wave, locality=locality_a).recomputes
    print(f"\n{burst} responses in {elapsed:.1f} s -> {recomputes} recomputes")
    assert recomputes <= max(10, int(elapsed * 4))
    assert IndexRow.objects.get(locality=locality_a, audience="citizen", level="overall").n == burst


def test_the_process_that_published_a_recompute_skips_the_mark_until_it_may_begin(
    live_wave: Wave, locality_a
) -> None:
    """Within the first half of the countdown this process's own task cannot
    have begun, so later responses join it without a round trip to Redis;
    after that the mark decides again, and every response is in the figures."""
    key = (live_wave.pk, locality_a.pk)
    submit(live_wave, "alpha", 1)  # publishes a recompute, and remembers it
    assert 0 < pending._pending_until[key] - time.monotonic() <= settings.ANALYTICS_COALESCE_SECONDS / 2
    pending.clear(*key)  # from here on, a call that asks Redis sets the mark and sends a task

    assert not pending.schedule(*key)
    assert pending._claim(*key, time.time()) is None, (
        "the skipped call set the mark: it asked Redis after all"
    )
    pending.clear(*key)

    pending._pending_until[key] = time.monotonic()  # as when half the countdown has passed
    assert pending.schedule(*key), "past its window, the process must ask the mark again"
    submit(live_wave, "alpha", 2)

    wait_fresh(live_wave, [locality_a])
    assert IndexRow.objects.get(locality=locality_a, audience="citizen", level="overall").n == 2


@override_settings(ANALYTICS_COALESCE_SECONDS=10)
def test_a_process_that_meets_another_ones_mark_skips_redis_until_a_margin_before_its_start(
    live_wave: Wave, locality_a
) -> None:
    """The mark holds when its task starts: a process that meets it (here the
    mark of a task 8 s away, as another process would set it) knows later
    responses join that task, and stops asking Redis until the margin for
    clock skew (half the countdown, 5 s here) before that start."""
    key = (live_wave.pk, locality_a.pk)
    assert pending._claim(*key, time.time() + 8) is None  # another process's task

    assert not pending.schedule(*key), "a task is pending: no second one"
    assert 2.5 < pending._pending_until[key] - time.monotonic() <= 3.0
    pending.clear(*key)
    assert not pending.schedule(*key)
    assert pending._claim(*key, time.time()) is None, "the skipped call asked Redis after all"
    pending.clear(*key)


@pytest.mark.parametrize(
    ("starts_in", "skipped"),
    [
        (1000.0, 0.25),  # a mark from a clock far ahead: never trusted beyond the countdown
        (0.5, 0.25),  # as the publisher's own
        (0.4, 0.15),
        (0.2, None),  # within the margin for clock skew: nothing to trust
    ],
)
def test_the_skip_never_outlasts_the_countdown_nor_comes_within_the_margin(
    live_wave: Wave, locality_a, starts_in: float, skipped: float | None
) -> None:
    assert settings.ANALYTICS_COALESCE_SECONDS == 0.5
    key = (live_wave.pk, locality_a.pk)
    assert pending._claim(*key, time.time() + starts_in) is None

    assert not pending.schedule(*key)
    if skipped is None:
        assert key not in pending._pending_until
    else:
        # (less the moments between setting the mark and meeting it, on a busy machine)
        assert skipped - 0.1 < pending._pending_until[key] - time.monotonic() <= skipped
    pending.clear(*key)


@pytest.mark.parametrize("held", [b"1", b"soon", "past"])
def test_a_mark_without_a_start_to_come_is_no_reason_to_skip_redis(live_wave: Wave, locality_a, held) -> None:
    """A mark of an earlier release (it held "1"), one that holds no time, or
    one whose task has begun: nothing to trust, so nothing is remembered, and
    the mark still keeps a second task from being sent."""
    from surveys.redis import key as redis_key
    from surveys.redis import redis_client

    key = (live_wave.pk, locality_a.pk)
    value = repr(time.time() - 1) if held == "past" else held
    redis_client().set(redis_key(pending._key(*key)), value, ex=60)

    assert not pending.schedule(*key)
    assert key not in pending._pending_until
    assert pending._claim(*key, time.time()) == (0.0 if held == b"soon" else pytest.approx(float(value)))
    pending.clear(*key)


def test_concurrent_submissions_to_one_locality_are_all_counted(live_wave: Wave, locality_a) -> None:
    def worker(offset: int) -> None:
        try:
            for i in range(15):
                submit(live_wave, "alpha", offset * 100 + i)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    wait_fresh(live_wave, [locality_a])
    overall = IndexRow.objects.get(locality=locality_a, audience="citizen", level="overall")
    assert overall.n == 120 == Response.objects.filter(locality=locality_a).count()
    assert_matches(
        list(IndexRow.objects.filter(locality=locality_a)), expected_indices(live_wave, locality_a.pk)
    )


@contextmanager
def broker_unreachable():
    """Point the Celery app at a port nothing listens on, then back."""
    real = app.conf.broker_url, app.conf.broker_write_url

    def switch(url: str, write_url: str) -> None:
        # New producers are made for the new URL; the pools of the real broker
        # stay open (kombu keeps them per connection) for when it comes back.
        # Publishing connects to broker_write_url, which the app copied from
        # broker_url when it was configured: setting broker_url alone changed
        # nothing, and tasks still reached the real broker.
        app.conf.broker_url = url
        app.conf.broker_write_url = write_url
        app._pool = None
        app.amqp._producer_pool = None

    switch("redis://127.0.0.1:1/0", "redis://127.0.0.1:1/0")
    try:
        assert app.connection_for_write().as_uri() == "redis://127.0.0.1:1/0"
        yield
    finally:
        switch(*real)
        pending._broker_down_until = 0.0


def test_with_the_broker_down_responses_are_saved_quickly_and_figures_catch_up(
    live_wave: Wave, locality_a
) -> None:
    client = Client()
    with broker_unreachable():
        durations = []
        for i in range(5):
            started = time.monotonic()
            response = client.post(
                f"/api/v1/waves/{live_wave.code}/responses/",
                json.dumps(citizen_body(live_wave, "alpha", i)),
                content_type="application/json",
                REMOTE_ADDR=f"10.6.0.{i}",
            )
            durations.append(time.monotonic() - started)
            assert response.status_code == 201
    assert Response.objects.filter(locality=locality_a).count() == 5
    assert max(durations) < 5, durations
    assert sum(durations) < 8, durations  # after the first failure, publishing is skipped
    assert lagging_pairs(live_wave.pk), "nothing was computed while the broker was down"

    reconcile_task.delay()  # what beat sends every minute

    wait_fresh(live_wave, [locality_a])
    assert IndexRow.objects.get(locality=locality_a, audience="citizen", level="overall").n == 5


def test_a_q_value_task_the_broker_refused_leaves_no_mark_behind(live_wave: Wave, locality_a) -> None:
    """A worker that cannot send the wave's q-value task drops the wave's
    q-value mark, so the wave's next recompute sends one (else none would go
    until the mark expired, and the q-values would wait for the reconciler)."""
    from surveys.redis import key as redis_key
    from surveys.redis import redis_client

    mark = redis_key(pending._qvalues_key(live_wave.pk))
    with broker_unreachable():
        pending.schedule_qvalues(live_wave.pk)
    assert redis_client().get(mark) is None

    pending.schedule_qvalues(live_wave.pk)  # the broker is back: the next recompute's
    assert redis_client().get(mark) is not None, "no q-value task was sent"


LOCK_HOLDER = """
import os, sys, time
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "coprod.settings.local"
import django; django.setup()
from django.db import connection, transaction
with transaction.atomic():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [{wave}, {locality}])
    print("locked", flush=True)
    time.sleep(120)
"""


@contextmanager
def lock_held_by_another_process(wave_id: int, locality_id: int):
    """A separate process holding the recompute lock of (wave, locality); yields
    the process so the test can kill it, as a worker dying mid-recompute would."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER.format(root=str(ROOT), wave=wave_id, locality=locality_id)],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)


def test_a_recompute_racing_a_new_response_never_skips_it(live_wave: Wave, locality_a) -> None:
    submit(live_wave, "alpha", 1)
    wait_fresh(live_wave, [locality_a])
    with lock_held_by_another_process(live_wave.pk, locality_a.pk) as holder:
        # A response commits while a recompute holds the lock (its snapshot predates it).
        submit(live_wave, "alpha", 2)
        time.sleep(1.0)
        assert lagging_pairs(live_wave.pk), "the blocked recompute cannot have finished"
        # The holder dies mid-recompute: PostgreSQL releases its lock.
        holder.send_signal(signal.SIGKILL)

    wait_fresh(live_wave, [locality_a])
    assert IndexRow.objects.get(locality=locality_a, audience="citizen", level="overall").n == 2


def test_a_killed_worker_loses_nothing(
    postgres: None, services, wave: Wave, locality_a, django_db_blocker
) -> None:
    """A worker killed mid-burst (SIGKILL): another worker and the reconciler converge."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    node = f"doomed-{uuid.uuid4().hex[:6]}@localhost"
    doomed = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "coprod", "worker", "--pool", "prefork", "--concurrency", "1",
         "--hostname", node, "--queues", "indices", "--without-gossip", "--without-mingle", "--loglevel", "ERROR"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[node], timeout=1.0):
            assert time.monotonic() < deadline, "the worker did not start"
        for i in range(60):
            submit(wave, "alpha", i)
        doomed.send_signal(signal.SIGKILL)
    finally:
        doomed.kill()
        doomed.wait(timeout=10)
    for i in range(60, 70):
        submit(wave, "alpha", i)

    reconcile_task.delay()
    wait_fresh(wave, [locality_a], timeout=60)
    assert IndexRow.objects.get(locality=locality_a, audience="citizen", level="overall").n == 70


def test_the_same_recompute_delivered_twice_changes_nothing(live_wave: Wave, locality_a) -> None:
    for i in range(5):
        submit(live_wave, "alpha", i)
    wait_fresh(live_wave, [locality_a])
    before = list(IndexRow.objects.filter(locality=locality_a).order_by("pk").values())
    recomputes = LocalityState.objects.get(locality=locality_a).recomputes

    assert not locality_recompute(wave_id=live_wave.pk, locality_id=locality_a.pk).changed
    app.send_task("analytics.recompute_locality", args=(live_wave.pk, locality_a.pk), queue="indices")
    time.sleep(1.5)

    assert list(IndexRow.objects.filter(locality=locality_a).order_by("pk").values()) == before
    assert LocalityState.objects.get(locality=locality_a).recomputes == recomputes
