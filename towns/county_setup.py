"""Set up a county from its own files (issue 16 §1): the division map, the categories, the cadres.

Three .xlsx workbooks in fixed layouts (template_*() build them). analyse() reads them and plans,
row by row, what each will add or rename, with every error by sheet row and column; apply() writes
the plan in one transaction, audited, only when there is no error. Matching is by code (towns,
villages, categories), by town + cell number (grid cells) and by login name (cadres): a new name
under a known code is a rename. Nothing is ever deleted: what the database has and the file lacks
is listed as kept. File safety (size, zip bombs, macros, encryption) is the roster import's.
"""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from openpyxl import Workbook

from core import audit, permissions
from core.permissions import require
from core.phones import normalize_phone
from core.scoping import unscoped
from towns.imports import _HEADER_FONT, Rejected, _is_formula, read_sheet
from towns.models import Assignment, Beneficiary, Cadre, Category, GridCell, Household, Town, Village

FORMULA = "含有公式，请改为数值后重新上传"
KEPT = "文件中没有，保留"
_LOCK = 72_410_116  # pg_advisory_xact_lock: one county setup at a time

# sheet -> [(key, header, required)]
MAP_SHEETS = {
    "镇街道": [("code", "区划代码", True), ("name", "名称", True), ("kind", "类型", True)],
    "村社区": [("code", "区划代码", True), ("name", "名称", True), ("kind", "类型", True), ("town", "所属镇（街道）", True)],
    "网格": [
        ("town", "所属镇（街道）", True),
        ("code", "网格编号", True),
        ("name", "网格名称", True),
        ("level", "层级", True),
        ("village", "所属村（社区）", True),
        ("parent", "所属大网格编号", False),
    ],
}
CATEGORY_SHEET = "人群类别"
CATEGORY_COLUMNS = [
    ("code", "代码", True),
    ("name", "名称", True),
    ("interval", "走访周期（天）", True),
    ("standard", "日常慰问标准（元/年）", False),
    ("sensitive", "敏感个人信息", False),
]
CADRE_SHEET = "干部"
CADRE_COLUMNS = [
    ("username", "登录账号", True),
    ("name", "姓名", True),
    ("role", "角色", True),
    ("town", "所属镇（街道）", False),
    ("title", "职务", False),
    ("phone", "电话", False),
    ("cells", "包保网格编号", False),
]
EXAMPLES = {
    "镇街道": ["341122100000", "示例镇", "镇"],
    "村社区": ["341122100201", "示例村", "村", "341122100000"],
    "网格": [
        ["341122100000", "01", "示例村大网格", "大网格", "341122100201", ""],
        ["341122100000", "01-1", "示例村1号小网格", "小网格", "341122100201", "01"],
    ],
    CATEGORY_SHEET: ["elderly_alone", "独居老人", 30, 600, "否"],
    CADRE_SHEET: ["shili_wgy1", "张三", "网格员", "示例镇", "网格员", "13800000000", "01-1"],
}
NOTES = {
    "map": [
        "一个工作簿三张表：“镇街道”“村社区”“网格”，表名和第1行表头不要改，从第2行起每行一条（示例行可改写或删除）。",
        "镇（街道）区划代码为12位（也可填9位乡级代码，系统自动补000）；类型填“镇”或“街道”。",
        "村（社区）区划代码为12位；类型填“村”或“社区”；所属镇（街道）填镇的区划代码或名称。",
        "网格编号在本镇内唯一；层级填“大网格”或“小网格”；小网格须填所属大网格编号（同一镇、同一村）。",
        "可以重复导入：按代码（网格按镇+编号）匹配，名称不同即为更名；表中没有的不会删除。",
        "代码请设为文本格式，不能含有公式。",
    ],
    "categories": [
        "代码为英文字母、数字、下划线，导入后不要再改（按代码匹配，名称不同即为更名）。",
        "走访周期为天数；日常慰问标准为每人每年上限（元），不填则不检查；敏感个人信息填“是”或“否”。",
    ],
    "cadres": [
        "登录账号为字母、数字、下划线，按账号匹配；新账号导入后生成一次性初始密码，首次登录须修改。",
        "角色填：网格员、镇村干部、镇管理员、组织部、纪检监察、系统管理员；镇村角色须填所属镇（街道），县级角色不填。",
        "包保网格编号填本镇小网格编号，多个用顿号分隔；已有的包保网格不会被取消。",
    ],
}
ROLE_OF_LABEL = {label: role for role, label in permissions.ROLE_LABELS.items()}
TOWN_KINDS = {label: value for value, label in Town.Kind.choices}
VILLAGE_KINDS = {label: value for value, label in Village.Kind.choices}
LEVELS = {label: value for value, label in GridCell.Level.choices}
_USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{2,60}$")
_SLUG = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
_SPLIT = re.compile(r"[、，,；;\s]+")


