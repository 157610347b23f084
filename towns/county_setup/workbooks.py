"""County setup: the three templates and the shell's one-time-password workbook."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook

from towns.county_setup.layout import (
    CADRE_COLUMNS,
    CADRE_SHEET,
    CATEGORY_COLUMNS,
    CATEGORY_SHEET,
    EXAMPLES,
    MAP_SHEETS,
    NOTES,
    ROLE_OF_LABEL,
)
from towns.roster_import.workbook import HEADER_FONT


def _book(sheets: dict[str, list], notes: list[str]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, columns in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append([label for _, label, _ in columns])
        for cell in sheet[1]:
            cell.font = HEADER_FONT
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
