"""Reads of the surveys app. Other apps (analytics) read survey data only through here."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from surveys.models import Audience, Locality, QuestionnaireVersion, Study, Wave, WaveStatus
from surveys.services.accounts import SURVEY_MANAGERS


def waves_open() -> QuerySet[Wave]:
    """Waves with status open, newest first, with their study and response counts."""
    return (
        Wave.objects.filter(status=WaveStatus.OPEN)
        .select_related("study")
        .annotate(
            locality_count=Count("wave_localities", distinct=True),
            citizen_responses=Count(
                "responses", filter=Q(responses__audience=Audience.CITIZEN), distinct=True
            ),
        )
        .order_by("-opens_at", "code")
    )


def wave_get(code: str) -> Wave | None:
    return (
        Wave.objects.filter(code=code)
        .select_related("study", "citizen_version__questionnaire", "official_version__questionnaire")
        .first()
    )


def wave_localities(wave: Wave) -> QuerySet[Locality]:
    return Locality.objects.filter(wave_localities__wave=wave).order_by("code")


def study_get(code: str) -> Study | None:
    return Study.objects.filter(code=code).first()


def questionnaire_version_latest(study: Study, audience: str) -> QuestionnaireVersion | None:
    return (
        QuestionnaireVersion.objects.filter(questionnaire__study=study, questionnaire__audience=audience)
        .order_by("-number")
        .first()
    )


def user_is_survey_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    return bool(
        getattr(user, "is_superuser", False) or user.groups.filter(name=SURVEY_MANAGERS).exists()  # type: ignore[union-attr,attr-defined]
    )
