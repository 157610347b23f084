"""问题清单: follow-ups with state, owner and deadline."""

from __future__ import annotations

from django.utils import timezone

from reports.exporters.base import Exporter, labels
from reports.exporters.cells import Column, cut
from visits.filters import FollowUpFilter
from visits.models import FollowUp


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
        if not hasattr(self, "_filterset"):
            self._filterset = FollowUpFilter(self.params or None, queryset=FollowUp.objects.for_user(self.user), user=self.user)
        return self._filterset

    def read(self):
        yield from self.stream(self.queryset().order_by("pk"), self.fields)

    def shape(self, batch):
        kinds = labels(FollowUp.Kind.choices)
        statuses = labels(FollowUp.Status.choices)
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
