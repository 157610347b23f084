"""Which visits and which follow-ups: one FilterSet each for the list page and its export (issue 7 §3)."""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from towns.models import Town, Village
from towns.scoping import scope_of
from visits.models import Campaign, FollowUp, Visit

_CHOICES_TTL = 300  # seconds: a new village or campaign shows in the filter within five minutes


def _cached_choices(user, name: str, build):
    """Filter choices change rarely: keep them out of every page's query count. The key names the
    database and the user's area, so one Redis shared by several databases or scopes never mixes them."""
    scope = scope_of(user)
    area = "all" if scope.everything else f"{scope.town_id}:{sorted(scope.cell_ids or [])[:50]}"
    key = f"visit-choices:{connection.settings_dict['NAME']}:{name}:{area}"
    choices = cache.get(key)
    if choices is None:
        choices = build()
        cache.set(key, choices, _CHOICES_TTL)
    return choices


def _date_input():
    return forms.DateInput(attrs={"type": "date"})


class _Styled:
    """Bootstrap classes on every widget of a FilterSet's form."""

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        return form


class VisitFilter(_Styled, django_filters.FilterSet):
    """走访台账: visits by town, village, campaign, kind and local date."""

    town = django_filters.ChoiceFilter(label="镇（街道）", field_name="town_id")
    village = django_filters.ChoiceFilter(label="村（社区）", field_name="cell__village_id")
    campaign = django_filters.ChoiceFilter(label="专项活动", field_name="campaign_id")
    kind = django_filters.ChoiceFilter(label="走访方式", choices=Visit.Kind.choices)
    # Local dates as a range of aware datetimes (from the first day's midnight to the midnight after the
    # last), not visited_at__date: that casts every row's visited_at to a local date, which no index
    # serves, and a county-wide date range then reads the whole visit table.
    date_from = django_filters.DateFilter(label="起始日期", method="filter_date_from", widget=_date_input())
    date_to = django_filters.DateFilter(label="截止日期", method="filter_date_to", widget=_date_input())

    class Meta:
        model = Visit
        fields: list[str] = []

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        scope = scope_of(user)
        filters = self.filters
        filters["village"].extra["choices"] = _cached_choices(
            user,
            "village",
            lambda: [
                (v.pk, f"{v.town.name} {v.name}" if scope.everything else v.name)
                for v in Village.objects.for_user(user).select_related("town").order_by("code")
            ],
        )
        filters["campaign"].extra["choices"] = _cached_choices(
            user, "campaign", lambda: list(Campaign.objects.for_user(user).order_by("-starts_on").values_list("pk", "name"))
        )
        if scope.everything:
            filters["town"].extra["choices"] = _cached_choices(
                user, "town", lambda: list(Town.objects.for_user(user).order_by("code").values_list("pk", "name"))
            )
        else:
            del filters["town"]  # a town user sees one town: nothing to choose
        for name in ("town", "village", "campaign", "kind"):
            if name in filters:
                filters[name].extra["empty_label"] = "全部"

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(visited_at__gte=local_midnight(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(visited_at__lt=local_midnight(value + timedelta(days=1)))


def local_midnight(day: date) -> datetime:
    """The start of a local (current time zone) day, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


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
