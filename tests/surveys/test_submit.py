"""surveys.services.response_submit: the one path every submission takes."""

from __future__ import annotations

import random
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from surveys.errors import (
    InvalidResponse,
    InvitationInvalid,
    InvitationUsed,
    SubmissionConflict,
    SubmissionForbidden,
    UnknownLocality,
    WaveNotOpen,
)
from surveys.models import Audience, Invitation, Response, Wave
from surveys.services.invitations import invitations_issue
from surveys.services.responses import response_submit
from surveys.services.waves import wave_close
from surveys.signals import response_submitted
from surveys.synthetic import answers_generate

pytestmark = pytest.mark.django_db


def citizen_answers(wave: Wave, seed: int = 1) -> dict[str, Any]:
    return answers_generate(wave.citizen_version.definition, random.Random(seed), optional_skip=0)


def official_answers(wave: Wave, seed: int = 1) -> dict[str, Any]:
    return answers_generate(wave.official_version.definition, random.Random(seed), optional_skip=0)


def submit(wave: Wave, answers: dict[str, Any], **overrides: Any):
    arguments: dict[str, Any] = {
        "wave": wave,
        "submission_id": uuid.uuid4(),
        "audience": Audience.CITIZEN,
        "locality_code": "alpha",
        "language": "en",
        "answers": answers,
    }
    arguments.update(overrides)
    return response_submit(**arguments)


def test_a_valid_citizen_response_is_saved_with_a_receipt(wave: Wave) -> None:
    answers = citizen_answers(wave)

    result = submit(wave, answers)

    assert result.created
    stored = Response.objects.get()
    assert stored.answers == answers
    assert stored.questionnaire_version == wave.citizen_version
    assert stored.locality.code == "alpha"
    assert len(stored.receipt) == 14 and stored.receipt[4] == "-"
    assert stored.is_current


def test_the_same_submission_again_is_a_safe_retry(wave: Wave) -> None:
    answers, submission_id = citizen_answers(wave), uuid.uuid4()
    first = submit(wave, answers, submission_id=submission_id)

    again = submit(wave, dict(answers), submission_id=submission_id)

    assert not again.created
    assert again.response.pk == first.response.pk
    assert again.response.receipt == first.response.receipt
    assert Response.objects.count() == 1


def test_the_same_submission_id_with_other_answers_conflicts(wave: Wave) -> None:
    submission_id = uuid.uuid4()
    submit(wave, citizen_answers(wave, seed=1), submission_id=submission_id)
    with pytest.raises(SubmissionConflict):
        submit(wave, citizen_answers(wave, seed=2), submission_id=submission_id)
    assert Response.objects.count() == 1


def test_every_problem_with_the_answers_is_listed_and_nothing_saved(wave: Wave) -> None:
    answers = citizen_answers(wave)
    answers["safety_secure_home"] = "sometimes_maybe"  # not a choice
    answers["household_size"] = 99  # above max 20
    answers["no_such_item"] = "x"  # unknown
    del answers["age_band"]  # required
    answers["willing_more"] = "no"
    answers["willing_areas"] = ["health"]  # hidden when willing_more is no
    answers["comments"] = 42  # text expected

    with pytest.raises(InvalidResponse) as raised:
        submit(wave, answers)

    assert set(raised.value.errors) == {
        "answers.safety_secure_home",
        "answers.household_size",
        "answers.no_such_item",
        "answers.age_band",
        "answers.willing_areas",
        "answers.comments",
    }
    assert "at most 20" in raised.value.errors["answers.household_size"][0]
    assert Response.objects.count() == 0


def test_an_unknown_language_is_rejected(wave: Wave) -> None:
    with pytest.raises(InvalidResponse) as raised:
        submit(wave, citizen_answers(wave), language="sv")
    assert "language" in raised.value.errors


def test_a_wave_that_is_not_open_takes_no_responses(wave: Wave) -> None:
    wave_close(wave=wave)
    wave.refresh_from_db()
    with pytest.raises(WaveNotOpen):
        submit(wave, citizen_answers(wave))


def test_a_wave_past_its_closing_time_takes_no_responses(wave: Wave) -> None:
    now = timezone.now()
    Wave.objects.filter(pk=wave.pk).update(
        opens_at=now - timedelta(days=7), closes_at=now - timedelta(seconds=1)
    )
    wave.refresh_from_db()
    with pytest.raises(WaveNotOpen):
        submit(wave, citizen_answers(wave))


