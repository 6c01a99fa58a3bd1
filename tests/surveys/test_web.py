"""The web journeys through Django's test client (the browser tests drive the same pages)."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from surveys.models import Draft, Response, Wave
from surveys.services.invitations import invitations_issue
from surveys.services.waves import wave_close
from surveys.synthetic import answers_generate
from surveys.views.journey import visible_pages
from tests.factories import ResponseFactory

pytestmark = pytest.mark.django_db


def form_data(section: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in section["items"]:
        value = answers.get(item["code"])
        if value is not None:
            data[item["code"]] = value if isinstance(value, list) else str(value)
    return data


def answer_all(client: Client, wave: Wave, answers: dict[str, Any], prefix: str) -> Any:
    """Post every visible page with ``answers``; returns the last response (the review page)."""
    definition = wave.citizen_version.definition if "/w/" in prefix else wave.official_version.definition
    response = None
    for number in visible_pages(definition, answers):
        section = definition["sections"][number - 1]
        response = client.post(f"{prefix}p/{number}/", {**form_data(section, answers), "action": "next"})
        assert response.status_code == 302, response.content.decode()[:2000]
    return response


def start(client: Client, wave: Wave, locality: str = "alpha") -> None:
    response = client.post(f"/w/{wave.code}/", {"locality": locality})
    assert response.status_code == 302
    assert response["Location"] == f"/w/{wave.code}/p/1/"


def citizen_answers(wave: Wave, seed: int = 5) -> dict[str, Any]:
    return answers_generate(wave.citizen_version.definition, random.Random(seed), optional_skip=0)


def test_a_citizen_answers_every_page_reviews_and_gets_a_receipt(citizen: Client, wave: Wave) -> None:
    answers = citizen_answers(wave)
    start(citizen, wave)

    last = answer_all(citizen, wave, answers, f"/w/{wave.code}/")
    assert last["Location"] == f"/w/{wave.code}/review/"
    review = citizen.get(f"/w/{wave.code}/review/")
    assert review.status_code == 200
    assert "Check your answers" in review.content.decode()
    sent = citizen.post(f"/w/{wave.code}/review/")
    done = citizen.get(sent["Location"])

    stored = Response.objects.get()
    assert stored.receipt in done.content.decode()
    assert stored.answers == {k: v for k, v in answers.items() if v is not None}
    assert stored.locality.code == "alpha"
    # Sending again (a double click) stores nothing new.
    citizen.post(f"/w/{wave.code}/review/")
    assert Response.objects.count() == 1


def test_a_page_posted_without_a_draft_or_after_sending_changes_nothing(citizen: Client, wave: Wave) -> None:
    """A page is saved before anything else is read: a browser with no draft
    goes to the start, and one whose answers were sent to the receipt, with
    the sent draft (and response) untouched."""
    page_1 = f"/w/{wave.code}/p/1/"
    assert citizen.post(page_1, {"safety_secure_home": "often"})["Location"] == f"/w/{wave.code}/"
    assert not Draft.objects.exists()

    answers = citizen_answers(wave)
    start(citizen, wave)
    answer_all(citizen, wave, answers, f"/w/{wave.code}/")
    citizen.post(f"/w/{wave.code}/review/")
    sent = Draft.objects.get().answers
    again = citizen.post(
        page_1, {"safety_secure_home": "never" if sent["safety_secure_home"] != "never" else "often"}
    )

    assert again["Location"] == f"/w/{wave.code}/done/"
    assert Draft.objects.get().answers == sent
    assert Response.objects.get().answers == {k: v for k, v in answers.items() if v is not None}


def test_a_missing_required_answer_is_shown_beside_the_question_and_in_a_summary(
    citizen: Client, wave: Wave
) -> None:
    start(citizen, wave)
    response = citizen.post(f"/w/{wave.code}/p/1/", {"safety_secure_home": "often", "action": "next"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="error-summary"' in page
    assert 'href="#q-safety_report_crime"' in page
    assert 'id="err-safety_report_crime"' in page
    # What was typed is kept.
    assert re.search(r'value="often"\s+checked', page)
    assert Draft.objects.get().answers == {"safety_secure_home": "often"}


def test_back_keeps_answers_without_validating(citizen: Client, wave: Wave) -> None:
    start(citizen, wave)
    answers = citizen_answers(wave)
    definition = wave.citizen_version.definition
    citizen.post(f"/w/{wave.code}/p/1/", {**form_data(definition["sections"][0], answers), "action": "next"})
    back = citizen.post(f"/w/{wave.code}/p/2/", {"environment_recycle": "often", "action": "back"})

    assert back["Location"] == f"/w/{wave.code}/p/1/"
    assert Draft.objects.get().answers["environment_recycle"] == "often"
    again = citizen.get(f"/w/{wave.code}/p/2/").content.decode()
    assert re.search(r'value="often"\s+checked', again)


def test_a_reload_or_a_new_visit_restores_the_answers(citizen: Client, wave: Wave) -> None:
    start(citizen, wave)
    citizen.post(f"/w/{wave.code}/p/1/", {"safety_secure_home": "rarely", "action": "back"})

    landing = citizen.get(f"/w/{wave.code}/").content.decode()
    assert "Continue where you left off" in landing
    assert re.search(r'value="rarely"\s+checked', citizen.get(f"/w/{wave.code}/p/1/").content.decode())


def test_a_citizens_journey_keeps_no_server_side_session(citizen: Client, wave: Wave) -> None:
    start(citizen, wave)
    saved = citizen.post(f"/w/{wave.code}/p/1/", {"safety_secure_home": "often", "action": "save"})
    shown = citizen.get(saved["Location"]).content.decode()
    assert re.search(r'id="resume-code">[0-9A-Z-]+<', shown)
    assert not re.search(r'id="resume-code">', citizen.get(saved["Location"]).content.decode())  # shown once
    answer_all(citizen, wave, citizen_answers(wave), f"/w/{wave.code}/")
    citizen.post(f"/w/{wave.code}/review/")

    assert Response.objects.count() == 1
    assert Session.objects.count() == 0
    assert settings.SESSION_COOKIE_NAME not in citizen.cookies
    cookie = citizen.cookies[f"coprod_draft_{wave.code}"]
    assert cookie.value.startswith(f"{Draft.objects.get().submission_id}:")  # not the sequential id
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert int(cookie["max-age"]) == settings.DRAFT_RETENTION_DAYS * 24 * 3600


def test_over_https_the_draft_cookie_is_host_only_and_secure(wave: Wave, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SESSION_COOKIE_SECURE = True
    browser = Client()
    start(browser, wave)
    cookie = browser.cookies[f"__Host-coprod_draft_{wave.code}"]
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]
    assert browser.get(f"/w/{wave.code}/p/1/").status_code == 200


def test_answers_in_progress_are_never_cached(citizen: Client, wave: Wave) -> None:
    for response in (
        citizen.get(f"/w/{wave.code}/"),
        citizen.post(f"/w/{wave.code}/", {"locality": "alpha"}),
    ):
        assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    page = citizen.get(f"/w/{wave.code}/p/1/")
    assert "no-store" in page["Cache-Control"]


def test_a_draft_begun_before_the_draft_cookie_continues(citizen: Client, wave: Wave) -> None:
    """Citizens mid-questionnaire when this release was deployed had their
    draft in the session; they continue where they left off."""
    from surveys.services.drafts import draft_start
    from surveys.views.journey import citizen_session_key

    draft = draft_start(wave=wave, audience="citizen", locality_code="alpha", language="en")
    draft.answers = {"safety_secure_home": "rarely"}
    draft.save()
    session = citizen.session
    session[citizen_session_key(wave.code)] = draft.pk
    session.save()

    assert "Continue where you left off" in citizen.get(f"/w/{wave.code}/").content.decode()
    assert re.search(r'value="rarely"\s+checked', citizen.get(f"/w/{wave.code}/p/1/").content.decode())
    citizen.post(f"/w/{wave.code}/restart/")
    assert "Continue where you left off" not in citizen.get(f"/w/{wave.code}/").content.decode()


def test_the_draft_cookie_cannot_be_pointed_at_another_draft(citizen: Client, wave: Wave) -> None:
    start(citizen, wave)
    citizen.post(f"/w/{wave.code}/p/1/", {"safety_secure_home": "rarely", "action": "back"})
    mine = Draft.objects.get()
    other = Client()
    start(other, wave)
    theirs = Draft.objects.exclude(pk=mine.pk).get()
    name = f"coprod_draft_{wave.code}"
    signed = other.cookies[name].value
    assert signed.startswith(f"{theirs.submission_id}:")
    other.cookies[name] = f"{mine.submission_id}:" + signed.split(":", 1)[1]

    page = other.get(f"/w/{wave.code}/p/1/")

    assert page.status_code == 302 and page["Location"] == f"/w/{wave.code}/"
    assert "Continue where you left off" not in other.get(f"/w/{wave.code}/").content.decode()


def test_starting_afresh_forgets_the_draft_in_this_browser_only(citizen: Client, wave: Wave) -> None:
    start(citizen, wave)
    citizen.post(f"/w/{wave.code}/p/1/", {"safety_secure_home": "rarely", "action": "back"})

    restarted = citizen.post(f"/w/{wave.code}/restart/")

    assert restarted["Location"] == f"/w/{wave.code}/"
    assert "Continue where you left off" not in citizen.get(f"/w/{wave.code}/").content.decode()
    assert citizen.get(f"/w/{wave.code}/p/1/")["Location"] == f"/w/{wave.code}/"
    assert Draft.objects.get().answers == {"safety_secure_home": "rarely"}  # kept for its resume code


def test_a_resume_code_restores_the_answers_in_another_browser(citizen: Client, wave: Wave) -> None:
    start(citizen, wave)
    saved = citizen.post(f"/w/{wave.code}/p/1/", {"safety_secure_home": "sometimes", "action": "save"})
    code = re.search(
        r'id="resume-code">([0-9A-Z-]+)<', citizen.get(saved["Location"]).content.decode()
    ).group(1)

    other = Client()
    wrong = other.post(f"/w/{wave.code}/resume/", {"code": "AAAA-AAAA-AAAA"})
    assert "could not find" in wrong.content.decode()
    resumed = other.post(f"/w/{wave.code}/resume/", {"code": code.lower().replace("-", " ")})
    assert resumed.status_code == 302
    page = other.get(resumed["Location"]).content.decode()
    assert re.search(r'value="sometimes"\s+checked', page)


def _up_to_page_5_unwilling_then_ticking_an_area(citizen: Client, wave: Wave) -> dict[str, Any]:
    """Pages 1-4 answered, "willing_more" no; page 5's form with the follow-up
    "willing_areas" ticked anyway (without JavaScript that question is shown)."""
    answers = citizen_answers(wave)
    answers["willing_more"] = "no"
    answers.pop("willing_areas", None)
    start(citizen, wave)
    definition = wave.citizen_version.definition
    for number in range(1, 5):
        citizen.post(
            f"/w/{wave.code}/p/{number}/",
            {**form_data(definition["sections"][number - 1], answers), "action": "next"},
        )
    return {**form_data(definition["sections"][4], answers), "willing_areas": ["health"], "action": "next"}


def test_a_relevance_rule_drops_answers_the_respondent_made_irrelevant(citizen: Client, wave: Wave) -> None:
    page5 = _up_to_page_5_unwilling_then_ticking_an_area(citizen, wave)
    assert citizen.post(f"/w/{wave.code}/p/5/", page5).status_code == 302
    assert "willing_areas" not in Draft.objects.get().answers


def test_answers_sent_from_another_tab_while_a_page_drops_hidden_ones_stay_sent(
    citizen: Client, wave: Wave, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page is saved, then its own now-hidden answers are dropped by a second
    statement; if another tab sent the answers in between, the page leads to
    the receipt (no error) and the sent draft is not touched again."""
    from surveys.views import journey

    page5 = _up_to_page_5_unwilling_then_ticking_an_area(citizen, wave)
    response = ResponseFactory(wave=wave, locality=Draft.objects.get().locality)
    real_save = journey.draft_save_page
    calls = []

    def save_then_sent_elsewhere(**kwargs: Any) -> Any:
        saved = real_save(**kwargs)
        calls.append(kwargs["answers"])
        Draft.objects.update(response=response)  # the other tab's submit, committed now
        return saved

    monkeypatch.setattr(journey, "draft_save_page", save_then_sent_elsewhere)
    reply = citizen.post(f"/w/{wave.code}/p/5/", page5)

    assert reply.status_code == 302 and reply["Location"] == f"/w/{wave.code}/done/"
    assert calls[-1] == {"willing_areas": None}, "the second statement was not tried"
    assert Draft.objects.get().answers["willing_areas"] == ["health"], "a sent draft was changed"


