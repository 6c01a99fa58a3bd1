"""Add GapRow.suppression_notes: why a row is suppressed, as codes with
parameters that pages render in the reader's language (analytics.reasons)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("analytics", "0003_weighted_gaps")]

    operations = [
        migrations.AddField(
            model_name="gaprow",
            name="suppression_notes",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Why it is suppressed, as codes with parameters (analytics.reasons).",
            ),
        ),
    ]
