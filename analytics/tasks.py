"""Celery tasks of the analytics app: thin wrappers around services.

Tasks take JSON-safe ids, call one service and return nothing. They are safe
to run twice (recomputes are idempotent), so they are acknowledged late and
re-queued if a worker dies mid-task (settings: CELERY_TASK_ACKS_LATE,
CELERY_TASK_REJECT_ON_WORKER_LOST).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.exceptions import ObjectDoesNotExist

from analytics import pending
from analytics.services import indices_rebuild, lagging_recompute, locality_recompute, wave_qvalues_update
from surveys.selectors import wave_locality_pairs

logger = logging.getLogger(__name__)


@shared_task(name="analytics.recompute_locality", ignore_result=True)
def recompute_locality_task(wave_id: int, locality_id: int) -> None:
    """Recompute one (wave, locality). Clears the pending mark first, so a
    response committed while this runs schedules a fresh recompute."""
    pending.clear(wave_id, locality_id)
    try:
        result = locality_recompute(wave_id=wave_id, locality_id=locality_id)
    except ObjectDoesNotExist:
        logger.info("wave %s or locality %s no longer exists; nothing to recompute", wave_id, locality_id)
        return
    if result.changed:
        pending.schedule_qvalues(wave_id)


@shared_task(name="analytics.reconcile", ignore_result=True)
def reconcile_task() -> None:
    """Every minute: recompute whatever lags its responses (a lost task only delays a figure)."""
    lagging_recompute()


@shared_task(name="analytics.rebuild", ignore_result=True)
def rebuild_task() -> None:
    """Nightly: recompute everything from scratch, one task per (wave, locality)
    so every worker takes part; each logs any difference it corrected."""
    for wave_id, locality_id in wave_locality_pairs():
        rebuild_locality_task.delay(wave_id, locality_id)


@shared_task(name="analytics.rebuild_locality", ignore_result=True)
def rebuild_locality_task(wave_id: int, locality_id: int) -> None:
    """Recompute one (wave, locality) from scratch even if it looks fresh."""
    try:
        indices_rebuild(wave_id=wave_id, locality_id=locality_id, update_qvalues=False)
    except ObjectDoesNotExist:
        logger.info("wave %s or locality %s no longer exists; nothing to rebuild", wave_id, locality_id)
        return
    pending.schedule_qvalues(wave_id)


@shared_task(name="analytics.wave_qvalues", ignore_result=True)
def wave_qvalues_task(wave_id: int) -> None:
    """Benjamini-Hochberg q-values across the wave's localities (coalesced per wave)."""
    pending.clear_qvalues(wave_id)
    wave_qvalues_update(wave_id=wave_id)
