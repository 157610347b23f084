"""Spreadsheet exports (issue 7 §3): an exporter base class and the five office spreadsheets.

Like pretix's exporters: a subclass names its columns and yields plain tuples; the base
writes the .xlsx. Rows come from ``Model.objects.for_user(user)`` (the same scoping as the
list pages), narrowed by the list page's FilterSet where there is one, and are read with
``.values_list()`` in pk batches: no model instances, memory flat in the row count.

Cells: a Chinese header row, frozen; dates as dates; amounts as numbers in ¥ #,##0.00;
text starting with = + - @ tab or CR stored as a string cell, never a formula; ID numbers
only ever as ``id_number_masked``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO

from django.db.models import Count, Exists, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

MONEY_FORMAT = '"¥"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
FORMULA_LIKE = ("=", "+", "-", "@", "\t", "\r")


def _narrowed(queryset, params, **lookups):
    """Apply the given parameters that are present: ``town="town_id"`` filters town_id=params["town"]."""
    for param, lookup in lookups.items():
        if params.get(param):
            queryset = queryset.filter(**{lookup: params[param]})
    return queryset


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 12
    kind: str = "text"  # text, date, datetime, money, int, percent
    total: bool = False  # summed in the totals row


class Exporter:
    """One spreadsheet. Subclasses set name/title/columns and implement ``rows()``."""

    name = ""
    title = ""
    columns: tuple[Column, ...] = ()
    batch_size = 2000
    totals_label = "合计"

    def __init__(self, user, params=None):
        self.user = user
        if params is None:
            params = QueryDict(mutable=True)
        elif not isinstance(params, QueryDict):
            data = QueryDict(mutable=True)
            for key, value in params.items():
                if value not in (None, ""):
                    data[key] = str(value)
            params = data
        self.params = params
        self.row_count = 0

    # --- what subclasses provide ---------------------------------------------------------

    def rows(self) -> Iterator[tuple]:
        raise NotImplementedError

    def filters(self) -> dict:
        """Which rows were asked for, for the audit record."""
        return {k: v for k, v in self.params.items() if v}

    # --- helpers ---------------------------------------------------------------------

    def batches(self, queryset, fields: Iterable[str]) -> Iterator[list[tuple]]:
        """``values_list(pk, *fields)`` walked by pk in batches (keyset, no OFFSET)."""
        fields = ("pk", *fields)
        last = 0
        while True:
            batch = list(queryset.filter(pk__gt=last).order_by("pk").values_list(*fields)[: self.batch_size])
            if not batch:
                return
            yield batch
            last = batch[-1][0]

    # --- the file -------------------------------------------------------------------

    def write(self, out: str | IO[bytes]) -> int:
        """Write the workbook to a path or binary file; returns the number of data rows."""
        book = Workbook(write_only=True)
        sheet = book.create_sheet(self.title[:31] or "Sheet1")
        sheet.freeze_panes = "A2"
        for index, column in enumerate(self.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        bold = Font(bold=True)
        centre = Alignment(horizontal="center", vertical="center")
        header = []
        for column in self.columns:
            cell = WriteOnlyCell(sheet, value=column.header)
            cell.font = bold
            cell.alignment = centre
            header.append(cell)
        sheet.append(header)

        kinds = [column.kind for column in self.columns]
        totals = {i: Decimal(0) if c.kind == "money" else 0 for i, c in enumerate(self.columns) if c.total}
        count = 0
        for row in self.rows():
            count += 1
            for i in totals:
                if row[i] is not None and row[i] != "":
                    totals[i] += row[i]
            sheet.append([self._cell(sheet, kinds[i], value) for i, value in enumerate(row)])
        if totals and count:
            last = []
            for i, column in enumerate(self.columns):
                value = totals.get(i, self.totals_label if i == 0 else None)
                cell = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
                cell.font = bold
                if column.kind == "money":
                    cell.number_format = MONEY_FORMAT
                last.append(cell)
            sheet.append(last)
        book.save(out)
        self.row_count = count
        return count

    @staticmethod
    def _cell(sheet, kind: str, value):
        if value is None or value == "":
            return None
        if kind == "money":
            cell = WriteOnlyCell(sheet, value=float(value))
            cell.number_format = MONEY_FORMAT
            return cell
        if kind == "date" or kind == "datetime":
            if isinstance(value, datetime):
                if timezone.is_aware(value):
                    value = timezone.localtime(value).replace(tzinfo=None)
                if kind == "date":
                    value = value.date()
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = DATE_FORMAT if kind == "date" else DATETIME_FORMAT
            return cell
        if kind == "percent":
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = PERCENT_FORMAT
            return cell
        if kind == "int":
            return value
        if not isinstance(value, str):
            value = str(value)
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(FORMULA_LIKE):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # openpyxl would store "=..." as a formula
            return cell
        return value


def _labels(choices) -> dict:
    return dict(choices)


class LedgerExporter(Exporter):
    """走访台账: one row per visit."""

    name = "ledger"
    title = "走访台账"
    columns = (
        Column("走访日期", 17, "datetime"),
        Column("镇（街道）", 10),
        Column("村（社区）", 12),
        Column("网格", 16),
        Column("姓名", 10),
        Column("身份证号", 20),
        Column("走访方式", 10),
        Column("走访干部", 18),
        Column("血压", 9),
        Column("情况记录", 40),
    )

    def queryset(self):
        from visits.models import Visit

        return _narrowed(
            Visit.objects.for_user(self.user),
            self.params,
            town="town_id",
            campaign="campaign_id",
            date_from="visited_at__date__gte",
            date_to="visited_at__date__lte",
        )

    def rows(self):
        from visits.models import Visit

        kinds = _labels(Visit.Kind.choices)
        through = Visit.visitors.through
        fields = (
            "visited_at",
            "town__name",
            "cell__village__name",
            "cell__name",
            "beneficiary__name",
            "beneficiary__id_number_masked",
            "kind",
            "bp_systolic",
            "bp_diastolic",
            "notes",
        )
        for batch in self.batches(self.queryset(), fields):
            visitors = defaultdict(list)
            ids = [row[0] for row in batch]
            for visit_id, name in through.objects.filter(visit_id__in=ids).order_by("id").values_list("visit_id", "cadre__name"):
                visitors[visit_id].append(name)
            for pk, at, town, village, cell, name, masked, kind, sys, dia, notes in batch:
                bp = f"{sys}/{dia}" if sys and dia else ""
                yield (at, town, village, cell, name, masked, kinds.get(kind, kind), "、".join(visitors[pk]), bp, notes)


class RosterExporter(Exporter):
    """慰问金发放花名册: the printed roster's rows (RosterFilter, handed-out grants only), with totals."""

    name = "roster"
    title = "慰问金发放花名册"
    columns = (
        Column("序号", 6, "int"),
        Column("镇/村/网格", 30),
        Column("姓名", 10),
        Column("身份证号", 20),
        Column("类别", 14),
        Column("金额", 12, "money", total=True),
        Column("慰问品", 16),
        Column("发放方式", 10),
        Column("领取人签名/手印", 16),
        Column("代领人及关系", 14),
        Column("发放人", 10),
        Column("监督人", 10),
        Column("日期", 12, "date"),
    )

    def queryset(self):
        from funds.filters import RosterFilter
        from funds.inspection import HANDED_APPROVAL
        from funds.inspection_selectors import _Req
        from funds.models import Disbursement
        from visits.models import Campaign

        data = self.params.copy()
        if not data.get("campaign"):
            first = Campaign.objects.for_user(self.user).order_by("-starts_on").values_list("pk", flat=True).first()
            if first is not None:
                data["campaign"] = str(first)
        filterset = RosterFilter(data, queryset=Disbursement.objects.for_user(self.user), request=_Req(self.user))
        if not filterset.is_valid():
            return Disbursement.objects.for_user(self.user).none()
        return filterset.qs.filter(status=Disbursement.Status.ISSUED, approval_status__in=HANDED_APPROVAL)

    def rows(self):
        from funds.models import Disbursement
        from towns.models import Beneficiary

        kinds = _labels(Disbursement.Kind.choices)
        qs = self.queryset()
        # Printed order (town, village, cell, date): order the pks once, then read them in batches.
        order = list(
            qs.order_by("town__code", "cell__village__code", "cell__code", "handed_at", "id").values_list("pk", flat=True)
        )
        fields = (
            "pk",
            "town__name",
            "cell__village__name",
            "cell__name",
            "beneficiary_id",
            "beneficiary__name",
            "beneficiary__id_number_masked",
            "amount",
            "goods_item__name",
            "quantity",
            "goods_item__unit",
            "kind",
            "proxy_name",
            "proxy_relation",
            "handed_by__name",
            "handed_at",
        )
        through = Beneficiary.categories.through
        number = 0
        for start in range(0, len(order), self.batch_size):
            ids = order[start : start + self.batch_size]
            by_pk = {row[0]: row for row in qs.filter(pk__in=ids).values_list(*fields)}
            people = {row[4] for row in by_pk.values()}
            cats = defaultdict(list)
            for person, cat in (
                through.objects.filter(beneficiary_id__in=people)
                .order_by("category__sort_order", "category_id")
                .values_list("beneficiary_id", "category__name")
            ):
                cats[person].append(cat)
            for pk in ids:
                row = by_pk.get(pk)
                if row is None:
                    continue
                (_, town, village, cell, person, name, masked, amount, goods, qty, unit, kind, proxy, relation, handed_by, at) = (
                    row
                )
                number += 1
                place = "/".join(part for part in (town, village, cell) if part)
                goods_text = f"{goods}×{qty}{unit or ''}" if goods else ""
                proxy_text = f"{proxy}（{relation}）" if proxy and relation else proxy
                yield (
                    number,
                    place,
                    name,
                    masked,
                    "、".join(cats[person]),
                    amount if kind != Disbursement.Kind.GOODS else None,
                    goods_text,
                    kinds.get(kind, kind),
                    "",
                    proxy_text,
                    handed_by,
                    "",
                    at,
                )


