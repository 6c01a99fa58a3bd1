"""Citizens and officials in a real browser: the whole journey, keyboard only,
in two languages, with an axe-core accessibility scan of every citizen page."""

from __future__ import annotations

import random
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone, translation

from surveys.models import Invitation, Response, Wave
from surveys.services.invitations import invitations_issue
from surveys.synthetic import answers_generate
from surveys.views.journey import visible_pages
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Axe()
BLOCKING = {"serious", "critical"}


class Scanner:
    """Runs axe-core on every page it is shown and keeps the serious and critical findings."""

    def __init__(self) -> None:
        self.pages = 0
        self.violations: list[str] = []

    def scan(self, page: Any) -> None:
        self.pages += 1
        result = AXE.run(
            page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
        )
        for violation in result.response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [node["target"] for node in violation["nodes"]][:3]
                self.violations.append(f"{page.url}: {violation['id']} ({violation['impact']}) {targets}")
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.viewport_size["width"]
        if width > viewport:
            self.violations.append(f"{page.url}: scrolls horizontally ({width}px > {viewport}px)")


def fill(page: Any, section: dict[str, Any], answers: dict[str, Any]) -> None:
    for item in section["items"]:
        value = answers.get(item["code"])
        if value is None:
            continue
        if isinstance(value, list):
            for code in value:
                page.check(f"#q-{item['code']} input[value='{code}']")
        elif item["type"] in {"number", "percent", "text"}:
            page.fill(f"#f-{item['code']}", str(value))
        else:
            page.check(f"#q-{item['code']} input[value='{value}']")


