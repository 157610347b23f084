"""Spreadsheet exports (issue 7 §3): an exporter base class and the five office spreadsheets.

Like pretix's exporters: a subclass names its columns, reads its rows in batches and shapes them
into plain tuples; the base converts the few values a spreadsheet needs converted, counts, totals,
reports progress and hands the rows to a writer. Rows come from ``Model.objects.for_user(user)``
narrowed by the list page's own FilterSet (the same class the page uses, so the file holds the
rows the page lists), read with ``.values_list().iterator(chunk_size)``: a server-side cursor on
PostgreSQL, no model instances, memory flat in the row count.

Cells: a Chinese header row, bold and frozen; dates as dates; amounts as numbers in ¥ #,##0.00;
text starting with = + - @ tab or CR stored as a string cell, never a formula; ID numbers only
ever as ``id_number_masked``. The writer is rustpy-xlsxwriter (ARCHITECTURE.md "Exports": the
fastest maintained writer that meets the budget); openpyxl's write-only mode is the fallback.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain, islice
from typing import IO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Aggregate, Case, CharField, Count, DateTimeField, Exists, F, Func, OuterRef, Q, Value, When
from django.http import QueryDict
from django.utils import timezone

MONEY_FORMAT = '"¥"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
NUMBER_FORMATS = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "percent": PERCENT_FORMAT}
FORMULA_LIKE = ("=", "+", "-", "@", "\t", "\r")
TEXT_LIMIT = 32767  # characters in one cell: Excel's limit; a longer note is cut, not refused
PROGRESS_EVERY = 1000  # rows between progress callbacks (the job throttles its database writes further)


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 12
    kind: str = "text"  # text, longtext, date, datetime, money, int, percent
    total: bool = False  # summed in the totals row


class Totals(tuple):
    """The last row: a writer may set it in bold."""


def localizer() -> Callable:
    """datetime (aware, UTC from the database) → naive local wall time: spreadsheets have no time zones,
    the office reads Asia/Shanghai time. Bound once per export: the per-row cost is one C call."""
    tz = ZoneInfo(settings.TIME_ZONE)

    def local(value):
        return value.astimezone(tz).replace(tzinfo=None) if value is not None else None

    return local


def cut(value):
    """A note longer than a cell may hold is cut, not refused (Excel's limit)."""
    return value[:TEXT_LIMIT] if value and len(value) > TEXT_LIMIT else (value or None)


class LocalTime(Func):
    """A timestamptz as local wall-clock time, in SQL on PostgreSQL (``AT TIME ZONE``); other databases
    return the stored value and the exporter converts it in Python."""

    output_field = DateTimeField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} AT TIME ZONE %s)", (*params, settings.TIME_ZONE)

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])


class _GroupConcat(Aggregate):
    function = "GROUP_CONCAT"
    output_field = CharField()


def joined(expression: str, separator: str, *, order_by: str):
    """Names joined into one cell by the database: STRING_AGG on PostgreSQL, GROUP_CONCAT elsewhere."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.aggregates import StringAgg

        return StringAgg(expression, separator, order_by=order_by, output_field=CharField())
    return _GroupConcat(expression, Value(separator))


# --- writers -------------------------------------------------------------------------------


class RustpyWriter:
    """rustpy-xlsxwriter (Rust's rust_xlsxwriter): constant memory, every str a text cell."""

    def write(self, out, *, title: str, columns: tuple[Column, ...], rows: Iterator[tuple]) -> None:
        from rustpy_xlsxwriter import Format, write_worksheet

        headers = [c.header for c in columns]
        first = next(rows, None)
        # Records are dicts: the first one names the header row; an empty export still gets its header.
        records = (
            [dict.fromkeys(headers)]
            if first is None
            else (dict(zip(headers, row, strict=False)) for row in chain((first,), rows))  # shape() makes full rows
        )
        write_worksheet(
            records,
            out,
            sheet_name=title[:31] or "Sheet1",
            freeze_row=1,
            column_widths=[c.width for c in columns],
            column_formats=[
                Format().set_num_format(NUMBER_FORMATS[c.kind]) if c.kind in NUMBER_FORMATS else None for c in columns
            ],
            header_format=Format().set_bold().set_align("center"),
        )


class OpenpyxlWriter:
    """openpyxl write-only: pure Python, 7× slower (ARCHITECTURE.md); kept for an install without wheels."""

    def write(self, out, *, title: str, columns: tuple[Column, ...], rows: Iterator[tuple]) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title[:31] or "Sheet1")
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        bold = Font(bold=True)
        centre = Alignment(horizontal="center", vertical="center")
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=column.header)
            cell.font, cell.alignment = bold, centre
            header.append(cell)
        sheet.append(header)
        formats = [NUMBER_FORMATS.get(c.kind) for c in columns]

        def cell(i, value, font=None):
            if value is None or value == "":
                return None
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
                if not value.startswith(FORMULA_LIKE) and font is None:
                    return value
                made = WriteOnlyCell(sheet, value=value)
                made.data_type = "s"  # openpyxl would store "=..." as a formula
            else:
                made = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
                if formats[i]:
                    made.number_format = formats[i]
            if font is not None:
                made.font = font
            return made

        for row in rows:
            font = bold if isinstance(row, Totals) else None
            sheet.append([cell(i, value, font) for i, value in enumerate(row)])
        book.save(out)