@dataclass
class Problem:
    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self):
        where = f"“{self.sheet}”表第{self.row}行" if self.row else f"“{self.sheet}”表"
        return f"{where}{'【' + self.column + '】' if self.column else ''}：{self.message}"


@dataclass
class Part:
    """One kind of thing (towns, villages, …): what the file makes of it."""

    label: str
    new: list = field(default_factory=list)  # dict of values
    renamed: list = field(default_factory=list)  # (obj, values)
    updated: list = field(default_factory=list)  # (obj, values)
    unchanged: int = 0
    kept: list = field(default_factory=list)  # str: in the database, not in the file

    def counts(self) -> str:
        return f"{self.label}：新增{len(self.new)}，更名{len(self.renamed)}，其他变更{len(self.updated)}，无变化{self.unchanged}，{KEPT}{len(self.kept)}"


@dataclass
class Plan:
    parts: dict[str, Part] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    assignments: list = field(default_factory=list)  # (username, cell key)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> list[str]:
        lines = [p.counts() for p in self.parts.values()]
        if self.assignments:
            lines.append(f"新增包保网格：{len(self.assignments)}")
        lines.append(f"问题：{len(self.problems)}处" if self.problems else "没有发现问题")
        return lines


# --- reading ------------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u3000", " ").strip()


def _header(value) -> str:
    return re.sub(r"[\s*＊]", "", _text(value)).replace("(", "（").replace(")", "）")


def _rows(upload, sheet: str, columns, plan: Plan, *, size: int, name: str) -> list[tuple[int, dict]]:
    """(sheet row, {key: text}) of one sheet; formulas and missing headers are problems."""
    try:
        data = read_sheet(upload, size=size, name=name, sheet_name=sheet)
    except Rejected as error:
        plan.problems.append(Problem(sheet, None, "", str(error)))
        return []
    if not data.rows:
        plan.problems.append(Problem(sheet, None, "", "表是空的，第1行应为表头"))
        return []
    found = {_header(v): i for i, v in enumerate(data.rows[0]) if _text(v)}
    index = {}
    for key, label, required in columns:
        if label in found:
            index[key] = found[label]
        elif required:
            plan.problems.append(Problem(sheet, 1, label, f"缺少“{label}”列（请使用下载的模板，表头不要改）"))
    if len(index) < sum(1 for c in columns if c[2]):
        return []
    labels = {key: label for key, label, _ in columns}
    out = []
    for number, values in enumerate(data.rows[1:], start=2):
        if not any(_text(v) for v in values):
            continue
        row = {}
        for key, i in index.items():
            value = values[i] if i < len(values) else None
            if _is_formula(value):
                plan.problems.append(Problem(sheet, number, labels[key], FORMULA))
                value = None
            row[key] = _text(value)
        for key, label, required in columns:
            if required and key in row and not row[key] and not any(p.row == number and p.column == label for p in plan.problems):
                plan.problems.append(Problem(sheet, number, label, "不能为空"))
        out.append((number, row))
    return out


def _division_code(text: str, *, town: bool) -> str | None:
    digits = text.replace(" ", "")
    if town and re.fullmatch(r"\d{9}", digits):
        return digits + "000"
    return digits if re.fullmatch(r"\d{12}", digits) else None


# --- planning -----------------------------------------------------------------------------------


