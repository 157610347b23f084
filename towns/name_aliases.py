"""A town's own names for its villages, cells and categories (issue 16 §2).

Rosters say "冶山村" for 冶山社区, "第6网格" for 长兴社区6-1号小网格, "五保户" for 特困供养人员. The
import groups the names it does not know, ``suggest`` proposes the closest known ones (never
more than a plausible few, and none when nothing is plausible: then the cadre is asked, not
guessed for), and ``name_alias_set`` saves the cadre's choice as the town's alias, audited, so
every later roster of the town maps the same name the same way.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit
from core.permissions import require
from towns.models import Cadre, Category, GridCell, NameAlias, Village

_SPACES = re.compile(r"\s+")
_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９（）"}
_BRACKETS = str.maketrans({"（": "(", "）": ")"})


def key(text: str) -> str:
    """What names are compared by: no spaces, half-width digits and brackets (as imports._norm)."""
    return _SPACES.sub("", text or "").translate(_FULLWIDTH).translate(_BRACKETS)


_VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会", "社区", "村", "居")
_CATEGORY_SUFFIXES = ("老人", "人员", "对象", "家庭", "户", "群众")
# Old or everyday names of categories and the official names they became. Suggested only when the
# county has a category of that name.
_CATEGORY_SYNONYMS = {
    "五保户": ("特困供养人员", "特困人员", "分散供养特困人员"),
    "五保": ("特困供养人员", "特困人员"),
    "五保老人": ("特困供养人员", "特困人员"),
    "低保户": ("低保对象", "最低生活保障对象", "低保家庭"),
    "低保": ("低保对象", "低保家庭"),
    "空巢老人": ("独居老人",),
    "孤寡老人": ("独居老人", "特困供养人员"),
    "残疾人": ("重度残疾人", "残疾人员"),
    "困难老党员": ("困难党员",),
    "老党员": ("老党员", "困难党员"),
}


def _stem(text: str, suffixes) -> str:
    text = key(text)
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def suggest_village(text: str, villages) -> list[Village]:
    stem = _stem(text, _VILLAGE_SUFFIXES)
    same = [v for v in villages if _stem(v.name, _VILLAGE_SUFFIXES) == stem]
    if same:
        return same
    if len(stem) < 2:
        return []
    return [v for v in villages if stem in key(v.name) or _stem(v.name, _VILLAGE_SUFFIXES) in stem][:5]


_NUMBER = re.compile(r"\d+")


def _cell_number(name: str, village_name: str = "") -> int | None:
    """The first number of a cell's name once its village's name is taken off: 6 in "长兴社区6-1号小网格"."""
    text = key(name)
    if village_name and text.startswith(key(village_name)):
        text = text[len(key(village_name)) :]
    found = _NUMBER.search(text.translate(str.maketrans("一二三四五六七八九", "123456789")))
    return int(found.group()) if found else None


def suggest_cell(text: str, village: Village, cells) -> list[GridCell]:
    """第N网格 / N号网格 ↔ the cells numbered N in that village; otherwise names that contain each other."""
    number = _cell_number(text)
    if number is not None:
        numbered = [c for c in cells if _cell_number(c.name, village.name) == number]
        if numbered:
            return numbered
        numbered = [c for c in cells if _cell_number(c.code) == number]
        if numbered:
            return numbered
        return []
    wanted = key(text)
    if len(wanted) < 2:
        return []
    return [c for c in cells if wanted in key(c.name) or key(c.name).endswith(wanted)][:5]


def suggest_category(text: str, categories) -> list[Category]:
    wanted = key(text)
    by_name = {key(c.name): c for c in categories}
    found = [by_name[key(n)] for n in _CATEGORY_SYNONYMS.get(wanted, ()) if key(n) in by_name]
    if found:
        return found
    stem = _stem(wanted, _CATEGORY_SUFFIXES)
    for category in categories:
        name = key(category.name)
        other = _stem(name, _CATEGORY_SUFFIXES)
        if len(min(stem, other, key=len)) < 2:
            continue
        if wanted.startswith(name) or name.startswith(wanted) or stem == other:
            found.append(category)
    return found[:5]


@transaction.atomic
def name_alias_set(*, actor, town_id: int, kind: str, name: str, target_id: int, in_village_id: int | None = None) -> NameAlias:
    """Save (or change) what a name in this town's rosters means; audited."""
    require(actor, "registry.import")
    cadre = Cadre._base_manager.filter(user_id=actor.pk).first()
    if cadre is None or cadre.town_id != town_id:
        raise ValidationError("只能设置本镇的名称对应")
    values: dict = {"village": None, "cell": None, "category": None}
    in_village = None
    if kind == NameAlias.Kind.VILLAGE:
        target = Village.objects.for_user(actor).filter(town_id=town_id, pk=target_id).first()
        values["village"] = target
    elif kind == NameAlias.Kind.CELL:
        in_village = Village.objects.for_user(actor).filter(town_id=town_id, pk=in_village_id).first()
        target = (
            GridCell.objects.for_user(actor)
            .filter(town_id=town_id, village=in_village, level=GridCell.Level.SMALL, pk=target_id)
            .first()
            if in_village
            else None
        )
        values["cell"] = target
    elif kind == NameAlias.Kind.CATEGORY:
        target = Category.objects.filter(pk=target_id).first()
        values["category"] = target
    else:
        raise ValidationError("名称类型不正确")
    if target is None:
        raise ValidationError("所选的对应项不存在或不在本镇")
    name = name.strip()[:60]
    if not key(name):
        raise ValidationError("名称不能为空")
    existing = NameAlias.objects.for_user(actor).filter(town_id=town_id, kind=kind, in_village=in_village, key=key(name)).first()
    before = audit.snapshot(existing) if existing else None
    if existing is None:
        alias = NameAlias(town_id=town_id, kind=kind, name=name, key=key(name), in_village=in_village, created_by=cadre, **values)
    else:
        alias = existing
        for field_name, value in values.items():
            setattr(alias, field_name, value)
        alias.name = name
    alias.save()
    audit.record(
        actor=actor,
        action="name_alias.set",
        obj=alias,
        town=town_id,
        before=before,
        after=audit.snapshot(alias),
    )
    return alias


def town_aliases(actor):
    """The actor's town's aliases, for the page that lists them (one query)."""
    return (
        NameAlias.objects.for_user(actor)
        .select_related("in_village", "village", "cell", "category", "created_by")
        .order_by("kind", "in_village__code", "key")
    )


@transaction.atomic
def name_alias_remove(*, actor, alias: NameAlias) -> None:
    """Forget a name: later rosters that use it are asked about it again. Audited."""
    require(actor, "registry.import")
    cadre = Cadre._base_manager.filter(user_id=actor.pk).first()
    if cadre is None or cadre.town_id != alias.town_id:
        raise ValidationError("只能删除本镇的名称对应")
    before = audit.snapshot(alias)
    audit.record(actor=actor, action="name_alias.remove", obj=alias, town=alias.town_id, before=before)
    alias.delete()
