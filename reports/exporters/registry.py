"""重点人群信息库: the registry list's people."""

from __future__ import annotations

from collections import defaultdict

from reports.exporters.base import Exporter, labels
from reports.exporters.cells import Column, cut
from towns.models import Beneficiary
from visits.registry_filters import RegistryFilter


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
        if not hasattr(self, "_filterset"):
            self._filterset = RegistryFilter(
                self.params or None, queryset=Beneficiary.objects.for_user(self.user), user=self.user
            )
        return self._filterset

    def read(self):
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
        genders = labels(Beneficiary.Gender.choices)
        statuses = labels(Beneficiary.Status.choices)
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
