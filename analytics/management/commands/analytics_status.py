"""python manage.py analytics_status [--wave W]: how far figures lag their responses."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.selectors import freshness
from surveys.models import Locality, Wave


class Command(BaseCommand):
    help = "Show, per wave and locality, responses, responses included in the figures, and the lag."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wave", help="Only this wave (code).")

    def handle(self, *args: Any, wave: str | None, **options: Any) -> None:
        wave_id = Wave.objects.filter(code=wave).values_list("pk", flat=True).first() if wave else None
        rows = freshness(wave_id)
        waves = dict(Wave.objects.values_list("pk", "code"))
        localities = dict(Locality.objects.values_list("pk", "code"))
        self.stdout.write(
            f"{'wave':20} {'locality':20} {'responses':>9} {'included':>9}  {'computed at':25} status"
        )
        stale = 0
        for (w, loc), f in sorted(
            rows.items(), key=lambda kv: (waves.get(kv[0][0], ""), localities.get(kv[0][1], ""))
        ):
            status = f"STALE by {f.lag_seconds:.0f} s" if f.stale else "fresh"
            stale += f.stale
            computed = f.computed_at.isoformat(timespec="seconds") if f.computed_at else "never"
            names = f"{waves.get(w, w)!s:20} {localities.get(loc, loc)!s:20}"
            self.stdout.write(f"{names} {f.responses:9} {f.included:9}  {computed:25} {status}")
        self.stdout.write(f"{len(rows)} pairs, {stale} stale.")
