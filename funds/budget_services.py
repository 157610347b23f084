"""Budgets of a campaign per town and source, and the campaign's grant standards per category (issue 5 §1)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit
from core.permissions import require
from core.services import in_scope
from funds.models import Budget
from towns.models import Category, Town
from visits.models import Campaign, GrantStandard


@transaction.atomic
def budget_set(*, actor, campaign, town, source: str, amount: Decimal, reason: str = "") -> Budget:
    require(actor, "budget.edit")
    campaign = in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    town = in_scope(Town, actor, town, "town", "镇（街道）")
    if amount is None or amount < 0:
        raise ValidationError({"amount": ["预算金额不能为负数"]})
    if source not in Budget.Source.values:
        raise ValidationError({"source": ["请选择经费来源"]})
    budget = Budget._base_manager.select_for_update().filter(campaign=campaign, town=town, source=source).first()
    if budget is None:
        budget = Budget.objects.create(campaign=campaign, town=town, source=source, amount=amount)
        audit.record(actor=actor, action="budget.create", obj=budget, after=audit.snapshot(budget))
        return budget
    if not (reason or "").strip():
        raise ValidationError({"reason": ["修改预算须填写原因"]})
    before = audit.snapshot(budget)
    budget.amount = amount
    budget.save(update_fields=["amount"])
    audit.record(
        actor=actor, action="budget.update", obj=budget, before=before, after=audit.snapshot(budget), reason=reason.strip()
    )
    return budget


@transaction.atomic
def standard_set(*, actor, campaign, category, amount: Decimal, reason: str = "") -> GrantStandard:
    """慰问标准 of a category in a campaign; setting it the first time needs no reason, changing it does."""
    require(actor, "campaign.edit")
    campaign = in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    category = Category.objects.filter(pk=getattr(category, "pk", category)).first()
    errors = {}
    if category is None:
        errors["category"] = ["请选择人群类别"]
    if amount is not None and not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if amount is None or amount < 0:
        errors["amount"] = ["标准金额不能为负数"]
    elif amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = ["金额最多保留两位小数"]
    if errors:
        raise ValidationError(errors)
    amount = amount.quantize(Decimal("0.01"))  # 600 and 600.00 are one standard, recorded alike
    standard = GrantStandard.objects.select_for_update().filter(campaign=campaign, category=category).first()
    if standard is None:
        standard = GrantStandard.objects.create(campaign=campaign, category=category, amount=amount)
        audit.record(actor=actor, action="grantstandard.create", obj=standard, after=audit.snapshot(standard))
        return standard
    if not (reason or "").strip():
        raise ValidationError({"reason": ["修改慰问标准须填写原因"]})
    if standard.amount == amount:
        return standard
    before = audit.snapshot(standard)
    standard.amount = amount
    standard.save(update_fields=["amount"])
    audit.record(
        actor=actor,
        action="grantstandard.update",
        obj=standard,
        before=before,
        after=audit.snapshot(standard),
        reason=reason.strip(),
    )
    return standard