def _people_by(field_name: str) -> dict[int, int]:
    rows = Beneficiary._base_manager.filter(status=Beneficiary.Status.ACTIVE).values(field_name).annotate(n=Count("id"))
    return {r[field_name]: r["n"] for r in rows}


def _households_by(field_name: str) -> dict[int, int]:
    return {r[field_name]: r["n"] for r in Household._base_manager.values(field_name).annotate(n=Count("id"))}


def _diff(plan_part: Part, obj, values: dict, fields) -> None:
    if obj is None:
        plan_part.new.append(values)
        return
    changed = {f for f in fields if getattr(obj, f) != values[f]}
    if not changed:
        plan_part.unchanged += 1
    elif "name" in changed:
        plan_part.renamed.append((obj, values))
    else:
        plan_part.updated.append((obj, values))


def _plan_map(upload, plan: Plan, *, size: int, name: str) -> None:
    towns_db = {t.code: t for t in Town._base_manager.all()}
    villages_db = {v.code: v for v in Village._base_manager.select_related("town")}
    cells_db = {(c.town_id, c.code): c for c in GridCell._base_manager.select_related("town", "village", "parent")}
    towns_part = plan.parts.setdefault("towns", Part("镇（街道）"))
    villages_part = plan.parts.setdefault("villages", Part("村（社区）"))
    cells_part = plan.parts.setdefault("cells", Part("网格"))

    # Towns: code -> final values; names must stay unique across file and kept database rows.
    town_final: dict[str, dict] = {}
    for number, row in _rows(upload, "镇街道", MAP_SHEETS["镇街道"], plan, size=size, name=name):
        code = _division_code(row["code"], town=True)
        if row["code"] and code is None:
            plan.problems.append(Problem("镇街道", number, "区划代码", f"“{row['code']}”不是12位（或9位）数字"))
        kind = TOWN_KINDS.get(row["kind"])
        if row["kind"] and kind is None:
            plan.problems.append(Problem("镇街道", number, "类型", f"“{row['kind']}”不对，请填“镇”或“街道”"))
        if code and code in town_final:
            plan.problems.append(Problem("镇街道", number, "区划代码", f"代码{code}与第{town_final[code]['row']}行重复"))
            continue
        if code and row["name"] and kind:
            town_final[code] = {"row": number, "code": code, "name": row["name"][:50], "kind": kind}
    _unique_names("镇街道", plan, town_final, {c: t.name for c, t in towns_db.items()})
    for code, values in town_final.items():
        _diff(towns_part, towns_db.get(code), values, ("name", "kind"))
    towns_part.kept = [f"{t.name}（{c}）" for c, t in towns_db.items() if c not in town_final]

    # Lookups for a town named in another sheet: by code or by name (file first, then database).
    town_names = {t.name: c for c, t in towns_db.items()}
    town_names.update({v["name"]: c for c, v in town_final.items()})
    known_towns = set(towns_db) | set(town_final)

    def town_code(text: str) -> str | None:
        code = _division_code(text, town=True)
        if code in known_towns:
            return code
        return town_names.get(text)

    village_final: dict[str, dict] = {}
    households_in_village = _households_by("village_id")
    for number, row in _rows(upload, "村社区", MAP_SHEETS["村社区"], plan, size=size, name=name):
        code = _division_code(row["code"], town=False)
        if row["code"] and code is None:
            plan.problems.append(Problem("村社区", number, "区划代码", f"“{row['code']}”不是12位数字"))
        kind = VILLAGE_KINDS.get(row["kind"])
        if row["kind"] and kind is None:
            plan.problems.append(Problem("村社区", number, "类型", f"“{row['kind']}”不对，请填“村”或“社区”"))
        town = town_code(row["town"]) if row["town"] else None
        if row["town"] and town is None:
            plan.problems.append(
                Problem("村社区", number, "所属镇（街道）", f"没有“{row['town']}”这个镇（街道），请先在“镇街道”表中列出")
            )
        if code and code in village_final:
            plan.problems.append(Problem("村社区", number, "区划代码", f"代码{code}与第{village_final[code]['row']}行重复"))
            continue
        existing = villages_db.get(code)
        if existing and town and existing.town.code != town:
            # Its cells, households and people belong to the old town: a move would split them.
            plan.problems.append(
                Problem(
                    "村社区",
                    number,
                    "所属镇（街道）",
                    f"区划代码{code}已是{existing.town.name}的{existing.name}，不能改属其他镇（街道）",
                )
            )
            continue
        if code and row["name"] and kind and town:
            village_final[code] = {"row": number, "code": code, "name": row["name"][:50], "kind": kind, "town": town}
    by_town: dict[str, dict] = {}
    for code, v in villages_db.items():
        if code not in village_final:
            by_town.setdefault(v.town.code, {})[code] = v.name
    for values in village_final.values():
        others = by_town.get(values["town"], {})
        clash = next((c for c, n in others.items() if n == values["name"]), None)
        if clash:
            plan.problems.append(
                Problem("村社区", values["row"], "名称", f"本镇已有同名的村（社区）“{values['name']}”（代码{clash}）")
            )
    seen: dict[tuple, int] = {}
    for values in village_final.values():
        key = (values["town"], values["name"])
        if key in seen:
            plan.problems.append(Problem("村社区", values["row"], "名称", f"与第{seen[key]}行同一镇内重名"))
        seen.setdefault(key, values["row"])
    for code, values in village_final.items():
        existing = villages_db.get(code)
        compare = dict(values, town=values["town"])
        if existing is None:
            villages_part.new.append(values)
            continue
        current = {"name": existing.name, "kind": existing.kind, "town": existing.town.code}
        if current == {k: compare[k] for k in current}:
            villages_part.unchanged += 1
        elif current["name"] != values["name"]:
            villages_part.renamed.append((existing, values))
        else:
            villages_part.updated.append((existing, values))
    villages_part.kept = [
        _kept(v.name, households_in_village.get(v.pk)) for c, v in villages_db.items() if c not in village_final
    ]

    village_codes = set(villages_db) | set(village_final)
    village_town = {c: v.town.code for c, v in villages_db.items()} | {c: v["town"] for c, v in village_final.items()}
    village_names = {(v.town.code, v.name): c for c, v in villages_db.items()} | {
        (v["town"], v["name"]): c for c, v in village_final.items()
    }
    people_in_cell = _people_by("cell_id")
    cell_final: dict[tuple, dict] = {}
    for number, row in _rows(upload, "网格", MAP_SHEETS["网格"], plan, size=size, name=name):
        town = town_code(row["town"]) if row["town"] else None
        if row["town"] and town is None:
            plan.problems.append(Problem("网格", number, "所属镇（街道）", f"没有“{row['town']}”这个镇（街道）"))
        level = LEVELS.get(row["level"])
        if row["level"] and level is None:
            plan.problems.append(Problem("网格", number, "层级", f"“{row['level']}”不对，请填“大网格”或“小网格”"))
        village = None
        if row["village"] and town:
            village = _division_code(row["village"], town=False)
            if village not in village_codes:
                village = village_names.get((town, row["village"]))
            if village is None:
                plan.problems.append(
                    Problem("网格", number, "所属村（社区）", f"本镇没有“{row['village']}”，请先在“村社区”表中列出")
                )
            elif village_town[village] != town:
                plan.problems.append(Problem("网格", number, "所属村（社区）", f"“{row['village']}”不属于该镇（街道）"))
                village = None
        if len(row["code"]) > 30 or len(row["name"]) > 60:
            plan.problems.append(Problem("网格", number, "网格编号", "网格编号不超过30字、名称不超过60字"))
            continue
        if level == GridCell.Level.SMALL and not row.get("parent"):
            plan.problems.append(Problem("网格", number, "所属大网格编号", "小网格须填所属大网格编号"))
        if level == GridCell.Level.BIG and row.get("parent"):
            plan.problems.append(Problem("网格", number, "所属大网格编号", "大网格不能再有上级网格，请留空"))
        key = (town, row["code"])
        if town and key in cell_final:
            plan.problems.append(
                Problem("网格", number, "网格编号", f"本镇网格编号“{row['code']}”与第{cell_final[key]['row']}行重复")
            )
            continue
        if town and row["code"] and row["name"] and level and village:
            cell_final[key] = {
                "row": number,
                "town": town,
                "code": row["code"],
                "name": row["name"],
                "level": level,
                "village": village,
                "parent": row.get("parent") or None,
            }
    db_cells_by_code = {}
    for (_town_id, code), cell in cells_db.items():
        db_cells_by_code[(cell.town.code, code)] = cell
    for values in cell_final.values():
        if values["level"] != GridCell.Level.SMALL:
            continue
        parent_key = (values["town"], values["parent"])
        parent = cell_final.get(parent_key)
        parent_level = parent["level"] if parent else getattr(db_cells_by_code.get(parent_key), "level", None)
        parent_village = (
            parent["village"] if parent else getattr(getattr(db_cells_by_code.get(parent_key), "village", None), "code", None)
        )
        if parent_level is None:
            plan.problems.append(Problem("网格", values["row"], "所属大网格编号", f"本镇没有编号为“{values['parent']}”的大网格"))
        elif parent_level != GridCell.Level.BIG:
            plan.problems.append(Problem("网格", values["row"], "所属大网格编号", f"“{values['parent']}”是小网格，不能作为上级"))
        elif parent_village and parent_village != values["village"]:
            plan.problems.append(Problem("网格", values["row"], "所属大网格编号", "小网格与所属大网格须在同一个村（社区）"))
    for key, values in cell_final.items():
        existing = db_cells_by_code.get(key)
        if existing is None:
            cells_part.new.append(values)
            continue
        people = people_in_cell.get(existing.pk, 0)
        current = {
            "name": existing.name,
            "level": existing.level,
            "village": existing.village.code if existing.village_id else None,
            "parent": existing.parent.code if existing.parent_id else None,
        }
        if people and (current["level"] != values["level"] or current["village"] != values["village"]):
            plan.problems.append(
                Problem(
                    "网格",
                    values["row"],
                    "所属村（社区）",
                    f"“{existing.name}”已有{people}名在册对象，不能改层级或改到其他村（社区）",
                )
            )
            continue
        if current == {k: values[k] for k in current}:
            cells_part.unchanged += 1
        elif current["name"] != values["name"]:
            cells_part.renamed.append((existing, values))
        else:
            cells_part.updated.append((existing, values))
    cells_part.kept = [
        _kept(f"{c.town.name} {c.name}（{c.code}）", people_in_cell.get(c.pk), unit="名在册对象")
        for key, c in db_cells_by_code.items()
        if key not in cell_final
    ]