WRITERS = {"rustpy": RustpyWriter, "openpyxl": OpenpyxlWriter}


def writer_for(name: str | None = None):
    return WRITERS[name or getattr(settings, "EXPORT_WRITER", "rustpy")]()


# --- the exporter base ---------------------------------------------------------------------


def chunked(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def _labels(choices) -> dict:
    return dict(choices)


class Exporter:
    """One spreadsheet. Subclasses set name/title/columns and implement ``read()`` and ``shape()``."""

    name = ""
    title = ""
    columns: tuple[Column, ...] = ()
    batch_size = 2000
    totals_label = "合计"
    personal = True  # names and masked ID numbers: downloads are recorded as personal data leaving

    def __init__(self, user, params=None, *, writer=None):
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
        self.writer = writer
        self.row_count = 0
        self.local = localizer()

    # --- which rows ----------------------------------------------------------------------

    def filterset(self):
        """The list page's FilterSet over the user's rows, or None (coverage has no list page)."""
        return None

    def errors(self) -> list[str]:
        """Why these parameters cannot be exported (Chinese, for the form); empty when they can."""
        filterset = self.filterset()
        if filterset is None or not filterset.is_bound or filterset.is_valid():
            return []
        return [
            f"{filterset.filters[name].label}：{'；'.join(errs)}"
            for name, errs in filterset.errors.items()
            if name in filterset.filters
        ] or ["筛选条件有误"]

    def filters(self) -> dict:
        """The parameters that choose rows (the FilterSet's own), as stored on the job and in the audit record."""
        filterset = self.filterset()
        names = set(filterset.filters) if filterset is not None else set(self.params)
        return {k: v for k, v in self.params.items() if v and k in names}

    def describe(self) -> str:
        """The chosen filters in words (镇（街道）：冶山镇；走访方式：入户走访), for the exports page."""
        filterset = self.filterset()
        if filterset is None or (filterset.is_bound and not filterset.is_valid()):
            return ""
        cleaned = filterset.form.cleaned_data if filterset.is_bound else {}
        parts = []
        for name, value in self.filters().items():
            chosen = cleaned.get(name, value)
            choices = dict((str(k), v) for k, v, *_ in filterset.filters[name].extra.get("choices") or [])
            shown = choices.get(str(chosen), chosen) if not hasattr(chosen, "pk") else str(chosen)
            parts.append(f"{filterset.filters[name].label}：{shown}")
        return "；".join(parts)[:300]

    def queryset(self):
        filterset = self.filterset()
        return filterset.qs

    def estimate(self) -> int:
        """How many rows to expect, for the progress bar."""
        return self.queryset().order_by().count()

    # --- what subclasses provide ---------------------------------------------------------

    def read(self) -> Iterator:
        """Batches of raw database rows (with whatever each batch needs besides)."""
        raise NotImplementedError

    def shape(self, batch) -> Iterator[tuple]:
        """One batch's spreadsheet rows, in column order."""
        raise NotImplementedError

    def rows(self) -> Iterator[tuple]:
        for batch in self.read():
            yield from self.shape(batch)

    # --- helpers ---------------------------------------------------------------------

    def stream(self, queryset, fields: Iterable[str]) -> Iterator[list[tuple]]:
        """``values_list(*fields)`` in the queryset's order, through a server-side cursor, in batches."""
        return chunked(queryset.values_list(*fields).iterator(chunk_size=self.batch_size), self.batch_size)

    # --- the file -------------------------------------------------------------------

    def prepared(self, rows: Iterable[tuple], progress: Callable[[int], None] | None = None) -> Iterator[tuple]:
        """The rows as the writer gets them: counted, progress reported, then the totals row.

        Values arrive ready from ``shape()`` (local naive datetimes, dates, Decimals, str or None):
        converting here, cell by cell, would cost more than the writer itself.
        """
        totals = {i: Decimal(0) if c.kind == "money" else 0 for i, c in enumerate(self.columns) if c.total}
        count = 0
        report_at = PROGRESS_EVERY
        for row in rows:
            count += 1
            if totals:
                for i in totals:
                    if row[i] is not None:
                        totals[i] += row[i]
            if progress is not None and count >= report_at:
                progress(count)
                report_at += PROGRESS_EVERY
            yield row
        self.row_count = count
        if totals and count:
            yield Totals(self.totals_row(totals))

    def totals_row(self, totals: dict) -> tuple:
        """The 合计 row: the summed columns and the label; a subclass adds what derives from the sums."""
        return tuple(totals.get(i, self.totals_label if i == 0 else None) for i in range(len(self.columns)))

    def write(self, out: str | IO[bytes], progress: Callable[[int], None] | None = None) -> int:
        """Write the workbook to a path or binary file; returns the number of data rows."""
        writer = self.writer or writer_for()
        # One read transaction: one snapshot for every query of the file, and PostgreSQL's server-side
        # cursor streams (outside a transaction Django declares it WITH HOLD, which materialises the
        # whole result first: 1.8x the raw cursor at 200k rows, measured).
        with transaction.atomic():
            writer.write(out, title=self.title, columns=self.columns, rows=iter(self.prepared(self.rows(), progress)))
        if progress is not None:
            progress(self.row_count)
        return self.row_count


class LedgerExporter(Exporter):
    """走访台账: one row per visit (VisitFilter, as the 走访台账 page)."""

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
        Column("情况记录", 40, "longtext"),
    )

    def filterset(self):
        from visits.ledger_selectors import ledger_filter

        if not hasattr(self, "_filterset"):
            self._filterset = ledger_filter(self.user, self.params)
        return self._filterset

    def annotated(self):
        """The rows as the file shows them, shaped by the database (labels, blood pressure, visitors, local
        time): 200k rows then pass through Python untouched, which is what keeps us near the bare writer."""
        from django.db.models import CharField, Subquery
        from django.db.models.functions import Cast, Concat, NullIf, Substr

        from visits.models import Visit

        labels = Case(
            *[When(kind=value, then=Value(label)) for value, label in Visit.Kind.choices],
            default=F("kind"),
            output_field=CharField(),
        )
        bp = Case(
            When(
                bp_systolic__isnull=False,
                bp_diastolic__isnull=False,
                then=Concat(Cast("bp_systolic", CharField()), Value("/"), Cast("bp_diastolic", CharField())),
            ),
            default=None,
            output_field=CharField(),
        )
        through = Visit.visitors.through
        visitors = Subquery(
            through.objects.filter(visit_id=OuterRef("pk"))
            .order_by()
            .values("visit_id")
            .annotate(names=joined("cadre__name", "、", order_by="id"))
            .values("names")
        )
        return (
            self.queryset()
            .order_by("pk")
            .annotate(
                x_at=LocalTime("visited_at"),
                x_kind=labels,
                x_visitors=visitors,
                x_bp=bp,
                x_notes=NullIf(Substr("notes", 1, TEXT_LIMIT), Value("")),
            )
            .values_list(
                "x_at",
                "town__name",
                "cell__village__name",
                "cell__name",
                "beneficiary__name",
                "beneficiary__id_number_masked",
                "x_kind",
                "x_visitors",
                "x_bp",
                "x_notes",
            )
        )

    def read(self):
        return chunked(self.annotated().iterator(chunk_size=self.batch_size), self.batch_size)

    def shape(self, batch):
        if not batch or batch[0][0] is None or batch[0][0].tzinfo is None:
            return batch  # local time already (PostgreSQL): the rows are final
        local = self.local  # SQLite (the demo): Django hands back aware datetimes
        return [(local(row[0]), *row[1:]) for row in batch]


