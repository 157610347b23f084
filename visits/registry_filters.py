"""The registry's rows with visit state: towns' people filters plus the campaign's targets and who of
them the campaign has visited. One FilterSet for the 信息库 page and (issue 7) its export."""

import django_filters
from django.db.models import Exists, OuterRef

from towns.filters import BeneficiaryFilter
from visits.models import Campaign, Visit
from visits.targets import target_q


class RegistryFilter(BeneficiaryFilter):
    campaign = django_filters.ChoiceFilter(label="专项活动", method="filter_campaign")
    visited = django_filters.ChoiceFilter(
        label="活动走访", choices=[("yes", "已走访"), ("no", "未走访")], method="filter_visited", empty_label="不限"
    )

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, user=user, **kwargs)  # the area filters fill the campaign choices
        self.filters["campaign"].extra["empty_label"] = "全部"

    def filter_campaign(self, queryset, name, value):
        """The campaign's targets by the one rule (visits/targets.py: 在册, its towns, the approved
        list or, before approval, the categories); "visited" narrows further."""
        if not Campaign.objects.for_user(self.user).filter(pk=value).exists():
            return queryset.none()
        return queryset.filter(target_q(int(value)))

    def filter_visited(self, queryset, name, value):
        campaign = self.form.cleaned_data.get("campaign")
        if not campaign or value not in ("yes", "no"):
            return queryset
        visited = Exists(Visit.objects.filter(campaign_id=campaign, beneficiary_id=OuterRef("pk")))
        return queryset.filter(visited) if value == "yes" else queryset.filter(~visited)