def _kept(label: str, count: int | None, unit: str = "户") -> str:
    return f"{label}（{count}{unit}）" if count else label


def _unique_names(sheet: str, plan: Plan, final: dict, db_names: dict) -> None:
    seen: dict[str, int] = {}
    for code, values in final.items():
        name = values["name"]
        if name in seen:
            plan.problems.append(Problem(sheet, values["row"], "名称", f"与第{seen[name]}行重名"))
        seen.setdefault(name, values["row"])
        clash = next((c for c, n in db_names.items() if n == name and c != code and c not in final), None)
        if clash:
            plan.problems.append(Problem(sheet, values["row"], "名称", f"已有同名的“{name}”（代码{clash}）"))


def _plan_categories(upload, plan: Plan, *, size: int, name: str) -> None:
    part = plan.parts.setdefault("categories", Part("人群类别"))
    db = {c.code: c for c in Category.objects.all()}
    final: dict[str, dict] = {}
    for number, row in _rows(upload, CATEGORY_SHEET, CATEGORY_COLUMNS, plan, size=size, name=name):
        code = row["code"]
        if code and not _SLUG.match(code):
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
    _unique_names(CATEGORY_SHEET, plan, final, {c: x.name for c, x in db.items()})
    for code, values in final.items():
        _diff(part, db.get(code), values, ("name", "visit_interval_days", "standard", "sensitive"))
    part.kept = [f"{c.name}（{code}）" for code, c in db.items() if code not in final]


