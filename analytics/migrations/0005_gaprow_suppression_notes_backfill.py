"""Fill GapRow.suppression_notes of stored rows from their English reasons.

The reasons were written by code in a handful of fixed forms, so they parse
exactly; a reason in any other form leaves the row's notes empty, and pages
then show its English text until the row is next computed. Backwards there is
nothing to undo: the reasons themselves are untouched.
"""

import re

from django.db import migrations

RAKING = (
    "raking did not converge: no weights give these respondents the population's "
    "age bands and genders at once"
)
NO_ONE = "no respondent is in an age band and gender the population figures cover"
FIXED = {NO_ONE: {"code": "no_one_in_population"}, RAKING: {"code": "raking_diverged"}}


def _note(part):
    if part in FIXED:
        return FIXED[part]
    if found := re.fullmatch(r"fewer than (\d+) (citizen|official)s?", part):
        return {"code": f"few_{found[2]}s", "min": int(found[1])}
    if found := re.fullmatch(r"weighting failed \((\w+)\); see the worker log", part):
        return {"code": "weighting_failed", "error": found[1]}
    if found := re.fullmatch(r"too few respondents to weight \(fewer than (\d+) in (.+)\)", part):
        bands, genders = [], []
        for group in found[2].split(", "):
            if group.startswith("age band "):
                bands.append(group.removeprefix("age band "))
            elif group.startswith("gender "):
                genders.append(group.removeprefix("gender "))
            else:
                return None
        return {"code": "too_few_to_weight", "min": int(found[1]), "age_bands": bands, "genders": genders}
    return None


def _notes(reason):
    # "weighting failed (...); see the worker log" holds the separator itself.
    parts = re.split(r"; (?!see the worker log)", reason)
    notes = [_note(part) for part in parts]
    return None if None in notes else notes


def backfill(apps, schema_editor):
    GapRow = apps.get_model("analytics", "GapRow")
    rows = (
        GapRow.objects.filter(suppressed=True).exclude(suppression_reason="").only("pk", "suppression_reason")
    )
    changed = []
    for row in rows.iterator(chunk_size=2000):
        notes = _notes(row.suppression_reason)
        if notes:
            row.suppression_notes = notes
            changed.append(row)
        if len(changed) >= 2000:
            GapRow.objects.bulk_update(changed, ["suppression_notes"])
            changed = []
    GapRow.objects.bulk_update(changed, ["suppression_notes"])


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_gaprow_suppression_notes")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
