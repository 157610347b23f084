"""铜城镇 objects for the access matrix rows of issue 4 §4 (activities) and §6 (zones)."""

import uuid
from datetime import date, timedelta

from django.utils import timezone

from core.scoping import unscoped
from tests.cast import CANARY_PHONE
from towns.models import Assignment
from visits.models import Activity


def tongcheng_activity(cast) -> dict:
    with unscoped():
        activity = Activity.objects.create(
            town=cast.tongcheng.town,
            village=cast.tongcheng.village,
            kind=Activity.Kind.HEALTH,
            title="龙岗村健康宣讲",
            held_on=date(2024, 1, 5),
            reached_count=40,
            recorded_by=cast.tongcheng.cadre.cadre,
            notes=CANARY_PHONE,
        )
        activity.beneficiaries.set([cast.tongcheng.person])
    return {"pk": activity.pk}


def tongcheng_activity_form(cast) -> dict:
    return {
        "kind": "health",
        "held_on": "2024-01-05",
        "village": cast.tongcheng.village.pk,
        "participants_count": "3",
        "gifts_count": "0",
        "beneficiaries": [cast.tongcheng.person.pk],
        "idempotency_key": str(uuid.uuid4()),
    }


def tongcheng_assignment(cast) -> dict:
    with unscoped():
        assignment = Assignment.objects.get(cadre=cast.tongcheng.grid_worker.cadre, cell=cast.tongcheng.cell)
    return {"pk": assignment.pk}


def tongcheng_assign_form(cast) -> dict:
    return {
        "town": cast.tongcheng.town.pk,
        "cadre": cast.tongcheng.cadre.cadre.pk,
        "cell": cast.tongcheng.other_cell.pk,
        "starts_on": timezone.localdate().isoformat(),
    }


def end_form(cast) -> dict:
    return {"ends_on": timezone.localdate().isoformat(), "reason": "矩阵测试：工作调整"}


def tongcheng_followup(cast) -> dict:
    """A 铜城镇 demand (issue 6 §1) whose text carries the canary phone."""
    from visits.models import FollowUp

    with unscoped():
        item = FollowUp.objects.create(
            town=cast.tongcheng.town,
            village=cast.tongcheng.village,
            cell=cast.tongcheng.cell,
            beneficiary=cast.tongcheng.person,
            kind=FollowUp.Kind.DEMAND,
            title="龙岗村修路",
            description=CANARY_PHONE,
            raised_by=cast.tongcheng.cadre.cadre,
            raised_on=date(2024, 1, 5),
            deadline=date(2024, 1, 20),
        )
    return {"pk": item.pk}


def tongcheng_followup_form(cast) -> dict:
    return {
        "kind": "demand",
        "title": "矩阵测试",
        "beneficiary": cast.tongcheng.person.pk,
        "village": cast.tongcheng.village.pk,
        "urgency": "1",
        "importance": "1",
        "scope": "person",
    }


# -- the bulletin editor and the towns' submissions (issue 7 §2) ------------------------------


def _bulletin_of_week():
    from reports.models import Bulletin

    return Bulletin.objects.create(year=2024, issue_date=date(2024, 1, 15), week_start=date(2024, 1, 8), topic="双节慰问")


def _tongcheng_submission(cast):
    from reports.models import BulletinSubmission

    with unscoped():
        return BulletinSubmission.objects.create(
            town=cast.tongcheng.town,
            week_start=date(2024, 1, 8),
            headline="铜城镇报送稿",
            body=f"走访慰问做法。联系电话{CANARY_PHONE}",
            submitted_by=cast.tongcheng.cadre,
        )


def tongcheng_bulletin_item(cast) -> dict:
    """A draft issue whose first item is 铜城镇's (its text carries the canary phone)."""
    from reports.models import BulletinItem

    bulletin = _bulletin_of_week()
    item = BulletinItem.objects.create(bulletin=bulletin, town=cast.tongcheng.town, order=1, headline="铜城镇", body=CANARY_PHONE)
    BulletinItem.objects.create(bulletin=bulletin, town=cast.yeshan.town, order=2, headline="冶山镇", body="正文。")
    return {"pk": bulletin.pk, "item_pk": item.pk}


def tongcheng_bulletin_submission(cast) -> dict:
    bulletin = _bulletin_of_week()
    return {"pk": bulletin.pk, "submission_pk": _tongcheng_submission(cast).pk}


def tongcheng_submission(cast) -> dict:
    return {"pk": _tongcheng_submission(cast).pk}


def submission_form(cast) -> dict:
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    return {"week_start": monday.isoformat(), "headline": "矩阵测试", "body": "矩阵测试正文。"}


def tongcheng_export_job(cast) -> dict:
    """A finished 走访台账 export of 铜城镇's cadre (issue 7 §3): a file only its requester may download."""
    from datetime import timedelta

    from django.core.files.base import ContentFile

    from reports.models import ExportJob, export_storage

    name = export_storage.save("matrix/tongcheng.xlsx", ContentFile(CANARY_PHONE.encode()))
    with unscoped():
        job = ExportJob.objects.create(
            requester=cast.tongcheng.cadre,
            town=cast.tongcheng.town,
            exporter="ledger",
            status=ExportJob.Status.DONE,
            file=name,
            row_count=1,
            expires_at=timezone.now() + timedelta(days=7),
        )
    return {"pk": job.pk}