class RegistryExporter(Exporter):
    """重点人群信息库: the registry list's rows (BeneficiaryFilter)."""

    name = "registry"
    title = "重点人群信息库"
    columns = (
        Column("镇（街道）", 10),
        Column("村（社区）", 12),
        Column("网格", 16),
        Column("姓名", 10),
        Column("性别", 6),
        Column("出生日期", 12, "date"),
        Column("身份证号", 20),
        Column("人群类别", 18),
        Column("状态", 8),
        Column("责任干部", 10),
        Column("最近走访", 12, "date"),
        Column("下次应访", 12, "date"),
        Column("备注", 30),
    )

    def queryset(self):
        from towns.filters import BeneficiaryFilter
        from towns.models import Beneficiary

        filterset = BeneficiaryFilter(self.params or None, queryset=Beneficiary.objects.for_user(self.user), user=self.user)
        if filterset.is_bound and not filterset.is_valid():
            return Beneficiary.objects.for_user(self.user).none()
        return filterset.qs

    def rows(self):
        from towns.models import Beneficiary

        genders = _labels(Beneficiary.Gender.choices)
        statuses = _labels(Beneficiary.Status.choices)
        through = Beneficiary.categories.through
        fields = (
            "town__name",
            "household__village__name",
            "cell__name",
            "name",
            "gender",
            "birth_date",
            "id_number_masked",
            "status",
            "responsible_cadre__name",
            "last_visited_at",
            "next_visit_due",
            "notes",
        )
        for batch in self.batches(self.queryset(), fields):
            cats = defaultdict(list)
            for person, cat in (
                through.objects.filter(beneficiary_id__in=[r[0] for r in batch])
                .order_by("category__sort_order", "category_id")
                .values_list("beneficiary_id", "category__name")
            ):
                cats[person].append(cat)
            for pk, town, village, cell, name, gender, born, masked, status, cadre, last, due, notes in batch:
                yield (
                    town,
                    village,
                    cell,
                    name,
                    genders.get(gender, gender),
                    born,
                    masked,
                    "、".join(cats[pk]),
                    statuses.get(status, status),
                    cadre,
                    last,
                    due,
                    notes,
                )