def _plan_cadres(upload, plan: Plan, *, size: int, name: str) -> None:
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
    for number, row in _rows(upload, CADRE_SHEET, CADRE_COLUMNS, plan, size=size, name=name):
        username = row["username"]
        bad = False
        if username and not _USERNAME.match(username):
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
            town = _division_code(row["town"], town=True)
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
        cell_codes = [c for c in _SPLIT.split(row.get("cells", "")) if c]
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


def analyse(*, map_file=None, categories_file=None, cadres_file=None) -> Plan:
    """Plan from up to three uploads: (fileobj, size, name) each. Reads only."""
    plan = Plan()
    with unscoped():  # a county-wide job: every town's map, read on purpose
        _analyse_into(plan, map_file, categories_file, cadres_file)
    return plan


def _analyse_into(plan, map_file, categories_file, cadres_file) -> None:
    if map_file:
        _plan_map(map_file[0], plan, size=map_file[1], name=map_file[2])
    if categories_file:
        _plan_categories(categories_file[0], plan, size=categories_file[1], name=categories_file[2])
    if cadres_file:
        _plan_cadres(cadres_file[0], plan, size=cadres_file[1], name=cadres_file[2])


# --- writing ------------------------------------------------------------------------------------

_PASSWORD_ALPHABET = {
    "upper": "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "lower": "abcdefghijkmnpqrstuvwxyz",
    "digit": "23456789",
    "symbol": "@#%&*+=?",
}


