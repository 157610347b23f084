"""网格覆盖: per small cell, the campaign's targeted people and how many were visited."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

from reports.exporters.base import Exporter
from reports.exporters.cells import Column
from towns.models import GridCell, Town
from visits.models import Campaign, Visit
from visits.targets import campaign_targets


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
        campaigns = Campaign.objects.for_user(self.user)
        chosen = self.params.get("campaign")
        if chosen:
            return campaigns.filter(pk=int(chosen)).first() if str(chosen).isdigit() else None
        return campaigns.order_by("-starts_on").first()

    def errors(self) -> list[str]:
        found = []
        if self.campaign() is None:
            found.append("专项活动：请选择一个专项活动")
        town = self.params.get("town")
        if town and not (str(town).isdigit() and Town.objects.for_user(self.user).filter(pk=int(town)).exists()):
            found.append("镇（街道）：没有这个镇（街道）")
        return found

    def describe(self) -> str:
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
        cells = GridCell.objects.for_user(self.user).filter(level="small")
        if self.params.get("town"):
            cells = cells.filter(town_id=self.params["town"])
        return cells

    def estimate(self) -> int:
        return self.cells().count()

    def read(self):
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
