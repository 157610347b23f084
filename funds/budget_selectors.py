"""Reads for budgets against spending, grant standards and goods stock (issue 5 §1).

Each page is a constant number of grouped queries, whatever the number of towns or grants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from core.scoping import unscoped
from funds.models import Budget, Disbursement, GoodsItem, GoodsStock, StockMovement, handed_out_q
from towns.models import Town
from visits.models import Campaign, GrantStandard

# What counts as spent (stated on the page) is what counts as handed out everywhere
# (Disbursement.objects.handed_out(): issued, needing no approval or approved); cash and transfers
# at their amount, goods at quantity × the item's unit value. Pending grants (待审批) are shown
# apart: asked for, not yet agreed, so not spent.
_PENDING = Q(approval_status=Disbursement.ApprovalStatus.PENDING)
_MONEY = DecimalField(max_digits=14, decimal_places=2)
_GOODS_VALUE = ExpressionWrapper(F("quantity") * F("goods_item__unit_value"), output_field=_MONEY)
ZERO = Decimal("0.00")


def default_campaign(campaigns: list[Campaign], today=None) -> Campaign | None:
    """The running campaign, else the most recent one that has started, else the newest."""
    today = today or timezone.localdate()
    running = [c for c in campaigns if c.starts_on <= today <= c.ends_on]
    started = [c for c in campaigns if c.starts_on <= today]
    return (running or started or campaigns or [None])[0]


@dataclass
class BudgetRow:
    town: Town
    source: str
    source_label: str
    budget: Decimal | None
    spent: Decimal = ZERO
    pending: Decimal = ZERO
    budget_id: int | None = None

    @property
    def remaining(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.spent

    @property
    def over(self) -> bool:
        return self.spent > (self.budget or ZERO)

    @property
    def percent(self) -> int | None:
        if not self.budget:
            return None
        return int(self.spent * 100 / self.budget)


@dataclass
class TownBudget:
    town: Town
    rows: list[BudgetRow] = field(default_factory=list)

    @property
    def budget(self) -> Decimal:
        return sum((r.budget or ZERO for r in self.rows), ZERO)

    @property
    def spent(self) -> Decimal:
        return sum((r.spent for r in self.rows), ZERO)

    @property
    def pending(self) -> Decimal:
        return sum((r.pending for r in self.rows), ZERO)

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent

    @property
    def over(self) -> bool:
        return any(r.over for r in self.rows)

    @property
    def percent(self) -> int | None:
        return int(self.spent * 100 / self.budget) if self.budget else None


def campaign_towns(user, campaign: Campaign) -> list[Town]:
    return list(Town.objects.for_user(user).filter(campaigns=campaign).order_by("code"))


def budget_overview(user, campaign: Campaign, towns: list[Town]) -> list[TownBudget]:
    """Budget, spent, pending and remaining per town and source: two grouped queries."""
    town_ids = [t.pk for t in towns]
    budgets = (
        Budget.objects.for_user(user)
        .filter(campaign=campaign, town_id__in=town_ids)
        .values_list("pk", "town_id", "source", "amount")
    )
    # The towns were resolved through the user's scope; the totals are the whole town's. A grid
    # worker's for_user() would sum only their own cells and show a town budget as barely used.
    with unscoped():
        spending = (
            Disbursement.objects.filter(campaign=campaign, town_id__in=town_ids, status=Disbursement.Status.ISSUED)
            .values("town_id", "source")
            .annotate(
                cash=Sum("amount", filter=handed_out_q() & Q(kind__in=["cash", "transfer"])),
                goods=Sum(_GOODS_VALUE, filter=handed_out_q() & Q(kind="goods")),
                pending_cash=Sum("amount", filter=_PENDING & Q(kind__in=["cash", "transfer"])),
                pending_goods=Sum(_GOODS_VALUE, filter=_PENDING & Q(kind="goods")),
            )
            .order_by()
        )
        spent = {
            (s["town_id"], s["source"]): (
                (s["cash"] or ZERO) + (s["goods"] or ZERO),
                (s["pending_cash"] or ZERO) + (s["pending_goods"] or ZERO),
            )
            for s in spending
        }
    by_key = {(town_id, source): (pk, amount) for pk, town_id, source, amount in budgets}
    labels = dict(Budget.Source.choices)
    result = []
    for town in towns:
        entry = TownBudget(town)
        for source in Budget.Source.values:
            pk, amount = by_key.get((town.pk, source), (None, None))
            used, pending = spent.get((town.pk, source), (ZERO, ZERO))
            if pk is None and not used and not pending:
                continue
            entry.rows.append(BudgetRow(town, source, labels[source], amount, used, pending, pk))
        result.append(entry)
    return result


def standards_of(campaign: Campaign) -> list[GrantStandard]:
    # GrantStandard belongs to the campaign, which was resolved through the user's scope.
    return list(
        GrantStandard.objects.filter(campaign=campaign)
        .select_related("category")
        .order_by("category__sort_order", "category__name")
    )


# --- goods -------------------------------------------------------------------------------------


def goods_items() -> list[GoodsItem]:
    return list(GoodsItem.objects.order_by("name"))


def stock_table(user, towns: list[Town], items: list[GoodsItem]) -> list[dict]:
    """One row per town: the quantity of each item in its store (0 where it has none)."""
    quantities = {
        (town_id, item_id): quantity
        for town_id, item_id, quantity in GoodsStock.objects.for_user(user)
        .filter(town_id__in=[t.pk for t in towns])
        .values_list("town_id", "goods_item_id", "quantity")
    }
    return [
        {"town": town, "cells": [{"item": item, "quantity": quantities.get((town.pk, item.pk), 0)} for item in items]}
        for town in towns
    ]


MOVEMENTS_PAGE = 50


def movements_page(user, towns: list[Town], *, item_id=None, kind=None, before=None) -> tuple[list[StockMovement], bool]:
    """Newest first, paged by id ("older than #n"): no COUNT, page 100 costs what page 1 does."""
    qs = StockMovement.objects.for_user(user).filter(town_id__in=[t.pk for t in towns])
    if item_id:
        qs = qs.filter(goods_item_id=item_id)
    if kind in StockMovement.Kind.values:
        qs = qs.filter(kind=kind)
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.select_related("goods_item", "town", "recorded_by").order_by("-id")[: MOVEMENTS_PAGE + 1])
    return rows[:MOVEMENTS_PAGE], len(rows) > MOVEMENTS_PAGE
