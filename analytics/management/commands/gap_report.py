"""python manage.py gap_report WAVE [--level L] [--format table|csv|json] [--weighted]"""

from __future__ import annotations

import csv
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.api.serializers import GAP_CSV_COLUMNS, gap_csv_rows
from analytics.selectors import gaps_for_wave
from analytics.services import GAP_LEVELS
from surveys.selectors import wave_get


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


class Command(BaseCommand):
    help = "Print a wave's perception gaps (stored figures; suppressed rows show their reason only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("wave")
        parser.add_argument("--level", choices=GAP_LEVELS, default="overall")
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
        parser.add_argument(
            "--weighted",
            action="store_true",
            help="The weighted variant (citizens weighted to each locality's population by age band "
            "and gender); only localities with population figures have it.",
        )

    def handle(self, *args: Any, wave: str, level: str, format: str, weighted: bool, **options: Any) -> None:
        found = wave_get(wave)
        if found is None:
            raise CommandError(f"Unknown wave '{wave}'.")
        rows = list(gap_csv_rows(gaps_for_wave(found.pk, level=level, weighted=weighted)))
        if weighted and format == "table":
            self.stdout.write(
                "WEIGHTED to population by age band and gender (citizens' effective n in brackets)"
            )
        if format == "json":
            self.stdout.write(json.dumps(rows, indent=2))
        elif format == "csv":
            writer = csv.DictWriter(self.stdout, fieldnames=GAP_CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        else:
            header = f"{'citizens':>9} {'officials':>9} {'gap':>6}  {'95% CI':>14} {'q':>8}"
            self.stdout.write(f"{'locality':16} {'key':32} {header}")
            for row in rows:
                if row["suppressed"]:
                    figures = f"(suppressed: {row['suppression_reason']})"
                else:
                    low, high = row["gap_ci_low"], row["gap_ci_high"]
                    interval = f"{_pct(low)}..{_pct(high)}" if low is not None else ""
                    q = f"{row['q_value']:.3g}" if row["q_value"] is not None else ""
                    figures = (
                        f"{_pct(row['citizens_estimate']):>9} {_pct(row['officials_estimate']):>9} "
                        f"{_pct(row['gap']):>6}  {interval:>14} {q:>8}"
                    )
                    if weighted:
                        figures += f"  [{row['weighting_method']}, n_eff {row['citizens_n_effective']:.0f}]"
                self.stdout.write(f"{row['locality']:16} {row['key']:32} {figures}")
