"""Which visits and which follow-ups: one FilterSet each for the list page and its export (issue 7 §3)."""

import django_filters
from django.utils import timezone

from core.filtering import LocalDateFromFilter, LocalDateToFilter, Styled, cached_choices, set_area_choices
from visits.models import Campaign, FollowUp, Visit


class VisitFilter(Styled, django_filters.FilterSet):
    """走访台账: visits by town, village, campaign, kind and local date."""

    town = django_filters.ChoiceFilter(label="镇（街道）", field_name="town_id")
    village = django_filters.ChoiceFilter(label="村（社区）", field_name="cell__village_id")
    campaign = django_filters.ChoiceFilter(label="专项活动", field_name="campaign_id")
    kind = django_filters.ChoiceFilter(label="走访方式", choices=Visit.Kind.choices)
    date_from = LocalDateFromFilter(label="起始日期", field_name="visited_at")
    date_to = LocalDateToFilter(label="截止日期", field_name="visited_at")

    class Meta:
        model = Visit
        fields: list[str] = []

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        set_area_choices(self, user)
        filters = self.filters
        for name in ("town", "village", "campaign", "kind"):
            if name in filters:
                filters[name].extra["empty_label"] = "全部"


FOLLOWUP_OPEN = [FollowUp.Status.PENDING, FollowUp.Status.IN_PROGRESS, FollowUp.Status.RESOLVED, FollowUp.Status.REVISITED]


class FollowUpFilter(django_filters.FilterSet):
    """问题清单: by kind, status (or 未销号), village, owner (or 我负责的) and overdue.

    The list page renders its own selects with these parameter names; the FilterSet decides the rows.
    """

    kind = django_filters.ChoiceFilter(label="类型", choices=FollowUp.Kind.choices)
    status = django_filters.ChoiceFilter(
        label="状态", choices=[("open", "未销号"), *FollowUp.Status.choices], method="filter_status"
    )
    village = django_filters.NumberFilter(label="村（社区）", field_name="village_id")
    owner = django_filters.CharFilter(label="责任人", method="filter_owner")
    overdue = django_filters.CharFilter(label="只看逾期", method="filter_overdue")
    campaign = django_filters.NumberFilter(label="专项活动", field_name="campaign_id")

    class Meta:
        model = FollowUp
        fields: list[str] = []

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user

    def filter_status(self, queryset, name, value):
        if value == "open":
            return queryset.filter(status__in=FOLLOWUP_OPEN)
        return queryset.filter(status=value)

    def filter_owner(self, queryset, name, value):
        if value == "me":
            return queryset.filter(owner__user_id=self.user.pk)
        if value.isdigit():
            return queryset.filter(owner_id=int(value))  # the rows are scoped: another town's cadre finds nothing
        return queryset

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            status__in=[FollowUp.Status.PENDING, FollowUp.Status.IN_PROGRESS], deadline__lt=timezone.localdate()
        )


def campaign_choices(user, scope):
    """The campaign filter of every scoped list (registered with core.filtering in visits/apps.py)."""
    return cached_choices(
        user, "campaign", lambda: list(Campaign.objects.for_user(user).order_by("-starts_on").values_list("pk", "name"))
    )
