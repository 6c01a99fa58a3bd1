"""Database constraints: each rule that must hold under concurrency."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from surveys.models import Audience, Locality, QuestionnaireVersion, Response, Study, Wave, WaveLocality
from surveys.services.studies import study_load
from tests.conftest import builtin_definition
from tests.factories import InvitationFactory, ResponseFactory

pytestmark = pytest.mark.django_db


def raises_integrity():
    """IntegrityError inside a savepoint, so the test can go on using the connection."""
    return pytest.raises(IntegrityError)


def test_submission_id_is_unique(wave: Wave, locality_a: Locality) -> None:
    submission = uuid.uuid4()
    ResponseFactory(wave=wave, locality=locality_a, submission_id=submission)
    with raises_integrity(), transaction.atomic():
        ResponseFactory(wave=wave, locality=locality_a, submission_id=submission)


def test_receipt_is_unique(wave: Wave, locality_a: Locality) -> None:
    ResponseFactory(wave=wave, locality=locality_a, receipt="AAAA-BBBB-CCCC")
    with raises_integrity(), transaction.atomic():
        ResponseFactory(wave=wave, locality=locality_a, receipt="AAAA-BBBB-CCCC")


def test_an_invitation_backs_at_most_one_response(wave: Wave, locality_a: Locality) -> None:
    invitation = InvitationFactory(wave=wave, locality=locality_a)
    ResponseFactory(wave=wave, locality=locality_a, invitation=invitation)
    with raises_integrity(), transaction.atomic():
        ResponseFactory(wave=wave, locality=locality_a, invitation=invitation)


def test_invitation_token_hashes_are_unique(wave: Wave, locality_a: Locality) -> None:
    InvitationFactory(wave=wave, locality=locality_a, token="same")
    with raises_integrity(), transaction.atomic():
        InvitationFactory(wave=wave, locality=locality_a, token="same")


def test_an_official_has_one_current_response_per_wave_and_locality(
    wave: Wave, locality_a: Locality, official_a
) -> None:
    official = {"audience": Audience.OFFICIAL, "questionnaire_version": wave.official_version}
    ResponseFactory(wave=wave, locality=locality_a, respondent=official_a, **official)
    with raises_integrity(), transaction.atomic():
        ResponseFactory(wave=wave, locality=locality_a, respondent=official_a, **official)
    # History is allowed: a superseded response no longer counts as current.
    ResponseFactory(wave=wave, locality=locality_a, respondent=official_a, is_current=False, **official)
    assert Response.objects.filter(respondent=official_a).count() == 2


def test_an_official_response_names_its_respondent(wave: Wave, locality_a: Locality) -> None:
    with raises_integrity(), transaction.atomic():
        ResponseFactory(wave=wave, locality=locality_a, audience=Audience.OFFICIAL, respondent=None)


def test_audience_must_be_known(wave: Wave, locality_a: Locality) -> None:
    with raises_integrity(), transaction.atomic():
        ResponseFactory(wave=wave, locality=locality_a, audience="journalist")


def test_a_questionnaire_version_in_use_is_immutable(wave: Wave) -> None:
    version = wave.citizen_version
    version.definition = {**version.definition, "title": {"en": "Changed"}}
    with raises_integrity(), transaction.atomic():
        version.save()
    with raises_integrity(), transaction.atomic():
        QuestionnaireVersion.objects.filter(pk=version.pk).update(checksum="0" * 64)
    version.refresh_from_db()
    assert version.definition["title"]["en"] != "Changed"


def test_a_version_no_wave_uses_may_still_be_corrected(study: Study) -> None:
    version = QuestionnaireVersion.objects.filter(questionnaire__study=study).first()
    assert version is not None
    QuestionnaireVersion.objects.filter(pk=version.pk).update(checksum="f" * 64)
    version.refresh_from_db()
    assert version.checksum == "f" * 64


def test_version_numbers_are_unique_per_questionnaire(study: Study) -> None:
    version = QuestionnaireVersion.objects.filter(questionnaire__study=study).first()
    assert version is not None
    with raises_integrity(), transaction.atomic():
        QuestionnaireVersion.objects.create(
            questionnaire=version.questionnaire, number=version.number, definition={}, checksum="x"
        )


def test_a_wave_closes_after_it_opens(wave: Wave) -> None:
    now = timezone.now()
    with raises_integrity(), transaction.atomic():
        Wave.objects.filter(pk=wave.pk).update(opens_at=now, closes_at=now - timedelta(days=1))


@pytest.mark.parametrize("field", ["min_citizens", "min_officials"])
def test_suppression_thresholds_are_positive(wave: Wave, field: str) -> None:
    with raises_integrity(), transaction.atomic():
        Wave.objects.filter(pk=wave.pk).update(**{field: 0})


def test_suppression_thresholds_default_to_10_and_3(wave: Wave) -> None:
    assert (wave.min_citizens, wave.min_officials) == (10, 3)


def test_a_wave_status_must_be_known(wave: Wave) -> None:
    with raises_integrity(), transaction.atomic():
        Wave.objects.filter(pk=wave.pk).update(status="paused")


def test_a_wave_asks_two_different_versions(wave: Wave) -> None:
    with raises_integrity(), transaction.atomic():
        Wave.objects.filter(pk=wave.pk).update(official_version=wave.citizen_version)


def test_a_locality_is_in_a_wave_once(wave: Wave, locality_a: Locality) -> None:
    with raises_integrity(), transaction.atomic():
        WaveLocality.objects.create(wave=wave, locality=locality_a)


def test_a_locality_is_not_its_own_parent(locality_a: Locality) -> None:
    with raises_integrity(), transaction.atomic():
        Locality.objects.filter(pk=locality_a.pk).update(parent=locality_a)


def test_activity_codes_are_unique_per_study(study: Study) -> None:
    activity = study.activities.first()
    assert activity is not None
    with raises_integrity(), transaction.atomic():
        study.activities.create(
            service_area=activity.service_area, code=activity.code, kind="individual", name={}
        )


def test_wave_clean_rejects_versions_of_the_wrong_audience(wave: Wave) -> None:
    from django.core.exceptions import ValidationError

    wave.citizen_version, wave.official_version = wave.official_version, wave.citizen_version
    with pytest.raises(ValidationError) as raised:
        wave.full_clean()
    assert {"citizen_version", "official_version"} <= set(raised.value.message_dict)


def test_locality_clean_checks_population_margins(locality_a: Locality) -> None:
    from django.core.exceptions import ValidationError

    locality_a.population_margins = {"18_29": {"female": 100, "male": -1}}
    with pytest.raises(ValidationError, match=r"18_29\.male"):
        locality_a.full_clean()
    locality_a.population_margins = {"18_29": {"female": 100, "male": 90}}
    locality_a.full_clean()


def test_loading_the_study_twice_keeps_one_version_each() -> None:
    study_load(definition=builtin_definition())
    study_load(definition=builtin_definition())
    assert QuestionnaireVersion.objects.count() == 2


HOUR = timedelta(hours=1)


@pytest.mark.parametrize("status", ["draft", "open", "closed", "archived"])
@pytest.mark.parametrize(
    ("opens", "closes"),
    [(None, None), (-2, None), (1, None), (None, -1), (None, 1), (-2, -1), (-1, 1), (1, 2)],
)
def test_the_queryset_of_waves_accepting_responses_keeps_the_rule_for_one_wave(
    wave: Wave, status: str, opens: int | None, closes: int | None
) -> None:
    """Wave.objects.accepting_responses() (lists, the API) and
    wave_accepts_responses (every submission) never disagree."""
    from surveys.services.responses import wave_accepts_responses

    now = timezone.now()
    Wave.objects.filter(pk=wave.pk).update(
        status=status,
        opens_at=None if opens is None else now + opens * HOUR,
        closes_at=None if closes is None else now + closes * HOUR,
    )
    stored = Wave.objects.get(pk=wave.pk)

    listed = Wave.objects.accepting_responses().filter(pk=wave.pk).exists()
    assert listed == wave_accepts_responses(stored)
    assert listed == (status == "open" and opens in (None, -2, -1) and closes in (None, 1))
    assert stored.has_closed == (status in ("closed", "archived") or closes == -1)
