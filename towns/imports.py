"""Roster import (issue 4 §5): a town's own Excel roster into the registry, all or nothing.

1. ``roster_upload``: cheap checks on the file as it arrives (size, a real .xlsx, zip bomb); a
   refused file is recorded as 文件被拒绝 and not kept.
2. ``run_check`` (Celery): read the sheet (formulas and too many rows refuse the file), find the
   header, normalise each row, classify it (新增 / 更新 / 无变化) against the registry and store
   the counts and every error on the RosterImport. Nothing is written to the registry.
3. ``roster_confirm``: a person confirms a preview without errors.
4. ``run_commit`` (Celery): read and check everything again (the registry may have changed),
   then write households, people, categories, visit-due columns and one audit record per
   change in one transaction. Any error, any exception: nothing is written.

Progress goes to the cache (``import-progress:<id>``) because the commit's transaction hides
its own writes to the RosterImport row from the page that polls it.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core import audit, bulk, idnumbers, jobs, outbox
from core.permissions import require
from core.phones import normalize_phone
from core.scoping import unscoped
from towns import idchecks, name_aliases, visit_due
from towns.models import (
    BENEFICIARY_AUDITED_FIELDS,
    Beneficiary,
    Cadre,
    Category,
    GridCell,
    Household,
    NameAlias,
    RosterImport,
    Village,
)
from towns.pinyin import initials

log = logging.getLogger(__name__)

# Limits: module constants so that tests can lower them instead of building huge files.
MAX_BYTES = getattr(settings, "ROSTER_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
MAX_ROWS = getattr(settings, "ROSTER_IMPORT_MAX_ROWS", 100_000)
MAX_UNCOMPRESSED = 200 * 1024 * 1024  # all members of the zip together
MAX_RATIO = 100  # uncompressed / compressed, per member
RATIO_FROM = 1024 * 1024  # tiny XML parts compress very well and are harmless; judge members above 1 MB
MAX_MEMBERS = 2000
MAX_COLUMNS = 60  # a roster has ~10; a sheet claiming 16,384 columns would make every row huge
HEADER_SCAN_ROWS = 10
PROGRESS_EVERY = 1000
ERROR_DISPLAY_LIMIT = 500

BOMB = "文件疑似压缩炸弹，已拒绝"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx files with an open password


class Rejected(Exception):
    """The file as a whole is refused (not a roster, unsafe, too big)."""


# --- 1. the file itself -----------------------------------------------------------------


def check_file(fileobj, *, size: int, name: str) -> None:
    """Refuse what must never reach the XML parser. Cheap: reads only the zip directory."""
    if size > MAX_BYTES:
        raise Rejected(
            f"文件大小为 {size / 1024 / 1024:.1f} MB，超过 {MAX_BYTES // 1024 // 1024} MB 的上限。请删去无关的工作表后重新上传，或分批导入"
        )
    if size == 0:
        raise Rejected("文件是空的，请重新选择文件")
    fileobj.seek(0)
    head = fileobj.read(8)
    fileobj.seek(0)
    if head == _OLE_MAGIC:
        raise Rejected("这是旧版 .xls 文件或设置了打开密码的文件。请在 Excel 中“另存为” .xlsx 格式（不设密码）后重新上传")
    if not name.lower().endswith(".xlsx"):
        raise Rejected("请上传 Excel 工作簿（.xlsx）文件")
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Rejected(
            "文件不是有效的 Excel 工作簿（.xlsx），可能已损坏或只是改了扩展名。请用 Excel 打开后另存为 .xlsx 再上传"
        ) from None
    finally:
        fileobj.seek(0)
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise Rejected("文件不是 Excel 工作簿（.xlsx）。请用 Excel 打开后另存为 .xlsx 再上传")
    if "xl/vbaProject.bin" in names:
        raise Rejected("文件含有宏，已拒绝。请另存为不含宏的 .xlsx 工作簿后重新上传")
    if len(members) > MAX_MEMBERS:
        raise Rejected(BOMB)
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise Rejected("文件已加密，请取消密码后重新上传")
        total += member.file_size
        if member.file_size > RATIO_FROM and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise Rejected(BOMB)
    # Python's zipfile never inflates a member past the size its directory declares, so these
    # declared sizes bound what openpyxl can be made to read.
    if total > MAX_UNCOMPRESSED:
        raise Rejected(BOMB)


@dataclass
class Sheet:
    rows: list[tuple]  # every row from row 1, values only, at most MAX_COLUMNS wide
    title: str
    names: list[str] = field(default_factory=list)  # every worksheet of the workbook, in order


def _is_formula(value) -> bool:
    if isinstance(value, str):
        return value.startswith("=")
    # ArrayFormula, DataTableFormula: formulas openpyxl does not hand over as text.
    return value is not None and not isinstance(value, (int, float, datetime, date, bool))


def read_sheet(fileobj, *, size: int, name: str, sheet_name: str = "") -> Sheet:
    """One worksheet's values (the first, or the one the cadre picked), after check_file.

    Formulas stay in the rows: a formula is an error of its row (parse_rows), so the other rows
    are still checked in the same pass. Too many rows refuse the file."""
    check_file(fileobj, size=size, name=name)
    try:
        # read_only streams the sheet; data_only=False so that formulas show up as formulas;
        # defusedxml is installed, so openpyxl parses with it (no entity expansion).
        book = load_workbook(fileobj, read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for broken files
        log.info("roster import: unreadable workbook %s", name, exc_info=True)
        raise Rejected("无法读取该工作簿，文件可能已损坏。请用 Excel 打开后另存为 .xlsx 再上传") from None
    try:
        sheets = book.worksheets
        if not sheets:
            raise Rejected("工作簿中没有工作表")
        names = [s.title for s in sheets]
        sheet = sheets[0]
        if sheet_name:
            if sheet_name not in names:
                raise Rejected(f"工作簿中没有名为“{sheet_name}”的工作表，请重新选择")
            sheet = sheets[names.index(sheet_name)]
        rows: list[tuple] = []
        filled = 0
        for number, values in enumerate(sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), start=1):
            if any(v is not None and v != "" for v in values):
                filled += 1
                if filled > MAX_ROWS:
                    raise Rejected(f"数据超过 {MAX_ROWS:,} 行，请分批导入")
            elif number > 2 * MAX_ROWS:
                raise Rejected(f"数据超过 {MAX_ROWS:,} 行，请分批导入")
            rows.append(values)
        return Sheet(rows=rows, title=sheet.title, names=names)
    finally:
        book.close()


# --- 2. the header ------------------------------------------------------------------------

LABELS = {
    "name": "姓名",
    "gender": "性别",
    "id_number": "身份证号",
    "phone": "联系电话",
    "village": "村（社区）",
    "cell": "网格",
    "categories": "人员类别",
    "address": "住址",
    "notes": "备注",
}
REQUIRED = ("name", "id_number", "village", "cell", "categories")
_VARIANTS = {
    "name": ("姓名",),
    "gender": ("性别",),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "公民身份证号码", "身份证", "身份证件号码", "证件号码"),
    "phone": ("联系电话", "手机号", "手机号码", "电话", "联系方式", "电话号码"),
    "village": (
        "村",
        "社区",
        "村(社区)",
        "村(居)",
        "村居",
        "村/社区",
        "村社区",
        "所属村",
        "所属村(社区)",
        "村名",
        "村(社区)名称",
    ),
    "cell": ("网格", "小网格", "所属网格", "网格名称", "网格编号", "所属小网格"),
    "categories": ("人员类别", "类别", "人群类别", "对象类别", "类型"),
    "address": ("住址", "家庭住址", "地址", "居住地址", "现住址", "家庭地址"),
    "notes": ("备注",),
}
_HEADER_OF = {variant: key for key, variants in _VARIANTS.items() for variant in variants}
_HEADER_TRANSLATE = str.maketrans({"（": "(", "）": ")", "／": "/", "＊": "", "*": "", "：": "", ":": ""})
_SPACES = re.compile(r"\s+")


def _header_key(value) -> str:
    return _SPACES.sub("", str(value or "")).translate(_HEADER_TRANSLATE)


@dataclass
class Header:
    row: int  # Excel row number
    columns: dict[str, int]  # field -> 0-based column index
    titles: dict[str, str]  # field -> the header as written in the file

    def column_label(self, key: str) -> str:
        if key in self.columns:
            return f"{get_column_letter(self.columns[key] + 1)}列 {self.titles[key]}"
        return LABELS[key]


def find_header(rows: list[tuple]) -> tuple[Header | None, str]:
    """The first of the top rows with 姓名 and an ID number column; (None, message) otherwise."""
    for number, values in enumerate(rows[:HEADER_SCAN_ROWS], start=1):
        columns: dict[str, int] = {}
        titles: dict[str, str] = {}
        for index, value in enumerate(values):
            key = _HEADER_OF.get(_header_key(value))
            if key and key not in columns:
                columns[key], titles[key] = index, str(value).strip()
        if "name" in columns and "id_number" in columns:
            missing = [LABELS[k] for k in REQUIRED if k not in columns]
            if missing:
                return (
                    None,
                    f"第{number}行表头缺少必填列：{'、'.join(missing)}（必填列：姓名、身份证号、村（社区）、网格、人员类别）",
                )
            return Header(number, columns, titles), ""
    return None, f"前{HEADER_SCAN_ROWS}行中没有找到表头：表头行须同时含有“姓名”和“身份证号”两列。可下载导入模板对照"


# --- 3. rows -------------------------------------------------------------------------------

_TOTAL_WORDS = ("合计", "总计", "小计", "共计")
_CATEGORY_SPLIT = re.compile(r"[、，,/／；;\s]+")
_GENDERS = {"男": "M", "女": "F", "男性": "M", "女性": "F", "m": "M", "f": "F"}
_LOST_DIGITS = "身份证号被Excel存成了数字且丢失了末尾数字，请将该列设为文本后重新录入"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value).replace("\u3000", " ").replace("\xa0", " ").strip()


def _norm(text: str) -> str:
    """Compare names and addresses without spaces and with half-width brackets and digits."""
    return _SPACES.sub("", text).translate(_HEADER_TRANSLATE).translate(_FULLWIDTH_DIGITS)


_FULLWIDTH_DIGITS = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９"}


def _id_text(value) -> tuple[str, str]:
    """(text to parse, message when the cell itself is the problem)."""
    if isinstance(value, float):
        if value >= 1e16:
            return "", _LOST_DIGITS
        if value.is_integer():
            return str(int(value)), ""
    text = _text(value).lstrip("'‘’`")
    return text, ""


@dataclass
class Row:
    number: int
    name: str
    id_number: idnumbers.IdNumber
    digest: str
    phone: str
    village_id: int
    cell_id: int
    category_ids: tuple[int, ...]
    address: str
    notes: str


@dataclass
class Reference:
    """The importing town's villages, small cells, households, the categories and the town's own
    aliases for them (towns/name_aliases.py), looked up once."""

    town_id: int
    villages: dict[str, Village]
    cells: dict[int, dict[str, GridCell]]  # village id -> name/code -> small cell
    big_cells: dict[int, set[str]]
    categories: dict[str, Category]
    households: dict[tuple[int, str], int]  # (cell id, normalised address) -> household id
    village_aliases: dict[str, Village] = field(default_factory=dict)
    cell_aliases: dict[tuple[int, str], GridCell] = field(default_factory=dict)
    category_aliases: dict[str, Category] = field(default_factory=dict)
    small_cells: dict[int, list[GridCell]] = field(default_factory=dict)  # village id -> its small cells
    _likely: dict[str, Village | None] = field(default_factory=dict)

    @classmethod
    def load(cls, actor, town_id: int) -> Reference:
        villages = {}
        by_id = {}
        for village in Village.objects.for_user(actor).filter(town_id=town_id):
            villages[_norm(village.name)] = village
            by_id[village.pk] = village
        cells: dict[int, dict[str, GridCell]] = {}
        small: dict[int, list[GridCell]] = {}
        big: dict[int, set[str]] = {}
        cell_by_id = {}
        for cell in GridCell.objects.for_user(actor).filter(town_id=town_id, village__isnull=False).order_by("code"):
            if cell.level == GridCell.Level.SMALL:
                names = cells.setdefault(cell.village_id, {})
                names.setdefault(_norm(cell.name), cell)
                names.setdefault(_norm(cell.code), cell)
                small.setdefault(cell.village_id, []).append(cell)
                cell_by_id[cell.pk] = cell
            else:
                big.setdefault(cell.village_id, set()).update({_norm(cell.name), _norm(cell.code)})
        households = {}
        for pk, cell_id, address in (
            Household.objects.for_user(actor).filter(town_id=town_id).order_by("id").values_list("id", "cell_id", "address")
        ):
            households.setdefault((cell_id, _norm(address)), pk)
        categories = {}
        category_by_id = {}
        for category in Category.objects.all():
            categories[_norm(category.name)] = category
            categories.setdefault(category.code.lower(), category)
            category_by_id[category.pk] = category
        ref = cls(town_id, villages, cells, big, categories, households, small_cells=small)
        for alias in NameAlias.objects.for_user(actor).filter(town_id=town_id):
            if alias.kind == NameAlias.Kind.VILLAGE and alias.village_id in by_id:
                ref.village_aliases[alias.key] = by_id[alias.village_id]
            elif alias.kind == NameAlias.Kind.CELL and alias.cell_id in cell_by_id:
                ref.cell_aliases[(alias.in_village_id, alias.key)] = cell_by_id[alias.cell_id]
            elif alias.kind == NameAlias.Kind.CATEGORY and alias.category_id in category_by_id:
                ref.category_aliases[alias.key] = category_by_id[alias.category_id]
        return ref

    def village(self, text: str) -> Village | None:
        key = _norm(text)
        return (
            self.villages.get(key)
            or self.village_aliases.get(key)
            or self.villages.get(key + "村")
            or self.villages.get(key + "社区")
        )

    def cell(self, village: Village, text: str) -> GridCell | None:
        names = self.cells.get(village.pk, {})
        key = _norm(text)
        return names.get(key) or names.get(_norm(village.name) + key) or self.cell_aliases.get((village.pk, key))

    def likely_village(self, text: str) -> Village | None:
        """The one plausible village for an unknown name (towns/name_aliases.py), or None."""
        key = _norm(text)
        if key not in self._likely:
            found = name_aliases.suggest_village(text, list({v.pk: v for v in self.villages.values()}.values()))
            self._likely[key] = found[0] if len(found) == 1 else None
        return self._likely[key]

    def category(self, text: str) -> Category | None:
        key = _norm(text)
        return self.categories.get(key) or self.categories.get(text.lower()) or self.category_aliases.get(key)


@dataclass
class Analysis:
    total_rows: int = 0
    rows: list[Row] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    creates: list[Row] = field(default_factory=list)
    updates: list[tuple[Row, dict, dict]] = field(default_factory=list)  # (row, existing, changes)
    unchanged: int = 0
    new_households: dict[tuple[int, str], dict] = field(default_factory=dict)
    header: Header | None = None
    ref: Reference | None = None
    skipped: list[dict] = field(default_factory=list)  # [{row, text}] totals and footnotes
    unknown: dict[tuple, dict] = field(default_factory=dict)  # (kind, village id, key) -> the name, its rows
    preview: dict[int, dict] = field(default_factory=dict)  # row number -> {row, name, status, changes, ...}

    def error(self, number: int | None, column: str, value, message: str):
        self.errors.append({"row": number, "column": column, "value": value, "message": message})
        if number in self.preview:
            self.preview[number]["status"] = "error"

    def unknown_name(self, kind: str, text: str, number: int, village: Village | None = None):
        entry = self.unknown.setdefault(
            (kind, village.pk if village else None, _norm(text)),
            {
                "kind": kind,
                "name": text,
                "village_id": village.pk if village else None,
                "village": village.name if village else "",
                "rows": 0,
                "first_row": number,
            },
        )
        entry["rows"] += 1
        if number in self.preview and self.preview[number]["status"] != "error":
            self.preview[number]["status"] = "pending"

    def unknown_names(self) -> list[dict]:
        """The names to map, with the closest known ones first (kind order: village, cell, category)."""
        ref = self.ref
        order = {"village": 0, "cell": 1, "category": 2}
        out = []
        villages = list({v.pk: v for v in ref.villages.values()}.values())
        categories = list({c.pk: c for c in ref.categories.values()}.values())
        for entry in sorted(self.unknown.values(), key=lambda e: (order[e["kind"]], -e["rows"], e["first_row"])):
            if entry["kind"] == "village":
                found = [(v.pk, v.name) for v in name_aliases.suggest_village(entry["name"], villages)]
            elif entry["kind"] == "cell":
                village = next(v for v in villages if v.pk == entry["village_id"])
                cells = ref.small_cells.get(village.pk, [])
                found = [(c.pk, c.name) for c in name_aliases.suggest_cell(entry["name"], village, cells)]
            else:
                found = [(c.pk, c.name) for c in name_aliases.suggest_category(entry["name"], categories)]
            out.append({**entry, "suggestions": [{"id": pk, "label": label} for pk, label in found]})
        return out


def _display_value(key: str, value) -> str:
    text = _text(value)[:60]
    if key == "id_number" and len(text) >= 8:
        return idnumbers.mask(idnumbers.normalize(text))  # the preview shows no whole ID number
    return text


def _is_total(values: tuple) -> bool:
    for value in values[:4]:
        text = _norm(_text(value))
        if text and text.startswith(_TOTAL_WORDS):
            return True
    return False


# The lines offices put under 合计: "注：本表一式三份…", "填表说明：…", "审核人：… 制表人：… 日期：…".
_NOTE_WORDS = (
    "注",
    "备注",
    "说明",
    "填表说明",
    "填报说明",
    "审核人",
    "审核",
    "制表人",
    "制表",
    "填表人",
    "填报人",
    "填报单位",
    "负责人",
    "联系人",
    "单位负责人",
    "日期",
    "制表日期",
    "填报日期",
)
_NOTE = re.compile(r"^(?:" + "|".join(sorted(map(re.escape, _NOTE_WORDS), key=len, reverse=True)) + r")\s*[:：]")
_STRONG_NOTE = re.compile(r"^(?:注|填表说明|填报说明)\s*[:：]|^注\s*\d|^说明\s*[:：]")


def _first_text(values: tuple) -> str:
    return next((t for t in (_text(v) for v in values) if t), "")


def _note_row(values: tuple, *, after_total: bool) -> bool:
    """A footnote line: under a 合计 row any "X人：" line; anywhere, one that says 注： or 填表说明：."""
    text = _first_text(values).replace(" ", "")
    return bool(_STRONG_NOTE.match(text) or (after_total and _NOTE.match(text)))


_CJK_ONLY = re.compile(r"^[\u3400-\u9fff·\s]+$")


def _clean_name(text: str) -> str:
    """ "王  五" (spaces to line up two-character names) is 王五; spaces in other names stay."""
    if _CJK_ONLY.match(text):
        return _SPACES.sub("", text)
    return _SPACES.sub(" ", text)


FORMULA_MESSAGE = "含有公式。花名册中不能有公式：请复制后“选择性粘贴 → 数值”，或删除公式后重新上传"


def parse_rows(sheet: Sheet, header: Header, ref: Reference, result: Analysis, progress: Callable[[int], None]) -> None:
    """Normalise and validate each data row; valid ones go to result.rows, problems to result.errors.

    Every row is checked in full whatever is wrong with it: a formula, an unknown village or a bad
    ID number is one problem of its row, and the row's other columns are still read."""
    cols = header.columns
    seen: dict[str, int] = {}
    data = sheet.rows[header.row :]
    after_total = False
    for offset, values in enumerate(data):
        number = header.row + offset + 1
        if offset and offset % PROGRESS_EVERY == 0:
            progress(offset * 100 // max(len(data), 1))

        if not any(_text(v) for v in values):
            continue
        if _is_total(values):
            after_total = True
            result.skipped.append({"row": number, "text": "合计行：" + _first_text(values)[:40]})
            continue
        if _note_row(values, after_total=after_total):
            result.skipped.append({"row": number, "text": "表尾说明：" + _first_text(values)[:60]})
            continue
        result.total_rows += 1
        before = len(result.errors)

        formulas = set()
        for key, index in cols.items():
            if index < len(values) and _is_formula(values[index]):
                formulas.add(key)

        def cell(key, values=values, formulas=formulas):
            index = cols.get(key)
            if key in formulas:
                return None
            return values[index] if index is not None and index < len(values) else None

        def fail(key, message, value=None, number=number, cell=cell):
            result.error(number, header.column_label(key), _display_value(key, cell(key) if value is None else value), message)

        for key in sorted(formulas, key=lambda k: cols[k]):
            ref_name = f"{get_column_letter(cols[key] + 1)}{number}"
            result.error(number, header.column_label(key), str(values[cols[key]])[:60], f"{ref_name} {FORMULA_MESSAGE}")

        shown: list[dict] = []  # what is stored, where it differs from the file

        def differs(key, file_text, stored, note="", shown=shown):
            if file_text != stored:
                shown.append({"column": LABELS[key], "file": file_text, "stored": stored, "note": note})

        preview = {"row": number, "name": "", "status": "ok", "changes": shown}
        result.preview[number] = preview
        if len(result.errors) > before:
            preview["status"] = "error"

        raw_name = _text(cell("name"))
        name = _clean_name(raw_name)
        preview["name"] = name[:30]
        if not name:
            if "name" not in formulas:
                fail("name", "请填写姓名")
        elif len(name) > 30:
            fail("name", "姓名不能超过30个字")
        else:
            differs("name", raw_name, name, "去掉多余空格")

        raw_id = cell("id_number")
        id_text, id_problem = _id_text(raw_id)
        parsed = None
        if id_problem:
            fail("id_number", id_problem)
        elif not id_text:
            if "id_number" not in formulas:
                fail("id_number", "请填写身份证号")
        else:
            try:
                parsed = idnumbers.parse(id_text)
            except ValidationError as error:
                message = error.messages[0]
                digits = str(raw_id)
                if isinstance(raw_id, int) and len(digits) >= 16 and digits.endswith("0" * (len(digits) - 15)):
                    message = _LOST_DIGITS  # Excel keeps 15 significant digits and pads with zeros
                fail("id_number", message)
            else:
                plain = _SPACES.sub("", id_text).translate(_FULLWIDTH_DIGITS)
                if len(plain) == 15:
                    note = "15位身份证号升级为18位"
                elif plain != id_text:
                    note = "去掉空格、全角数字改为半角" if plain.upper() == parsed.number else "去掉空格、全角字符"
                    if plain.upper() != plain:
                        note += "，末位x改为大写X"
                elif plain != parsed.number:
                    note = "末位x改为大写X"
                else:
                    note = ""
                if isinstance(raw_id, (int, float)):
                    note = ("存成数字的身份证号按文本读取；" + note).rstrip("；")
                if note:
                    shown.append(
                        {
                            "column": LABELS["id_number"],
                            "file": _display_value("id_number", id_text),
                            "stored": parsed.masked,
                            "note": note,
                        }
                    )

        gender_text = _text(cell("gender"))
        if gender_text:
            gender = _GENDERS.get(gender_text.lower())
            if gender is None:
                fail("gender", "性别请填写“男”或“女”")
            elif parsed and gender != parsed.gender:
                fail("gender", "性别与身份证号不一致（身份证号第17位奇数为男，偶数为女）")

        phone = ""
        phone_raw = cell("phone")
        if _text(phone_raw):
            try:
                phone = normalize_phone(_text(phone_raw))
            except ValidationError as error:
                fail("phone", error.messages[0])
            else:
                differs("phone", _text(phone_raw), phone, "统一为标准格式")

        village = cell_obj = None
        village_text = _text(cell("village"))
        if not village_text:
            if "village" not in formulas:
                fail("village", "请填写村（社区）")
        else:
            village = ref.village(village_text)
            if village is None:
                result.unknown_name(NameAlias.Kind.VILLAGE, village_text, number)
            else:
                differs("village", village_text, village.name, "按本镇名称对应")
        cell_text = _text(cell("cell"))
        likely = ref.likely_village(village_text) if village is None and village_text else None
        if not cell_text:
            if "cell" not in formulas:
                fail("cell", "请填写网格（小网格名称或编号）")
        elif likely is not None:
            # The village is not mapped yet but only one is plausible: ask about its cell names in
            # the same round, so mapping does not take one round per column.
            if (
                ref.cell(likely, cell_text) is None
                and _norm(cell_text) not in ref.big_cells.get(likely.pk, set())
                and ref.small_cells.get(likely.pk)
            ):
                result.unknown_name(NameAlias.Kind.CELL, cell_text, number, likely)
        elif village is not None:
            cell_obj = ref.cell(village, cell_text)
            if cell_obj is None:
                if _norm(cell_text) in ref.big_cells.get(village.pk, set()):
                    fail("cell", f"“{cell_text}”是大网格，请填写户所在的小网格")
                elif not ref.small_cells.get(village.pk):
                    fail("cell", f"{village.name}还没有小网格，请先由镇管理员维护网格")
                else:
                    result.unknown_name(NameAlias.Kind.CELL, cell_text, number, village)
            else:
                differs("cell", cell_text, cell_obj.name, "按本镇名称对应")

        category_ids: set[int] = set()
        category_text = _text(cell("categories"))
        if not category_text:
            if "categories" not in formulas:
                fail("categories", "请填写人员类别")
        else:
            stored_names = []
            pending = renamed = False
            parts = list(filter(None, _CATEGORY_SPLIT.split(category_text)))
            for part in parts:
                category = ref.category(part)
                if category is None:
                    pending = True
                    result.unknown_name(NameAlias.Kind.CATEGORY, part, number)
                elif category.pk not in category_ids:
                    category_ids.add(category.pk)
                    stored_names.append(category.name)
                    renamed = renamed or _norm(part) != _norm(category.name)
            if not pending:
                note = "、".join(
                    filter(
                        None,
                        [f"拆分为{len(stored_names)}项" if len(stored_names) > 1 else "", "按本镇名称对应" if renamed else ""],
                    )
                )
                differs("categories", category_text, "、".join(stored_names), note)

        address = _text(cell("address"))
        if len(address) > 120:
            fail("address", "住址不能超过120个字")
        notes = _text(cell("notes"))
        if len(notes) > 200:
            fail("notes", "备注不能超过200个字")

        if parsed is not None:
            digest = idnumbers.digest(parsed.number)
            if digest in seen:
                fail("id_number", f"与第{seen[digest]}行的身份证号重复，同一人只能出现一次")
            else:
                seen[digest] = number
        if len(result.errors) == before and preview["status"] == "ok":
            result.rows.append(
                Row(number, name, parsed, digest, phone, village.pk, cell_obj.pk, tuple(sorted(category_ids)), address, notes)
            )


# --- 4. against the registry ---------------------------------------------------------------

_EXISTING_FIELDS = (
    "id",
    "town_id",
    "status",
    "name",
    "phone",
    "notes",
    "household_id",
    "cell_id",
    "household__address",
    "registered_on",
    "last_visited_at",
    "visit_interval_days",
    "id_number_digest",
    "id_number_masked",
    "birth_date",
)

# A file whose rows mostly point to people under a different number is a probe, not a roster.
PROBE_MIN_ROWS = 3


def _own_people(actor, ref: Reference, rows: list[Row], *, reveal: bool, lock: bool) -> dict:
    """The importing town's people (any status) the rows may point to, keyed as the actor may know them:
    by digest for a user who may reveal ID numbers, else by masked number + birth date."""
    field_name = "id_number_digest" if reveal else "id_number_masked"
    values = sorted({row.digest if reveal else row.id_number.masked for row in rows})
    found: dict = {}
    for start in range(0, len(values), 5000):
        qs = Beneficiary.objects.for_user(actor).filter(
            town_id=ref.town_id, **{f"{field_name}__in": values[start : start + 5000]}
        )
        if lock:
            # Rows we may update stay as read until commit: no edit in between is overwritten.
            qs = qs.select_for_update(of=("self",))
        for person in qs.order_by("id").values(*_EXISTING_FIELDS):
            key = person["id_number_digest"] if reveal else idchecks.visible_key(person["id_number_masked"], person["birth_date"])
            found.setdefault(key, []).append(person)
    return found


def classify(result: Analysis, ref: Reference, header: Header, *, actor, lock: bool = False) -> None:
    """Sort valid rows into create / update / unchanged against the importing town's people.

    What a row is matched by depends on what the user may know (towns/idchecks.py): a user who
    may not reveal ID numbers gets the same answer for every number with the same masked form and
    birth date, so a file cannot tell which of the candidate numbers is on record. A row matching
    nobody in the town is checked county-wide; "registered elsewhere" is all it is told.
    """
    reveal = idchecks.may_reveal(actor)
    own = _own_people(actor, ref, result.rows, reveal=reveal, lock=lock)

    def key_of(row):
        return row.digest if reveal else idchecks.visible_key(row.id_number.masked, row.id_number.birth_date)

    matched_ids = [p["id"] for people in own.values() for p in people if p["status"] == "active"]
    categories: dict[int, set[int]] = {}
    through = Beneficiary.categories.through
    for start in range(0, len(matched_ids), 5000):
        for person_id, category_id in through.objects.filter(beneficiary_id__in=matched_ids[start : start + 5000]).values_list(
            "beneficiary_id", "category_id"
        ):
            categories.setdefault(person_id, set()).add(category_id)

    id_label = header.column_label("id_number")
    kept, new_rows = [], []
    taken: dict[int, int] = {}  # person id -> the row that matched them first
    mismatched = 0
    for row in result.rows:
        people = own.get(key_of(row), [])
        actives = [p for p in people if p["status"] == "active"]
        masked = row.id_number.masked
        if not reveal and actives:
            # Matched by masked number and birth date, which two people of a town share now and
            # then (~1 in 100 of those born the same day): the name decides, and a different name
            # is never taken for a rename, or a new person would overwrite someone else.
            same_name = [p for p in actives if p["name"] == row.name]
            if not same_name:
                names = "、".join(p["name"] for p in actives)
                result.error(
                    row.number,
                    header.column_label("name"),
                    row.name,
                    f"本镇在册人员{names}的身份证号（{masked}）和出生日期与此相同但姓名不同：如是同一人改名，请在信息库中修改；"
                    "如是不同的人，请由镇管理员导入",
                )
                continue
            actives = same_name
        if len(actives) > 1:
            result.error(
                row.number,
                id_label,
                masked,
                f"本镇有{len(actives)}名在册人员的身份证号（{masked}）和出生日期与此相同，无法确定是哪一位，请在信息库中逐一修改",
            )
            continue
        if not actives:
            gone = people[0] if people else None
            if gone is not None:
                label = Beneficiary.Status(gone["status"]).label
                result.error(row.number, id_label, masked, f"该人员在本镇信息库中的状态为“{label}”，如需恢复在册请在信息库中办理")
                continue
            new_rows.append(row)
            continue
        active = actives[0]
        if active["id"] in taken:
            result.error(row.number, id_label, masked, f"与第{taken[active['id']]}行对应本镇同一名在册人员，同一人只能出现一次")
            continue
        taken[active["id"]] = row.number
        if active["id_number_digest"] != row.digest:
            mismatched += 1  # the person is updated all the same: saying otherwise would confirm the number
        changes = {}
        if row.name != active["name"]:
            changes["name"] = row.name
        if row.phone and row.phone != active["phone"]:
            changes["phone"] = row.phone
        if row.notes and row.notes != active["notes"]:
            changes["notes"] = row.notes
        if set(row.category_ids) != categories.get(active["id"], set()):
            changes["categories"] = row.category_ids
        address = row.address or active["household__address"]
        if row.cell_id != active["cell_id"] or _norm(address) != _norm(active["household__address"]):
            changes["household"] = _household_key(row, result, ref, address)
        if changes:
            result.updates.append((row, active, changes))
            _mark(result, row, "update", [_CHANGE_LABELS[k] for k in changes])
        else:
            result.unchanged += 1
            _mark(result, row, "same")
        kept.append(row)

    # Rows that match nobody in the town: is the number registered somewhere the user cannot see?
    limited = idchecks.refuse_new_while_limited(actor) is not None
    with transaction.atomic():  # the answers are audited; the job has no transaction of its own
        found = idchecks.registered_outside(actor, [row.digest for row in new_rows]) if new_rows else {}
        answers = idchecks.answer_outside(actor, found, where="roster_import")
        if mismatched and not lock:
            audit.record(
                actor=actor,
                action=idchecks.ACTION_MISMATCH,
                town=ref.town_id,
                object_type="id_check",
                object_repr=f"导入文件中 {mismatched} 行身份证号与在册人员不一致",
                after={
                    "rows": result.total_rows,
                    "matched": len(taken),
                    "mismatched": mismatched,
                    "probe": mismatched >= PROBE_MIN_ROWS and mismatched * 2 >= len(taken),
                },
            )
    limited = limited or any(answer.limited for answer in answers.values())
    for row in new_rows:
        answer = answers.get(row.digest)
        if answer is not None and not answer.limited:
            result.error(row.number, id_label, row.id_number.masked, answer.message)
            continue
        if limited:
            # Past the day's limit, every new number is refused alike: the limit tells nothing.
            result.error(row.number, id_label, row.id_number.masked, idchecks.LIMITED)
            continue
        if not row.address:
            result.error(row.number, header.column_label("address"), "", "新增人员须填写住址（用于建立或匹配户）")
            continue
        _household_key(row, result, ref, row.address)
        result.creates.append(row)
        _mark(result, row, "new")
        kept.append(row)
    kept.sort(key=lambda row: row.number)
    result.rows = kept


_CHANGE_LABELS = {"name": "姓名", "phone": "电话", "notes": "备注", "categories": "人员类别", "household": "户（网格、住址）"}


def _mark(result: Analysis, row: Row, status: str, fields=()) -> None:
    entry = result.preview.get(row.number)
    if entry is not None:
        entry["status"] = status
        if fields:
            entry["fields"] = list(fields)


def _household_key(row: Row, result: Analysis, ref: Reference, address: str) -> tuple[int, str]:
    """The household a row lives in: an existing one of that cell with that address, or a new one."""
    key = (row.cell_id, _norm(address))
    if key not in ref.households and key not in result.new_households:
        result.new_households[key] = {
            "cell_id": row.cell_id,
            "village_id": row.village_id,
            "address": address,
            "head_name": row.name,
            "phone": row.phone,
        }
    return key


def analyse(sheet: Sheet, *, actor, town_id: int, progress: Callable[[int], None], lock: bool = False) -> Analysis:
    result = Analysis()
    header, problem = find_header(sheet.rows)
    if header is None:
        if len(sheet.names) > 1:
            problem += f"。本工作簿有 {len(sheet.names)} 个工作表，现在读取的是“{sheet.title}”，可选择其他工作表重新校验"
        result.error(None, "表头", "", problem)
        return result
    ref = Reference.load(actor, town_id)
    parse_rows(sheet, header, ref, result, lambda pct: progress(pct * 8 // 10))
    classify(result, ref, header, actor=actor, lock=lock)
    result.errors.sort(key=lambda e: e["row"] or 0)
    for entry in result.preview.values():
        if entry["status"] == "ok":  # checked, then matched nobody (its error is on the row)
            entry["status"] = "error"
    result.header = header
    result.ref = ref
    progress(100)
    return result


# --- progress -------------------------------------------------------------------------------


def progress_key(import_id: int) -> str:
    return f"import-progress:{import_id}"


def current_progress(roster_import: RosterImport) -> int:
    if roster_import.is_running:
        return cache.get(progress_key(roster_import.pk), roster_import.progress)
    return roster_import.progress


def _set_progress(import_id: int, percent: int) -> None:
    cache.set(progress_key(import_id), max(0, min(100, int(percent))), timeout=3600)


# --- the steps ----------------------------------------------------------------------------


def _load(import_id: int) -> RosterImport:
    with unscoped():  # jobs resolve the import by id; its town and uploader come from the row
        return RosterImport.objects.select_related("town", "uploaded_by__user", "confirmed_by__user").get(pk=import_id)


def _update(roster_import: RosterImport, **values) -> None:
    for name, value in values.items():
        setattr(roster_import, name, value)
    RosterImport._base_manager.filter(pk=roster_import.pk).update(**values)


def _discard_file(roster_import: RosterImport) -> None:
    # The roster holds whole ID numbers: once it is imported or refused nobody needs it.
    if roster_import.file:
        roster_import.file.delete(save=False)
        RosterImport._base_manager.filter(pk=roster_import.pk).update(file="")


def _actor_town(actor):
    cadre = Cadre._base_manager.select_related("town").filter(user_id=actor.pk).first()
    if cadre is None or cadre.town_id is None:
        raise ValidationError("只有镇（街道）的干部可以导入本镇花名册")
    return cadre


@transaction.atomic
def roster_upload(*, actor, upload, enqueue: bool = True) -> RosterImport:
    """Record an upload and queue its check; an unsafe file is recorded as refused and not kept."""
    require(actor, "registry.import")
    cadre = _actor_town(actor)
    name = (getattr(upload, "name", "") or "roster.xlsx")[-200:]
    size = upload.size
    roster_import = RosterImport(town_id=cadre.town_id, uploaded_by=cadre, original_name=name, file_size=size)
    try:
        check_file(upload, size=size, name=name)
    except Rejected as refused:
        roster_import.status = RosterImport.Status.REJECTED
        roster_import.message = str(refused)
        roster_import.finished_at = timezone.now()
        roster_import.save()
        return roster_import
    upload.seek(0)
    roster_import.file.save("roster.xlsx", upload, save=False)
    roster_import.save()
    if enqueue:
        outbox.run_task("towns.tasks.check_roster_import", import_id=roster_import.pk)
    return roster_import


def _read(roster_import: RosterImport) -> Sheet:
    with roster_import.file.open("rb") as handle:
        return read_sheet(
            io.BytesIO(handle.read()),
            size=roster_import.file.size,
            name=roster_import.original_name,
            sheet_name=roster_import.sheet_name,
        )


PREVIEW_LIMIT = 5000  # rows kept for the per-row preview; the counts and errors cover every row


def preview_rows(result: Analysis) -> list[dict]:
    return [result.preview[n] for n in sorted(result.preview)[:PREVIEW_LIMIT]]


def run_check(import_id: int) -> RosterImport:
    """The full dry run: counts and errors on the RosterImport, nothing written to the registry."""
    roster_import = _load(import_id)
    if roster_import.status not in {RosterImport.Status.UPLOADED, RosterImport.Status.CHECKING}:
        return roster_import  # already checked: a redelivered job does nothing
    actor = roster_import.uploaded_by.user
    require(actor, "registry.import")
    _update(roster_import, status=RosterImport.Status.CHECKING, progress=0)
    _set_progress(import_id, 0)

    def progress(percent):
        _set_progress(import_id, percent)

    try:
        sheet = _read(roster_import)
        result = analyse(sheet, actor=actor, town_id=roster_import.town_id, progress=progress)
        unknown = result.unknown_names() if result.ref else []
    except Rejected as refused:
        _update(
            roster_import, status=RosterImport.Status.REJECTED, message=str(refused), progress=100, finished_at=timezone.now()
        )
        _discard_file(roster_import)
        return roster_import
    status = RosterImport.Status.FAILED if result.errors else RosterImport.Status.READY
    if result.errors:
        message = f"发现 {len(result.errors):,} 处问题，请修改后重新上传（有错误时不导入任何数据）"
        if unknown:
            message += f"；另有 {len(unknown)} 个名称需要对应"
    elif unknown:
        message = f"有 {len(unknown)} 个名称与本镇的村（社区）、网格或人员类别对不上，请逐个选择对应后继续"
    else:
        message = "校验通过，请核对后确认导入"
    _update(
        roster_import,
        status=status,
        message=message,
        sheet_names=sheet.names,
        skipped=result.skipped,
        unknown_names=unknown,
        preview=preview_rows(result),
        total_rows=result.total_rows,
        to_create=len(result.creates),
        to_update=len(result.updates),
        unchanged=result.unchanged,
        errors=result.errors,
        progress=100,
        finished_at=timezone.now() if result.errors else None,
    )
    _set_progress(import_id, 100)
    return roster_import


@transaction.atomic
def roster_confirm(*, actor, roster_import: RosterImport, enqueue: bool = True) -> RosterImport:
    """The person confirms the preview; the import runs as a job. A second confirm does nothing."""
    require(actor, "registry.import")
    locked = RosterImport.objects.for_user(actor).select_for_update().filter(pk=roster_import.pk).first()
    if locked is None:
        raise ValidationError("导入记录不存在或不在您的管辖范围内")
    if locked.status in {RosterImport.Status.IMPORTING, RosterImport.Status.DONE}:
        return locked  # double click, retry
    if locked.status == RosterImport.Status.READY and locked.unknown_names:
        raise ValidationError(f"还有 {len(locked.unknown_names)} 个名称没有对应，请先在预览中选择对应项")
    if locked.status == RosterImport.Status.READY and not locked.errors and not locked.can_confirm:
        raise ValidationError("文件中的人员都已在册且信息一致，没有需要导入的变更")
    if not locked.can_confirm:
        raise ValidationError(f"当前状态为“{locked.get_status_display()}”，不能确认导入")
    _update(
        locked,
        status=RosterImport.Status.IMPORTING,
        confirmed_by=_actor_town(actor),
        confirmed_at=timezone.now(),
        progress=0,
        message="正在导入",
        heartbeat_at=timezone.now(),  # queued now: the lost-job sweep counts from here
    )
    _set_progress(locked.pk, 0)
    if enqueue:
        outbox.run_task("towns.tasks.run_roster_import", import_id=locked.pk)
    return locked


def _recheck(roster_import: RosterImport, *, enqueue: bool, **values) -> RosterImport:
    """Back to 已上传 and check again (same file): after a mapping or another sheet was chosen."""
    _update(
        roster_import,
        status=RosterImport.Status.UPLOADED,
        message="正在重新校验",
        progress=0,
        errors=[],
        unknown_names=[],
        preview=[],
        skipped=[],
        finished_at=None,
        heartbeat_at=timezone.now(),  # queued now: the lost-job sweep counts from here
        **values,
    )
    _set_progress(roster_import.pk, 0)
    if enqueue:
        outbox.run_task("towns.tasks.check_roster_import", import_id=roster_import.pk)
    return roster_import


def _locked_for_recheck(actor, roster_import: RosterImport) -> RosterImport:
    locked = RosterImport.objects.for_user(actor).select_for_update().filter(pk=roster_import.pk).first()
    if locked is None:
        raise ValidationError("导入记录不存在或不在您的管辖范围内")
    if locked.status not in {RosterImport.Status.READY, RosterImport.Status.FAILED} or not locked.file:
        raise ValidationError(f"当前状态为“{locked.get_status_display()}”，不能重新校验，请重新上传")
    return locked


@transaction.atomic
def roster_choose_sheet(*, actor, roster_import: RosterImport, sheet_name: str, enqueue: bool = True) -> RosterImport:
    """The cadre picks which worksheet of the workbook is the roster; it is checked again."""
    require(actor, "registry.import")
    locked = _locked_for_recheck(actor, roster_import)
    if sheet_name not in locked.sheet_names:
        raise ValidationError("请从列出的工作表中选择")
    return _recheck(locked, enqueue=enqueue, sheet_name=sheet_name)


@transaction.atomic
def roster_map_names(*, actor, roster_import: RosterImport, choices: dict[int, int], enqueue: bool = True) -> RosterImport:
    """Save the cadre's picks for the preview's unknown names as the town's aliases (audited) and
    check the roster again with them. ``choices``: index in unknown_names -> the id picked."""
    require(actor, "registry.import")
    locked = _locked_for_recheck(actor, roster_import)
    saved = 0
    for index, target_id in choices.items():
        if not target_id or not 0 <= index < len(locked.unknown_names):
            continue
        entry = locked.unknown_names[index]
        name_aliases.name_alias_set(
            actor=actor,
            town_id=locked.town_id,
            kind=entry["kind"],
            name=entry["name"],
            target_id=target_id,
            in_village_id=entry.get("village_id"),
        )
        saved += 1
    if not saved:
        raise ValidationError("请至少为一个名称选择对应项")
    return _recheck(locked, enqueue=enqueue)


def suggested_choices(roster_import: RosterImport) -> dict[int, int]:
    """What a cadre accepting every suggestion would pick: the first suggestion of each name."""
    return {i: e["suggestions"][0]["id"] for i, e in enumerate(roster_import.unknown_names) if e["suggestions"]}


class _StillInvalid(Exception):
    def __init__(self, result: Analysis):
        self.result = result


def run_commit(import_id: int) -> RosterImport:
    """Check again and write everything in one transaction, or nothing."""
    roster_import = _load(import_id)
    if roster_import.status != RosterImport.Status.IMPORTING:
        return roster_import  # done already (or never confirmed): a redelivered job does nothing
    actor = roster_import.confirmed_by.user
    require(actor, "registry.import")
    _set_progress(import_id, 1)
    try:
        sheet = _read(roster_import)  # outside the transaction: parsing needs no locks
        with transaction.atomic():
            _lock_town(roster_import.town_id)
            result = analyse(
                sheet,
                actor=actor,
                town_id=roster_import.town_id,
                progress=lambda p: _set_progress(import_id, p * 3 // 10),
                lock=True,
            )
            if result.errors or result.unknown:
                raise _StillInvalid(result)
            write(result, roster_import=roster_import, actor=actor, progress=lambda p: _set_progress(import_id, 30 + p * 7 // 10))
            _update(
                roster_import,
                status=RosterImport.Status.DONE,
                to_create=len(result.creates),
                to_update=len(result.updates),
                unchanged=result.unchanged,
                total_rows=result.total_rows,
                progress=100,
                finished_at=timezone.now(),
                message=f"已导入：新增 {len(result.creates):,} 人，更新 {len(result.updates):,} 人，无变化 {result.unchanged:,} 人",
            )
            # New or changed people change who the town's campaigns target (dashboards).
            outbox.town_registry_changed(roster_import.town_id)
    except _StillInvalid as invalid:
        result = invalid.result
        _update(
            roster_import,
            status=RosterImport.Status.FAILED,
            errors=result.errors,
            unknown_names=result.unknown_names() if result.ref else [],
            to_create=len(result.creates),
            to_update=len(result.updates),
            unchanged=result.unchanged,
            progress=100,
            finished_at=timezone.now(),
            message=f"确认后信息库已有变动，重新校验发现 {len(result.errors):,} 处问题，未导入任何数据。请修改后重新上传",
        )
        _set_progress(import_id, 100)
        return roster_import
    except Rejected as refused:
        _update(
            roster_import, status=RosterImport.Status.REJECTED, message=str(refused), progress=100, finished_at=timezone.now()
        )
        _discard_file(roster_import)
        return roster_import
    _set_progress(import_id, 100)
    _discard_file(roster_import)
    return roster_import


def mark_failed(import_id: int, message: str) -> None:
    """A job died: say so on the row (its transaction, if any, has rolled back: nothing written)."""
    RosterImport._base_manager.filter(pk=import_id).exclude(status=RosterImport.Status.DONE).update(
        status=RosterImport.Status.FAILED, message=message[:300], progress=100, finished_at=timezone.now()
    )
    _set_progress(import_id, 100)


# Two imports of one town at once would each check against a registry the other is changing.
_IMPORT_LOCK_CLASS = 72_410_102


def _lock_town(town_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_IMPORT_LOCK_CLASS, town_id])


# --- 5. writing --------------------------------------------------------------------------


def write(result: Analysis, *, roster_import: RosterImport, actor, progress: Callable[[int], None]) -> None:
    """Bulk writes in the caller's transaction; every step raises rather than half-writes."""
    today = timezone.localdate()
    town_id = roster_import.town_id
    intervals = {c.pk: c.visit_interval_days for c in result.ref.categories.values()}
    entries: list[dict] = []

    households = insert_households(result, town_id=town_id, entries=entries)
    progress(10)
    insert_people(
        result, households=households, town_id=town_id, today=today, intervals=intervals, entries=entries, progress=progress
    )
    progress(60)
    update_people(result, households=households, intervals=intervals, entries=entries)
    progress(80)
    entries.append(
        {
            "action": "beneficiary.import",
            "obj": roster_import,
            "after": {
                "file": roster_import.original_name,
                "created": len(result.creates),
                "updated": len(result.updates),
                "unchanged": result.unchanged,
                "households_created": len(result.new_households),
            },
        }
    )
    audit.record_many(actor=actor, entries=entries)
    progress(100)


def insert_households(result: Analysis, *, town_id: int, entries: list) -> dict[tuple[int, str], int]:
    households = dict(result.ref.households)
    new = [
        Household(
            town_id=town_id,
            village_id=h["village_id"],
            cell_id=h["cell_id"],
            address=h["address"],
            head_name=h["head_name"],
            phone=h["phone"],
        )
        for h in result.new_households.values()
    ]
    bulk.insert(Household, new)
    for key, household in zip(result.new_households, new, strict=True):
        households[key] = household.pk
        entries.append({"action": "household.create", "obj": household, "after": audit.snapshot(household)})
    return households


def insert_people(result, *, households, town_id, today, intervals, entries, progress) -> None:
    names: dict[str, str] = {}
    people = []
    for row in result.creates:
        interval = min((intervals[c] for c in row.category_ids), default=None)
        people.append(
            Beneficiary(
                household_id=households[(row.cell_id, _norm(row.address))],
                town_id=town_id,
                cell_id=row.cell_id,
                name=row.name,
                name_initials=names[row.name] if row.name in names else names.setdefault(row.name, initials(row.name)),
                gender=row.id_number.gender,
                birth_date=row.id_number.birth_date,
                id_number_encrypted=idnumbers.encrypt(row.id_number.number),
                id_number_digest=row.digest,
                id_number_masked=row.id_number.masked,
                phone=row.phone,
                status=Beneficiary.Status.ACTIVE,
                status_since=today,
                registered_on=today,
                notes=row.notes,
                visit_interval_days=interval,
                next_visit_due=visit_due.next_due(registered_on=today, last_visited_at=None, interval_days=interval),
            )
        )
    progress(25)
    bulk.insert(Beneficiary, people)
    progress(45)
    links = [(p.pk, c) for p, row in zip(people, result.creates, strict=True) for c in row.category_ids]
    bulk.insert_links(Beneficiary.categories.through, "beneficiary", "category", links)
    for person, row in zip(people, result.creates, strict=True):
        after = audit.snapshot(person, fields=list(BENEFICIARY_AUDITED_FIELDS))
        after["categories"] = list(row.category_ids)
        entries.append({"action": "beneficiary.create", "obj": person, "after": after})


def update_people(result, *, households, intervals, entries) -> None:
    if not result.updates:
        return
    ids = [existing["id"] for _, existing, _ in result.updates]
    people = {}
    for start in range(0, len(ids), 5000):
        with unscoped():  # these rows were found and locked by classify(); all of the importing town
            for person in Beneficiary.objects.filter(pk__in=ids[start : start + 5000]):
                people[person.pk] = person
    old_categories: dict[int, list[int]] = {}
    through = Beneficiary.categories.through
    for person_id, category_id in through._base_manager.filter(beneficiary_id__in=ids).values_list(
        "beneficiary_id", "category_id"
    ):
        old_categories.setdefault(person_id, []).append(category_id)
    now = timezone.now()
    changed_categories = []
    for row, existing, changes in result.updates:
        person = people[existing["id"]]
        before = audit.snapshot(person, fields=list(BENEFICIARY_AUDITED_FIELDS))
        before["categories"] = sorted(old_categories.get(person.pk, []))
        if "name" in changes:
            person.name, person.name_initials = row.name, initials(row.name)
        if "phone" in changes:
            person.phone = row.phone
        if "notes" in changes:
            person.notes = row.notes
        if "household" in changes:
            person.household_id = households[changes["household"]]
            person.cell_id = row.cell_id
        if "categories" in changes:
            changed_categories.append(person.pk)
            person.visit_interval_days = min((intervals[c] for c in row.category_ids), default=None)
            person.next_visit_due = visit_due.next_due(
                registered_on=person.registered_on,
                last_visited_at=person.last_visited_at,
                interval_days=person.visit_interval_days,
            )
        person.updated_at = now
        after = audit.snapshot(person, fields=list(BENEFICIARY_AUDITED_FIELDS))
        after["categories"] = sorted(row.category_ids) if "categories" in changes else before["categories"]
        entries.append({"action": "beneficiary.update", "obj": person, "before": before, "after": after})
    bulk.update(
        Beneficiary,
        list(people.values()),
        ["name", "name_initials", "phone", "notes", "household", "cell", "visit_interval_days", "next_visit_due", "updated_at"],
    )
    if changed_categories:
        through._base_manager.filter(beneficiary_id__in=changed_categories).delete()
        by_id = {existing["id"]: row for row, existing, _ in result.updates}
        pairs = [(pk, c) for pk in changed_categories for c in by_id[pk].category_ids]
        bulk.insert_links(through, "beneficiary", "category", pairs)


# --- 6. workbooks for the user ----------------------------------------------------------------

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_ERROR_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_FONT = Font(bold=True)


def _out_cell(sheet, value, **style):
    """A cell for a workbook we hand out: text that a spreadsheet could run is stored as text."""
    if value is not None and not isinstance(value, (str, int, float, bool, datetime, date)):
        value = str(value)
    out = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(_DANGEROUS_START):
        out.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        out.quotePrefix = True  # and Excel shows it as typed text, never evaluated
    for name, setting in style.items():
        setattr(out, name, setting)
    return out


def error_workbook(*, actor, roster_import: RosterImport) -> bytes:
    """The uploaded sheet as it was, row for row, with a 错误说明 column: fix it and upload it again.
    The download is logged: the file carries the uploader's own whole ID numbers."""
    require(actor, "registry.import")
    by_row: dict[int | None, list[str]] = {}
    for error in roster_import.errors:
        column = f"【{error['column']}】" if error.get("column") else ""
        by_row.setdefault(error.get("row"), []).append(f"{column}{error['message']}")
    rows: list[tuple] = []
    if roster_import.file:
        rows = _read(roster_import).rows
    header, _ = find_header(rows)
    width = max((len(r) for r in rows), default=0)
    while width and not any(len(r) >= width and r[width - 1] not in (None, "") for r in rows):
        width -= 1  # trailing empty columns
    id_column = header.columns["id_number"] if header else None

    book = Workbook(write_only=True)
    sheet = book.create_sheet("错误说明")
    sheet.column_dimensions[get_column_letter(width + 1)].width = 60
    if None in by_row:
        sheet.append([_out_cell(sheet, "文件问题：" + "；".join(by_row[None]), font=_HEADER_FONT)])
    for number, values in enumerate(rows, start=1):
        values = list(values[:width]) + [None] * (width - len(values))
        cells = []
        for index, value in enumerate(values):
            if index == id_column and isinstance(value, int):
                value = str(value)  # kept as typed, as text so that Excel keeps every digit
            cells.append(_out_cell(sheet, value))
        if header and number == header.row:
            cells = [_out_cell(sheet, v, font=_HEADER_FONT) for v in values] + [_out_cell(sheet, "错误说明", font=_HEADER_FONT)]
        elif number in by_row:
            cells.append(_out_cell(sheet, "；".join(by_row[number]), fill=_ERROR_FILL, alignment=Alignment(wrap_text=True)))
        sheet.append(cells)
    output = io.BytesIO()
    book.save(output)
    with transaction.atomic():
        audit.record_personal_data_access(
            actor=actor,
            what=f"花名册导入错误清单（{roster_import.original_name}）",
            count=len({e.get("row") for e in roster_import.errors if e.get("row")}),
            town=roster_import.town_id,
            filters={"import": roster_import.pk},
        )
    return output.getvalue()


TEMPLATE_HEADERS = ["序号", "姓名", "性别", "身份证号", "联系电话", "村（社区）", "网格", "人员类别", "住址", "备注"]


def template_workbook(*, actor) -> bytes:
    """An empty roster with the headers the import reads, and the town's villages, cells and categories."""
    require(actor, "registry.import")
    cadre = _actor_town(actor)
    book = Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append([f"{cadre.town.name}重点人群花名册"])
    sheet.append(TEMPLATE_HEADERS)
    for cell in sheet[2]:
        cell.font = _HEADER_FONT
    for letter, width in zip("ABCDEFGHIJ", (6, 10, 6, 22, 14, 14, 18, 20, 30, 20), strict=True):
        sheet.column_dimensions[letter].width = width
        # Text columns: Excel would turn an 18-digit ID number into 3.41181E+17 and drop digits.
        for row in range(3, 1003):
            if letter in "DE":
                sheet[f"{letter}{row}"].number_format = "@"
    notes = book.create_sheet("填写说明")
    notes.append(["说明"])
    for line in (
        "第1行为标题，可删除；第2行为表头，列的顺序可以调整，“姓名、身份证号、村（社区）、网格、人员类别”必填。",
        "身份证号、联系电话两列已设为文本格式，请勿改为数字（18位身份证号存成数字会丢失末尾数字）。",
        "人员类别可填多个，用顿号分隔，如：独居老人、困难党员。",
        "网格填小网格的名称或编号；住址相同且在同一小网格的人员归为同一户。",
        "已在册人员按身份证号匹配：姓名、电话、类别、户变化的将被更新，空白的电话、住址、备注不会覆盖已有信息。",
        "不能含有公式；有任何错误时整份文件都不导入，请按错误清单修改后重新上传。",
    ):
        notes.append([line])
    notes.append([])
    notes.append(["人员类别"])
    for category in Category.objects.all():
        notes.append([category.name])
    notes.append([])
    notes.append(["村（社区）", "小网格名称", "小网格编号"])
    for cell in (
        GridCell.objects.for_user(actor)
        .filter(town_id=cadre.town_id, level=GridCell.Level.SMALL, village__isnull=False)
        .select_related("village")
        .order_by("village__code", "code")
    ):
        notes.append([cell.village.name, cell.name, cell.code])
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 24
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


# --- housekeeping ---------------------------------------------------------------------------

KEEP_UNIMPORTED_FILES = timedelta(days=7)


LOST_MESSAGES = {
    RosterImport.Status.UPLOADED: "后台处理未能开始（可能正在维护），未写入任何数据。请点击“重试”",
    RosterImport.Status.CHECKING: "校验中断（后台处理程序停止），未写入任何数据。请点击“重试”",
    RosterImport.Status.IMPORTING: "导入中断（后台处理程序停止），已全部撤销，未写入任何数据。请点击“重试”",
}


def sweep_lost(*, now=None) -> int:
    """Every few minutes (beat): a job whose heartbeat stopped (core/jobs.py) is marked failed
    with a retry button. Its transaction rolled back with the process: nothing was written."""
    with unscoped():
        lost = list(
            jobs.stale(
                RosterImport._base_manager.all(),
                running=(RosterImport.Status.CHECKING, RosterImport.Status.IMPORTING),
                queued=(RosterImport.Status.UPLOADED,),
                now=now,
            ).values_list("pk", "status")
        )
    for import_id, status in lost:
        mark_failed(import_id, LOST_MESSAGES[status])
    return len(lost)


@transaction.atomic
def roster_retry(*, actor, roster_import: RosterImport) -> RosterImport:
    """重试: a job that died is checked again from the kept file; the person then confirms as usual
    (the registry may have changed since). A second click does nothing."""
    require(actor, "registry.import")
    locked = RosterImport.objects.for_user(actor).select_for_update().filter(pk=roster_import.pk).first()
    if locked is None:
        raise ValidationError("导入记录不存在或不在您的管辖范围内")
    if locked.is_running:
        return locked
    if not locked.can_retry:
        raise ValidationError(f"当前状态为“{locked.get_status_display()}”，不能重试；请重新上传")
    _update(locked, status=RosterImport.Status.UPLOADED, progress=0, message="", finished_at=None, heartbeat_at=timezone.now())
    _set_progress(locked.pk, 0)
    outbox.run_task("towns.tasks.check_roster_import", import_id=locked.pk)
    return locked


def sweep(*, now=None) -> dict:
    """Nightly: a job lost long ago is marked failed (sweep_lost does this within minutes), and
    rosters never imported lose their file after a week: they hold whole ID numbers."""
    now = now or timezone.now()
    running = [RosterImport.Status.UPLOADED, RosterImport.Status.CHECKING, RosterImport.Status.IMPORTING]
    lost = sweep_lost(now=now)
    old = (
        RosterImport._base_manager.exclude(file="").exclude(status__in=running).filter(created_at__lt=now - KEEP_UNIMPORTED_FILES)
    )
    discarded = 0
    for roster_import in old:
        _discard_file(roster_import)
        discarded += 1
    return {"stale": lost, "files_discarded": discarded}
