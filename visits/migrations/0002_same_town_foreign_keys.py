"""A visit's copied town must be its cell's town (PostgreSQL composite foreign key)."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE visits_visit ADD CONSTRAINT visit_cell_same_town FOREIGN KEY (cell_id, town_id) "
        "REFERENCES towns_gridcell (id, town_id) DEFERRABLE INITIALLY DEFERRED"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE visits_visit DROP CONSTRAINT visit_cell_same_town")


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial"), ("towns", "0002_same_town_foreign_keys")]
    operations = [migrations.RunPython(forwards, backwards)]