def test_an_invitation_link_is_exchanged_for_a_session(citizen: Client, wave: Wave, locality_b) -> None:
    [issued] = invitations_issue(wave=wave, audience="citizen", locality=locality_b)

    entry = citizen.get(f"/i/{issued.token}/")

    assert entry.status_code == 302
    assert issued.token not in entry["Location"]
    assert entry["Referrer-Policy"] == "no-referrer"
    answer_all(citizen, wave, citizen_answers(wave), f"/w/{wave.code}/")
    citizen.post(f"/w/{wave.code}/review/")
    stored = Response.objects.get()
    assert stored.invitation == issued.invitation
    assert stored.locality == locality_b

    used = Client().get(f"/i/{issued.token}/", follow=True)
    assert used.status_code == 410
    assert "already been used" in used.content.decode()
    assert Client().get("/i/not-a-token/", follow=True).status_code == 404


@pytest.mark.parametrize(
    ("problem", "status", "says"),
    [
        ("used", 410, "Cette invitation a déjà été utilisée"),
        ("invalid", 404, "Veuillez vérifier que vous"),
        ("closed", 409, "Cette enquête est terminée"),
    ],
)
def test_an_invitation_that_cannot_be_used_leads_to_a_page_without_the_token(
    citizen: Client, wave: Wave, locality_b, problem: str, status: int, says: str
) -> None:
    """A page with a form (the language menu) is never served at the token's
    URL: under its Referrer-Policy: no-referrer the browser posts that form
    with Origin: null, which the CSRF check refuses."""
    [issued] = invitations_issue(wave=wave, audience="citizen", locality=locality_b)
    token = issued.token
    if problem == "used":
        issued.invitation.used_at = timezone.now()
        issued.invitation.save(update_fields=["used_at"])
    elif problem == "invalid":
        token = "not-a-token"
    else:
        wave_close(wave=wave)

    entry = citizen.get(f"/i/{token}/", HTTP_ACCEPT_LANGUAGE="fr")

    assert entry.status_code == 302
    assert entry["Referrer-Policy"] == "no-referrer"
    assert entry["Location"] == f"/invitation/{problem}/"
    shown = citizen.get(entry["Location"], HTTP_ACCEPT_LANGUAGE="fr")
    assert shown.status_code == status
    assert shown["Referrer-Policy"] == "same-origin"
    assert says in shown.content.decode()
    assert 'action="/i18n/setlang/"' in shown.content.decode()
    assert citizen.get("/invitation/other/").status_code == 404


