"""County setup (issue 16 §1): the layouts of the three workbooks, the plan they make, and the
helpers every part of the plan shares (reading a sheet, comparing with the database)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Count

from core import permissions
from towns.models import Beneficiary, GridCell, Household, Town, Village
from towns.roster_import.parse import Rejected, is_formula, open_sheet

FORMULA = "含有公式，请改为数值后重新上传"
KEPT = "文件中没有，保留"

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
    CADRE_SHEET: [
        ["shili_wgy1", "张三", "网格员", "示例镇", "网格员", "13800000000", "01-1"],
        ["shili_admin", "李四", "镇管理员", "示例镇", "组织委员", "", ""],
    ],
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
USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{2,60}$")
SLUG = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
SPLIT = re.compile(r"[、，,；;\s]+")


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


def text_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u3000", " ").strip()


def header_key(value) -> str:
    return re.sub(r"[\s*＊]", "", text_of(value)).replace("(", "（").replace(")", "）")


def sheet_rows(upload, sheet: str, columns, plan: Plan, *, size: int, name: str) -> list[tuple[int, dict]]:
    """(sheet row, {key: text}) of one sheet; formulas and missing headers are problems."""
    try:
        with open_sheet(upload, size=size, name=name, sheet_name=sheet) as data:
            return _read_rows(data, sheet, columns, plan)
    except Rejected as error:
        plan.problems.append(Problem(sheet, None, "", str(error)))
        return []


def _read_rows(data, sheet: str, columns, plan: Plan) -> list[tuple[int, dict]]:
    if not data.top:
        plan.problems.append(Problem(sheet, None, "", "表是空的，第1行应为表头"))
        return []
    found = {header_key(v): i for i, v in enumerate(data.top[0]) if text_of(v)}
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
    for number, values in data.rows(start=2):
        if not any(text_of(v) for v in values):
            continue
        row = {}
        for key, i in index.items():
            value = values[i] if i < len(values) else None
            if is_formula(value):
                plan.problems.append(Problem(sheet, number, labels[key], FORMULA))
                value = None
            row[key] = text_of(value)
        for key, label, required in columns:
            if required and key in row and not row[key] and not any(p.row == number and p.column == label for p in plan.problems):
                plan.problems.append(Problem(sheet, number, label, "不能为空"))
        out.append((number, row))
    return out


def division_code(text: str, *, town: bool) -> str | None:
    digits = text.replace(" ", "")
    if town and re.fullmatch(r"\d{9}", digits):
        return digits + "000"
    return digits if re.fullmatch(r"\d{12}", digits) else None


def people_by(field_name: str) -> dict[int, int]:
    rows = Beneficiary._base_manager.filter(status=Beneficiary.Status.ACTIVE).values(field_name).annotate(n=Count("id"))
    return {r[field_name]: r["n"] for r in rows}


def households_by(field_name: str) -> dict[int, int]:
    return {r[field_name]: r["n"] for r in Household._base_manager.values(field_name).annotate(n=Count("id"))}


def diff(plan_part: Part, obj, values: dict, fields) -> None:
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


def kept_label(label: str, count: int | None, unit: str = "户") -> str:
    return f"{label}（{count}{unit}）" if count else label


def unique_names(sheet: str, plan: Plan, final: dict, db_names: dict) -> None:
    seen: dict[str, int] = {}
    for code, values in final.items():
        name = values["name"]
        if name in seen:
            plan.problems.append(Problem(sheet, values["row"], "名称", f"与第{seen[name]}行重名"))
        seen.setdefault(name, values["row"])
        clash = next((c for c, n in db_names.items() if n == name and c != code and c not in final), None)
        if clash:
            plan.problems.append(Problem(sheet, values["row"], "名称", f"已有同名的“{name}”（代码{clash}）"))