class FollowUpExporter(Exporter):
    """问题清单: follow-ups with state, owner and deadline."""

    name = "followups"
    title = "问题清单"
    columns = (
        Column("编号", 8, "int"),
        Column("镇（街道）", 10),
        Column("村（社区）", 12),
        Column("网格", 16),
        Column("姓名", 10),
        Column("身份证号", 20),
        Column("类型", 10),
        Column("事项", 30),
        Column("详细情况", 40),
        Column("责任人", 10),
        Column("责任部门", 14),
        Column("提出日期", 12, "date"),
        Column("办结时限", 12, "date"),
        Column("状态", 10),
        Column("是否超期", 8),
        Column("销号日期", 12, "date"),
    )

    def queryset(self):
        from visits.models import FollowUp

        return _narrowed(
            FollowUp.objects.for_user(self.user),
            self.params,
            town="town_id",
            campaign="campaign_id",
            status="status",
            kind="kind",
        )

    def rows(self):
        from visits.models import FollowUp

        kinds = _labels(FollowUp.Kind.choices)
        statuses = _labels(FollowUp.Status.choices)
        done = {FollowUp.Status.RESOLVED, FollowUp.Status.REVISITED, FollowUp.Status.CLOSED, FollowUp.Status.REJECTED}
        today = timezone.localdate()
        fields = (
            "town__name",
            "village__name",
            "cell__name",
            "beneficiary__name",
            "beneficiary__id_number_masked",
            "kind",
            "title",
            "description",
            "owner__name",
            "owner_department",
            "raised_on",
            "deadline",
            "status",
            "closed_on",
        )
        for batch in self.batches(self.queryset(), fields):
            for pk, town, village, cell, name, masked, kind, title, desc, owner, dept, raised, deadline, status, closed in batch:
                overdue = "是" if deadline and status not in done and deadline < today else ""
                yield (
                    pk,
                    town,
                    village,
                    cell,
                    name,
                    masked,
                    kinds.get(kind, kind),
                    title,
                    desc,
                    owner,
                    dept,
                    raised,
                    deadline,
                    statuses.get(status, status),
                    overdue,
                    closed,
                )


