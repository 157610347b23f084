"""铜城镇 objects for the access matrix rows of issue 5 §3-5 (declarations, flags, roster)."""

from datetime import date

from django.utils import timezone

from core import idnumbers
from core.scoping import unscoped
from funds.models import InspectionFlag
from tests.cast import CANARY_NAME


def tongcheng_flag(cast) -> dict:
    with unscoped():
        flag = InspectionFlag.objects.create(
            rule=InspectionFlag.Rule.NO_RECEIPT,
            key="matrix-1",
            town=cast.tongcheng.town,
            campaign=cast.campaign,
            beneficiary=cast.tongcheng.person,
            summary=f"矩阵测试：发给{CANARY_NAME}的现金无签领凭证",
            details={"thresholds": {"INSPECTION_RECEIPT_DAYS": 15}, "values": {}},
            last_seen_at=timezone.now(),
        )
    return {"pk": flag.pk}


def finding_form(cast) -> dict:
    return {"verdict": "checking", "notes": "矩阵测试：核实中"}


def declaration_form(cast) -> dict:
    return {
        "relatives-1-name": "张建国",
        "relatives-1-relation": "配偶",
        "relatives-1-id_number": idnumbers.make_number("341181", date(1980, 2, 3), 17),
    }


def tongcheng_roster_query(cast) -> dict:
    return {"campaign": cast.campaign.pk, "town": cast.tongcheng.town.pk}
