"""Add Wave.results_public.

SQLite adds this column by rebuilding the wave table, which its trigger on
questionnaire versions (0002) refers to; the trigger is dropped around the
rebuild there and recreated, unchanged, afterwards. PostgreSQL needs nothing.
"""

from importlib import import_module

from django.db import migrations, models

triggers = import_module("surveys.migrations.0002_questionnaireversion_immutable_trigger")


def _sqlite_only(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements["sqlite"]:
                schema_editor.execute(sql)

    return run


drop_on_sqlite = _sqlite_only(triggers.BACKWARD)
create_on_sqlite = _sqlite_only(triggers.FORWARD)


class Migration(migrations.Migration):
    dependencies = [("surveys", "0003_draft")]

    operations = [
        migrations.RunPython(drop_on_sqlite, create_on_sqlite),
        migrations.AddField(
            model_name="wave",
            name="results_public",
            field=models.BooleanField(
                default=False,
                help_text="Publish the gap report (with suppression applied) at /results/<wave>/ without login.",
            ),
        ),
        migrations.RunPython(create_on_sqlite, drop_on_sqlite),
    ]
