"""Composite foreign keys that keep a row's copied town equal to its cell's town (PostgreSQL).

Django has no composite foreign keys; the services check the same rules for SQLite.
"""

from django.db import migrations

# (table, constraint, cell column)
_RULES = [
    ("towns_gridcell", "gridcell_parent_same_town", "parent_id"),
    ("towns_household", "household_cell_same_town", "cell_id"),
    ("towns_beneficiary", "beneficiary_cell_same_town", "cell_id"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, column in _RULES:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}, town_id) "
            f"REFERENCES towns_gridcell (id, town_id) DEFERRABLE INITIALLY DEFERRED"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _ in _RULES:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")


class Migration(migrations.Migration):
    dependencies = [("towns", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
