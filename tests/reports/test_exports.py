"""Spreadsheet exports (issue 7 §3): real .xlsx, scoped, formula-safe, masked, audited."""

import io
import uuid
from datetime import date, datetime

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from core import idnumbers
from core.models import AuditRecord
from core.scoping import unscoped
from reports.exporters import EXPORTERS, MONEY_FORMAT, run_export
from tests.cast import CANARY_ID, CANARY_NAME, at
from tests.funds.inspection_objects import gift, grant, person
from tests.visits.followup_objects import make_followup
from visits.models import Visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(cast):
    """Visits, grants and follow-ups in both towns; 冶山镇 has a person named like a formula."""
    ys, tc = cast.yeshan, cast.tongcheng
    tricky = person(ys, "=1+1", categories=[cast.categories["elderly_alone"]])
    for tcast, who in ((ys, ys.person), (ys, tricky), (tc, tc.person)):
        grant(cast, tcast, who, amount="1234.50")
    grant(cast, ys, ys.person_other_cell, kind="goods", goods=gift(), quantity=2)
    with unscoped():
        Visit.objects.create(
            beneficiary=ys.person,
            household_id=ys.person.household_id,
            town_id=ys.town.pk,
            cell_id=ys.person.cell_id,
            campaign=cast.campaign,
            visited_at=at(2024, 1, 9),
            recorded_by=ys.grid_worker.cadre,
            notes="+8613800000000 请回电",
            idempotency_key=uuid.uuid4(),
        ).visitors.set([ys.grid_worker.cadre, ys.cadre.cadre])
        Visit.objects.create(
            beneficiary=tricky,
            household_id=tricky.household_id,
            town_id=ys.town.pk,
            cell_id=tricky.cell_id,
            campaign=cast.campaign,
            visited_at=at(2024, 1, 10),
            recorded_by=ys.grid_worker.cadre,
            notes="@x",
            idempotency_key=uuid.uuid4(),
        )
    make_followup(ys, title="-修缮屋顶", deadline=date(2024, 1, 20), campaign=cast.campaign)
    make_followup(tc, title="秘密诉求", deadline=date(2024, 1, 20), campaign=cast.campaign)
    return {"tricky": tricky}


def _export(name, user, params=None):
    out = io.BytesIO()
    count = run_export(name, user, params or {}, out)
    out.seek(0)
    return count, load_workbook(out), out.getvalue()


def _cells(book):
    sheet = book.worksheets[0]
    return [cell for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("name", sorted(EXPORTERS))
def test_each_export_is_a_real_workbook_with_a_frozen_chinese_header(data, cast, name):
    count, book, _ = _export(name, cast.county_viewer, {"campaign": cast.campaign.pk})
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header == [c.header for c in EXPORTERS[name].columns]
    assert count > 0
    assert sheet.max_row >= count + 1
    assert sheet.column_dimensions["A"].width > 0


@pytest.mark.parametrize("name", sorted(EXPORTERS))
def test_a_town_cadre_exports_only_their_town(data, cast, name):
    count, book, raw = _export(name, cast.yeshan.cadre, {"campaign": cast.campaign.pk})
    values = [str(c.value) for c in _cells(book) if c.value is not None]
    assert count > 0
    assert not any(CANARY_NAME in v or "铜城镇" in v or "秘密诉求" in v for v in values)
    # And the county sees both towns.
    _, county_book, _ = _export(name, cast.county_viewer, {"campaign": cast.campaign.pk})
    assert any("铜城镇" in str(c.value) for c in _cells(county_book))


def test_formula_like_text_is_written_as_text(data, cast):
    for name, expected in (
        ("ledger", {"=1+1", "+8613800000000 请回电", "@x"}),
        ("registry", {"=1+1"}),
        ("roster", {"=1+1"}),
        ("followups", {"-修缮屋顶"}),
    ):
        _, book, _ = _export(name, cast.yeshan.cadre, {"campaign": cast.campaign.pk})
        cells = {c.value: c for c in _cells(book) if isinstance(c.value, str)}
        for text in expected:
            assert text in cells, (name, text)
            assert cells[text].data_type == "s", (name, text)
        assert not any(c.data_type == "f" for c in _cells(book)), name


def test_ids_are_masked_and_never_whole(data, cast):
    tricky = data["tricky"]
    with unscoped():
        whole = idnumbers.decrypt(tricky.id_number_encrypted) if hasattr(idnumbers, "decrypt") else None
    for name in ("ledger", "roster", "registry", "followups"):
        _, book, raw = _export(name, cast.county_viewer, {"campaign": cast.campaign.pk})
        values = {str(c.value) for c in _cells(book) if c.value is not None}
        assert tricky.id_number_masked in values or name == "followups"
        assert CANARY_ID not in values and not any(CANARY_ID in v for v in values)
        if whole:
            assert not any(whole in v for v in values)


def test_roster_amounts_are_numbers_with_money_format_and_totals(data, cast):
    count, book, _ = _export("roster", cast.yeshan.cadre, {"campaign": cast.campaign.pk})
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(min_row=2))
    assert count == 3  # 冶山镇: two cash grants and one goods grant
    amounts = [r[5] for r in rows[:count] if r[5].value is not None]
    assert [a.value for a in amounts] == [1234.5, 1234.5]
    assert all(a.data_type == "n" and a.number_format == MONEY_FORMAT for a in amounts)
    totals = rows[count]
    assert totals[0].value == "合计" and totals[5].value == 2469.0 and totals[5].number_format == MONEY_FORMAT
    assert [r[0].value for r in rows[:count]] == [1, 2, 3]
    assert all(r[8].value is None and r[11].value is None for r in rows[:count])  # signature and supervisor left blank
    assert isinstance(rows[0][12].value, datetime) and rows[0][12].number_format == "yyyy-mm-dd"


