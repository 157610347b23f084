"""走访台账: one row per visit, shaped by the database."""

from __future__ import annotations

from django.db.models import Case, CharField, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Cast, Concat, NullIf, Substr

from reports.exporters.base import Exporter, LocalTime, chunked, joined
from reports.exporters.cells import TEXT_LIMIT, Column
from visits.ledger_selectors import ledger_filter
from visits.models import Visit


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
        if not hasattr(self, "_filterset"):
            self._filterset = ledger_filter(self.user, self.params)
        return self._filterset

    def annotated(self):
        """The rows as the file shows them, shaped by the database (labels, blood pressure, visitors, local
        time): 200k rows then pass through Python untouched, which is what keeps us near the bare writer."""
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