class CoverageExporter(Exporter):
    """网格覆盖: per small cell, the campaign's targeted people and how many were visited in it."""

    name = "coverage"
    title = "网格覆盖"
    columns = (
        Column("镇（街道）", 10),
        Column("村（社区）", 12),
        Column("大网格", 18),
        Column("小网格", 18),
        Column("应访人数", 10, "int", total=True),
        Column("已访人数", 10, "int", total=True),
        Column("覆盖率", 10, "percent"),
    )

    def campaign(self):
        from visits.models import Campaign

        campaigns = Campaign.objects.for_user(self.user)
        if self.params.get("campaign"):
            return campaigns.filter(pk=self.params["campaign"]).first()
        return campaigns.order_by("-starts_on").first()

    def rows(self):
        from towns.models import Beneficiary, GridCell
        from visits.models import Visit

        campaign = self.campaign()
        if campaign is None:
            return
        targeted = Beneficiary.objects.for_user(self.user).filter(
            status=Beneficiary.Status.ACTIVE,
            town_id__in=campaign.towns.values("pk"),
            pk__in=Beneficiary.categories.through.objects.filter(category_id__in=campaign.target_categories.values("pk")).values(
                "beneficiary_id"
            ),
        )
        cells = GridCell.objects.for_user(self.user).filter(level="small")
        if self.params.get("town"):
            targeted = targeted.filter(town_id=self.params["town"])
            cells = cells.filter(town_id=self.params["town"])
        visited = Exists(Visit.objects.filter(campaign_id=campaign.pk, beneficiary_id=OuterRef("pk")))
        counts = {
            cell: (n, v)
            for cell, n, v in targeted.annotate(seen=visited)
            .order_by()
            .values("cell_id")
            .annotate(n=Count("id"), v=Count("id", filter=Q(seen=True)))
            .values_list("cell_id", "n", "v")
        }
        for town, village, big, name, pk in cells.order_by("town__code", "village__code", "parent__code", "code").values_list(
            "town__name", "village__name", "parent__name", "name", "pk"
        ):
            n, v = counts.get(pk, (0, 0))
            yield (town, village, big, name, n, v, (v / n) if n else None)


EXPORTERS: dict[str, type[Exporter]] = {
    cls.name: cls for cls in (LedgerExporter, RosterExporter, RegistryExporter, FollowUpExporter, CoverageExporter)
}


def run_export(name: str, user, params, out, *, check_permission: bool = True) -> int:
    """Write one export and leave the personal-data audit record; returns the row count.

    The shell (``manage.py export``) skips the role check: whoever runs it already holds the server.
    """
    from django.db import transaction

    from funds.audit import record_personal_data_access
    from towns.permissions import require

    if check_permission:
        require(user, "export.personal")
    exporter = EXPORTERS[name](user, params)
    with transaction.atomic():
        count = exporter.write(out)
        record_personal_data_access(actor=user, what=exporter.title, count=count, filters={"export": name, **exporter.filters()})
    return count
