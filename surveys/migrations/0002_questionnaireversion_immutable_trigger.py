"""Make a questionnaire version immutable once a wave or a response uses it.

A database trigger, not application code, so that no path (admin, shell,
raw SQL, a future bug) can change the wording behind stored answers.

On SQLite, a later migration that rebuilds surveys_wave or surveys_response
(most AddField/AlterField do) must drop this trigger before and recreate it
after, as 0004 does: SQLite checks a trigger's tables during the rebuild.
"""

from django.db import migrations

IN_USE = (
    "EXISTS (SELECT 1 FROM surveys_wave w WHERE w.citizen_version_id = OLD.id OR w.official_version_id = OLD.id)"
    " OR EXISTS (SELECT 1 FROM surveys_response r WHERE r.questionnaire_version_id = OLD.id)"
)
CHANGED_SQLITE = (
    "NEW.definition IS NOT OLD.definition OR NEW.checksum IS NOT OLD.checksum"
    " OR NEW.number IS NOT OLD.number OR NEW.questionnaire_id IS NOT OLD.questionnaire_id"
)
CHANGED_PG = (
    "NEW.definition IS DISTINCT FROM OLD.definition OR NEW.checksum IS DISTINCT FROM OLD.checksum"
    " OR NEW.number IS DISTINCT FROM OLD.number OR NEW.questionnaire_id IS DISTINCT FROM OLD.questionnaire_id"
)
MESSAGE = "questionnaire version is in use by a wave or responses and cannot change"

FORWARD = {
    "postgresql": [
        f"""
        CREATE OR REPLACE FUNCTION surveys_questionnaireversion_immutable() RETURNS trigger AS $$
        BEGIN
            IF ({CHANGED_PG}) AND ({IN_USE}) THEN
                RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = '{MESSAGE}';
            END IF;
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql;
        """,
        """
        CREATE TRIGGER surveys_questionnaireversion_immutable
        BEFORE UPDATE ON surveys_questionnaireversion
        FOR EACH ROW EXECUTE FUNCTION surveys_questionnaireversion_immutable();
        """,
    ],
    "sqlite": [
        f"""
        CREATE TRIGGER surveys_questionnaireversion_immutable
        BEFORE UPDATE ON surveys_questionnaireversion
        FOR EACH ROW WHEN ({CHANGED_SQLITE}) AND ({IN_USE})
        BEGIN
            SELECT RAISE(ABORT, '{MESSAGE}');
        END;
        """,
    ],
}
BACKWARD = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS surveys_questionnaireversion_immutable ON surveys_questionnaireversion;",
        "DROP FUNCTION IF EXISTS surveys_questionnaireversion_immutable();",
    ],
    "sqlite": ["DROP TRIGGER IF EXISTS surveys_questionnaireversion_immutable;"],
}


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"No immutability trigger for database vendor {vendor!r}.")
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
