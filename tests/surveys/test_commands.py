"""The scripted set-up: load_study, create_wave, create_official, create_manager, seed_demo."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from surveys.models import Audience, Locality, OfficialProfile, QuestionnaireVersion, Response, Wave
from surveys.selectors import user_is_survey_manager
from surveys.services.studies import BUILTIN_STUDY_PATH

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_load_study_builtin_is_idempotent() -> None:
    first = run("load_study", "--builtin")
    second = run("load_study", "--builtin")

    assert "Study 'coproduction' created" in first
    assert "v1 (new version)" in first
    assert "Nothing changed." in second
    assert QuestionnaireVersion.objects.count() == 2


def test_a_changed_questionnaire_becomes_a_new_version(tmp_path: Path) -> None:
    run("load_study", "--builtin")
    changed = tmp_path / "study.yaml"
    changed.write_text(
        BUILTIN_STUDY_PATH.read_text().replace("About you", "About yourself", 1), encoding="utf-8"
    )

    output = run("load_study", str(changed))

    assert "questionnaire 'citizen': v2 (new version)" in output
    assert "questionnaire 'official': v1 (unchanged)" in output
    citizen = QuestionnaireVersion.objects.filter(questionnaire__audience=Audience.CITIZEN)
    assert sorted(citizen.values_list("number", flat=True)) == [1, 2]


def test_load_study_needs_a_path_or_builtin() -> None:
    with pytest.raises(CommandError, match="either a PATH or --builtin"):
        run("load_study")
    with pytest.raises(CommandError, match="No such file"):
        run("load_study", "/nonexistent/study.yaml")


def test_create_wave_creates_localities_and_is_safe_to_rerun() -> None:
    run("load_study", "--builtin")

    first = run(
        "create_wave", "spring", "--study", "coproduction", "--localities", "a,b", "--open",
        "--min-citizens", "20", "--min-officials", "2",
    )  # fmt: skip
    second = run("create_wave", "spring", "--study", "coproduction", "--localities", "a,b,c")

    assert "Localities created: a, b" in first
    assert "Wave 'spring' created" in first
    assert "already exists" in second
    assert "localities added: c" in second
    wave = Wave.objects.get(code="spring")
    assert wave.status == "open"
    assert (wave.min_citizens, wave.min_officials) == (20, 2)
    assert sorted(wave.localities.values_list("code", flat=True)) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--study", "nope", "--localities", "a"], "Unknown study 'nope'"),
        (["--study", "coproduction", "--localities", "a b"], "Invalid locality code 'a b'"),
        (["--study", "coproduction", "--localities", "a", "--min-citizens", "0"], "min_citizens"),
    ],
)
def test_create_wave_rejects_bad_arguments(args: list[str], message: str) -> None:
    run("load_study", "--builtin")
    with pytest.raises(CommandError, match=message):
        run("create_wave", "w", *args)
    assert not Wave.objects.exists()


def test_create_official_binds_localities_and_is_safe_to_rerun() -> None:
    run("load_study", "--builtin")
    Locality.objects.create(code="a", name="A")
    Locality.objects.create(code="b", name="B")

    first = run("create_official", "olga", "--password", "a-long-passphrase", "--locality", "a")
    second = run(
        "create_official", "olga", "--password", "a-long-passphrase", "--locality", "a",
        "--locality", "b", "--service-area", "health",
    )  # fmt: skip

    assert "Official 'olga' created" in first
    assert "localities added: b" in second
    profile = OfficialProfile.objects.get(user__username="olga")
    assert sorted(profile.localities.values_list("code", flat=True)) == ["a", "b"]
    assert list(profile.service_areas.values_list("code", flat=True)) == ["health"]
    assert profile.user.check_password("a-long-passphrase")


def test_create_official_rejects_unknown_localities_and_weak_passwords() -> None:
    Locality.objects.create(code="a", name="A")
    with pytest.raises(CommandError, match="Unknown locality: zz"):
        run("create_official", "olga", "--password", "a-long-passphrase", "--locality", "zz")
    with pytest.raises(CommandError, match="Password rejected"):
        run("create_official", "olga", "--password", "123", "--locality", "a")
    assert not get_user_model().objects.filter(username="olga").exists()


def test_create_manager_gives_admin_access() -> None:
    output = run("create_manager", "maria", "--password", "a-long-passphrase")
    run("create_manager", "maria", "--password", "another-long-passphrase")

    assert "Survey manager 'maria' created" in output
    user = get_user_model().objects.get(username="maria")
    assert user.is_staff and not user.is_superuser
    assert user_is_survey_manager(user)
    assert user.has_perm("surveys.change_wave")
    assert user.check_password("another-long-passphrase")


def test_seed_demo_builds_a_wave_with_a_known_gap_through_the_submission_service() -> None:
    run("load_study", "--builtin")

    output = run("seed_demo", "--citizens", "30", "--officials", "3")
    again = run("seed_demo", "--citizens", "30", "--officials", "3")

    assert "Responses: 99 submitted, 0 already there." in output
    assert "Responses: 0 submitted, 99 already there." in again
    assert "manager / " in output
    wave = Wave.objects.get(code="demo")
    assert wave.status == "open"
    assert Response.objects.filter(audience="citizen").count() == 90
    assert Response.objects.filter(audience="official").count() == 9
    # The demo's officials underestimate individual activities: compare the
    # citizens' engaged share with the officials' mean estimate.
    definition = wave.citizen_version.definition
    engaged = {c["code"] for c in definition["choice_lists"]["freq5"] if c["engaged"]}
    citizens = Response.objects.filter(audience="citizen")
    share = sum(r.answers["environment_recycle"] in engaged for r in citizens) / citizens.count()
    officials = Response.objects.filter(audience="official")
    estimate = sum(r.answers["est_environment_recycle"] for r in officials) / officials.count() / 100
    assert share - estimate > 0.15


def test_seed_demo_needs_the_study() -> None:
    with pytest.raises(CommandError, match="load_study --builtin"):
        run("seed_demo")


def test_a_renamed_study_or_area_is_reported_as_a_change(tmp_path: Path) -> None:
    run("load_study", "--builtin")
    renamed = tmp_path / "study.yaml"
    renamed.write_text(
        BUILTIN_STUDY_PATH.read_text().replace('"Community safety"', '"Safety in the community"', 1),
        encoding="utf-8",
    )

    output = run("load_study", str(renamed))

    assert "service areas: 1 created or updated" in output
    assert "Nothing changed." not in output


def test_create_api_client_prints_a_working_token(wave) -> None:
    from django.test import Client

    output = run("create_api_client", "cati-centre")
    token = output.split("token: ")[1].split()[0]
    assert run("create_api_client", "cati-centre").count(token) == 1  # same token when re-run

    response = Client(headers={"authorization": f"Token {token}"}).get("/api/v1/waves/")
    assert response.status_code == 200
    user = get_user_model().objects.get(username="cati-centre")
    assert not user.has_usable_password() and not user.is_staff


def test_issue_invitations_prints_links_that_work_once(wave) -> None:
    output = run(
        "issue_invitations",
        wave.code,
        "--locality",
        "alpha",
        "--count",
        "2",
        "--base-url",
        "https://s.example",
    )
    links = output.split()
    assert len(links) == 2 and all(link.startswith("https://s.example/i/") for link in links)
    from django.test import Client

    path = links[0].removeprefix("https://s.example")
    assert Client().get(path).status_code == 302
    with pytest.raises(CommandError, match="not part of wave"):
        Locality.objects.create(code="gamma", name="Gamma")
        run("issue_invitations", wave.code, "--locality", "gamma", "--count", "1")
