"""慰问金发放花名册: the printed roster's handed-out grants, with totals."""

from __future__ import annotations

from collections import defaultdict

from funds.inspection_selectors import roster_filter
from funds.models import Disbursement
from reports.exporters.base import Exporter, labels
from reports.exporters.cells import Column
from towns.models import Beneficiary


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
        if not hasattr(self, "_filterset"):
            self._filterset = roster_filter(self.user, self.params)  # as the roster page: the latest campaign by default
        return self._filterset

    def queryset(self):
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
        kinds = labels(Disbursement.Kind.choices)
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
