"""Roster files and steps the import tests share: ID numbers, rows, workbooks, upload and confirm."""

import io
import re
import zipfile
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from core import idnumbers
from core.models import AuditRecord
from core.scoping import unscoped
from towns.models import Beneficiary, Household, RosterImport

HEADERS = ["序号", "姓名", "性别", "身份证号", "联系电话", "村（社区）", "网格", "人员类别", "住址", "备注"]


def new_id(birth=date(1950, 5, 6), sequence=1) -> str:
    return idnumbers.make_number("341181", birth, sequence)


def numeric_id(birth=date(1939, 9, 9), start=21) -> str:
    """An ID number without an X, to be stored as a number."""
    for sequence in range(start, start + 50):
        number = new_id(birth, sequence)
        if number[-1].isdigit():
            return number
    raise AssertionError("no numeric ID")


def id_ending_in_x() -> str:
    for sequence in range(1000):
        number = new_id(date(1948, 3, 3), sequence)
        if number.endswith("X"):
            return number
    raise AssertionError("no X")


def xlsx(rows, *, headers=HEADERS, title="冶山镇重点人群花名册（2024年1月）") -> bytes:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def exact_numbers(data: bytes) -> bytes:
    """openpyxl writes big integers as rounded floats (3.411811939090902e+17); other tools write
    every digit. Cells written as "NUM:<digits>" become numeric cells holding exactly those digits."""
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(
                    rb'<c r="([A-Z]+\d+)" t="inlineStr"><is><t>NUM:(\d+)</t></is></c>', rb'<c r="\1" t="n"><v>\2</v></c>', content
                )
            target.writestr(item, content)
    return output.getvalue()


def row(
    name,
    id_number,
    *,
    gender="",
    phone="",
    village="长兴社区",
    cell="长兴社区1号小网格",
    cats="独居老人",
    address="冶山镇长兴社区新村路1号",
    notes="",
):
    return [None, name, gender, id_number, phone, village, cell, cats, address, notes]


def upload(client, data: bytes, name="花名册.xlsx", *, capture):
    with capture(execute=True):
        response = client.post(reverse("towns:import_list"), {"file": SimpleUploadedFile(name, data)})
    return response


def latest_import() -> RosterImport:
    with unscoped():
        return RosterImport.objects.order_by("-id").first()


def confirm(client, roster_import, *, capture):
    with capture(execute=True):
        return client.post(reverse("towns:import_confirm", args=[roster_import.pk]))


def counts():
    with unscoped():
        return (Beneficiary.objects.count(), Household.objects.count(), AuditRecord.objects.count())