class RosterExporter(Exporter):
    """慰问金发放花名册: the printed roster's rows (RosterFilter, as the 发放花名册 page: handed-out grants), with totals."""

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
    fields = (
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

    def filterset(self):
        from funds.filters import RosterFilter
        from funds.inspection_selectors import _Req
        from funds.models import Disbursement
        from visits.models import Campaign

        if not hasattr(self, "_filterset"):
            data = self.params.copy()
            if not data.get("campaign"):  # as the roster page: the latest campaign unless one is chosen
                first = Campaign.objects.for_user(self.user).order_by("-starts_on").values_list("pk", flat=True).first()
                if first is not None:
                    data["campaign"] = str(first)
            self._filterset = RosterFilter(data, queryset=Disbursement.objects.for_user(self.user), request=_Req(self.user))
        return self._filterset

    def queryset(self):
        from funds.models import Disbursement

        filterset = self.filterset()
        if not filterset.is_valid():
            return Disbursement.objects.for_user(self.user).none()
        # As the printed roster: handed out only (pending, rejected and voided grants are left out).
        return filterset.qs.handed_out()

    def filters(self) -> dict:
        chosen = super().filters()
        chosen.setdefault("campaign", self.filterset().data.get("campaign"))
        return {k: v for k, v in chosen.items() if v}

    def read(self):
        from towns.models import Beneficiary

        through = Beneficiary.categories.through
        # Printed order: town, village, cell, date.
        ordered = self.queryset().order_by("town__code", "cell__village__code", "cell__code", "handed_at", "id")
        for batch in self.stream(ordered, self.fields):
            cats = defaultdict(list)
            for person, cat in (
                through.objects.filter(beneficiary_id__in={row[3] for row in batch})
                .order_by("category__sort_order", "category_id")
                .values_list("beneficiary_id", "category__name")
            ):
                cats[person].append(cat)
            yield batch, cats

    def rows(self):
        number = 0  # 序号 runs across batches
        for batch in self.read():
            for row in self.shape(batch):
                number += 1
                yield (number, *row)

    def shape(self, batch):
        from funds.models import Disbursement

        kinds = _labels(Disbursement.Kind.choices)
        goods_kind = Disbursement.Kind.GOODS
        local = self.local
        rows, cats = batch
        for town, village, cell, person, name, masked, amount, goods, qty, unit, kind, proxy, relation, handed_by, at in rows:
            yield (
                "/".join(part for part in (town, village, cell) if part),
                name,
                masked,
                "、".join(cats[person]) or None,
                amount if kind != goods_kind else None,
                f"{goods}×{qty}{unit or ''}" if goods else None,
                kinds.get(kind, kind),
                None,
                f"{proxy}（{relation}）" if proxy and relation else (proxy or None),
                handed_by,
                None,
                local(at).date() if at else None,
            )


class RegistryExporter(Exporter):
    """重点人群信息库: the registry list's rows (RegistryFilter, as the 信息库 page)."""

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
        Column("备注", 30, "longtext"),
    )
    fields = (
        "pk",
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

    def filterset(self):
        from towns.models import Beneficiary
        from visits.registry_filters import RegistryFilter

        if not hasattr(self, "_filterset"):
            self._filterset = RegistryFilter(
                self.params or None, queryset=Beneficiary.objects.for_user(self.user), user=self.user
            )
        return self._filterset

    def read(self):
        from towns.models import Beneficiary

        through = Beneficiary.categories.through
        for batch in self.stream(self.queryset().order_by("pk"), self.fields):
            cats = defaultdict(list)
            for person, cat in (
                through.objects.filter(beneficiary_id__in=[r[0] for r in batch])
                .order_by("category__sort_order", "category_id")
                .values_list("beneficiary_id", "category__name")
            ):
                cats[person].append(cat)
            yield batch, cats

    def shape(self, batch):
        from towns.models import Beneficiary

        genders = _labels(Beneficiary.Gender.choices)
        statuses = _labels(Beneficiary.Status.choices)
        rows, cats = batch
        for pk, town, village, cell, name, gender, born, masked, status, cadre, last, due, notes in rows:
            yield (
                town,
                village,
                cell,
                name,
                genders.get(gender, gender),
                born,
                masked,
                "、".join(cats[pk]) or None,
                statuses.get(status, status),
                cadre,
                self.local(last).date() if last else None,
                due,
                cut(notes),
            )


class FollowUpExporter(Exporter):
    """问题清单: follow-ups with state, owner and deadline (FollowUpFilter, as the 问题清单 page)."""

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
        Column("详细情况", 40, "longtext"),
        Column("责任人", 10),
        Column("责任部门", 14),
        Column("提出日期", 12, "date"),
        Column("办结时限", 12, "date"),
        Column("状态", 10),
        Column("是否超期", 8),
        Column("销号日期", 12, "date"),
    )
    fields = (
        "pk",
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

    def filterset(self):
        from visits.filters import FollowUpFilter
        from visits.models import FollowUp

        if not hasattr(self, "_filterset"):
            self._filterset = FollowUpFilter(self.params or None, queryset=FollowUp.objects.for_user(self.user), user=self.user)
        return self._filterset

    def read(self):
        yield from self.stream(self.queryset().order_by("pk"), self.fields)

    def shape(self, batch):
        from visits.models import FollowUp

        kinds = _labels(FollowUp.Kind.choices)
        statuses = _labels(FollowUp.Status.choices)
        done = {FollowUp.Status.RESOLVED, FollowUp.Status.REVISITED, FollowUp.Status.CLOSED, FollowUp.Status.REJECTED}
        today = timezone.localdate()
        for pk, town, village, cell, name, masked, kind, title, desc, owner, dept, raised, deadline, status, closed in batch:
            yield (
                pk,
                town,
                village,
                cell,
                name,
                masked,
                kinds.get(kind, kind),
                title,
                cut(desc),
                owner,
                dept or None,
                raised,
                deadline,
                statuses.get(status, status),
                "是" if deadline and status not in done and deadline < today else None,
                closed,
            )


class CoverageExporter(Exporter):
    """网格覆盖: per small cell, the campaign's targeted people and how many were visited in it."""

    name = "coverage"
    title = "网格覆盖"
    personal = False  # counts per cell, no one's name
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
        chosen = self.params.get("campaign")
        if chosen:
            return campaigns.filter(pk=int(chosen)).first() if str(chosen).isdigit() else None
        return campaigns.order_by("-starts_on").first()

    def errors(self) -> list[str]:
        from towns.models import Town

        found = []
        if self.campaign() is None:
            found.append("专项活动：请选择一个专项活动")
        town = self.params.get("town")
        if town and not (str(town).isdigit() and Town.objects.for_user(self.user).filter(pk=int(town)).exists()):
            found.append("镇（街道）：没有这个镇（街道）")
        return found

    def describe(self) -> str:
        from towns.models import Town

        campaign = self.campaign()
        parts = [f"专项活动：{campaign.name}"] if campaign is not None else []
        if self.params.get("town"):
            town = Town.objects.for_user(self.user).filter(pk=int(self.params["town"])).first()
            parts.append(f"镇（街道）：{town.name if town else self.params['town']}")
        return "；".join(parts)

    def filters(self) -> dict:
        campaign = self.campaign()
        chosen = {"campaign": str(campaign.pk)} if campaign is not None else {}
        if self.params.get("town"):
            chosen["town"] = self.params["town"]
        return chosen

    def cells(self):
        from towns.models import GridCell

        cells = GridCell.objects.for_user(self.user).filter(level="small")
        if self.params.get("town"):
            cells = cells.filter(town_id=self.params["town"])
        return cells

    def estimate(self) -> int:
        return self.cells().count()

    def read(self):
        from visits.models import Visit
        from visits.targets import campaign_targets

        campaign = self.campaign()
        if campaign is None:
            return
        targeted = campaign_targets(campaign, self.user)  # the one rule, as on the dashboards
        if self.params.get("town"):
            targeted = targeted.filter(town_id=self.params["town"])
        visited = Exists(Visit.objects.filter(campaign_id=campaign.pk, beneficiary_id=OuterRef("pk")))
        counts = {
            cell: (n, v)
            for cell, n, v in targeted.annotate(seen=visited)
            .order_by()
            .values("cell_id")
            .annotate(n=Count("id"), v=Count("id", filter=Q(seen=True)))
            .values_list("cell_id", "n", "v")
        }
        cells = self.cells().order_by("town__code", "village__code", "parent__code", "code")
        for batch in self.stream(cells, ("town__name", "village__name", "parent__name", "name", "pk")):
            yield batch, counts

    def totals_row(self, totals: dict) -> tuple:
        # The county's rate is visited over targeted of the totals, not an average of the cells' rates.
        row = list(super().totals_row(totals))
        targeted, visited = totals[4], totals[5]
        row[6] = (visited / targeted) if targeted else None
        return tuple(row)

    def shape(self, batch):
        rows, counts = batch
        for town, village, big, name, pk in rows:
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

    from core.audit import record_personal_data_access
    from core.permissions import require

    if check_permission:
        require(user, "export.personal")
    exporter = EXPORTERS[name](user, params)
    problems = exporter.errors()
    if problems:
        from django.core.exceptions import ValidationError

        raise ValidationError(problems)
    with transaction.atomic():
        count = exporter.write(out)
        record_personal_data_access(actor=user, what=exporter.title, count=count, filters={"export": name, **exporter.filters()})
    return count
