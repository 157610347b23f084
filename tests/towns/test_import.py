"""Roster import (issue 4 §5) as a town office uses it: upload the roster they keep, read the
preview and every error by row and column, confirm, and get all of it or none of it.
(Hostile files, access, progress and housekeeping: test_import_refusals.py.)"""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core import audit, idnumbers
from core.models import AuditRecord
from core.scoping import unscoped
from tests.cast import CANARY_ID
from tests.towns.roster_files import (
    confirm,
    counts,
    exact_numbers,
    id_ending_in_x,
    latest_import,
    new_id,
    numeric_id,
    row,
    upload,
    xlsx,
)
from towns.models import Beneficiary, Household, RosterImport
from towns.roster_import import commit, parse, workbook


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def cadre_client(client, cast):
    client.force_login(cast.yeshan.cadre)
    return client


# --- reading the roster a town keeps ------------------------------------------------------


def test_preview_reads_a_real_roster_and_writes_nothing(cadre_client, cast, django_capture_on_commit_callbacks):
    """Title row, header variants, blank and 合计 rows, full-width digits, an ID stored as a
    number, a lowercase x: all read; the preview counts new, changed and unchanged people."""
    fullwidth = new_id(sequence=11)
    as_number = numeric_id()
    with_x = id_ending_in_x()
    yeshan = cast.yeshan
    with unscoped():
        zhou_id = idnumbers.decrypt(yeshan.person_other_cell.id_number_encrypted)
        li_id = idnumbers.decrypt(yeshan.person.id_number_encrypted)
    headers = ["序 号", "姓名", "性别", "公民身份号码", "手机号", "村", "网格", "类别", "家庭住址", "备注"]
    rows = [
        [
            1,
            "王大山",
            "男",
            fullwidth.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}),
            "138 5550 0001",
            "长兴社区",
            "长兴社区1号小网格",
            "独居老人",
            "冶山镇长兴社区新村路1号",
            "",
        ],
        [2, "赵秀英", "", f"NUM:{as_number}", 13855500002, "长兴", "ys-S2", "独居老人、困难党员", "冶山镇长兴社区新村路2号", ""],
        [None] * 10,
        [3, "孙老汉", "", with_x.lower(), "", "长兴社区", "1号小网格", "困难党员", "冶山镇长兴社区新村路1号", "与王大山同户"],
        # already on the registry: the same as before, and with a new category
        [4, "李桂英", "", li_id, "13855501234", "长兴社区", "长兴社区1号小网格", "独居老人", "冶山镇长兴社区幸福路8号", ""],
        [5, "周德海", "", zhou_id, "", "长兴社区", "长兴社区2号小网格", "独居老人，困难党员", "", ""],
        ["合计", "5人", None, None, None, None, None, None, None, None],
    ]
    before = counts()
    data = exact_numbers(xlsx(rows, headers=headers))
    response = upload(cadre_client, data, capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    assert response.status_code == 302 and response["Location"] == reverse("towns:import_detail", args=[roster_import.pk])
    assert roster_import.errors == []
    assert roster_import.status == RosterImport.Status.READY
    assert (roster_import.total_rows, roster_import.to_create, roster_import.to_update, roster_import.unchanged) == (5, 3, 1, 1)
    assert counts() == before, "the preview must write nothing to the registry or the audit trail"

    page = cadre_client.get(response["Location"]).content.decode()
    assert "新增" in page and "3 人" in page and "确认导入" in page


def test_confirm_imports_all_rows_with_audit_records_on_the_import_channel(
    cadre_client, cast, django_capture_on_commit_callbacks
):
    first, second, third = new_id(sequence=31), new_id(sequence=33), new_id(date(1960, 1, 1), 42)
    rows = [
        row("王大山", first, phone="13855500001"),
        row("王二山", second, cats="独居老人、困难党员"),  # same address and cell: the same household
        row("李四", third, cell="ys-S2", address="冶山镇长兴社区新村路9号"),
    ]
    upload(cadre_client, xlsx(rows), capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    assert roster_import.status == RosterImport.Status.READY, roster_import.errors
    people_before, households_before, _ = counts()
    response = confirm(cadre_client, roster_import, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    roster_import = latest_import()
    assert roster_import.status == RosterImport.Status.DONE, roster_import.message
    assert roster_import.confirmed_by == cast.yeshan.cadre.cadre
    assert not roster_import.file, "the uploaded roster (whole ID numbers) is deleted once imported"

    with unscoped():
        assert Beneficiary.objects.count() == people_before + 3
        assert Household.objects.count() == households_before + 2
        wang = Beneficiary.objects.get(id_number_digest=idnumbers.digest(first))
        er = Beneficiary.objects.get(id_number_digest=idnumbers.digest(second))
        assert wang.household_id == er.household_id
        assert wang.town == cast.yeshan.town and wang.cell == cast.yeshan.cell
        assert idnumbers.decrypt(wang.id_number_encrypted) == first
        assert wang.id_number_masked == idnumbers.mask(first)
        assert wang.name_initials == "wds" and wang.phone == "13855500001"
        assert wang.status == "active" and wang.registered_on == date.today()
        assert sorted(er.categories.values_list("name", flat=True)) == ["困难党员", "独居老人"]
        assert er.visit_interval_days == 30 and er.next_visit_due == date.today()
        records = list(AuditRecord.objects.filter(object_type="towns.beneficiary", object_id__in=[str(wang.pk), str(er.pk)]))
        summary = AuditRecord.objects.get(action="beneficiary.import")
    assert {r.action for r in records} == {"beneficiary.create"}
    assert {r.channel for r in records} == {"import"}
    assert records[0].actor_name == "冶山镇包村干部"
    assert summary.after["created"] == 3
    assert audit.verify_chain().ok


def test_second_upload_of_the_same_roster_updates_only_what_changed(cadre_client, cast, django_capture_on_commit_callbacks):
    number = new_id(sequence=51)
    upload(cadre_client, xlsx([row("王大山", number)]), capture=django_capture_on_commit_callbacks)
    confirm(cadre_client, latest_import(), capture=django_capture_on_commit_callbacks)
    upload(
        cadre_client,
        xlsx([row("王大山", number, phone="13855500009", cats="困难党员")]),
        capture=django_capture_on_commit_callbacks,
    )
    roster_import = latest_import()
    assert (roster_import.to_create, roster_import.to_update, roster_import.unchanged) == (0, 1, 0)
    confirm(cadre_client, roster_import, capture=django_capture_on_commit_callbacks)
    with unscoped():
        person = Beneficiary.objects.get(id_number_digest=idnumbers.digest(number))
        update = AuditRecord.objects.get(action="beneficiary.update", object_id=str(person.pk))
    assert person.phone == "13855500009" and person.visit_interval_days == 60
    assert update.before["phone"] == "" and update.after["phone"] == "13855500009"
    assert update.channel == "import"
    assert audit.verify_chain().ok


# --- errors: by row and column, in Chinese, and nothing imported -------------------------------


def test_a_bad_check_digit_is_reported_by_row_and_column_and_blocks_the_import(
    cadre_client, cast, django_capture_on_commit_callbacks
):
    good = new_id(sequence=61)
    bad = new_id(sequence=63)
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    data = xlsx([row("王大山", good), row("错号人", bad)])
    before = counts()
    upload(cadre_client, data, capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    assert roster_import.status == RosterImport.Status.FAILED
    assert roster_import.errors == [
        {"row": 4, "column": "D列 身份证号", "value": idnumbers.mask(bad), "message": "身份证号校验位不正确，请核对后重新输入"}
    ]
    page = cadre_client.get(reverse("towns:import_detail", args=[roster_import.pk])).content.decode()
    assert "第4行" in page and "校验位不正确" in page and "确认导入</button>" not in page
    assert bad not in page, "the preview shows ID numbers masked"

    response = confirm(cadre_client, roster_import, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert latest_import().status == RosterImport.Status.FAILED
    assert counts() == before

    # The office fixes the row and uploads again: this time it goes in.
    upload(
        cadre_client, xlsx([row("王大山", good), row("错号人", new_id(sequence=65))]), capture=django_capture_on_commit_callbacks
    )
    fixed = latest_import()
    assert fixed.status == RosterImport.Status.READY and fixed.to_create == 2
    confirm(cadre_client, fixed, capture=django_capture_on_commit_callbacks)
    assert latest_import().status == RosterImport.Status.DONE
    assert counts()[0] == before[0] + 2
    assert audit.verify_chain().ok


def test_each_kind_of_bad_row_gets_a_chinese_message(cadre_client, cast, django_capture_on_commit_callbacks):
    man = new_id(sequence=71)  # odd sequence: male
    dup = new_id(sequence=73)
    rows = [
        row("性别错", man, gender="女"),
        row("数字号", float(numeric_id(start=75))),
        row("外镇人", CANARY_ID),
        row("重复甲", dup),
        row("重复乙", dup),
        row("无此村", new_id(sequence=77), village="不存在村"),
        row("大网格", new_id(sequence=79), cell="ys-B1"),
        row("无此类", new_id(sequence=81), cats="独居老人、外星人"),
        row("坏电话", new_id(sequence=83), phone="12345"),
        row("", new_id(sequence=85)),
        row("无住址", new_id(sequence=87), address=""),
    ]
    upload(cadre_client, xlsx(rows), capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    by_row = {}
    for error in roster_import.errors:
        by_row.setdefault(error["row"], []).append((error["column"], error["message"]))
    assert by_row[3] == [("C列 性别", "性别与身份证号不一致（身份证号第17位奇数为男，偶数为女）")]
    assert by_row[4] == [("D列 身份证号", "身份证号被Excel存成了数字且丢失了末尾数字，请将该列设为文本后重新录入")]
    assert by_row[5] == [("D列 身份证号", "该身份证号已在其他镇（街道）登记，请联系县级管理员核实")]
    assert 6 not in by_row and by_row[7] == [("D列 身份证号", "与第6行的身份证号重复，同一人只能出现一次")]
    # Unknown names are asked, not errors (issue 16 §2): nothing plausible, so nothing suggested.
    assert 8 not in by_row and 10 not in by_row
    asked = {(e["kind"], e["name"]): (e["rows"], e["suggestions"]) for e in roster_import.unknown_names}
    assert asked == {("village", "不存在村"): (1, []), ("category", "外星人"): (1, [])}
    assert by_row[9] == [("G列 网格", "“ys-B1”是大网格，请填写户所在的小网格")]
    assert by_row[11][0][0] == "E列 联系电话" and "手机号为11位" in by_row[11][0][1]
    assert by_row[12] == [("B列 姓名", "请填写姓名")]
    assert by_row[13] == [("I列 住址", "新增人员须填写住址（用于建立或匹配户）")]
    assert roster_import.status == RosterImport.Status.FAILED
    # Another town's person: only that town's name is told.
    assert all("钱金凤" not in e["message"] for e in roster_import.errors)


def test_missing_required_columns_are_named(cadre_client, cast, django_capture_on_commit_callbacks):
    upload(cadre_client, xlsx([["王大山", new_id()]], headers=["姓名", "身份证号"]), capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    assert roster_import.status == RosterImport.Status.FAILED
    assert "表头缺少必填列：村（社区）、网格、人员类别" in roster_import.errors[0]["message"]


def test_a_person_marked_deceased_is_not_brought_back_by_an_old_roster(cadre_client, cast, django_capture_on_commit_callbacks):
    with unscoped():
        Beneficiary.objects.filter(pk=cast.yeshan.person.pk).update(status="deceased")
        number = idnumbers.decrypt(cast.yeshan.person.id_number_encrypted)
    upload(cadre_client, xlsx([row("李桂英", number)]), capture=django_capture_on_commit_callbacks)
    message = latest_import().errors[0]["message"]
    assert message == "该人员在本镇信息库中的状态为“已故”，如需恢复在册请在信息库中办理"


def test_error_workbook_is_the_roster_with_an_error_column(cadre_client, cast, django_capture_on_commit_callbacks, monkeypatch):
    bad = new_id(sequence=91)[:17] + "9"
    if idnumbers.check_char(bad[:17]) == "9":
        bad = bad[:17] + "8"
    data = xlsx([row("王大山", new_id(sequence=93), notes="-无-"), row("错号人", bad, phone="+8613855500001")])
    upload(cadre_client, data, capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    assert roster_import.error_file and roster_import.error_count == 1, "the worker built the error workbook"

    def never(*args, **kwargs):
        raise AssertionError("the web request must only send the file the worker built")

    monkeypatch.setattr(workbook, "build_error_workbook", never)
    monkeypatch.setattr(parse, "open_sheet", never)
    with django_capture_on_commit_callbacks(execute=True):
        response = cadre_client.get(reverse("towns:import_errors", args=[roster_import.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][0] == "冶山镇重点人群花名册（2024年1月）"  # row numbers match the original file
    assert rows[1][-1] == "错误说明"
    assert rows[2][-1] is None
    assert "【D列 身份证号】" in rows[3][-1] and "校验位不正确" in rows[3][-1]
    assert rows[3][3] == bad, "the uploader's own ID number is kept as typed, as text"
    notes_cell = sheet.cell(row=3, column=10)
    assert notes_cell.value == "-无-" and notes_cell.data_type == "s"
    with unscoped():
        logged = AuditRecord.objects.filter(action="personal_data.export").order_by("-id").first()
    assert logged.actor_id == cast.yeshan.cadre.pk and "错误清单" in logged.object_repr


# --- all or nothing ------------------------------------------------------------------------


def test_a_failure_midway_writes_nothing(cadre_client, cast, django_capture_on_commit_callbacks, monkeypatch):
    rows = [row("王大山", new_id(sequence=101)), row("李四", new_id(sequence=103), address="冶山镇长兴社区新村路5号")]
    upload(cadre_client, xlsx(rows), capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    assert roster_import.status == RosterImport.Status.READY
    before = counts()
    inserted = {}

    def explode(result, **kwargs):
        with unscoped():
            inserted["households"] = Household.objects.count()
        raise RuntimeError("disk full")

    monkeypatch.setattr(commit, "insert_people", explode)
    confirm(cadre_client, roster_import, capture=django_capture_on_commit_callbacks)
    assert inserted["households"] == before[1] + 2, "the households had been inserted when it failed"
    roster_import = latest_import()
    assert roster_import.status == RosterImport.Status.FAILED
    assert "已全部撤销" in roster_import.message
    assert counts() == before
    assert audit.verify_chain().ok


def test_registry_changes_between_preview_and_confirm_are_caught(cadre_client, cast, django_capture_on_commit_callbacks):
    number = new_id(sequence=111)
    upload(cadre_client, xlsx([row("王大山", number)]), capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    # Meanwhile 铜城镇 registers the same person.
    from tests.cast import make_person

    with unscoped():
        make_person(cast.tongcheng.household, name="王大山", id_number=number)
    before = counts()
    confirm(cadre_client, roster_import, capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    assert roster_import.status == RosterImport.Status.FAILED
    assert roster_import.errors[0]["message"] == "该身份证号已在其他镇（街道）登记，请联系县级管理员核实"
    assert counts() == before


def test_tasks_are_idempotent(cadre_client, cast, django_capture_on_commit_callbacks):
    from towns.tasks import check_roster_import, run_roster_import

    upload(cadre_client, xlsx([row("王大山", new_id(sequence=121))]), capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    confirm(cadre_client, roster_import, capture=django_capture_on_commit_callbacks)
    confirm(cadre_client, roster_import, capture=django_capture_on_commit_callbacks)  # a double click
    before = counts()
    run_roster_import.delay(roster_import.pk)  # a redelivered job
    check_roster_import.delay(roster_import.pk)
    assert counts() == before
    assert latest_import().status == RosterImport.Status.DONE
