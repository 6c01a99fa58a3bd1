"""python manage.py issue_invitations WAVE --locality L [--audience citizen] (--count N | --emails FILE)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.errors import UnknownLocality
from surveys.models import Audience, Locality
from surveys.selectors import wave_get
from surveys.services.invitations import invitations_issue


class Command(BaseCommand):
    help = (
        "Issue single-use invitations for a wave and locality and print their links. "
        "Only a hash of each token is stored: this is the one time the links are shown."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("wave")
        parser.add_argument("--locality", required=True)
        parser.add_argument("--audience", choices=Audience.values, default=Audience.CITIZEN)
        parser.add_argument("--count", type=int, help="How many invitations.")
        parser.add_argument("--emails", help="A file with one e-mail address per line: one invitation each.")
        parser.add_argument(
            "--base-url", default="", help="Prefix for the printed links, e.g. https://survey.example.org"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wave = wave_get(options["wave"])
        if wave is None:
            raise CommandError(f"Unknown wave '{options['wave']}'.")
        locality = Locality.objects.filter(code=options["locality"]).first()
        if locality is None:
            raise CommandError(f"Unknown locality '{options['locality']}'.")
        if (options["count"] is None) == (options["emails"] is None):
            raise CommandError("Give either --count N or --emails FILE.")
        emails = None
        if options["emails"]:
            emails = [
                line.strip() for line in Path(options["emails"]).read_text().splitlines() if line.strip()
            ]
        elif options["count"] < 1:
            raise CommandError("--count must be at least 1.")
        try:
            issued = invitations_issue(
                wave=wave,
                audience=options["audience"],
                locality=locality,
                count=options["count"] or 0,
                emails=emails,
            )
        except UnknownLocality as exc:
            raise CommandError(str(exc)) from exc
        base = options["base_url"].rstrip("/")
        for item in issued:
            self.stdout.write(f"{item.invitation.email}\t{base}/i/{item.token}/".lstrip("\t"))
        self.stderr.write(f"{len(issued)} invitation(s) issued for {wave.code}/{locality.code}.")
