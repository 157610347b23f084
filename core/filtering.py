"""What the list pages' FilterSets share: cached choices, Bootstrap-styled forms, local-date ranges
and the area choices (town, village, campaign) every scoped list offers, registered by their apps."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from core.scoping import scope_of

CHOICES_TTL = 300  # seconds: a new village, cadre or campaign shows in the filters within five minutes


def cached_choices(user, name: str, build):
    """Filter choices change rarely: keep them out of every page's query count.

    The key names the database and the user's whole area (town, cells, households), so one Redis
    shared by several databases (parallel test runs, a staging copy) or by users of different
    areas never offers one's ids as another's choices.
    """
    scope = scope_of(user)
    if scope.everything:
        area = "all"
    else:
        cells = ",".join(map(str, sorted(scope.cell_ids))) if scope.cell_ids is not None else "town"
        households = ",".join(map(str, sorted(scope.household_ids)))
        area = f"{scope.town_id}:" + hashlib.sha256(f"{cells}|{households}".encode()).hexdigest()[:16]
    key = f"filter-choices:{connection.settings_dict['NAME']}:{name}:{area}"
    choices = cache.get(key)
    if choices is None:
        choices = build()
        cache.set(key, choices, CHOICES_TTL)
    return choices


def date_input():
    return forms.DateInput(attrs={"type": "date"})


class Styled:
    """Bootstrap classes on every widget of a FilterSet's form (mix in before FilterSet)."""

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        return form


def local_midnight(day: date) -> datetime:
    """The start of a local (current time zone) day, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


class LocalDateFromFilter(django_filters.DateFilter):
    """Rows on or after a local date, on a datetime column, as ``column >= that midnight``.

    Not ``column__date__gte``: that casts every row's time to a local date, which no index serves,
    so a county-wide date range would read the whole table.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", date_input())
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": local_midnight(value)})


class LocalDateToFilter(LocalDateFromFilter):
    """Rows on or before a local date: ``column < the midnight after it``."""

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        return qs.filter(**{f"{self.field_name}__lt": local_midnight(value + timedelta(days=1))})


# filter name -> build(user, scope): the choices, or None to drop the filter. Each app that owns an
# area model registers its own at start-up (towns: town and village; visits: campaign).
_AREA_CHOICES: dict[str, Callable] = {}


def register_area_choices(name: str, build: Callable) -> None:
    _AREA_CHOICES[name] = build


def set_area_choices(filterset, user) -> None:
    """Fill the area filters (``town``, ``village``, ``campaign``, …) from the user's scope (cached).

    A builder that returns None removes its filter (a town user is not offered a one-town choice).
    """
    scope = scope_of(user)
    filters = filterset.filters
    for name, build in _AREA_CHOICES.items():
        if name in filters:
            choices = build(user, scope)
            if choices is None:
                del filters[name]
            else:
                filters[name].extra["choices"] = choices
