"""How much of a roster's sheet is read before its rows: the size for progress and the column
widths come from the elements ahead of <sheetData>, never from a second pass over the rows."""

import io
import zipfile

from openpyxl import Workbook

from towns.roster_import.parse import open_sheet


def _workbook(rows: int, *, dimension: bool) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.column_dimensions["B"].width = 31
    for number in range(1, rows + 1):
        sheet.append([f"张{number}", "长兴社区", number])
    out = io.BytesIO()
    book.save(out)
    if dimension:
        return out.getvalue()
    # Some tools write no <dimension>: take it out, as such a file arrives.
    source, stripped = zipfile.ZipFile(io.BytesIO(out.getvalue())), io.BytesIO()
    with zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                start = data.index(b"<dimension")
                data = data[:start] + data[data.index(b"/>", start) + 2 :]
            target.writestr(item, data)
    return stripped.getvalue()


def _sheet(data: bytes):
    return open_sheet(io.BytesIO(data), size=len(data), name="花名册.xlsx")


def test_the_size_comes_from_the_dimension_and_the_widths_from_cols():
    data = _workbook(120, dimension=True)
    with _sheet(data) as sheet:
        assert sheet.size_hint == 120
        assert sheet.column_widths()[2] == 31


def test_a_sheet_without_a_dimension_is_unsized_and_still_read_whole():
    data = _workbook(120, dimension=False)
    assert b"<dimension" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    with _sheet(data) as sheet:
        assert sheet.size_hint == 0
        assert sheet.column_widths()[2] == 31
        assert sum(1 for _ in sheet.rows()) == 120
