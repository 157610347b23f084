# Reserved for dashboard rollups (issue 7); filled in by that change.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_export_jobs")]

    operations = []
