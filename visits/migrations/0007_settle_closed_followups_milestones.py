"""销号 settles a follow-up's open milestones (issue 12 §1): items closed before this rule keep a step
such as 回访核实 open forever; they are settled on their closing day, as the service now does."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def settle(apps, schema_editor):
    FollowUp = apps.get_model("visits", "FollowUp")
    Milestone = apps.get_model("visits", "FollowUpMilestone")
    closed_on = FollowUp.objects.filter(pk=OuterRef("followup_id")).values("closed_on")[:1]
    Milestone.objects.filter(done_on__isnull=True, followup__status="closed").update(
        done_on=Subquery(closed_on), note="随销号完成"
    )


class Migration(migrations.Migration):
    dependencies = [("visits", "0006_dashboard_indexes")]

    operations = [migrations.RunPython(settle, migrations.RunPython.noop)]