def label(text: str, language: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def test_a_citizen_completes_the_questionnaire_in_english(live_server, wave: Wave, context_factory) -> None:
    page = context_factory(viewport={"width": 320, "height": 800}).new_page()
    scanner = Scanner()
    definition = wave.citizen_version.definition
    answers = answers_generate(definition, random.Random(11), optional_skip=0)
    answers["willing_more"] = "yes"
    answers["willing_areas"] = ["health"]
    pages = visible_pages(definition, answers)

    page.goto(f"{live_server.url}/w/{wave.code}/")
    scanner.scan(page)
    page.get_by_label("Beta").check()
    page.get_by_role("button", name="Start").click()

    # Page 1: send it half-answered, see the error, fix it.
    fill(page, definition["sections"][0], {"safety_secure_home": answers["safety_secure_home"]})
    page.get_by_role("button", name="Next").click()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    scanner.scan(page)
    summary.get_by_role("link").first.click()
    fill(page, definition["sections"][0], answers)
    page.get_by_role("button", name="Next").click()

    # Page 2: answer, reload before sending (the answers typed are kept), go back and forth.
    fill(page, definition["sections"][1], answers)
    page.reload()
    first = definition["sections"][1]["items"][0]["code"]
    assert page.locator(f"#q-{first} input[value='{answers[first]}']").is_checked()
    page.get_by_role("button", name="Back").click()
    assert page.url.endswith("/p/1/")
    page.get_by_role("button", name="Next").click()
    assert page.locator(f"#q-{first} input[value='{answers[first]}']").is_checked()
    scanner.scan(page)
    page.get_by_role("button", name="Next").click()

    for number in pages[2:]:
        fill(page, definition["sections"][number - 1], answers)
        if number == 5:
            # The follow-up appears only once "yes" or "maybe" is chosen.
            assert page.locator("#q-willing_areas").is_visible()
            page.check("#q-willing_more input[value='no']")
            assert page.locator("#q-willing_areas").is_hidden()
            page.check("#q-willing_more input[value='yes']")
            assert page.locator("#q-willing_areas").is_visible()
        scanner.scan(page)
        page.get_by_role("button", name="Next").click()

    assert page.url.endswith("/review/")
    scanner.scan(page)
    page.get_by_role("button", name="Send my answers").click()
    receipt = page.locator(".receipt").inner_text()
    scanner.scan(page)

    stored = Response.objects.get()
    assert stored.receipt == receipt
    assert stored.locality.code == "beta"
    assert stored.answers["willing_areas"] == ["health"]
    assert stored.language == "en"

    page.goto(f"{live_server.url}/w/{wave.code}/resume/")
    scanner.scan(page)
    assert scanner.pages >= 10
    assert scanner.violations == []


def test_a_citizen_answers_in_german(live_server, wave: Wave, context_factory) -> None:
    assert label("Next", "de") != "Next", "the German catalogue is not compiled (make messages)"
    page = context_factory(locale="de-DE").new_page()
    definition = wave.citizen_version.definition
    answers = answers_generate(definition, random.Random(12), optional_skip=0)

    page.goto(f"{live_server.url}/w/{wave.code}/")
    assert page.locator("html").get_attribute("lang") == "de"
    page.get_by_label("Alpha").check()
    page.get_by_role("button", name=label("Start", "de")).click()
    assert definition["sections"][0]["title"]["de"] in page.content()
    for number in visible_pages(definition, answers):
        fill(page, definition["sections"][number - 1], answers)
        page.get_by_role("button", name=label("Next", "de")).click()
    page.get_by_role("button", name=label("Send my answers", "de")).click()

    assert page.locator(".receipt").is_visible()
    assert Response.objects.get().language == "de"


def test_a_citizen_switches_language_mid_way(live_server, wave: Wave, page) -> None:
    page.goto(f"{live_server.url}/w/{wave.code}/")
    page.get_by_label("Alpha").check()
    page.get_by_role("button", name="Start").click()
    page.select_option("#language-select", "da")
    page.get_by_role("button", name="Change language").click()
    assert page.locator("html").get_attribute("lang") == "da"
    assert wave.citizen_version.definition["sections"][0]["title"]["da"] in page.content()
    assert page.url.endswith("/p/1/")


def test_a_citizen_switches_language_on_a_used_invitations_page(
    live_server, wave: Wave, locality_b, page
) -> None:
    """The invitation link answers with Referrer-Policy: no-referrer; a form on
    a page at that URL would post with Origin: null and fail the CSRF check."""
    [issued] = invitations_issue(wave=wave, audience="citizen", locality=locality_b)
    Invitation.objects.filter(pk=issued.invitation.pk).update(used_at=timezone.now())

    page.goto(f"{live_server.url}/i/{issued.token}/")
    assert page.get_by_role("heading", name="Invitation already used").is_visible()
    assert issued.token not in page.url
    page.select_option("#language-select", "cs")
    page.get_by_role("button", name="Change language").click()

    assert page.locator("html").get_attribute("lang") == "cs"
    heading = label("Invitation already used", "cs")
    assert heading != "Invitation already used"
    assert page.get_by_role("heading", name=heading).is_visible()


def stored_keys(page: Any) -> list[str]:
    return page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('coprod:'))")


def test_a_respondent_who_starts_afresh_never_gets_the_last_ones_typed_answers(
    live_server, wave: Wave, page
) -> None:
    # Given someone who typed an answer on page 1 without sending it
    page.goto(f"{live_server.url}/w/{wave.code}/")
    page.get_by_label("Alpha").check()
    page.get_by_role("button", name="Start").click()
    page.check("#q-safety_secure_home input[value='never']")
    assert stored_keys(page)

    # When the next person on this computer starts afresh, in the same tab
    page.goto(f"{live_server.url}/w/{wave.code}/")
    with page.expect_navigation():
        page.get_by_role("button", name="Start afresh").click()
    assert stored_keys(page) == []
    page.get_by_label("Alpha").check()
    page.get_by_role("button", name="Start").click()
    page.wait_for_url("**/p/1/")  # (a reload while that navigation runs fails)
    page.reload()

    # Then their page holds nothing of the previous person's
    assert page.url.endswith("/p/1/")
    assert page.locator("#q-safety_secure_home input:checked").count() == 0


def test_typed_answers_are_restored_on_a_reload_only_never_over_the_servers_on_a_visit(
    live_server, wave: Wave, page
) -> None:
    definition = wave.citizen_version.definition
    answers = answers_generate(definition, random.Random(14), optional_skip=0)
    answers["safety_secure_home"] = "often"
    page.goto(f"{live_server.url}/w/{wave.code}/")
    page.get_by_label("Alpha").check()
    page.get_by_role("button", name="Start").click()
    fill(page, definition["sections"][0], answers)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Back").click()
    first = page.url
    assert first.endswith("/p/1/")

    # Typed, not sent, then the page is visited again (a link, a bookmark, a resume code's redirect):
    page.check("#q-safety_secure_home input[value='never']")
    page.goto(first)
    assert page.locator("#q-safety_secure_home input[value='often']").is_checked()  # the server's answer

    # Typed, not sent, then reloaded: what was typed comes back.
    page.check("#q-safety_secure_home input[value='never']")
    page.reload()
    assert page.locator("#q-safety_secure_home input[value='never']").is_checked()


def test_typed_answers_survive_a_change_of_language(live_server, wave: Wave, page) -> None:
    page.goto(f"{live_server.url}/w/{wave.code}/")
    page.get_by_label("Alpha").check()
    page.get_by_role("button", name="Start").click()

    # Typed, not sent, then the language is changed: the same page comes back in Danish.
    page.check("#q-safety_secure_home input[value='never']")
    page.select_option("#language-select", "da")
    with page.expect_navigation():
        page.get_by_role("button", name="Change language").click()
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.locator("#q-safety_secure_home input[value='never']").is_checked()

    # Only that once: a later visit shows what the server holds.
    page.goto(page.url)
    assert page.locator("#q-safety_secure_home input:checked").count() == 0


def test_keyboard_only_completion(live_server, wave: Wave, page) -> None:
    """Tab through every page, Space to choose, type numbers, Enter to go on."""
    page.goto(f"{live_server.url}/w/{wave.code}/")
    page.keyboard.press("Tab")  # skip link
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.name || ''")
        if focused == "locality":
            page.keyboard.press("Space")
        button = page.evaluate(
            "document.activeElement.type == 'submit' && document.activeElement.textContent"
        )
        if button and button.strip() == "Start":
            with page.expect_navigation():
                page.keyboard.press("Enter")
            break
    assert "/p/1/" in page.url

    for _ in range(12):  # pages, with margin
        if "/review/" in page.url:
            break
        _keyboard_page(page)
    assert "/review/" in page.url
    page.get_by_role("button", name="Send my answers").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".receipt").is_visible()
    assert Response.objects.count() == 1


