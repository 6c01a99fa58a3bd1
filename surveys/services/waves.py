"""Waves and localities: creating, scoping and moving waves through their lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from surveys.errors import InvalidWave, InvalidWaveTransition
from surveys.models import Audience, Locality, QuestionnaireVersion, Study, Wave, WaveLocality, WaveStatus

# Which statuses a wave may move to from each status.
TRANSITIONS: dict[str, set[str]] = {
    WaveStatus.DRAFT: {WaveStatus.OPEN},
    WaveStatus.OPEN: {WaveStatus.CLOSED},
    WaveStatus.CLOSED: {WaveStatus.OPEN, WaveStatus.ARCHIVED},
    WaveStatus.ARCHIVED: set(),
}


@dataclass
class LocalitiesEnsured:
    localities: list[Locality]
    created: list[str] = field(default_factory=list)


@transaction.atomic
def localities_ensure(*, codes: Sequence[str], names: dict[str, str] | None = None) -> LocalitiesEnsured:
    """The localities with these codes, creating the missing ones (named after
    their code unless ``names`` says otherwise). Safe to call concurrently."""
    names = names or {}
    result = LocalitiesEnsured(localities=[])
    for code in codes:
        locality, created = Locality.objects.get_or_create(
            code=code, defaults={"name": names.get(code, code.replace("_", " ").replace("-", " ").title())}
        )
        result.localities.append(locality)
        if created:
            result.created.append(code)
    return result


def latest_version(study: Study, audience: str) -> QuestionnaireVersion:
    version = (
        QuestionnaireVersion.objects.filter(questionnaire__study=study, questionnaire__audience=audience)
        .select_related("questionnaire")
        .order_by("-created_at", "-number")
        .first()
    )
    if version is None:
        raise InvalidWave({f"{audience}_version": [f"Study '{study.code}' has no {audience} questionnaire."]})
    return version


@dataclass
class WaveEnsured:
    wave: Wave
    created: bool
    localities_added: list[str] = field(default_factory=list)
    thresholds_changed: bool = False


@transaction.atomic
def wave_ensure(
    *,
    code: str,
    study: Study,
    localities: Sequence[Locality],
    name: str | None = None,
    min_citizens: int | None = None,
    min_officials: int | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> WaveEnsured:
    """Create the wave, or bring an existing one up to date (idempotent).

    A new wave takes the latest citizen and official questionnaire versions
    of the study. An existing wave gains any missing localities and the given
    thresholds; its questionnaire versions never change. Raises InvalidWave.
    """
    _check_thresholds(min_citizens, min_officials)
    if opens_at and closes_at and closes_at <= opens_at:
        raise InvalidWave({"closes_at": ["The wave must close after it opens."]})
    wave = Wave.objects.select_for_update().filter(code=code).first()
    if wave is None:
        wave = Wave.objects.create(
            code=code,
            study=study,
            name=name or code,
            citizen_version=latest_version(study, Audience.CITIZEN),
            official_version=latest_version(study, Audience.OFFICIAL),
            min_citizens=min_citizens or 10,
            min_officials=min_officials or 3,
            opens_at=opens_at,
            closes_at=closes_at,
        )
        result = WaveEnsured(wave=wave, created=True)
    else:
        if wave.study_id != study.pk:
            raise InvalidWave({"study": [f"Wave '{code}' belongs to study '{wave.study.code}'."]})
        result = WaveEnsured(wave=wave, created=False)
        changes = {
            "min_citizens": min_citizens,
            "min_officials": min_officials,
            "opens_at": opens_at,
            "closes_at": closes_at,
        }
        changed = [k for k, v in changes.items() if v is not None and getattr(wave, k) != v]
        for key in changed:
            setattr(wave, key, changes[key])
        if changed:
            wave.save(update_fields=[*changed, "updated_at"])
            result.thresholds_changed = True
    existing = set(wave.wave_localities.values_list("locality_id", flat=True))
    for locality in localities:
        if locality.pk not in existing:
            WaveLocality.objects.create(wave=wave, locality=locality)
            result.localities_added.append(locality.code)
            existing.add(locality.pk)
    return result


def _check_thresholds(min_citizens: int | None, min_officials: int | None) -> None:
    errors = {}
    if min_citizens is not None and min_citizens < 1:
        errors["min_citizens"] = ["Must be at least 1."]
    if min_officials is not None and min_officials < 1:
        errors["min_officials"] = ["Must be at least 1."]
    if errors:
        raise InvalidWave(errors)


@transaction.atomic
def wave_transition(*, wave: Wave, to: str) -> Wave:
    """Move a wave to another status (draft → open → closed → archived; a closed
    wave may be reopened). Opening a wave without localities is refused.

    The wave row is locked, so two concurrent transitions cannot both win.
    Raises InvalidWaveTransition.
    """
    current = Wave.objects.select_for_update().get(pk=wave.pk)
    if current.status == to:
        return current
    if to not in TRANSITIONS[current.status]:
        raise InvalidWaveTransition(f"A {current.status} wave cannot become {to}.")
    if to == WaveStatus.OPEN and not current.wave_localities.exists():
        raise InvalidWaveTransition("A wave needs at least one locality before it opens.")
    now = timezone.now()
    fields = ["status", "updated_at"]
    current.status = to
    if to == WaveStatus.OPEN and (current.opens_at is None or current.opens_at > now):
        current.opens_at = now
        fields.append("opens_at")
    if to == WaveStatus.OPEN and current.closes_at is not None and current.closes_at <= now:
        current.closes_at = None
        fields.append("closes_at")
    if to == WaveStatus.CLOSED and (current.closes_at is None or current.closes_at > now):
        current.closes_at = now
        fields.append("closes_at")
    current.save(update_fields=fields)
    return current


def wave_open(*, wave: Wave) -> Wave:
    return wave_transition(wave=wave, to=WaveStatus.OPEN)


def wave_close(*, wave: Wave) -> Wave:
    return wave_transition(wave=wave, to=WaveStatus.CLOSED)
