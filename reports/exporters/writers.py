"""The workbook writers: rustpy-xlsxwriter, and openpyxl's write-only mode as the fallback."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import chain

from django.conf import settings

from reports.exporters.cells import FORMULA_LIKE, NUMBER_FORMATS, Column, Totals


class RustpyWriter:
    """rustpy-xlsxwriter (Rust's rust_xlsxwriter): constant memory, every str a text cell."""

    def write(self, out, *, title: str, columns: tuple[Column, ...], rows: Iterator[tuple]) -> None:
        from rustpy_xlsxwriter import Format, write_worksheet

        headers = [c.header for c in columns]
        first = next(rows, None)
        # Records are dicts: the first one names the header row; an empty export still gets its header.
        records = (
            [dict.fromkeys(headers)]
            if first is None
            else (dict(zip(headers, row, strict=False)) for row in chain((first,), rows))  # shape() makes full rows
        )
        write_worksheet(
            records,
            out,
            sheet_name=title[:31] or "Sheet1",
            freeze_row=1,
            column_widths=[c.width for c in columns],
            column_formats=[
                Format().set_num_format(NUMBER_FORMATS[c.kind]) if c.kind in NUMBER_FORMATS else None for c in columns
            ],
            header_format=Format().set_bold().set_align("center"),
        )


class OpenpyxlWriter:
    """openpyxl write-only: pure Python, 7× slower (ARCHITECTURE.md); kept for an install without wheels."""

    def write(self, out, *, title: str, columns: tuple[Column, ...], rows: Iterator[tuple]) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title[:31] or "Sheet1")
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        bold = Font(bold=True)
        centre = Alignment(horizontal="center", vertical="center")
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=column.header)
            cell.font, cell.alignment = bold, centre
            header.append(cell)
        sheet.append(header)
        formats = [NUMBER_FORMATS.get(c.kind) for c in columns]

        def cell(i, value, font=None):
            if value is None or value == "":
                return None
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
                if not value.startswith(FORMULA_LIKE) and font is None:
                    return value
                made = WriteOnlyCell(sheet, value=value)
                made.data_type = "s"  # openpyxl would store "=..." as a formula
            else:
                made = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
                if formats[i]:
                    made.number_format = formats[i]
            if font is not None:
                made.font = font
            return made

        for row in rows:
            font = bold if isinstance(row, Totals) else None
            sheet.append([cell(i, value, font) for i, value in enumerate(row)])
        book.save(out)


WRITERS = {"rustpy": RustpyWriter, "openpyxl": OpenpyxlWriter}


def writer_for(name: str | None = None):
    return WRITERS[name or getattr(settings, "EXPORT_WRITER", "rustpy")]()