def one_time_password(length: int = 12) -> str:
    """Random, of every character class, without look-alikes (0/O, 1/l/I) so it can be typed from paper."""
    pools = list(_PASSWORD_ALPHABET.values())
    chars = [secrets.choice(pool) for pool in pools]
    everything = "".join(pools)
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


# A new account's password is random (~70 bits) and must be changed at the first login, so the
# hash's work factor adds nothing against guessing it; at the full factor (~0.3 s each) a county's
# 3,000 accounts would take 15 minutes in one request. Django re-hashes at the full factor on login.
TEMPORARY_ITERATIONS = 10_000


def _temporary_hash(password: str) -> str:
    hasher = get_hasher()
    if isinstance(hasher, PBKDF2PasswordHasher):
        return hasher.encode(password, hasher.salt(), iterations=TEMPORARY_ITERATIONS)
    return make_password(password)


class NotApplied(Exception):
    """The plan has problems: nothing was written."""


def apply(*, actor, plan: Plan, channel: str | None = None) -> list[dict]:
    """Write the plan (only when it has no problems). Returns the new accounts' one-time passwords:
    [{town, username, name, role, title, password}]; they are kept nowhere else."""
    if actor is not None:
        require(actor, "county.setup")
    if not plan.ok:
        raise NotApplied("；".join(str(p) for p in plan.problems[:5]))
    with transaction.atomic(), unscoped():
        return _apply(actor, plan, channel)


