"""铜城镇's 慰问对象名单 for the access matrix rows of issue 12 §2."""

from django.utils import timezone

from core.scoping import unscoped
from visits.models import TargetList, TargetListEntry


def _tongcheng_list(cast) -> TargetList:
    tc = cast.tongcheng
    with unscoped():
        tl, created = TargetList.objects.get_or_create(
            campaign=cast.campaign, town=tc.town, defaults={"proposed_by": tc.admin.cadre, "proposed_at": timezone.now()}
        )
        if created:
            TargetListEntry.objects.create(
                target_list=tl,
                beneficiary=tc.person,
                town=tc.town,
                cell=tc.person.cell,
                source=TargetListEntry.Source.GENERATED,
                added_at=timezone.now(),
                added_by=tc.admin.cadre,
            )
    return tl


def tongcheng_target_list(cast) -> dict:
    return {"pk": _tongcheng_list(cast).pk}


def tongcheng_target_entry(cast) -> dict:
    tl = _tongcheng_list(cast)
    with unscoped():
        return {"pk": TargetListEntry.objects.filter(target_list=tl).values_list("pk", flat=True).first()}