def test_a_locality_outside_the_wave_is_refused(wave: Wave) -> None:
    with pytest.raises(UnknownLocality):
        submit(wave, citizen_answers(wave), locality_code="gamma")


def test_an_invitation_is_single_use(wave: Wave, locality_a) -> None:
    [issued] = invitations_issue(wave=wave, audience=Audience.CITIZEN, locality=locality_a)
    first = submit(wave, citizen_answers(wave), invitation_token=issued.token)
    assert first.response.invitation == issued.invitation

    with pytest.raises(InvitationUsed):
        submit(wave, citizen_answers(wave, seed=3), invitation_token=issued.token)
    assert Invitation.objects.get().used_at is not None
    assert Response.objects.count() == 1


def test_an_invitation_is_bound_to_its_locality_and_audience(wave: Wave, locality_b) -> None:
    [issued] = invitations_issue(wave=wave, audience=Audience.CITIZEN, locality=locality_b)
    with pytest.raises(SubmissionForbidden):
        submit(wave, citizen_answers(wave), invitation_token=issued.token, locality_code="alpha")
    assert Invitation.objects.get().used_at is None


def test_an_unknown_invitation_token_is_refused(wave: Wave) -> None:
    with pytest.raises(InvitationInvalid):
        submit(wave, citizen_answers(wave), invitation_token="made-up")


def test_officials_answer_only_for_their_localities(wave: Wave, official_a, official_b) -> None:
    with pytest.raises(SubmissionForbidden):
        submit(wave, official_answers(wave), audience=Audience.OFFICIAL, user=official_b)
    with pytest.raises(SubmissionForbidden):
        submit(wave, official_answers(wave), audience=Audience.OFFICIAL, user=None)
    result = submit(wave, official_answers(wave), audience=Audience.OFFICIAL, user=official_a)
    assert result.response.respondent == official_a


def test_an_officials_new_submission_supersedes_the_earlier_one(wave: Wave, official_a) -> None:
    first = submit(wave, official_answers(wave, 1), audience=Audience.OFFICIAL, user=official_a)
    second = submit(wave, official_answers(wave, 2), audience=Audience.OFFICIAL, user=official_a)

    first.response.refresh_from_db()
    assert not first.response.is_current
    assert second.response.is_current
    assert Response.objects.filter(respondent=official_a).count() == 2


def test_analytics_is_told_after_commit(wave: Wave, django_capture_on_commit_callbacks) -> None:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    response_submitted.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            result = submit(wave, citizen_answers(wave))
            assert received == []  # not before the commit
    finally:
        response_submitted.disconnect(receiver)

    assert len(callbacks) == 1
    assert received[0]["wave_id"] == wave.pk
    assert received[0]["response_id"] == result.response.pk
    assert received[0]["audience"] == "citizen"


def test_a_manager_entering_a_paper_response_is_recorded(wave: Wave, manager) -> None:
    result = submit(wave, citizen_answers(wave), user=manager)
    assert result.response.submitted_by == manager
    assert result.response.respondent is None


def test_a_retry_after_the_wave_closed_still_gets_its_receipt(wave: Wave) -> None:
    answers, submission_id = citizen_answers(wave), uuid.uuid4()
    first = submit(wave, answers, submission_id=submission_id)
    wave_close(wave=wave)
    wave.refresh_from_db()

    again = submit(wave, answers, submission_id=submission_id)

    assert not again.created
    assert again.response.receipt == first.response.receipt
    with pytest.raises(WaveNotOpen):
        submit(wave, answers)  # a new response is refused


def test_receipts_are_twelve_random_characters_of_the_crockford_alphabet() -> None:
    from surveys.services.responses import RECEIPT_ALPHABET, receipt_generate

    receipts = [receipt_generate() for _ in range(3000)]
    assert all(
        re.fullmatch(rf"[{RECEIPT_ALPHABET}]{{4}}-[{RECEIPT_ALPHABET}]{{4}}-[{RECEIPT_ALPHABET}]{{4}}", r)
        for r in receipts
    )
    assert len(set(receipts)) == len(receipts)
    for position in range(14):
        if position in (4, 9):
            continue
        seen = {r[position] for r in receipts}
        assert seen == set(RECEIPT_ALPHABET), (position, sorted(set(RECEIPT_ALPHABET) - seen))