def _apply(actor, plan: Plan, channel) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
    entries: list[dict] = []

    def audited(action, obj, *, before=None, after=None, town=None):
        entries.append({"action": action, "obj": obj, "town": town, "before": before, "after": after, "channel": channel})

    parts = plan.parts
    towns = {t.code: t for t in Town._base_manager.all()}
    if "towns" in parts:
        part = parts["towns"]
        for existing, values in part.renamed + part.updated:
            before = {"name": existing.name, "kind": existing.kind}
            # A swap of two names would trip the unique index midway: park the old name first.
            Town._base_manager.filter(pk=existing.pk).update(name=f"~{existing.pk}~{existing.name}"[:50])
            existing.name, existing.kind = values["name"], values["kind"]
            audited(
                "county_setup.town_update",
                existing,
                before=before,
                after={"name": existing.name, "kind": existing.kind},
                town=existing.pk,
            )
        for existing, _ in part.renamed + part.updated:
            existing.save(update_fields=["name", "kind"])
        for values in part.new:
            town = Town._base_manager.create(code=values["code"], name=values["name"], kind=values["kind"])
            towns[town.code] = town
            audited(
                "county_setup.town_create", town, after={"code": town.code, "name": town.name, "kind": town.kind}, town=town.pk
            )
    villages = {v.code: v for v in Village._base_manager.select_related("town")}
    if "villages" in parts:
        part = parts["villages"]
        for existing, _values in part.renamed + part.updated:
            Village._base_manager.filter(pk=existing.pk).update(name=f"~{existing.pk}~{existing.name}"[:50])
        for existing, values in part.renamed + part.updated:
            before = {"name": existing.name, "kind": existing.kind, "town": existing.town.name}
            existing.name, existing.kind, existing.town = values["name"], values["kind"], towns[values["town"]]
            existing.save(update_fields=["name", "kind", "town"])
            audited(
                "county_setup.village_update",
                existing,
                before=before,
                after={"name": existing.name, "kind": existing.kind, "town": existing.town.name},
                town=existing.town_id,
            )
        for values in part.new:
            village = Village._base_manager.create(
                code=values["code"], name=values["name"], kind=values["kind"], town=towns[values["town"]]
            )
            villages[village.code] = village
            audited(
                "county_setup.village_create",
                village,
                after={"code": village.code, "name": village.name, "town": village.town.name},
                town=village.town_id,
            )
    cells = {(c.town.code, c.code): c for c in GridCell._base_manager.select_related("town", "village", "parent")}
    if "cells" in parts:
        part = parts["cells"]
        # Big cells first: a small one needs its parent.
        for values in sorted(part.new, key=lambda v: v["level"] != GridCell.Level.BIG):
            town = towns[values["town"]]
            cell = GridCell(
                town=town,
                code=values["code"],
                name=values["name"],
                level=values["level"],
                village=villages[values["village"]],
                parent=cells[(values["town"], values["parent"])] if values["parent"] else None,
            )
            cell.save()
            cells[(values["town"], values["code"])] = cell
            audited(
                "county_setup.cell_create",
                cell,
                after={"code": cell.code, "name": cell.name, "level": cell.level, "village": cell.village.name},
                town=town.pk,
            )
        for existing, values in part.renamed + part.updated:
            before = {
                "name": existing.name,
                "village": existing.village.name if existing.village_id else "",
                "parent": existing.parent.code if existing.parent_id else "",
            }
            existing.name = values["name"]
            existing.village = villages[values["village"]]
            existing.parent = cells[(values["town"], values["parent"])] if values["parent"] else None
            existing.save(update_fields=["name", "village", "parent"])
            audited(
                "county_setup.cell_update",
                existing,
                before=before,
                after={"name": existing.name, "village": existing.village.name, "parent": values["parent"] or ""},
                town=existing.town_id,
            )
    if "categories" in parts:
        part = parts["categories"]
        fields = ("name", "visit_interval_days", "standard", "sensitive")
        for existing, _values in part.renamed + part.updated:
            Category.objects.filter(pk=existing.pk).update(name=f"~{existing.pk}~{existing.name}"[:30])
        for existing, values in part.renamed + part.updated:
            before = audit.snapshot(existing, list(fields))
            for f in fields:
                setattr(existing, f, values[f])
            existing.save(update_fields=list(fields))
            audited("county_setup.category_update", existing, before=before, after=audit.snapshot(existing, list(fields)))
        order = Category.objects.count()
        for values in part.new:
            order += 1
            category = Category.objects.create(code=values["code"], sort_order=order, **{f: values[f] for f in fields})
            audited("county_setup.category_create", category, after=audit.snapshot(category, ["code", *fields]))
    passwords: list[dict] = []
    if "cadres" in parts:
        part = parts["cadres"]
        User = get_user_model()
        for existing, values in part.renamed + part.updated:
            before = {
                "name": existing.name,
                "role": existing.role,
                "town": existing.town.name if existing.town_id else "",
                "title": existing.title,
            }
            existing.name, existing.role, existing.title, existing.phone = (
                values["name"],
                values["role"],
                values["title"],
                values["phone"],
            )
            existing.town = towns[values["town"]] if values["town"] else None
            existing.save(update_fields=["name", "role", "town", "title", "phone"])
            User._default_manager.filter(pk=existing.user_id).update(is_staff=values["role"] == permissions.SYSADMIN)
            audited(
                "county_setup.cadre_update",
                existing,
                before=before,
                after={
                    "name": existing.name,
                    "role": existing.role,
                    "town": existing.town.name if existing.town_id else "",
                    "title": existing.title,
                },
                town=existing.town_id,
            )
        for values in part.new:
            password = one_time_password()
            user = User(username=values["username"], is_staff=values["role"] == permissions.SYSADMIN)
            user.password = _temporary_hash(password)
            user.save()
            town = towns[values["town"]] if values["town"] else None
            cadre = Cadre._base_manager.create(
                user=user,
                name=values["name"],
                role=values["role"],
                town=town,
                title=values["title"],
                phone=values["phone"],
                password_temporary=True,
            )
            passwords.append(
                {
                    "town": town.name if town else "县级",
                    "town_code": town.code if town else "",
                    "username": user.username,
                    "name": cadre.name,
                    "role": cadre.get_role_display(),
                    "title": cadre.title,
                    "password": password,
                }
            )
            audited(
                "county_setup.cadre_create",
                cadre,
                after={"username": user.username, "name": cadre.name, "role": cadre.role, "town": town.name if town else ""},
                town=cadre.town_id,
            )
    if plan.assignments:
        cadres = {
            c.user.get_username(): c
            for c in Cadre._base_manager.select_related("user").filter(user__username__in={a[0] for a in plan.assignments})
        }
        today = timezone.localdate()
        for username, town_code, cell_code in plan.assignments:
            cadre, cell = cadres[username], cells[(town_code, cell_code)]
            assignment = Assignment._base_manager.create(cadre=cadre, town=cell.town, cell=cell, starts_on=today)
            audited(
                "county_setup.assignment_create", assignment, after={"cadre": cadre.name, "cell": cell.name}, town=cell.town_id
            )
    audited("county_setup.run", None, after={"summary": plan.summary(), "accounts_created": len(passwords)})
    entries[-1].update(object_type="county_setup", object_repr="全县基础数据导入")
    audit.record_many(actor=actor, entries=entries)
    passwords.sort(key=lambda p: (p["town_code"] or "~", p["username"]))
    return passwords


