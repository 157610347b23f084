"""Which group activities: one FilterSet for the activities page (and, later, its export)."""

from datetime import date

import django_filters
from django import forms

from core.filtering import Styled
from core.scoping import scope_of
from towns.models import Town, Village
from visits.models import Activity


def _user(request):
    return request.user if request else None


def _towns(request):
    return Town.objects.for_user(_user(request)).order_by("code")


def _villages(request):
    return Village.objects.for_user(_user(request)).select_related("town").order_by("code")


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


class ActivityFilter(Styled, django_filters.FilterSet):
    town = django_filters.ModelChoiceFilter(label="镇（街道）", queryset=_towns, empty_label="全部")
    kind = django_filters.ChoiceFilter(label="活动类型", choices=Activity.Kind.choices, empty_label="全部")
    village = django_filters.ModelChoiceFilter(label="村（社区）", queryset=_villages, empty_label="全部")
    month = django_filters.DateFilter(
        label="月份",
        method="filter_month",
        input_formats=["%Y-%m", "%Y年%m月"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": "请按“2024-01”的格式填写月份"},
    )

    class Meta:
        model = Activity
        fields: list[str] = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if not scope_of(_user(request)).everything:
            # A town user has one town: the filter would be a one-option select.
            del self.filters["town"]

    def filter_month(self, queryset, name, value):
        # A half-open range on held_on, so the (town, held_on) index serves it.
        start = value.replace(day=1)
        return queryset.filter(held_on__gte=start, held_on__lt=_next_month(start))
