"""The audit record now lives in core (core 0002): drop it from funds' state only. The table
funds_auditrecord stays as it is, with its rows and triggers."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0009_off_list_rule"),
        ("core", "0002_audit_record_to_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="AuditRecord")],
        ),
    ]