# --- workbooks ----------------------------------------------------------------------------------


def _book(sheets: dict[str, list], notes: list[str]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, columns in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append([label for _, label, _ in columns])
        for cell in sheet[1]:
            cell.font = _HEADER_FONT
        example = EXAMPLES[title]
        for row in example if isinstance(example[0], list) else [example]:
            sheet.append(row)
        for index in range(1, len(columns) + 1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = 20
            # Codes as text: Excel shows a 12-digit number as 3.41122E+11.
            for r in range(2, 502):
                sheet[f"{letter}{r}"].number_format = "@"
    help_sheet = book.create_sheet("填写说明")
    for line in notes:
        help_sheet.append([line])
    help_sheet.column_dimensions["A"].width = 100
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def template(kind: str) -> bytes:
    if kind == "map":
        return _book(MAP_SHEETS, NOTES["map"])
    if kind == "categories":
        return _book({CATEGORY_SHEET: CATEGORY_COLUMNS}, NOTES["categories"])
    if kind == "cadres":
        return _book({CADRE_SHEET: CADRE_COLUMNS}, NOTES["cadres"] + ["角色：" + "、".join(ROLE_OF_LABEL)])
    raise KeyError(kind)


TEMPLATE_NAMES = {"map": "区划网格导入模板.xlsx", "categories": "人群类别导入模板.xlsx", "cadres": "干部账号导入模板.xlsx"}


def passwords_workbook(passwords: list[dict]) -> bytes:
    """One sheet per town: the shell's --passwords-out file."""
    book = Workbook()
    book.remove(book.active)
    by_town: dict[str, list] = {}
    for p in passwords:
        by_town.setdefault(p["town"], []).append(p)
    for town, rows in by_town.items():
        sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", "", town)[:31] or "账号")
        sheet.append([f"{town} 初始密码（仅此一份，首次登录须修改密码）"])
        sheet.append(["登录账号", "姓名", "角色", "职务", "初始密码"])
        for p in rows:
            sheet.append([p["username"], p["name"], p["role"], p["title"], p["password"]])
        for letter in "ABCDE":
            sheet.column_dimensions[letter].width = 18
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
