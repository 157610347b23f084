# Reserved for the bulletin editor (town submissions, publishing) (issue 7); filled in by that change.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = []
