"""Fewer indexes on responses: every one is written on every submission.

Drops the wave_id index (the prefix of response_wave_loc_idx), the receipt's
LIKE-pattern index (a UniqueConstraint replaces unique=True), and indexes the
user columns only where set (citizens leave them empty). On SQLite the altered
fields rebuild the table, so the questionnaire-version trigger (0002) is
dropped around the rebuild and recreated, as in 0004.
"""

from importlib import import_module

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

previous = import_module("surveys.migrations.0004_wave_results_public")


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0004_wave_results_public"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(previous.drop_on_sqlite, previous.create_on_sqlite),
        migrations.AlterField(
            model_name="response",
            name="receipt",
            field=models.CharField(max_length=16),
        ),
        migrations.AlterField(
            model_name="response",
            name="respondent",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The official who answered; empty for anonymous citizens.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="survey_responses",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="response",
            name="submitted_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="Who entered it on the respondent's behalf (telephone, paper), if anyone.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="response",
            name="wave",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="responses",
                to="surveys.wave",
            ),
        ),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(
                condition=models.Q(("respondent__isnull", False)),
                fields=["respondent"],
                name="response_respondent_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(
                condition=models.Q(("submitted_by__isnull", False)),
                fields=["submitted_by"],
                name="response_submitted_by_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="response",
            constraint=models.UniqueConstraint(fields=("receipt",), name="response_receipt_unique"),
        ),
        migrations.RunPython(previous.create_on_sqlite, previous.drop_on_sqlite),
    ]
