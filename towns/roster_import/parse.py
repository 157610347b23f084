"""Reading a roster file: refuse what is unsafe, stream the sheet, find the header, and say what
a cell's text means (totals, footnotes, names, ID numbers as Excel stores them)."""

from __future__ import annotations

import contextlib
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from defusedxml.ElementTree import ParseError, iterparse
from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from core import idnumbers

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


def is_formula(value) -> bool:
    if isinstance(value, str):
        return value.startswith("=")
    # ArrayFormula, DataTableFormula: formulas openpyxl does not hand over as text.
    return value is not None and not isinstance(value, (int, float, datetime, date, bool))


@dataclass
class Sheet:
    """One worksheet of an open workbook, read as a stream: a 100,000-row sheet is never a list."""

    worksheet: object  # openpyxl's ReadOnlyWorksheet
    title: str
    names: list[str] = field(default_factory=list)  # every worksheet of the workbook, in order
    top: list[tuple] = field(default_factory=list)  # the first HEADER_SCAN_ROWS rows

    def _before_rows(self) -> Iterator:
        """The sheet's elements before its rows (<dimension>, <cols>…): read no further."""
        source = self.worksheet._get_source()  # openpyxl's read-only sheets expose neither cheaply
        try:
            for _, element in iterparse(source, events=("start",)):
                if element.tag.rsplit("}", 1)[-1] == "sheetData":
                    return
                yield element
        finally:
            source.close()

    @property
    def size_hint(self) -> int:
        """The last row the sheet's <dimension> names, for progress only; 0 when unknown. (openpyxl's
        max_row reads the whole sheet once more when a file has no <dimension>.)"""
        try:
            for element in self._before_rows():
                if element.tag.rsplit("}", 1)[-1] == "dimension":
                    last = element.get("ref", "").rpartition(":")[2]
                    return int(re.sub(r"^[A-Za-z]+", "", last) or 0)
        except (ParseError, ValueError):
            return 0
        return 0

    def column_widths(self) -> dict[int, float]:
        """1-based column -> width as the file sets them (<cols> precedes the rows)."""
        widths: dict[int, float] = {}
        try:
            for element in self._before_rows():
                if element.tag.rsplit("}", 1)[-1] == "col" and element.get("width"):
                    first, last = int(element.get("min", 0)), int(element.get("max", 0))
                    for column in range(max(first, 1), min(last, MAX_COLUMNS) + 1):
                        widths[column] = float(element.get("width"))
        except (ParseError, ValueError):
            return {}
        return widths

    def rows(self, *, start: int = 1) -> Iterator[tuple[int, tuple]]:
        """(Excel row number, values at most MAX_COLUMNS wide) from row ``start``. Too many filled
        rows, or a sheet padded with millions of empty ones, refuse the file as the rows come."""
        filled = 0
        for number, values in enumerate(self.worksheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), start=1):
            # The title and header rows (within the first HEADER_SCAN_ROWS) are not data: a roster of
            # exactly MAX_ROWS people under a title and a header is within the limit.
            if number > HEADER_SCAN_ROWS and any(v is not None and v != "" for v in values):
                filled += 1
                if filled > MAX_ROWS:
                    raise Rejected(f"数据超过 {MAX_ROWS:,} 行，请分批导入")
            elif number > 2 * MAX_ROWS:
                raise Rejected(f"数据超过 {MAX_ROWS:,} 行，请分批导入")
            if number >= start:
                yield number, values


@contextlib.contextmanager
def open_sheet(fileobj, *, size: int, name: str, sheet_name: str = "") -> Iterator[Sheet]:
    """One worksheet (the first, or the one the cadre picked) of a file that passed check_file,
    open for streaming while the block runs.

    Formulas stay in the rows: a formula is an error of its row, so the other rows are still
    checked in the same pass."""
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
        worksheet = sheets[0]
        if sheet_name:
            if sheet_name not in names:
                raise Rejected(f"工作簿中没有名为“{sheet_name}”的工作表，请重新选择")
            worksheet = sheets[names.index(sheet_name)]
        sheet = Sheet(worksheet=worksheet, title=worksheet.title, names=names)
        for number, values in sheet.rows():
            sheet.top.append(values)
            if number >= HEADER_SCAN_ROWS:
                break
        yield sheet
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
SPACES = re.compile(r"\s+")


def _header_key(value) -> str:
    return SPACES.sub("", str(value or "")).translate(_HEADER_TRANSLATE)


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
CATEGORY_SPLIT = re.compile(r"[、，,/／；;\s]+")
GENDERS = {"男": "M", "女": "F", "男性": "M", "女性": "F", "m": "M", "f": "F"}
LOST_DIGITS = "身份证号被Excel存成了数字且丢失了末尾数字，请将该列设为文本后重新录入"


def text_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value).replace("\u3000", " ").replace("\xa0", " ").strip()


def norm(text: str) -> str:
    """Compare names and addresses without spaces and with half-width brackets and digits."""
    return SPACES.sub("", text).translate(_HEADER_TRANSLATE).translate(FULLWIDTH_DIGITS)


FULLWIDTH_DIGITS = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９"}


def id_text(value) -> tuple[str, str]:
    """(text to parse, message when the cell itself is the problem)."""
    if isinstance(value, float):
        if value >= 1e16:
            return "", LOST_DIGITS
        if value.is_integer():
            return str(int(value)), ""
    text = text_of(value).lstrip("'‘’`")
    return text, ""


def display_value(key: str, value) -> str:
    text = text_of(value)[:60]
    if key == "id_number" and len(text) >= 8:
        return idnumbers.mask(idnumbers.normalize(text))  # the preview shows no whole ID number
    return text


def is_total(values: tuple) -> bool:
    for value in values[:4]:
        text = norm(text_of(value))
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


def first_text(values: tuple) -> str:
    return next((t for t in (text_of(v) for v in values) if t), "")


def is_note_row(values: tuple, *, after_total: bool) -> bool:
    """A footnote line: under a 合计 row any "X人：" line; anywhere, one that says 注： or 填表说明：."""
    text = first_text(values).replace(" ", "")
    return bool(_STRONG_NOTE.match(text) or (after_total and _NOTE.match(text)))


_CJK_ONLY = re.compile(r"^[\u3400-\u9fff·\s]+$")


def clean_name(text: str) -> str:
    """ "王  五" (spaces to line up two-character names) is 王五; spaces in other names stay."""
    if _CJK_ONLY.match(text):
        return SPACES.sub("", text)
    return SPACES.sub(" ", text)


FORMULA_MESSAGE = "含有公式。花名册中不能有公式：请复制后“选择性粘贴 → 数值”，或删除公式后重新上传"