def test_a_closed_wave_says_so_in_the_citizens_language(citizen: Client, wave: Wave) -> None:
    wave_close(wave=wave)
    response = citizen.get(f"/w/{wave.code}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "This survey has closed" in response.content.decode()


def reschedule(wave: Wave, *, opens: timedelta | None, closes: timedelta | None) -> None:
    """Move the wave's opening and closing times (from now), as the admin would."""
    now = timezone.now()
    wave.opens_at = None if opens is None else now + opens
    wave.closes_at = None if closes is None else now + closes
    wave.save(update_fields=["opens_at", "closes_at"])


PAST_CLOSING = {"opens": -timedelta(days=2), "closes": -timedelta(minutes=1)}
BEFORE_OPENING = {"opens": timedelta(days=1), "closes": None}


@pytest.mark.parametrize(
    ("times", "says"),
    [(PAST_CLOSING, "This survey has closed"), (BEFORE_OPENING, "This survey is not open")],
)
def test_once_a_wave_stops_accepting_responses_every_page_says_so_and_the_draft_is_kept(
    citizen: Client, wave: Wave, times: dict[str, timedelta | None], says: str
) -> None:
    # Given a citizen half-way through, with answers saved on page 1
    answers = citizen_answers(wave)
    start(citizen, wave)
    section = wave.citizen_version.definition["sections"][0]
    citizen.post(f"/w/{wave.code}/p/1/", {**form_data(section, answers), "action": "next"})
    saved = Draft.objects.get().answers
    assert saved

    # When the wave's closing time passes (or its opening time moves into the future), still "open"
    reschedule(wave, **times)

    # Then every page of the journey says so at once, not only the final submit
    w = f"/w/{wave.code}"
    for response in (
        citizen.get("/", HTTP_ACCEPT_LANGUAGE="en"),
        citizen.get(f"{w}/"),
        citizen.get(f"{w}/p/1/"),
        citizen.post(f"{w}/p/2/", {"environment_recycle": "often", "action": "next"}),
        citizen.post(f"{w}/p/1/", {"safety_secure_home": "never", "action": "back"}),
        citizen.get(f"{w}/review/"),
        citizen.post(f"{w}/review/"),
    ):
        if response.wsgi_request.path == "/":
            assert f'href="{w}/"' not in response.content.decode()  # not listed as open
            continue
        assert response.status_code == 409, response.wsgi_request.path
        assert says in response.content.decode()
    # and the answers the draft held are kept, unchanged
    assert Draft.objects.get().answers == saved
    assert not Response.objects.exists()


def test_the_receipt_stays_reachable_after_the_wave_closes(citizen: Client, wave: Wave) -> None:
    start(citizen, wave)
    answer_all(citizen, wave, citizen_answers(wave), f"/w/{wave.code}/")
    citizen.post(f"/w/{wave.code}/review/")
    receipt = Response.objects.get().receipt

    reschedule(wave, **PAST_CLOSING)

    done = citizen.get(f"/w/{wave.code}/done/")
    assert done.status_code == 200 and receipt in done.content.decode()


@pytest.mark.parametrize(
    ("times", "says"),
    [(PAST_CLOSING, "This survey has closed"), (BEFORE_OPENING, "This survey is not open")],
)
def test_an_invitation_to_a_wave_past_its_closing_time_says_closed(
    citizen: Client, wave: Wave, locality_b, times: dict[str, timedelta | None], says: str
) -> None:
    [issued] = invitations_issue(wave=wave, audience="citizen", locality=locality_b)
    reschedule(wave, **times)

    response = citizen.get(f"/i/{issued.token}/", follow=True)

    assert response.status_code == 409
    assert says in response.content.decode()
    assert not Draft.objects.exists()


def test_officials_see_only_the_waves_accepting_responses_now(wave: Wave, official_a) -> None:
    client = Client()
    client.force_login(official_a)
    assert f"/official/{wave.code}/alpha/start/" in client.get("/official/").content.decode()

    reschedule(wave, **PAST_CLOSING)

    assert f"/official/{wave.code}/alpha/start/" not in client.get("/official/").content.decode()
    refused = client.post(f"/official/{wave.code}/alpha/start/")
    assert refused.status_code == 409 and "This survey has closed" in refused.content.decode()


def test_the_questionnaire_speaks_the_browsers_language(citizen: Client, wave: Wave) -> None:
    start(citizen, wave)
    page = citizen.get(f"/w/{wave.code}/p/1/", HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    definition = wave.citizen_version.definition
    assert definition["sections"][0]["title"]["cs"] in page
    assert 'lang="cs"' in page
    assert '<span class="required">(povinné)</span>' in page  # the interface's words inside questions too
    english = citizen.get(f"/w/{wave.code}/p/1/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span class="required">(required)</span>' in english


def test_an_official_signs_in_answers_and_can_change_the_answer(wave: Wave, official_a) -> None:
    client = Client()
    assert client.get("/official/")["Location"].startswith("/accounts/login/")
    login = client.post(
        "/accounts/login/?next=/official/",
        {"username": official_a.username, "password": "correct-horse-battery-staple", "next": "/official/"},
    )
    assert login.status_code == 302
    home = client.get("/official/").content.decode()
    assert "Not answered yet" in home

    answers = answers_generate(wave.official_version.definition, random.Random(3), optional_skip=0)
    client.post(f"/official/{wave.code}/alpha/start/")
    answer_all(client, wave, answers, f"/official/{wave.code}/alpha/")
    done = client.post(f"/official/{wave.code}/alpha/review/")
    assert done["Location"] == f"/official/{wave.code}/alpha/done/"
    first = Response.objects.get(respondent=official_a)

    # Changing: the form starts from the earlier answer; the new one supersedes it.
    client.post(f"/official/{wave.code}/alpha/start/")
    page2 = client.get(f"/official/{wave.code}/alpha/p/2/").content.decode()
    some_estimate = next(k for k in answers if k.startswith("est_"))
    assert f'value="{answers[some_estimate]}"' in page2
    answer_all(client, wave, {**answers, some_estimate: 1}, f"/official/{wave.code}/alpha/")
    client.post(f"/official/{wave.code}/alpha/review/")
    first.refresh_from_db()
    assert not first.is_current
    assert Response.objects.get(respondent=official_a, is_current=True).answers[some_estimate] == 1


def test_officials_cannot_open_other_localities(wave: Wave, official_a) -> None:
    client = Client()
    client.force_login(official_a)
    assert client.post(f"/official/{wave.code}/beta/start/").status_code == 404


def test_citizens_cannot_open_the_officials_pages(citizen: Client, manager, wave: Wave) -> None:
    citizen.force_login(manager)
    assert citizen.get("/official/").status_code == 403


@pytest.mark.parametrize("typed", ["nan", "inf", "1e999", "-Infinity"])
def test_a_number_that_is_not_finite_is_an_error_not_a_crash(citizen: Client, wave: Wave, typed: str) -> None:
    start(citizen, wave)
    definition = wave.citizen_version.definition
    answers = citizen_answers(wave)
    for number in range(1, 6):
        citizen.post(
            f"/w/{wave.code}/p/{number}/",
            {**form_data(definition["sections"][number - 1], answers), "action": "next"},
        )
    page6 = {**form_data(definition["sections"][5], answers), "household_size": typed, "action": "next"}

    response = citizen.post(f"/w/{wave.code}/p/6/", page6)

    assert response.status_code == 200
    assert 'id="err-household_size"' in response.content.decode()


def test_web_forms_are_rate_limited_per_client(citizen: Client, wave: Wave, monkeypatch) -> None:
    from django.conf import settings

    monkeypatch.setitem(settings.THROTTLE_RATES, "web_start", "2/hour")
    statuses = [citizen.post(f"/w/{wave.code}/", {"locality": "alpha"}).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    refused = citizen.post(f"/w/{wave.code}/", {"locality": "alpha"})
    assert int(refused["Retry-After"]) > 0
    assert "Please wait" in refused.content.decode()
    assert Client(REMOTE_ADDR="10.7.7.7").post(f"/w/{wave.code}/", {"locality": "alpha"}).status_code == 302


def test_wrong_resume_codes_are_limited_and_right_ones_are_not_counted(
    citizen: Client, wave: Wave, monkeypatch
) -> None:
    from django.conf import settings

    monkeypatch.setitem(settings.THROTTLE_RATES, "resume_fail", "2/hour")
    start(citizen, wave)
    saved = citizen.post(f"/w/{wave.code}/p/1/", {"safety_secure_home": "often", "action": "save"})
    code = re.search(
        r'id="resume-code">([0-9A-Z-]+)<', citizen.get(saved["Location"]).content.decode()
    ).group(1)
    other = Client()
    for _ in range(3):  # successes do not count
        assert other.post(f"/w/{wave.code}/resume/", {"code": code}).status_code == 302
    assert other.post(f"/w/{wave.code}/resume/", {"code": "AAAA-AAAA-AAAA"}).status_code == 200
    assert other.post(f"/w/{wave.code}/resume/", {"code": "AAAA-AAAA-AAAB"}).status_code == 200
    assert other.post(f"/w/{wave.code}/resume/", {"code": "AAAA-AAAA-AAAC"}).status_code == 429
    assert other.post(f"/w/{wave.code}/resume/", {"code": code}).status_code == 429  # blocked for a while


def test_sending_answers_shares_the_anonymous_submission_limit(
    citizen: Client, wave: Wave, monkeypatch
) -> None:
    from rest_framework.settings import api_settings

    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "submit_anon", "0/minute")
    start(citizen, wave)
    answer_all(citizen, wave, citizen_answers(wave), f"/w/{wave.code}/")
    assert citizen.post(f"/w/{wave.code}/review/").status_code == 429
    assert not Response.objects.exists()
    assert Draft.objects.get().answers  # nothing typed is lost


def test_old_unsent_drafts_expire_and_sent_ones_stay(citizen: Client, wave: Wave) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from surveys.services.drafts import drafts_expire
    from surveys.tasks import expire_drafts_task

    start(citizen, wave)
    Draft.objects.update(updated_at=timezone.now() - timedelta(days=31))
    assert expire_drafts_task.name == "surveys.expire_drafts"
    assert drafts_expire() == 1
    assert not Draft.objects.exists()


def test_signing_in_leads_officials_to_their_surveys_and_others_home(official_a, manager) -> None:
    client = Client()
    client.force_login(official_a)
    assert client.get("/accounts/welcome/")["Location"] == "/official/"
    client.force_login(manager)
    assert client.get("/accounts/welcome/")["Location"] == "/"


def test_choice_inputs_escape_everything_from_the_definition() -> None:
    """Choice markup is built in Python for speed: whatever a questionnaire's
    author typed is escaped as the template would escape it."""
    from surveys.forms import Choice, Question

    question = Question(
        code="q1", type="single_choice", text="", hint="", required=True, value=None, errors=["x"],
        choices=[Choice('a"><script>', "<b>Yes</b> & more", True), Choice("no", "No", False)],
    )  # fmt: skip
    html = str(question.html)
    assert "<script>" not in html and "<b>" not in html
    assert 'value="a&quot;&gt;&lt;script&gt;"' in html and "&lt;b&gt;Yes&lt;/b&gt; &amp; more" in html
    assert html.count(' aria-invalid="true"') == 2 and html.count(" checked") == 1
    assert '<input type="radio" id="f-q1-2" name="q1" value="no" aria-invalid="true">' in html


def test_question_markup_escapes_answers_and_links_hints_and_errors() -> None:
    """The rest of a question's markup, also built in Python, escapes what
    respondents typed and what authors wrote, and keeps the accessible links."""
    from django.utils import translation

    from surveys.forms import Question

    text = Question(
        code="t1", type="text", text="Say <i>it</i>", hint="Hint & more", required=True,
        value='</textarea><script>"', errors=["Too <long>"], attrs={"maxlength": "500"},
        relevant_json='{"item":"a","equals":"x"}',
    )  # fmt: skip
    html = str(text.html)
    assert "<script>" not in html and "<i>" not in html and "<long>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;&quot;</textarea>" in html
    assert 'data-relevant="{&quot;item&quot;:&quot;a&quot;,&quot;equals&quot;:&quot;x&quot;}"' in html
    assert (
        '<textarea id="f-t1" name="t1" rows="4" maxlength="500" aria-describedby="hint-t1 err-t1"'
        ' aria-required="true" aria-invalid="true">' in html
    )
    assert '<label class="question-text" for="f-t1">Say &lt;i&gt;it&lt;/i&gt; <span class="required">' in html

    number = Question(
        code="n1", type="percent", text="Share", hint="", required=False, value=12.5, errors=[],
        attrs={"inputmode": "decimal", "min": "0"},
    )  # fmt: skip
    with translation.override("fr"):
        html = str(number.html)
    assert 'value="12,5"' in html  # as the respondent's language writes it (and as the form reads it back)
    assert 'inputmode="decimal"' in html and "min=" not in html and "aria-describedby" not in html
    assert "pourcentage" in html


def test_a_locality_added_to_an_open_wave_is_offered_at_once(citizen: Client, wave: Wave, settings) -> None:  # type: ignore[no-untyped-def]
    from surveys.models import Locality
    from surveys.services.waves import wave_ensure

    settings.WAVE_CACHE_SECONDS = 600  # the start page's localities are this process's recent copy
    assert "Gamma" not in citizen.get(f"/w/{wave.code}/").content.decode()
    wave_ensure(
        code=wave.code, study=wave.study, localities=[Locality.objects.create(code="gamma", name="Gamma")]
    )

    assert "Gamma" in citizen.get(f"/w/{wave.code}/").content.decode()
    start(citizen, wave, "gamma")


def test_a_locality_another_process_removed_cannot_receive_the_response(
    citizen: Client, wave: Wave, settings
) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    settings.WAVE_CACHE_SECONDS = 600
    citizen.get(f"/w/{wave.code}/")
    with connection.cursor() as cursor:  # behind this process's back, as another server would
        cursor.execute(
            "DELETE FROM surveys_wavelocality WHERE wave_id = %s AND locality_id IN "
            "(SELECT id FROM surveys_locality WHERE code = 'beta')",
            [wave.pk],
        )
    start(citizen, wave, "beta")  # the stale copy still offers it
    answer_all(citizen, wave, citizen_answers(wave), f"/w/{wave.code}/")

    sent = citizen.post(f"/w/{wave.code}/review/")

    assert sent.status_code == 403
    assert Response.objects.count() == 0


@pytest.mark.parametrize("language", ["en", "cs"])
def test_review_rows_are_the_markup_of_the_template_they_replace(language: str) -> None:
    """Question.review_html (Python, for speed) against the template loop it
    replaced, whitespace aside: answered, unanswered, hostile text, errors."""
    from django.template import engines
    from django.utils import translation

    from surveys.forms import Choice, Question

    replaced = engines["django"].from_string(
        '{% load i18n %}<div class="answer-row{% if q.errors %} has-error{% endif %}">'
        "<dt>{{ q.text }}</dt><dd>{% if q.display_value %}{{ q.display_value }}{% else %}"
        '<span class="unanswered">{% translate "Not answered" %}</span>{% endif %}'
        '{% if q.errors %}<span class="error-message"><span class="visually-hidden">'
        '{% translate "Error:" %}</span> {{ q.errors|join:" " }}</span>{% endif %}</dd></div>'
    )
    questions = [
        Question(code="c", type="multiple_choice", text="Pick <b>", hint="", required=True, value=["a", "b"],
                 errors=[], choices=[Choice("a", "A & <i>", True), Choice("b", "B", True), Choice("c", "C", False)]),
        Question(code="p", type="percent", text="Share", hint="", required=False, value=12.5, errors=[]),
        Question(code="t", type="text", text="Say", hint="", required=True, value=None,
                 errors=["Required <now>", 'and "this"']),
        Question(code="x", type="text", text="T", hint="", required=False, value="</dd><script>", errors=[]),
    ]  # fmt: skip
    with translation.override(language):
        for question in questions:
            built = str(question.review_html).replace("\n", "")  # (the template's line breaks, too)
            assert built == replaced.render({"q": question}), question.code
            assert "<script>" not in built and "<i>" not in built and "<now>" not in built


OLD_HEADER = """{% load i18n static surveys_extras %}
<link rel="stylesheet" href="{% static 'surveys/coprod.css' %}">
<script src="{% static 'surveys/coprod.js' %}" defer></script>
<a class="skip-link" href="#main">{% translate "Skip to main content" %}</a>
<header class="site-header">
  <a class="brand" href="{% url 'surveys:home' %}">Coprod</a>
  {% if user.is_authenticated %}
  <nav aria-label="{% translate 'Account' %}" class="account">
    <a href="{% url 'surveys:official_home' %}">{% translate "Your surveys" %}</a>
    <form method="post" action="{% url 'surveys:logout' %}">{% csrf_token %}<button type="submit"
      class="link-button">{% translate "Sign out" %}</button></form>
  </nav>
  {% endif %}
  <form class="language" action="{% url 'set_language' %}" method="post">
    {% csrf_token %}
    <input name="next" type="hidden" value="{{ request.get_full_path }}">
    <label for="language-select">{% translate "Language" %}</label>
    <select id="language-select" name="language">
      {% language_options %}
    </select>
    <button type="submit">{% translate "Change language" %}</button>
  </form>
</header>"""


@pytest.mark.parametrize("language", ["en", "da"])
@pytest.mark.parametrize("signed_in", [False, True])
def test_the_site_header_is_the_markup_of_the_template_it_replaces(
    language: str, signed_in: bool, official_a
) -> None:
    """{% site_assets %} and {% site_header %} (built once per language, for
    speed) against the template they replaced, whitespace aside: links, the
    CSRF token in each form, the escaped current path, the signed-in links."""
    from django.contrib.auth.models import AnonymousUser
    from django.middleware.csrf import get_token
    from django.template import engines
    from django.test import RequestFactory
    from django.utils import translation

    request = RequestFactory().get('/w/x/p/1/?q="><script>alert(1)</script>')
    request.user = official_a if signed_in else AnonymousUser()
    get_token(request)  # as CsrfViewMiddleware does: one token for the whole page
    engine = engines["django"]
    new = engine.from_string("{% load surveys_extras %}{% site_assets %}{% site_header %}")

    def flat(html: str) -> str:  # (the token is masked afresh for every page)
        html = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', 'name="csrfmiddlewaretoken" value="T"', html)
        return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()

    with translation.override(language):
        old_html, new_html = engine.from_string(OLD_HEADER).render({}, request), new.render({}, request)
    assert flat(new_html) == flat(old_html)
    assert new_html.count('name="csrfmiddlewaretoken"') == (2 if signed_in else 1)
    assert "<script>alert" not in new_html
    assert 'value="/w/x/p/1/?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"' in new_html
    assert ("/official/" in new_html) is signed_in


# --- what a page can store -------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "page", "field", "typed"),
    [
        (5, {"willing_more": "no"}, "comments", "a\x00b"),
        (6, {"age_band": "18_29", "gender": "other", "area_type": "rural"}, "household_size", "3\x00"),
    ],
)
def test_a_nul_character_is_an_error_beside_its_question_and_is_never_saved(
    postgres, citizen: Client, wave: Wave, number: int, page: dict[str, str], field: str, typed: str
) -> None:
    """PostgreSQL refuses NUL in jsonb: such a value is refused like any
    invalid answer, and the rest of the page is saved."""
    start(citizen, wave)
    url = f"/w/{wave.code}/p/{number}/"
    earlier = "fine" if field == "comments" else "2"
    citizen.post(url, {**page, field: earlier, "action": "next"})

    response = citizen.post(url, {**page, field: typed, "action": "next"})

    assert response.status_code == 200
    shown = response.content.decode()
    assert f'href="#q-{field}"' in shown  # in the summary
    assert re.search(rf'id="err-{field}">.*Contains a character that is not allowed', shown)
    assert typed.replace("\x00", "\ufffd") in shown and "\x00" not in shown  # what was typed, shown back
    stored = Draft.objects.get().answers
    assert stored[field] == (earlier if field == "comments" else 2)  # the earlier answer kept
    assert all(stored[code] == value for code, value in page.items())
    # Whichever button: the value is never saved, and the page says why.
    for action in ("back", "save"):
        again = citizen.post(url, {**page, field: typed, "action": action})
        assert again.status_code == 200 and f'id="err-{field}"' in again.content.decode()


def test_a_page_stores_only_choice_codes_and_text_up_to_its_limit(citizen: Client, wave: Wave) -> None:
    start(citizen, wave)
    huge = "x" * 200_000  # the body stays under DATA_UPLOAD_MAX_MEMORY_SIZE: the page bounds it
    page_5 = f"/w/{wave.code}/p/5/"

    ticked = citizen.post(
        page_5,
        {"willing_more": "yes", "willing_areas": ["health", huge, "health", "safety"], "comments": huge},
    )
    stored = Draft.objects.get().answers
    assert stored["willing_areas"] == ["health", "safety"]  # choice codes, each once
    assert stored["comments"] == "x" * 1001  # its max_length is 1000: one more, for the error
    assert re.search(r'id="err-comments">.*At most 1000 characters', ticked.content.decode())

    chosen = citizen.post(page_5, {"willing_more": huge, "willing_areas": "health", "comments": "ok"})
    assert "willing_more" not in Draft.objects.get().answers  # not a choice: dropped, so unanswered
    assert re.search(r'id="err-willing_more">.*requires an answer', chosen.content.decode())

    typed = citizen.post(f"/w/{wave.code}/p/6/", {"household_size": "9" * 100_000})
    assert Draft.objects.get().answers["household_size"] == "9" * 50  # not a number: kept short
    assert re.search(r'id="err-household_size">.*Expected a number', typed.content.decode())
    assert len(str(Draft.objects.get().answers)) < 1200


def test_a_form_body_over_the_upload_limit_is_refused_before_anything_is_saved(
    citizen: Client, wave: Wave
) -> None:
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024
    start(citizen, wave)
    response = citizen.post(f"/w/{wave.code}/p/5/", {"comments": "x" * (2 * 1024 * 1024), "action": "next"})
    assert response.status_code == 400
    assert Draft.objects.get().answers == {}


def test_a_page_shows_the_errors_of_its_answers_when_the_review_page_links_to_it(
    citizen: Client, wave: Wave
) -> None:
    # Given answers saved with "back" (not checked): a number out of range, a text too long
    start(citizen, wave)
    answers = citizen_answers(wave)
    answer_all(citizen, wave, answers, f"/w/{wave.code}/")
    citizen.post(f"/w/{wave.code}/p/6/", {"household_size": "25", "action": "back"})
    citizen.post(f"/w/{wave.code}/p/5/", {"willing_more": "no", "comments": "x" * 1200, "action": "back"})

    # When the review page's summary links to the pages
    review = citizen.get(f"/w/{wave.code}/review/").content.decode()
    assert f'href="/w/{wave.code}/p/6/#q-household_size"' in review
    page_6 = citizen.get(f"/w/{wave.code}/p/6/").content.decode()
    page_5 = citizen.get(f"/w/{wave.code}/p/5/").content.decode()

    # Then each shows its error beside the field and in its summary
    assert re.search(r'id="err-household_size">.*Must be at most 20', page_6)
    assert 'href="#q-household_size"' in page_6
    assert re.search(r'id="err-comments">.*At most 1000 characters', page_5)
    assert page_5.count('class="error-message"') == 1


def test_a_first_visit_to_a_page_shows_no_required_errors(citizen: Client, wave: Wave) -> None:
    start(citizen, wave)
    citizen.post(f"/w/{wave.code}/p/1/", {"safety_secure_home": "often", "action": "back"})

    page = citizen.get(f"/w/{wave.code}/p/1/").content.decode()

    assert 'id="error-summary"' not in page
    assert 'class="error-message"' not in page
