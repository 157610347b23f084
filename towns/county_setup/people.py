"""County setup: the categories (visit intervals, grant standards) and the cadres (roles, towns,
cells) planned against the database, matched by code and by login name."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from core import permissions
from core.phones import normalize_phone
from towns.county_setup.layout import (
    CADRE_COLUMNS,
    CADRE_SHEET,
    CATEGORY_COLUMNS,
    CATEGORY_SHEET,
    ROLE_OF_LABEL,
    SLUG,
    SPLIT,
    USERNAME,
    Part,
    Plan,
    Problem,
    diff,
    division_code,
    sheet_rows,
    unique_names,
)
from towns.models import Assignment, Cadre, Category, GridCell, Town


def plan_categories(upload, plan: Plan, *, size: int, name: str) -> None:
    part = plan.parts.setdefault("categories", Part("人群类别"))
    db = {c.code: c for c in Category.objects.all()}
    final: dict[str, dict] = {}
    for number, row in sheet_rows(upload, CATEGORY_SHEET, CATEGORY_COLUMNS, plan, size=size, name=name):
        code = row["code"]
        if code and not SLUG.match(code):
            plan.problems.append(Problem(CATEGORY_SHEET, number, "代码", "只能用英文字母、数字、下划线，不超过30字"))
            continue
        interval = None
        if row["interval"]:
            try:
                interval = int(Decimal(row["interval"]))
                if interval < 1 or Decimal(row["interval"]) != interval:
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                plan.problems.append(Problem(CATEGORY_SHEET, number, "走访周期（天）", f"“{row['interval']}”不是正整数天数"))
                interval = None
        standard = None
        if row.get("standard"):
            try:
                standard = Decimal(row["standard"].replace(",", "").replace("元", "")).quantize(Decimal("0.01"))
                if standard < 0:
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                plan.problems.append(Problem(CATEGORY_SHEET, number, "日常慰问标准（元/年）", f"“{row['standard']}”不是金额"))
                continue
        sensitive = {"": None, "是": True, "否": False}.get(row.get("sensitive", ""), "bad")
        if sensitive == "bad":
            plan.problems.append(Problem(CATEGORY_SHEET, number, "敏感个人信息", "请填“是”或“否”"))
            continue
        if code in final:
            plan.problems.append(Problem(CATEGORY_SHEET, number, "代码", f"与第{final[code]['row']}行重复"))
            continue
        if len(row["name"]) > 30:
            plan.problems.append(Problem(CATEGORY_SHEET, number, "名称", "不超过30字"))
            continue
        if code and row["name"] and interval:
            existing = db.get(code)
            final[code] = {
                "row": number,
                "code": code,
                "name": row["name"],
                "visit_interval_days": interval,
                "standard": standard,
                "sensitive": sensitive if sensitive is not None else (existing.sensitive if existing else False),
            }
    unique_names(CATEGORY_SHEET, plan, final, {c: x.name for c, x in db.items()})
    for code, values in final.items():
        diff(part, db.get(code), values, ("name", "visit_interval_days", "standard", "sensitive"))
    part.kept = [f"{c.name}（{code}）" for code, c in db.items() if code not in final]


def plan_cadres(upload, plan: Plan, *, size: int, name: str) -> None:
    part = plan.parts.setdefault("cadres", Part("干部账号"))
    User = get_user_model()
    cadres = {c.user.get_username(): c for c in Cadre._base_manager.select_related("user", "town")}
    users_without_cadre = set(User._default_manager.filter(cadre__isnull=True).values_list("username", flat=True))
    # Towns and cells as they will be once the map in the same run is written.
    towns_part = plan.parts.get("towns")
    town_by_name = {t.name: t.code for t in Town._base_manager.all()}
    town_codes = set(town_by_name.values())
    if towns_part:
        for values in towns_part.new + [v for _, v in towns_part.renamed + towns_part.updated]:
            town_by_name[values["name"]] = values["code"]
            town_codes.add(values["code"])
    cells = {(c.town.code, c.code): c.level for c in GridCell._base_manager.select_related("town")}
    cells_part = plan.parts.get("cells")
    if cells_part:
        for values in cells_part.new + [v for _, v in cells_part.renamed + cells_part.updated]:
            cells[(values["town"], values["code"])] = values["level"]
    active = {
        (a.cadre_id, a.town.code, a.cell.code)
        for a in Assignment._base_manager.filter(ends_on__isnull=True, cell__isnull=False).select_related("town", "cell")
    }
    assigned = set(Assignment._base_manager.filter(ends_on__isnull=True).values_list("cadre_id", flat=True))
    seen: dict[str, int] = {}
    for number, row in sheet_rows(upload, CADRE_SHEET, CADRE_COLUMNS, plan, size=size, name=name):
        username = row["username"]
        bad = False
        if username and not USERNAME.match(username):
            plan.problems.append(Problem(CADRE_SHEET, number, "登录账号", "只能用英文字母、数字和 _ . @ + -，2至60字"))
            bad = True
        if username in seen:
            plan.problems.append(Problem(CADRE_SHEET, number, "登录账号", f"与第{seen[username]}行重复"))
            continue
        seen[username] = number
        if username in users_without_cadre:
            plan.problems.append(Problem(CADRE_SHEET, number, "登录账号", "该账号已被占用（不是干部账号），请换一个"))
            bad = True
        role = ROLE_OF_LABEL.get(row["role"])
        if row["role"] and role is None:
            plan.problems.append(Problem(CADRE_SHEET, number, "角色", f"“{row['role']}”不对，请填：{'、'.join(ROLE_OF_LABEL)}"))
            bad = True
        town = None
        if row.get("town"):
            town = division_code(row["town"], town=True)
            if town not in town_codes:
                town = town_by_name.get(row["town"])
            if town is None:
                plan.problems.append(Problem(CADRE_SHEET, number, "所属镇（街道）", f"没有“{row['town']}”这个镇（街道）"))
                bad = True
        if role in permissions.TOWN_ROLES and not row.get("town"):
            plan.problems.append(Problem(CADRE_SHEET, number, "所属镇（街道）", f"{row['role']}须填所属镇（街道）"))
            bad = True
        if role in permissions.COUNTY_ROLES and row.get("town"):
            plan.problems.append(Problem(CADRE_SHEET, number, "所属镇（街道）", f"{row['role']}是县级角色，不填所属镇（街道）"))
            bad = True
        phone = ""
        if row.get("phone"):
            try:
                phone = normalize_phone(row["phone"])
            except ValidationError as error:
                plan.problems.append(Problem(CADRE_SHEET, number, "电话", error.messages[0]))
                bad = True
        cell_codes = [c for c in SPLIT.split(row.get("cells", "")) if c]
        if cell_codes and role not in permissions.TOWN_ROLES:
            plan.problems.append(Problem(CADRE_SHEET, number, "包保网格编号", "只有镇村角色可以包保网格"))
            bad = True
        for code in cell_codes:
            level = cells.get((town, code))
            if town and level is None:
                plan.problems.append(Problem(CADRE_SHEET, number, "包保网格编号", f"该镇没有编号为“{code}”的网格"))
                bad = True
            elif level == GridCell.Level.BIG:
                plan.problems.append(Problem(CADRE_SHEET, number, "包保网格编号", f"“{code}”是大网格，请填小网格编号"))
                bad = True
        if len(row["name"]) > 30 or len(row.get("title", "")) > 40:
            plan.problems.append(Problem(CADRE_SHEET, number, "姓名", "姓名不超过30字、职务不超过40字"))
            bad = True
        existing = cadres.get(username)
        if existing and town != (existing.town.code if existing.town_id else None) and existing.pk in assigned:
            plan.problems.append(
                Problem(CADRE_SHEET, number, "所属镇（街道）", f"{existing.name}在原镇还有包保网格，请先在原镇结束包保后再改镇")
            )
            bad = True
        if bad or not (username and row["name"] and role):
            continue
        values = {
            "row": number,
            "username": username,
            "name": row["name"],
            "role": role,
            "town": town,
            "title": row.get("title", ""),
            "phone": phone,
        }
        if existing is None:
            part.new.append(values)
        else:
            current = {
                "name": existing.name,
                "role": existing.role,
                "town": existing.town.code if existing.town_id else None,
                "title": existing.title,
                "phone": existing.phone,
            }
            # Blank title or phone in the file keeps what the database has.
            wanted = {k: values[k] for k in current}
            for blank in ("title", "phone"):
                if not wanted[blank]:
                    wanted[blank] = current[blank]
                    values[blank] = current[blank]
            if current == wanted:
                part.unchanged += 1
            elif current["name"] != wanted["name"]:
                part.renamed.append((existing, values))
            else:
                part.updated.append((existing, values))
        for code in cell_codes:
            if not (existing and (existing.pk, town, code) in active):
                plan.assignments.append((username, town, code))
    part.kept = [f"{c.name}（{u}）" for u, c in cadres.items() if u not in seen and c.role != permissions.SYSADMIN]