def _keyboard_page(page: Any) -> None:
    url = page.url
    for _ in range(200):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => { const e = document.activeElement;
                return {tag: e.tagName, type: e.type || '', name: e.name || '', value: e.value || '',
                        inputmode: e.inputMode || '', text: (e.textContent || '').trim(),
                        outline: getComputedStyle(e).outlineStyle,
                        group: e.name ? [...document.getElementsByName(e.name)].some(x => x.checked) : false}; }"""
        )
        if info["tag"] in {"INPUT", "BUTTON", "SELECT", "TEXTAREA", "A"}:
            assert info["outline"] != "none", f"no visible focus on {info}"
        if info["type"] in {"radio", "checkbox"} and not info["group"]:
            page.keyboard.press("Space")
        elif info["type"] == "text" and info["inputmode"] in {"numeric", "decimal"} and not info["value"]:
            page.keyboard.type("3")
        elif info["type"] == "submit" and info["name"] == "action" and info["value"] == "next":
            with page.expect_navigation():
                page.keyboard.press("Enter")
            break
    assert page.url != url, "the page did not advance: " + page.locator("#error-summary").inner_text()


def test_an_official_signs_in_answers_and_sees_the_confirmation(
    live_server, wave: Wave, official_a, page
) -> None:
    definition = wave.official_version.definition
    answers = answers_generate(definition, random.Random(13), optional_skip=0)

    page.goto(f"{live_server.url}/official/")
    page.get_by_label("Username").fill(official_a.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Answer").click()
    for number in visible_pages(definition, answers):
        fill(page, definition["sections"][number - 1], answers)
        page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Send my answers").click()

    assert page.locator(".receipt").is_visible()
    assert Response.objects.get(respondent=official_a).answers == answers
    page.get_by_role("link", name="See your estimates beside what residents report").click()
    assert page.get_by_role("heading", name="Your estimates and what residents report").is_visible()
    assert "more responses are needed" in page.content()
    page.get_by_role("link", name="Back to your surveys").click()
    assert page.get_by_role("button", name="Change your answers").is_visible()


def test_the_locality_report_renders_its_chart_in_a_browser(
    live_server, wave: Wave, manager, context_factory, tmp_path, settings
) -> None:
    """A screenshot of the locality page: the SVG chart is drawn, with a dot per
    activity, and the weighted table below it; the whole page passes axe."""
    from django.core.management import call_command

    from surveys.models import Locality
    from surveys.services.population import population_set
    from tests.analytics.test_gaps import citizens, official
    from tests.analytics.test_weighted_gaps import citizens_in

    settings.ANALYTICS_WEIGHTING_MIN_CELL = 2
    Wave.objects.filter(pk=wave.pk).update(min_citizens=3)
    wave.refresh_from_db()
    citizens(wave, "alpha", 6, 0.7, seed=21)
    alpha = Locality.objects.get(code="alpha")
    population_set(locality=alpha, margins={"18_29": {"female": 100, "male": 100}, "30_44": {"female": 200}})
    citizens_in(
        wave, "alpha", {("18_29", "female"): 2, ("18_29", "male"): 2, ("30_44", "female"): 2}, seed=22
    )
    for i in range(3):
        official(wave, alpha, f"o{i}", lambda a, i=i: 20 + 10 * i)
    call_command("recompute", wave=wave.code)

    context = context_factory(viewport={"width": 1000, "height": 900})
    context.add_cookies([_session_cookie(live_server, manager)])
    page = context.new_page()
    page.goto(f"{live_server.url}/dashboard/{wave.code}/alpha/")
    chart = page.locator("svg.dumbbell")
    assert chart.is_visible()
    assert page.locator("svg.dumbbell circle").count() == 2 * 18
    weighted = page.get_by_role("heading", name="Weighted to the population by age band and gender")
    assert weighted.is_visible()
    assert "post-stratification" in page.content()
    shot = tmp_path / "locality.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    scanner = Scanner()
    scanner.scan(page)
    assert scanner.violations == []


def _session_cookie(live_server, user) -> dict[str, str]:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }


def test_the_comparison_page_and_the_dashboard_pass_axe_at_320px(
    live_server, wave: Wave, official_a, manager, context_factory
) -> None:
    """Wide tables scroll inside their own region at 320 px; the region is
    reachable by keyboard and named, and every page passes axe."""
    from django.core.management import call_command

    from surveys.models import Locality
    from tests.analytics.test_gaps import citizens, official

    alpha = Locality.objects.get(code="alpha")
    citizens(wave, "alpha", 12, 0.8, seed=41)
    for i, name in enumerate([official_a.username, "colleague-1", "colleague-2"]):
        official(wave, alpha, name, lambda a, i=i: 20 + 10 * i)
    call_command("recompute", wave=wave.code)

    scanner = Scanner()
    dashboard = [
        f"/dashboard/{wave.code}/",
        f"/dashboard/{wave.code}/gaps/",
        f"/dashboard/{wave.code}/alpha/",
    ]
    for user, paths in (
        (official_a, [f"/official/{wave.code}/alpha/comparison/", *dashboard]),
        (manager, dashboard),
    ):
        context = context_factory(viewport={"width": 320, "height": 800})
        context.add_cookies([_session_cookie(live_server, user)])
        page = context.new_page()
        for path in paths:
            page.goto(live_server.url + path)
            scanner.scan(page)
            regions = page.locator(".table-wrap")
            assert regions.count() >= 1, path
            for i in range(regions.count()):
                region = regions.nth(i)
                assert region.get_attribute("role") == "region" and region.get_attribute("tabindex") == "0"
                label = page.locator(f"#{region.get_attribute('aria-labelledby')}")
                assert label.inner_text().strip(), path
            regions.first.focus()
            focused = page.evaluate(
                "(() => { const e = document.activeElement;"
                " return [e.className, getComputedStyle(e).outlineStyle]; })()"
            )
            assert focused[0] == "table-wrap" and focused[1] != "none", path

    assert scanner.pages == 7
    assert scanner.violations == []
