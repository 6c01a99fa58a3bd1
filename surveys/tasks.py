"""Celery tasks of the surveys app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from surveys.services.drafts import drafts_expire


@shared_task(name="surveys.expire_drafts", ignore_result=True)
def expire_drafts_task() -> None:
    """Daily: delete answers in progress nobody touched for DRAFT_RETENTION_DAYS."""
    drafts_expire()