def test_ledger_dates_are_dates_and_visitors_listed(data, cast):
    _, book, _ = _export("ledger", cast.yeshan.cadre)
    rows = [r for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    noted = next(r for r in rows if r[9] == "+8613800000000 请回电")
    assert noted[0] == datetime(2024, 1, 9, 10, 0)
    assert set(noted[7].split("、")) == {"冶山镇网格员", "冶山镇包村干部"}


def test_coverage_counts_targeted_and_visited_per_small_cell(data, cast):
    _, book, _ = _export("coverage", cast.yeshan.cadre, {"campaign": cast.campaign.pk})
    all_rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    rows = {r[3]: r for r in all_rows}
    cell = rows[cast.yeshan.cell.name]
    # 李桂英 and "=1+1" live in the first cell (the fixture's household); both were visited in the campaign.
    assert cell[4] == 2 and cell[5] == 2 and cell[6] == 1
    other = rows[cast.yeshan.other_cell.name]
    assert other[4] == 1 and other[5] == 1
    assert all_rows[-1][0] == "合计" and all_rows[-1][4] == 3 and all_rows[-1][5] == 3
    assert all_rows[-1][6] == 1


def test_the_coverage_totals_rate_is_visited_over_targeted_of_the_totals(cast):
    from reports.exporters import CoverageExporter

    # Cells at 2/2 (100%) and 0/5 (0%): the 合计 rate is 2/7, not the cells' average of 50%.
    row = CoverageExporter(cast.county_viewer).totals_row({4: 7, 5: 2})
    assert row[0] == "合计" and row[4:] == (7, 2, 2 / 7)
    assert CoverageExporter(cast.county_viewer).totals_row({4: 0, 5: 0})[6] is None


def test_shell_command_writes_the_file_and_audits_it(data, cast, tmp_path, capsys):
    out = tmp_path / "ledger.xlsx"
    call_command("export", "ledger", "--town", cast.yeshan.town.code, "--out", str(out))
    printed = capsys.readouterr().out
    assert "rows" in printed and " s " in printed
    book = load_workbook(out)
    values = [str(c.value) for c in _cells(book) if c.value is not None]
    assert "李桂英" in values and CANARY_NAME not in values
    with unscoped():
        last = AuditRecord.objects.filter(action="personal_data.export").latest("id")
    assert last.after["what"] == "走访台账" and last.after["count"] == 5  # three visits with the grants, two more


def test_shell_command_without_town_exports_every_town(data, cast, tmp_path):
    out = tmp_path / "registry.xlsx"
    call_command("export", "registry", "--out", str(out), "--user", cast.county_viewer.username)
    values = [str(c.value) for c in _cells(load_workbook(out)) if c.value is not None]
    assert CANARY_NAME in values and "李桂英" in values


def test_grid_worker_may_not_export_personal_data(data, cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _export("ledger", cast.yeshan.grid_worker)
