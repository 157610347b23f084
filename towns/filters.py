"""Which people of the registry: the people filters of the list page and its export (visits/registry_filters.py
adds the campaign's targets and who of them were visited)."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from core import idnumbers
from core.filtering import cached_choices, set_area_choices
from core.phones import normalize_phone
from core.scoping import scope_of
from towns import idchecks
from towns.cadre_labels import cadre_label, with_place
from towns.models import Beneficiary, Cadre, Category, GridCell, Town, Village


def _search(queryset, name, value):
    """Name, pinyin initials or phone. A whole ID number never reaches here: the registry page
    turns it into ``idd`` / ``idm`` before anything stores the query (towns/views/registry.py)."""
    text = (value or "").strip()
    if not text:
        return queryset
    if idnumbers.search_digest(text):
        return queryset.none()  # typed into a URL by hand: the page redirects such queries first
    try:
        phone = normalize_phone(text)
    except Exception:  # noqa: BLE001 - not a phone number: search by name
        phone = ""
    if phone:
        return queryset.filter(Q(phone=phone) | Q(household__phone=phone))
    if text.isascii() and text.isalpha():
        return queryset.filter(name_initials__startswith=text.lower())
    return queryset.filter(name__contains=text)


def id_query(user, text: str) -> dict | None:
    """The query parameters that stand for a whole ID number in a URL, an export job or an audit
    record: its keyed digest for users who may reveal numbers, else the masked form and birth date
    (what they can see anyway; towns/idchecks.py). None when ``text`` is not an ID number."""
    try:
        parsed = idnumbers.parse((text or "").strip())
    except ValidationError:
        return None
    if idchecks.may_reveal(user):
        return {"idd": idnumbers.digest(parsed.number)}
    return {"idm": parsed.masked, "born": parsed.birth_date.isoformat()}


class BeneficiaryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="搜索", method=_search)
    # A whole ID number, as id_query() wrote it; not shown in the form.
    idd = django_filters.CharFilter(method="filter_id_digest", widget=forms.HiddenInput)
    idm = django_filters.CharFilter(method="filter_id_masked", widget=forms.HiddenInput)
    born = django_filters.DateFilter(method="filter_id_born", widget=forms.HiddenInput)
    town = django_filters.ChoiceFilter(label="镇（街道）", field_name="town_id")
    village = django_filters.ChoiceFilter(label="村（社区）", field_name="household__village_id")
    big_cell = django_filters.ChoiceFilter(label="大网格", field_name="cell__parent_id")
    cell = django_filters.ChoiceFilter(label="小网格", field_name="cell_id")
    category = django_filters.ChoiceFilter(label="人群类别", method="filter_category")
    status = django_filters.ChoiceFilter(label="状态", choices=Beneficiary.Status.choices, empty_label="全部状态")
    responsible_cadre = django_filters.ChoiceFilter(label="责任干部", field_name="responsible_cadre_id")
    overdue = django_filters.ChoiceFilter(
        label="超期未访", choices=[("true", "超期未访"), ("false", "未超期")], method="filter_overdue", empty_label="不限"
    )

    class Meta:
        model = Beneficiary
        fields = []

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        scope = scope_of(user)
        filters = self.filters
        filters["category"].extra["choices"] = cached_choices(
            user, "category", lambda: list(Category.objects.values_list("pk", "name"))
        )
        set_area_choices(self, user)  # town, village (and campaign, in the visits subclass)
        # A county has ~2,000 cadres: list them once a town is chosen (rendering them all costs ~80 ms).
        town_chosen = (self.data or {}).get("town")
        if not scope.everything or (town_chosen and str(town_chosen).isdigit()):
            cadres = Cadre.objects.for_user(user).filter(is_active=True)
            if scope.everything:
                cadres = cadres.filter(town_id=int(town_chosen))
            filters["responsible_cadre"].extra["choices"] = cached_choices(
                user,
                f"cadre-label-{town_chosen or ''}",
                lambda: [
                    (c.pk, cadre_label(c)) for c in with_place(cadres).only("id", "name", "role", "title").order_by("name", "id")
                ],
            )
        else:
            filters["responsible_cadre"].extra["choices"] = []
        # Cells only once a village is chosen: a county has ~4,500 of them.
        village = (self.data or {}).get("village")
        if village and str(village).isdigit():
            cells = cached_choices(
                user,
                f"cells-{village}",
                lambda: list(
                    GridCell.objects.for_user(user)
                    .filter(village_id=int(village))
                    .order_by("code")
                    .values_list("pk", "level", "name")
                ),
            )
            filters["big_cell"].extra["choices"] = [(pk, name) for pk, level, name in cells if level == "big"]
            filters["cell"].extra["choices"] = [(pk, name) for pk, level, name in cells if level == "small"]
        else:
            filters["big_cell"].extra["choices"] = []
            filters["cell"].extra["choices"] = []
        for name in ("village", "big_cell", "cell", "category", "responsible_cadre", "town"):
            if name in filters:
                filters[name].extra["empty_label"] = "全部"

    def filter_id_digest(self, queryset, name, value):
        if not idchecks.may_reveal(self.user):
            return queryset.none()  # matched by what they can see (idm + born), never by digest
        return queryset.filter(id_number_digest=value)

    def filter_id_masked(self, queryset, name, value):
        return queryset.filter(id_number_masked=value)

    def filter_id_born(self, queryset, name, value):
        return queryset.filter(birth_date=value)

    def filter_category(self, queryset, name, value):
        # A subquery, not a join: a person in two categories must not be listed twice.
        return queryset.filter(pk__in=Beneficiary.categories.through.objects.filter(category_id=value).values("beneficiary_id"))

    def filter_overdue(self, queryset, name, value):
        today = timezone.localdate()
        if value not in ("true", "false"):
            return queryset
        if value == "true":
            return queryset.filter(status=Beneficiary.Status.ACTIVE, next_visit_due__lt=today)
        return queryset.exclude(next_visit_due__lt=today)


# --- the area filters every scoped list offers (registered with core.filtering in towns/apps.py) ---


def village_choices(user, scope):
    return cached_choices(
        user,
        "village",
        lambda: [
            (v.pk, f"{v.town.name} {v.name}" if scope.everything else v.name)
            for v in Village.objects.for_user(user).select_related("town").order_by("code")
        ],
    )


def town_choices(user, scope):
    """County users choose a town; a town user has one, so the filter is dropped (None)."""
    if not scope.everything:
        return None
    return cached_choices(user, "town", lambda: list(Town.objects.for_user(user).order_by("code").values_list("pk", "name")))
