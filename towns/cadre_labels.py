"""How a cadre is named wherever one is chosen or listed: "刘晓燕（长兴社区·网格员）".

A town has several 刘晓燕; the name alone picks the wrong one. The place is the village of the
cadre's current 包保 (annotated by `with_place`, one subquery), the post their title, else their role;
a title equal to the role is said once. Forms' choices, lists and the audit log all call `cadre_label`.
"""

from types import SimpleNamespace

from django import forms
from django.db.models import CharField, F, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.permissions import ROLE_LABELS


def post_of(cadre) -> str:
    role = ROLE_LABELS.get(cadre.role, cadre.role or "")
    title = (cadre.title or "").strip()
    return title or role


def cadre_label(cadre, *, with_town: bool = False) -> str:
    """刘晓燕（长兴社区·网格员）; with_town (county-wide lists): 刘晓燕（冶山镇·长兴社区·网格员）."""
    if cadre is None:
        return ""
    about = place_and_post(cadre, with_town=with_town)
    return f"{cadre.name}（{about}）" if about else cadre.name


def place_and_post(cadre, *, with_town: bool = False) -> str:
    """长兴社区·网格员: what tells two cadres of one name apart (a column of its own in tables)."""
    parts = []
    if with_town and getattr(cadre, "town_id", None):
        parts.append(cadre.town.name)
    place = getattr(cadre, "place_name", None)
    if place:
        parts.append(place)
    post = post_of(cadre)
    if post:
        parts.append(post)
    return "·".join(parts)


def with_place(queryset, *, on=None):
    """Annotate `place_name`: the village of the cadre's first current 包保 (cell or household)."""
    from towns.models import Assignment

    day = on or timezone.localdate()
    current = (
        Assignment._base_manager.filter(cadre=_outer_pk(), starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .annotate(village_name=Coalesce("cell__village__name", "household__village__name"))
        .exclude(village_name__isnull=True)
        .order_by("id")
        .values("village_name")[:1]
    )
    return queryset.annotate(place_name=Subquery(current))


def _outer_pk():
    from django.db.models import OuterRef

    return OuterRef("pk")


class CadreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return cadre_label(obj)


class CadreMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return cadre_label(obj)


# --- the audit page's names of cadres (registered with core.audit_labels in towns/apps.py) ---------


def audit_name_columns(queryset):
    """The columns core's audit NameBook reads for a page of cadres: name, role, title, town, place."""
    blank = Value("", output_field=CharField())
    columns = {
        "n_name": F("name"),
        "n_role": F("role"),
        "n_title": F("title"),
        "n_town": Coalesce(F("town__name"), blank),
        "n_place": Coalesce(F("place_name"), blank),
    }
    return with_place(queryset), columns


def audit_name(name, role, title, town, place) -> str:
    about = place_and_post(SimpleNamespace(role=role, title=title, place_name=place))
    about = "·".join(filter(None, [town, about]))
    return f"{name}（{about}）" if about else name


def audit_user_columns(queryset):
    """A user reads as their cadre's name (an account without one, as its username)."""
    blank = Value("", output_field=CharField())
    name = Coalesce(F("cadre__name"), F("username"))
    return queryset, {"n_name": name, "n_role": blank, "n_title": blank, "n_town": blank, "n_place": blank}


def audit_user_name(name, role, title, town, place) -> str:
    return name
