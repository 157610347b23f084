"""What every inspection rule reads and returns: the run's context, a candidate flag, and the helpers
that name a grant in a flag's summary."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, F
from django.db.models.functions import Coalesce

from funds.models import Budget, Disbursement, InspectionFlag, Receipt
from towns.dates import cn_date, cn_datetime
from towns.models import Beneficiary

Rule = InspectionFlag.Rule
MONEY = (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER)
GONE = (Beneficiary.Status.DECEASED, Beneficiary.Status.MOVED)
# Cash and goods are signed for (签领); a bank transfer's proof is the bank's record, not a signature.
NEEDS_RECEIPT = (Disbursement.Kind.CASH, Disbursement.Kind.GOODS)
# A signature or thumbprint photo belongs to one person; a scanned roster page may cover many.
ONE_PERSON_RECEIPTS = (Receipt.Kind.SIGNATURE, Receipt.Kind.THUMBPRINT)

# Value of a grant in yuan: the amount, or goods at their unit value.
VALUE = Coalesce(
    "amount",
    F("goods_item__unit_value") * F("quantity"),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)


@dataclass
class Candidate:
    rule: str
    key: str
    town_id: int
    summary: str
    details: dict
    campaign_id: int | None = None
    beneficiary_id: int | None = None
    disbursement_ids: list[int] = field(default_factory=list)


@dataclass
class Context:
    now: datetime
    campaign_id: int | None = None

    def grants(self):
        """All grants in the run's reach (every status)."""
        qs = Disbursement.objects.all()
        return qs.filter(campaign_id=self.campaign_id) if self.campaign_id else qs

    def handed(self):
        return self.grants().handed_out()


def chunks(items: list, size: int | None = None) -> Iterator[list]:
    # SQLite caps bound parameters; PostgreSQL takes large lists happily.
    size = size or (900 if connection.vendor == "sqlite" else 10_000)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def yuan(value) -> str:
    return f"¥{Decimal(value or 0):,.2f}"


def local_time(moment: datetime | None) -> str:
    # Summaries are text, stored and read in later years: the date style of text, always with the year.
    return cn_datetime(moment, full=True) if moment else ""


def day_text(moment: datetime | None) -> str:
    return cn_date(moment, full=True) if moment else ""


def clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The columns every rule reads to name a grant in its summary: one query, no per-grant look-ups.
GRANT_FIELDS = (
    "id",
    "town_id",
    "town__name",
    "campaign_id",
    "campaign__name",
    "beneficiary_id",
    "beneficiary__name",
    "beneficiary__id_number_masked",
    "beneficiary__id_number_digest",
    "kind",
    "amount",
    "goods_item__name",
    "quantity",
    "handed_at",
    "handed_by_id",
    "handed_by__name",
    "recorded_at",
    "recorded_by_id",
    "recorded_by__name",
    "source",
)
KIND_LABELS = dict(Disbursement.Kind.choices)
SOURCE_LABELS = dict(Budget.Source.choices)


def grant_rows(qs) -> list[dict]:
    return list(qs.annotate(value=VALUE).values(*GRANT_FIELDS, "value").order_by("handed_at", "id"))


def about_grant(rule: str, row: dict, *, summary: str, thresholds: dict, values: dict, key: str | None = None) -> Candidate:
    """A flag about one grant (rules 3-6 and 8 name a single row of grant_rows)."""
    return Candidate(
        rule=rule,
        key=key or str(row["id"]),
        town_id=row["town_id"],
        campaign_id=row["campaign_id"],
        beneficiary_id=row["beneficiary_id"],
        disbursement_ids=[row["id"]],
        summary=clip(summary),
        details={"thresholds": thresholds, "values": values},
    )


def what_text(row: dict) -> str:
    if row["kind"] == Disbursement.Kind.GOODS:
        return f"{row['goods_item__name']}×{row['quantity']}"
    return f"{KIND_LABELS[row['kind']]}{yuan(row['amount'])}"


def person_text(row: dict) -> str:
    return f"{row['beneficiary__name']}（{row['beneficiary__id_number_masked']}）"


def grant_line(row: dict, with_town: bool = False) -> str:
    town = f"{row['town__name']} " if with_town else ""
    return f"{town}{day_text(row['handed_at'])} {what_text(row)}（#{row['id']}）"


def one_campaign(rows: Iterable[dict]) -> int | None:
    campaigns = {r["campaign_id"] for r in rows}
    return campaigns.pop() if len(campaigns) == 1 else None
