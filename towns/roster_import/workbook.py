"""Workbooks handed to the user: the error workbook (the uploaded sheet row for row, with a 错误说明
column) and the empty roster template.

The error workbook is built by the worker that found the errors, while it streams the sheet (it
is the roster again: as big as the upload), and kept as a file beside the upload; the web request
only sends that file. openpyxl's write-only mode writes rows to a temporary file, not to memory.
"""

from __future__ import annotations

import io
import tempfile
from datetime import date, datetime

from django.core.files import File
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core.permissions import require
from towns.models import Category, GridCell, RosterImport
from towns.roster_import.parse import Header, Sheet
from towns.roster_import.records import actor_town

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_ERROR_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FONT = Font(bold=True)


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


def error_sheet_width(sheet: Sheet) -> int:
    """The sheet's width: the last filled column of its top rows (title, header, first rows).
    Cells right of it have no header: the import never read them, the error workbook leaves them."""
    return max((i + 1 for values in sheet.top for i, v in enumerate(values) if v not in (None, "")), default=0)


def build_error_workbook(roster_import: RosterImport, *, sheet: Sheet | None, header: Header | None, errors: list[dict]) -> None:
    """Save the error workbook on the import (error_file): every row of the sheet as it was, from
    row 1 (title rows too), in the file's column widths, the problems of a row beside it."""
    by_row: dict[int | None, list[str]] = {}
    for error in errors:
        column = f"【{error['column']}】" if error.get("column") else ""
        by_row.setdefault(error.get("row"), []).append(f"{column}{error['message']}")
    width = error_sheet_width(sheet) if sheet is not None else 0
    id_column = header.columns["id_number"] if header else None

    book = Workbook(write_only=True)
    out = book.create_sheet("错误说明")
    if sheet is not None:
        for column, size in sheet.column_widths().items():
            if column <= width:
                out.column_dimensions[get_column_letter(column)].width = size
    out.column_dimensions[get_column_letter(width + 1)].width = 60
    if None in by_row:
        out.append([_out_cell(out, "文件问题：" + "；".join(by_row[None]), font=HEADER_FONT)])
    for number, values in sheet.rows() if sheet is not None else ():
        values = list(values[:width]) + [None] * (width - len(values))
        if header and number == header.row:
            out.append([_out_cell(out, v, font=HEADER_FONT) for v in values] + [_out_cell(out, "错误说明", font=HEADER_FONT)])
            continue
        cells = []
        for index, value in enumerate(values):
            if index == id_column and isinstance(value, int):
                value = str(value)  # kept as typed, as text so that Excel keeps every digit
            cells.append(_out_cell(out, value))
        if number in by_row:
            cells.append(_out_cell(out, "；".join(by_row[number]), fill=_ERROR_FILL, alignment=Alignment(wrap_text=True)))
        out.append(cells)
    with tempfile.TemporaryFile() as handle:
        book.save(handle)
        handle.seek(0)
        roster_import.error_file.save("errors.xlsx", File(handle), save=False)
    RosterImport._base_manager.filter(pk=roster_import.pk).update(error_file=roster_import.error_file.name)


TEMPLATE_HEADERS = ["序号", "姓名", "性别", "身份证号", "联系电话", "村（社区）", "网格", "人员类别", "住址", "备注"]


def template_workbook(*, actor) -> bytes:
    """An empty roster with the headers the import reads, and the town's villages, cells and categories."""
    require(actor, "registry.import")
    cadre = actor_town(actor)
    book = Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append([f"{cadre.town.name}重点人群花名册"])
    sheet.append(TEMPLATE_HEADERS)
    for cell in sheet[2]:
        cell.font = HEADER_FONT
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
