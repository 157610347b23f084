# Reserved for export jobs (issue 7); filled in by that change.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_bulletin_editing")]

    operations = []
