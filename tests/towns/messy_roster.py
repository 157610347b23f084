"""A roster as a real town office keeps it (issue 16 "Done when"), for tests.

``setup_yeshan_names(cast)`` gives 冶山镇 the reference data a real county has and a roster does
not spell the same way: 冶山社区 with cells 冶山社区6-1号小网格 / 6-2号小网格 / 7号小网格, and the
categories 60岁以上 and 特困供养人员. ``messy_roster(...)`` writes the workbook: a title row, a
header in the office's own words, clean rows and one row per fault offices make, a 合计 row
with a formula, footnotes under it, and a second sheet of instructions. It returns the bytes
and what each row is expected to become, so a test can check every fault in one pass.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook

from core import idnumbers
from core.scoping import unscoped
from towns.models import Category, GridCell, Village

HEADERS = ["序 号", "姓  名", "性别", "公民身份号码", "联系电话", "所属村（社区）", "所属网格", "人员类别", "家庭住址", "备注"]
FULL = {ord(c): ord(c) + 0xFEE0 for c in "0123456789"}


@dataclass
class YeshanNames:
    village: Village
    cell_6_1: GridCell
    cell_6_2: GridCell
    cell_7: GridCell
    over_60: Category
    tekun: Category


def setup_yeshan_names(cast) -> YeshanNames:
    with unscoped():
        town = cast.yeshan.town
        village = Village.objects.create(town=town, code=town.code[:9] + "202", name="冶山社区", kind="community")
        big = GridCell.objects.create(town=town, village=village, level="big", code="ys-B6", name="冶山社区第六大网格")
        cells = [
            GridCell.objects.create(town=town, village=village, level="small", parent=big, code=code, name=name)
            for code, name in (
                ("ys-S61", "冶山社区6-1号小网格"),
                ("ys-S62", "冶山社区6-2号小网格"),
                ("ys-S7", "冶山社区7号小网格"),
            )
        ]
        over_60 = Category.objects.create(code="over_60", name="60岁以上", visit_interval_days=90)
        tekun = Category.objects.create(code="tekun", name="特困供养人员", visit_interval_days=30)
    return YeshanNames(village, *cells, over_60, tekun)


def person_id(n: int, *, birth=None, digit_end=False) -> str:
    """A valid ID number, different for each n (sequence 1..998 of one birthday)."""
    birth = birth or date(1940 + n % 30, 1 + n % 12, 1 + n % 28)
    for sequence in range(n, n + 60):
        number = idnumbers.make_number("341181", birth, sequence % 999 + 1)
        if not digit_end or number[-1].isdigit():
            return number
    raise AssertionError("no ID")


def id_ending_in_x(n: int) -> str:
    for sequence in range(1, 999):
        number = idnumbers.make_number("341181", date(1941, 2, 1 + n % 27), sequence)
        if number.endswith("X"):
            return number
    raise AssertionError("no X")


def fifteen_digit(n: int) -> tuple[str, str]:
    """(the old 15-digit form, the 18-digit number it becomes)."""
    number = idnumbers.make_number("341181", date(1938, 3, 1 + n % 27), 40 + n)
    return number[:6] + number[8:17], number


@dataclass
class Expected:
    rows: dict[int, dict] = field(default_factory=dict)  # sheet row -> what it should become

    def add(self, number: int, **what):
        self.rows[number] = what


def messy_roster(*, clean: int = 40, faults: bool = True, seed: int = 0) -> tuple[bytes, Expected]:
    """The workbook and the expectations. ``faults=False`` writes the same people with the true
    errors fixed (what the cadre re-uploads); the mapping faults (names) stay, as in real files."""
    expected = Expected()
    book = Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append(["冶山镇重点人群花名册（2024年第一季度）"])
    sheet.append(HEADERS)
    number = 2
    base = 100 + seed * 300

    def put(values, **what):
        nonlocal number
        number += 1
        sheet.append(values)
        expected.add(number, **what)
        return number

    def person(
        i,
        name,
        id_value,
        *,
        gender="",
        phone="",
        village="冶山社区",
        cell="冶山社区7号小网格",
        cats="60岁以上",
        address=None,
        notes="",
    ):
        return [i, name, gender, id_value, phone, village, cell, cats, address or f"冶山镇冶山社区和平街{i}号", notes]

    # Clean rows, in the spelling the office uses: "冶山村" and "第6网格" are not the system's names.
    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
    given = "秀英桂兰玉珍德海守业明华建国凤英志强文华淑珍金花"
    for i in range(1, clean + 1):
        name = surnames[i % len(surnames)] + given[(2 * i) % len(given)] + given[(2 * i + 1) % len(given)]
        village = "冶山村" if i % 3 == 0 else "冶山社区"
        cell = "第6网格" if i % 4 == 0 else "冶山社区7号小网格"
        cats = "60岁以上老人" if i % 5 == 0 else "60岁以上"
        put(
            person(i, name, person_id(base + i), village=village, cell=cell, cats=cats),
            outcome="new",
            name=name,
            village=village,
            cell=cell,
            cats=cats,
        )

    i = clean
    n = base + clean

    def nxt():
        nonlocal i, n
        i += 1
        n += 1
        return i

    # --- ID numbers ---
    as_number = person_id(n + 1, digit_end=True)
    put(person(nxt(), "吴德才", f"NUM:{as_number}"), outcome="new", fault="ID stored as a number", id=as_number)
    with_x = id_ending_in_x(seed)
    put(person(nxt(), "郑玉梅", with_x.lower()), outcome="new", fault="lowercase x", id=with_x, note="大写X")
    wide = person_id(n + 3)
    put(person(nxt(), "冯金花", wide.translate(FULL)), outcome="new", fault="full-width digits", id=wide)
    spaced = person_id(n + 4)
    put(
        person(nxt(), "陈守义", f"{spaced[:6]} {spaced[6:14]} {spaced[14:]}"),
        outcome="new",
        fault="spaces in the ID",
        id=spaced,
    )
    old, upgraded = fifteen_digit(seed * 7 + 1)
    put(person(nxt(), "褚老根", old), outcome="new", fault="15-digit ID", id=upgraded, note="15位身份证号升级为18位")
    bad = person_id(n + 6)
    wrong = bad[:17] + ("1" if bad[17] != "1" else "2")
    put(
        person(nxt(), "卫国强", wrong if faults else bad),
        outcome="error" if faults else "new",
        fault="wrong check digit",
        message="校验位不正确",
        id=bad,
    )
    male = person_id(n + 7)
    gender = "女" if int(male[16]) % 2 else "男"  # the other one
    put(
        person(nxt(), "蒋桂芳", male, gender=gender if faults else ""),
        outcome="error" if faults else "new",
        fault="gender disagrees with the ID",
        message="性别与身份证号不一致",
    )
    # --- phones ---
    put(
        person(nxt(), "沈大勇", person_id(n + 8), phone="+86 138-0000-1234"),
        outcome="new",
        fault="+86 phone with dashes",
        phone="13800001234",
    )
    put(
        person(nxt(), "韩明珠", person_id(n + 9), phone="（0550）7021234"),
        outcome="new",
        fault="landline",
        phone="0550-7021234",
    )
    put(
        person(nxt(), "杨春生", person_id(n + 10), phone="１３９ ０５５０ ８８６６"),
        outcome="new",
        fault="full-width mobile with spaces",
        phone="13905508866",
    )
    # --- categories ---
    put(
        person(nxt(), "朱秀兰", person_id(n + 11), cats="60岁以上，特困供养人员"),
        outcome="new",
        fault="two categories in one cell",
        cats={"60岁以上", "特困供养人员"},
    )
    put(
        person(nxt(), "秦老五", person_id(n + 12), cats="五保户"),
        outcome="new",
        fault="outdated category name",
        cats={"特困供养人员"},
    )
    put(
        person(nxt(), "尤翠花", person_id(n + 13), cats="重点关注对象"),
        outcome="new",
        fault="unknown category name (asked, no suggestion)",
        cats={"60岁以上"},
    )
    # --- people ---
    twice = person_id(n + 14)
    first = put(person(nxt(), "许长根", twice), outcome="new", fault="duplicate person (first)")
    put(
        person(nxt(), "许长根", twice if faults else person_id(n + 15)),
        outcome="error" if faults else "new",
        fault="duplicate person",
        message=f"与第{first}行的身份证号重复",
    )
    put(person(nxt(), "何  平", person_id(n + 16)), outcome="new", fault="name with spaces", name="何平")
    put(person(nxt(), " 吕桂香 ", person_id(n + 17)), outcome="new", fault="name padded", name="吕桂香")
    # --- places ---
    put(person(nxt(), "施金山", person_id(n + 18), village="冶山"), outcome="new", fault="village without its suffix")
    # --- a formula: an error of its row; the row's other columns are still read ---
    put(
        person(nxt(), "张小花", person_id(n + 19), phone='=TEXT(13855508888,"0")' if faults else "13855508888"),
        outcome="error" if faults else "new",
        fault="formula cell",
        message="含有公式",
    )
    last = number
    # --- the bottom of the sheet as offices leave it ---
    sheet.append([])
    sheet.append(["合计", f"=COUNTA(B3:B{last})", None, None, None, None, None, None, None, None])
    sheet.append(["注：本表一式三份，镇、村（社区）、网格各留存一份。"])
    sheet.append(["填表说明：人员类别可填多项。"])
    sheet.append(["审核人：王建国", None, None, "制表人：李晓", None, "日期：2024年1月5日"])
    expected.skipped = [last + 2, last + 3, last + 4, last + 5]
    notes = book.create_sheet("填表说明")
    notes.append(["本表由各村（社区）网格员填报，镇民政办汇总。"])
    output = io.BytesIO()
    book.save(output)
    return exact_numbers(output.getvalue()), expected


def exact_numbers(data: bytes) -> bytes:
    """Cells written as "NUM:<digits>" become numeric cells holding exactly those digits, as Excel
    stores an ID number typed into a number-formatted column (openpyxl would round a float)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                content = re.sub(
                    rb'<c r="([A-Z]+\d+)" t="inlineStr"><is><t>NUM:(\d+)</t></is></c>', rb'<c r="\1" t="n"><v>\2</v></c>', content
                )
            target.writestr(item, content)
    return output.getvalue()
