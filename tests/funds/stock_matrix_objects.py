"""铜城镇 objects and forms for the access matrix rows of issue 5 §1 (budgets, goods) and the batch of §2."""

import uuid
from decimal import Decimal

from funds.models import GoodsItem


def tongcheng_town_query(cast) -> dict:
    return {"town": cast.tongcheng.town.pk}


def tongcheng_budget_form(cast) -> dict:
    return {"campaign": cast.campaign.pk, "town": cast.tongcheng.town.pk, "source": "charity", "amount": "1000"}


def standard_form(cast) -> dict:
    return {
        "campaign": cast.campaign.pk,
        "category": cast.categories["poor_party_member"].pk,
        "amount": "520",
        "reason": "矩阵测试",
    }


def receive_form(cast) -> dict:
    # Received into the poster's own town: 铜城镇's store is out of reach whatever is posted.
    item, _ = GoodsItem.objects.get_or_create(name="矩阵测试米", defaults={"unit": "袋", "unit_value": Decimal("50")})
    return {"goods_item": item.pk, "quantity": "3", "source": "矩阵测试捐赠", "received_on": "2024-01-05"}


def tongcheng_batch_form(cast) -> dict:
    return {
        "idempotency_key": str(uuid.uuid4()),
        "handed_at": "2024-01-09T10:00",
        "handed_by": cast.tongcheng.cadre.cadre.pk,
        "kind": "cash",
        "source": "town_finance",
        "amount": "300",
        "beneficiaries": [cast.tongcheng.person.pk],
        "_confirm": "1",
    }


def batch_key(cast) -> dict:
    return {"key": uuid.uuid4()}
