"""20,000-row roster import (towns/roster_import/ + core/bulk.py) vs a raw COPY of the same rows
into a temporary table. No budget of its own (the 100,000-row budget is roster_import_big's):
informational (the ratio is shown).

Each run, in one transaction that is then rolled back (the county database keeps none of it):
read the workbook, check it and write it as run_commit does (first import: 20,000 new people in
万寿镇), then import a second workbook of the same people with new phone numbers (an update of
all 20,000). Both are timed; "ours" is the first import, the update is in the note.
"""

from __future__ import annotations

import io
import time
from datetime import date, timedelta

from django.db import transaction
from openpyxl import Workbook

from bench.core import Benchmark, fmt_s, suite
from bench.suites.common import raw, user
from core import idnumbers
from towns.models import Cadre, Category, GridCell, RosterImport, Village
from towns.roster_import.check import analyse
from towns.roster_import.commit import lock_town, write
from towns.roster_import.parse import open_sheet

ROWS = 20_000
ADMIN_USER = "ws_admin"  # 万寿镇's town admin: the smallest town, 3,900 people before the import
HEADERS = ["序号", "姓名", "性别", "身份证号", "联系电话", "村（社区）", "网格", "人员类别", "住址", "备注"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英桂兰玉凤德海建国志强明华文俊淑珍国庆红梅"


def roster_rows(town_id: int, *, phone_base: int, count: int = ROWS) -> list[list]:
    """Deterministic rows: two people per address, spread over the town's small cells."""
    cells = list(
        GridCell._base_manager.filter(town_id=town_id, level=GridCell.Level.SMALL, village__isnull=False)
        .select_related("village")
        .order_by("code")
    )
    categories = [c.name for c in Category.objects.order_by("sort_order", "id")][:4]
    rows = []
    for i in range(count):
        cell = cells[(i // 2) % len(cells)]
        # Born 1925-1960, registered at birth in 明光市 (341182): the demo county's people are all 341181.
        birth = date(1925, 1, 1) + timedelta(days=i % 12_800)
        number = idnumbers.make_number("341182", birth, 900 + i // 12_800)
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 3) % len(GIVEN)] + GIVEN[(i * 7 + 1) % len(GIVEN)]
        rows.append(
            [
                i + 1,
                name,
                "男" if int(number[16]) % 2 else "女",
                number,
                f"1{phone_base + i:010d}",
                cell.village.name,
                cell.name,
                categories[i % len(categories)],
                f"{cell.village.name}性能测试路{i // 2 + 1}号",
                "",
            ]
        )
    return rows


def workbook(rows: list[list]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("花名册")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def build_bench(ctx) -> Benchmark:
    actor = user(ADMIN_USER)
    cadre = Cadre._base_manager.get(user=actor)
    town_id = cadre.town_id
    state: dict = {"update_s": [], "stages": []}
    conn = raw(ctx)

    def setup():
        first = roster_rows(town_id, phone_base=3_800_000_000)
        second = [[*row[:4], f"1{3_900_000_000 + i:010d}", *row[5:]] for i, row in enumerate(first)]
        state["files"] = (workbook(first), workbook(second))
        state["rows"] = first
        state["villages"] = Village._base_manager.filter(town_id=town_id).count()

    def import_file(data: bytes, roster_import) -> tuple[object, dict]:
        stages = {}
        start = time.perf_counter()
        with open_sheet(io.BytesIO(data), size=len(data), name="花名册.xlsx") as sheet:
            stages["read"] = time.perf_counter() - start  # opening only: the rows stream while checked
            lock_town(town_id)
            result = analyse(sheet, actor=actor, town_id=town_id, progress=lambda p: None, lock=True)
        stages["check"] = time.perf_counter() - start - stages["read"]
        if result.errors:
            raise RuntimeError(f"the bench roster has {len(result.errors)} errors, e.g. {result.errors[:3]}")
        write(result, roster_import=roster_import, actor=actor, progress=lambda p: None)
        stages["write"] = time.perf_counter() - start - stages["read"] - stages["check"]
        return result, stages

    def ours():
        first, second = state["files"]
        with transaction.atomic():
            roster_import = RosterImport.objects.create(
                town_id=town_id,
                uploaded_by=cadre,
                confirmed_by=cadre,
                original_name="花名册.xlsx",
                file_size=len(first),
                status=RosterImport.Status.IMPORTING,
            )
            start = time.perf_counter()
            result, stages = import_file(first, roster_import)
            state["last_create"] = time.perf_counter() - start
            assert len(result.creates) == ROWS, f"expected {ROWS} new people, got {len(result.creates)}"
            start = time.perf_counter()
            result, _ = import_file(second, roster_import)
            state["update_s"].append(time.perf_counter() - start)
            assert len(result.updates) == ROWS, f"expected {ROWS} updates, got {len(result.updates)}"
            state["stages"].append(stages)
            transaction.set_rollback(True)

    def baseline():
        with conn.transaction():
            conn.execute(
                "CREATE TEMP TABLE bench_roster (n int, name text, gender text, id_number text, phone text, village text,"
                " cell text, category text, address text, notes text) ON COMMIT DROP"
            )
            with conn.cursor().copy("COPY bench_roster FROM STDIN") as copy:
                for row in state["rows"]:
                    copy.write_row(row)

    def check(outcome):
        # ours() times both imports; the outcome's "ours" is the first (create) import alone.
        creates = outcome.extra.setdefault("create_s", [])
        if not creates:
            return None, "no runs"
        outcome.ours = creates
        stages = state["stages"][len(state["stages"]) // 2]
        update = sorted(state["update_s"])[len(state["update_s"]) // 2]
        return None, (
            f"informational: no budget at 20,000 rows (roster_import_big has the 100,000-row one); {ROWS:,} rows into 万寿镇, rolled back. "
            f"First import {fmt_s(outcome.ours_median)} (read {fmt_s(stages['read'])}, check {fmt_s(stages['check'])}, "
            f"write {fmt_s(stages['write'])}); re-import updating all {ROWS:,}: {fmt_s(update)}"
        )

    bench = Benchmark(
        f"roster import ({ROWS:,} rows, first import)",
        "informational (no budget at this size); baseline: COPY of the same rows into a temp table",
        baseline=baseline,
        setup=setup,
        warmup=0,
        repeat=max(5, min(ctx.repeat, 5)) if not ctx.quick else 2,
    )

    def timed_create():
        ours()
        bench.extra_creates.append(state["last_create"])

    bench.extra_creates = []
    bench.ours = timed_create

    def finish(outcome):
        outcome.extra["create_s"] = bench.extra_creates
        outcome.extra["update_s"] = state["update_s"]
        outcome.extra["stages"] = state["stages"]
        return check(outcome)

    bench.check = finish
    return bench


@suite("roster_import")
def build(ctx):
    return [build_bench(ctx)]
