"""Coalescing recomputes: at most one pending task per (wave, locality).

A burst of responses to one locality schedules one task (run after a short
delay, so the burst is in it); a response arriving while that task runs
schedules the next one. The mark that says a task is pending holds the time
that task will start, so a process that meets the mark (or has just set it)
knows that responses committed before then will be in that task: it asks
Redis no more for that (wave, locality) until shortly before the start. The
mark lives in the cache (Redis); if the cache or the broker is down the
response is still saved and the reconciler catches up (also for the rare
response that skipped Redis while the publisher's broker call failed).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from surveys.redis import key as redis_key
from surveys.redis import redis_client

logger = logging.getLogger(__name__)

# After the broker refuses a task, skip publishing for a while instead of
# making every request wait out the connection timeout again.
_broker_down_until = 0.0

# (wave, locality) -> monotonic time until which a pending recompute (this
# process's or another's) has certainly not begun. A response committed before
# then will be in that recompute, so it needs neither the mark nor a task of its
# own: under load most responses then cost no round trip to Redis.
_pending_until: dict[tuple[int, int], float] = {}
# The skip ends this share of the countdown before the task's start: the worker
# starts the task when its own clock reaches the start, and its clock may run
# ahead of this host's. That margin (0.25 s by default) is the clock skew
# tolerated (keep hosts in NTP sync; a worker further ahead could start a task
# early, and a response in that window would wait for the reconciler, within a
# minute). The time left is never taken as more than the countdown, whatever
# a mark holds.
PENDING_SHARE = 0.5


def _key(wave_id: int, locality_id: int) -> str:
    return f"analytics:pending:{wave_id}:{locality_id}"


def _claim(wave_id: int, locality_id: int, starts_at: float) -> float | None:
    """Set the pending mark for a task that starts at ``starts_at`` (epoch
    seconds), unless a mark is set. None when this call set it; otherwise the
    start the existing mark holds (0.0 when it holds none)."""
    name = _key(wave_id, locality_id)
    ttl = settings.ANALYTICS_PENDING_TTL
    client = redis_client()
    if client is None:
        if cache.add(name, starts_at, timeout=ttl):
            return None
        previous = cache.get(name)
    else:  # one command: SET NX and, when the mark is there, its value
        previous = client.set(redis_key(name), repr(starts_at), nx=True, get=True, ex=ttl)
        if previous is None:
            return None
    try:
        return float(previous)
    except (TypeError, ValueError):  # gone meanwhile, or not a time
        return 0.0


def clear(wave_id: int, locality_id: int) -> None:
    try:
        client = redis_client()
        if client is None:
            cache.delete(_key(wave_id, locality_id))
        else:
            client.delete(redis_key(_key(wave_id, locality_id)))
    except Exception:  # noqa: BLE001 - a cache outage must not fail the recompute
        logger.warning("cache unavailable; pending mark not cleared", exc_info=True)


def schedule(wave_id: int, locality_id: int) -> bool:
    """Ask for a recompute of (wave, locality) unless one is already pending.
    Returns whether a task was sent. Never raises: the database is the source
    of truth and the reconciler finds anything a lost task missed."""
    global _broker_down_until
    from analytics.tasks import recompute_locality_task

    if settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            recompute_locality_task.apply(args=(wave_id, locality_id), throw=True)
        except Exception:
            logger.exception("recompute of wave %s locality %s failed", wave_id, locality_id)
            return False
        return True
    now = time.monotonic()
    if now < _broker_down_until or now < _pending_until.get((wave_id, locality_id), 0.0):
        return False
    countdown = settings.ANALYTICS_COALESCE_SECONDS
    try:
        starts_at = _claim(wave_id, locality_id, time.time() + countdown)
    except Exception:  # noqa: BLE001
        logger.warning("cache unavailable; scheduling without coalescing", exc_info=True)
        starts_at = None
    margin = countdown * PENDING_SHARE
    if starts_at is not None:  # a task is pending: this response will be in it
        left = min(starts_at - time.time(), countdown)
        if left > margin:
            _pending_remember(wave_id, locality_id, now + left - margin)
        return False
    try:
        recompute_locality_task.apply_async((wave_id, locality_id), countdown=countdown)
    except Exception:  # noqa: BLE001
        _broker_down_until = time.monotonic() + settings.ANALYTICS_BROKER_BACKOFF_SECONDS
        logger.warning(
            "broker unavailable; the reconciler will recompute wave %s locality %s", wave_id, locality_id
        )
        clear(wave_id, locality_id)
        return False
    _pending_remember(wave_id, locality_id, now + countdown - margin)
    return True


def _pending_remember(wave_id: int, locality_id: int, until: float) -> None:
    if len(_pending_until) > 10_000:  # forget the passed ones now and then
        now = time.monotonic()
        # (A copy: other threads of this process add entries meanwhile.)
        for key, end in list(_pending_until.items()):
            if end <= now:
                _pending_until.pop(key, None)
    _pending_until[(wave_id, locality_id)] = until


def _qvalues_key(wave_id: int) -> str:
    return f"analytics:qvalues:{wave_id}"


def qvalues_pending(wave_id: int) -> bool:
    """Whether the wave's q-value task is on its way (its mark is held).
    False when the cache cannot tell: the reconciler then redoes them."""
    try:
        client = redis_client()
        if client is None:
            return cache.get(_qvalues_key(wave_id)) is not None
        return bool(client.exists(redis_key(_qvalues_key(wave_id))))
    except Exception:  # noqa: BLE001
        return False


def clear_qvalues(wave_id: int) -> None:
    try:
        client = redis_client()
        if client is None:
            cache.delete(_qvalues_key(wave_id))
        else:
            client.delete(redis_key(_qvalues_key(wave_id)))
    except Exception:  # noqa: BLE001 - a cache outage must not fail the task
        logger.warning("cache unavailable; pending q-value mark not cleared", exc_info=True)


def schedule_qvalues(wave_id: int) -> None:
    """Ask for the wave's q-values to be redone, once per burst of recomputes.
    Never raises: the reconciler redoes them for any wave it recomputes."""
    from analytics.tasks import wave_qvalues_task

    if settings.CELERY_TASK_ALWAYS_EAGER:
        wave_qvalues_task.apply(args=(wave_id,))
        return
    try:
        client = redis_client()
        name = _qvalues_key(wave_id)
        marked = (
            client.set(redis_key(name), 1, nx=True, ex=settings.ANALYTICS_PENDING_TTL)
            if client is not None
            else cache.add(name, 1, timeout=settings.ANALYTICS_PENDING_TTL)
        )
    except Exception:  # noqa: BLE001
        logger.warning("could not schedule q-values of wave %s; the reconciler will", wave_id)
        return
    if not marked:
        return
    try:
        wave_qvalues_task.apply_async((wave_id,), countdown=settings.ANALYTICS_COALESCE_SECONDS)
    except Exception:  # noqa: BLE001
        # No task is coming: drop its mark, or the wave's next recomputes
        # would send none either until the mark expires.
        logger.warning(
            "broker unavailable; could not schedule q-values of wave %s; the reconciler will", wave_id
        )
        clear_qvalues(wave_id)
