"""python manage.py seed_demo: the demo wave, accounts and synthetic responses."""

from __future__ import annotations

import random
import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.models import Audience, WaveStatus
from surveys.selectors import study_get
from surveys.services.accounts import manager_ensure, official_ensure
from surveys.services.population import population_set
from surveys.services.responses import response_submit, wave_accepts_responses
from surveys.services.waves import localities_ensure, wave_ensure, wave_open
from surveys.synthetic import ADULT_POPULATION_THOUSANDS, answers_generate, population_scaled

DEMO_LOCALITIES = {
    "northbridge": "Northbridge",
    "eastvale": "Eastvale",
    "southmoor": "Southmoor",
}
# How much more or less engaged each demo locality is than the average.
LOCALITY_EFFECT = {"northbridge": 0.05, "eastvale": 0.0, "southmoor": -0.07}
# Printed demo credentials for a local demo; production settings refuse seed_demo.
MANAGER_PASSWORD = "demo-admin-2026"  # noqa: S105

OFFICIAL_PASSWORD = "demo-survey-2026"  # noqa: S105
# Officials guess about half of what citizens report: the known demo gap.
OFFICIAL_UNDERESTIMATE = 0.5
# Each locality's adult population, for the weighted variant of the gaps:
# ADULT_POPULATION_THOUSANDS scaled by this.
DEMO_SCALE = {"northbridge": 1000, "eastvale": 640, "southmoor": 380}
NAMESPACE = uuid.UUID("6f1c7e1e-2f4b-4d0a-9a51-0c3d1b8e5a10")


def activity_rate(activity: str, kind: str, locality: str) -> float:
    """The demo's true engagement share for an activity in a locality."""
    base = 0.65 if kind == "individual" else 0.15
    spread = (sum(map(ord, activity)) % 21 - 10) / 100  # a stable ±10% per activity
    return min(max(base + spread + LOCALITY_EFFECT[locality], 0.02), 0.98)


class Command(BaseCommand):
    help = (
        "Build the demo wave (three localities, a survey manager, officials) and submit "
        "synthetic responses through the normal submission service. Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wave", default="demo", help="Wave code (default: demo).")
        parser.add_argument("--citizens", type=int, default=60, help="Citizen responses per locality.")
        parser.add_argument("--officials", type=int, default=5, help="Officials per locality.")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even where DEMO_DATA_ALLOWED is off (never on real data).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_DATA_ALLOWED and not options["force"]:
            raise CommandError(
                "seed_demo writes demo accounts and fake responses; these settings "
                "(DEMO_DATA_ALLOWED off, as in production) refuse it. Pass --force to insist."
            )
        if options["citizens"] < 0 or options["officials"] < 0:
            raise CommandError("--citizens and --officials must not be negative.")
        study = study_get("coproduction")
        if study is None:
            raise CommandError("The built-in study is missing: run manage.py load_study --builtin first.")

        localities = localities_ensure(codes=list(DEMO_LOCALITIES), names=DEMO_LOCALITIES).localities
        for locality in localities:
            if locality.population_margins is None:
                scale = DEMO_SCALE[locality.code]
                margins = population_scaled(scale)
                population_set(locality=locality, margins=margins)
        wave = wave_ensure(code=options["wave"], study=study, name="Demo wave", localities=localities).wave
        if wave.status == WaveStatus.DRAFT:
            wave = wave_open(wave=wave)
        manager_ensure(username="manager", password=MANAGER_PASSWORD)

        kinds = dict(study.activities.values_list("code", "kind"))
        rng = random.Random(options["seed"])
        created = replayed = 0
        can_submit = wave_accepts_responses(wave)
        for locality in localities:
            officials = [
                official_ensure(
                    username=f"official-{locality.code}-{i}",
                    password=OFFICIAL_PASSWORD,
                    localities=[locality],
                ).user
                for i in range(1, options["officials"] + 1)
            ]
            if not can_submit:
                continue
            rate = lambda a, loc=locality.code: activity_rate(a, kinds[a], loc)  # noqa: E731
            for i in range(options["citizens"]):
                answers = answers_generate(wave.citizen_version.definition, rng, engaged_rate=rate)
                # Demographics as in a real sample: roughly the population's age
                # bands (over-representing the middle-aged), a few other answers.
                answers["age_band"] = rng.choices(list(ADULT_POPULATION_THOUSANDS), weights=[2, 3, 3, 2, 1])[
                    0
                ]
                answers["gender"] = rng.choices(["female", "male", "other", "prefer_not"], [52, 44, 2, 2])[0]
                result = response_submit(
                    wave=wave,
                    submission_id=uuid.uuid5(NAMESPACE, f"{wave.code}/{locality.code}/citizen/{i}"),
                    audience=Audience.CITIZEN,
                    locality_code=locality.code,
                    language=rng.choice(study.languages),
                    answers=answers,
                )
                created, replayed = created + result.created, replayed + (not result.created)
            for i, official in enumerate(officials):
                guess = lambda a, r=rate: 100 * r(a) * OFFICIAL_UNDERESTIMATE + rng.gauss(0, 6)  # noqa: E731
                answers = answers_generate(wave.official_version.definition, rng, estimate=guess)
                result = response_submit(
                    wave=wave,
                    submission_id=uuid.uuid5(NAMESPACE, f"{wave.code}/{locality.code}/official/{i}"),
                    audience=Audience.OFFICIAL,
                    locality_code=locality.code,
                    language="en",
                    answers=answers,
                    user=official,
                )
                created, replayed = created + result.created, replayed + (not result.created)

        self.stdout.write(
            f"Demo wave '{wave.code}' ({wave.status}) with localities: {', '.join(DEMO_LOCALITIES)}"
        )
        if can_submit:
            self.stdout.write(f"Responses: {created} submitted, {replayed} already there.")
        else:
            self.stdout.write("The wave is not open, so no responses were submitted.")
        self.stdout.write("Demo accounts (local use only):")
        self.stdout.write(f"  survey manager: manager / {MANAGER_PASSWORD}")
        self.stdout.write(
            f"  officials: official-<locality>-<1..{options['officials']}> / {OFFICIAL_PASSWORD}"
            f"  (e.g. official-northbridge-1)"
        )
