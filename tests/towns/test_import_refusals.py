"""Roster import: hostile files refused with a clear Chinese message, who may import and see what,
the progress page, the audit batch append, the shell command and the nightly sweep."""

import io
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from core import audit, idnumbers
from core.models import AuditRecord
from core.scoping import unscoped
from tests.towns.roster_files import (
    HEADERS,
    confirm,
    counts,
    latest_import,
    new_id,
    row,
    upload,
    xlsx,
)
from towns.models import Beneficiary, RosterImport
from towns.roster_import import jobs, parse, records


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def cadre_client(client, cast):
    client.force_login(cast.yeshan.cadre)
    return client


# --- hostile files ---------------------------------------------------------------------------


def _assert_refused(client, response, message, before):
    assert counts()[0:2] == before[0:2]
    roster_import = latest_import()
    assert roster_import.status == RosterImport.Status.REJECTED
    assert message in roster_import.message
    assert not roster_import.file, "a refused file is not kept"
    body = response.content.decode() if response.status_code == 200 else client.get(response["Location"]).content.decode()
    assert message in body


def test_a_text_file_renamed_xlsx_is_refused(cadre_client, cast, django_capture_on_commit_callbacks):
    before = counts()
    response = upload(
        cadre_client, "姓名,身份证号\n王大山,1\n".encode(), "花名册.xlsx", capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 200
    _assert_refused(cadre_client, response, "文件不是有效的 Excel 工作簿（.xlsx）", before)


def test_an_old_xls_file_is_refused_with_how_to_fix_it(cadre_client, cast, django_capture_on_commit_callbacks):
    before = counts()
    response = upload(
        cadre_client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "花名册.xls", capture=django_capture_on_commit_callbacks
    )
    _assert_refused(cadre_client, response, "另存为” .xlsx", before)


def test_a_file_over_the_size_limit_is_refused(cadre_client, cast, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(parse, "MAX_BYTES", 2000)
    before = counts()
    data = xlsx([row(f"人{i}", new_id(sequence=i)) for i in range(100)])
    assert len(data) > 2000
    response = upload(cadre_client, data, capture=django_capture_on_commit_callbacks)
    _assert_refused(cadre_client, response, "超过 0 MB 的上限", before)


def test_the_real_size_limit_is_20_mb():
    assert parse.MAX_BYTES == 20 * 1024 * 1024 and parse.MAX_ROWS == 100_000


def test_a_zip_bomb_is_refused(cadre_client, cast, django_capture_on_commit_callbacks):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (16 * 1024 * 1024)
            for _ in range(300 // 16 + 1):
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 2 * 1024 * 1024
    before = counts()
    response = upload(cadre_client, data, capture=django_capture_on_commit_callbacks)
    _assert_refused(cadre_client, response, "文件疑似压缩炸弹，已拒绝", before)


def test_a_formula_is_an_error_of_its_row_and_the_other_rows_are_still_checked(
    cadre_client, cast, django_capture_on_commit_callbacks
):
    """Issue 16 §3: one formula cell no longer refuses the file before any row is read."""
    rows = [
        row("王大山", new_id(sequence=131)),
        row("李四", new_id(sequence=133), phone='=HYPERLINK("http://x","点我")'),
        row("张三", "341181195005060000"),  # wrong check digit, in the same pass
        ["合计", "=COUNTA(B3:B5)", None, None, None, None, None, None, None, None],  # a SUM under the roster is fine
    ]
    before = counts()
    upload(cadre_client, xlsx(rows), capture=django_capture_on_commit_callbacks)
    roster_import = latest_import()
    assert roster_import.status == RosterImport.Status.FAILED
    by_row = {e["row"]: e for e in roster_import.errors}
    assert set(by_row) == {4, 5}
    assert by_row[4]["message"].startswith("E4 含有公式") and "联系电话" in by_row[4]["column"]
    assert "校验码" in by_row[5]["message"] or "身份证" in by_row[5]["message"]
    assert counts() == before


def test_too_many_rows_are_refused(cadre_client, cast, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(parse, "MAX_ROWS", 50)
    before = counts()
    response = upload(
        cadre_client, xlsx([row(f"人{i}", new_id(sequence=i)) for i in range(60)]), capture=django_capture_on_commit_callbacks
    )
    _assert_refused(cadre_client, response, "数据超过 50 行，请分批导入", before)


def test_an_empty_post_asks_for_a_file(cadre_client, cast):
    response = cadre_client.post(reverse("towns:import_list"))
    assert response.status_code == 200
    assert "请选择要上传的花名册文件" in response.content.decode()


# --- access, pages, progress ---------------------------------------------------------------


def _tongcheng_import(cast) -> RosterImport:
    with unscoped():
        return RosterImport.objects.create(
            town=cast.tongcheng.town, uploaded_by=cast.tongcheng.cadre.cadre, original_name="铜城镇花名册.xlsx", status="ready"
        )


def test_another_towns_import_is_not_found(client, cast):
    other = _tongcheng_import(cast)
    client.force_login(cast.yeshan.admin)
    for name in ("towns:import_detail", "towns:import_errors"):
        assert client.get(reverse(name, args=[other.pk])).status_code == 404
    assert client.post(reverse("towns:import_confirm", args=[other.pk])).status_code == 404
    with unscoped():
        assert RosterImport.objects.get(pk=other.pk).status == "ready"
    client.force_login(cast.tongcheng.admin)
    assert client.get(reverse("towns:import_detail", args=[other.pk])).status_code == 200


def test_grid_workers_and_county_roles_cannot_import(client, cast):
    for user in (cast.yeshan.grid_worker, cast.county_viewer, cast.inspector):
        client.force_login(user)
        assert client.get(reverse("towns:import_list")).status_code == 403
        assert client.post(reverse("towns:import_list")).status_code == 403


def test_the_nav_shows_the_import_to_office_roles_only(client, cast):
    client.force_login(cast.yeshan.cadre)
    assert "导入花名册" in client.get(reverse("home")).content.decode()
    client.force_login(cast.yeshan.grid_worker)
    assert "导入花名册" not in client.get(reverse("home")).content.decode()


def test_the_page_polls_progress_while_a_job_runs(cadre_client, cast):
    with unscoped():
        running = RosterImport.objects.create(
            town=cast.yeshan.town, uploaded_by=cast.yeshan.cadre.cadre, original_name="大表.xlsx", status="importing"
        )
    records.set_progress(running.pk, 40)
    url = reverse("towns:import_detail", args=[running.pk])
    page = cadre_client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page and f'hx-get="{url}"' in page
    assert "40%" in page and "手动刷新" in page  # works without JavaScript too
    partial = cadre_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="import-status"') and "<html" not in partial
    with unscoped():
        RosterImport.objects.filter(pk=running.pk).update(status="done", progress=100)
    done = cadre_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done, "polling stops when the job is over"


def test_import_page_query_count_is_pinned(cadre_client, cast, django_capture_on_commit_callbacks, django_assert_max_num_queries):
    upload(cadre_client, xlsx([row("王大山", new_id(sequence=141))]), capture=django_capture_on_commit_callbacks)
    url = reverse("towns:import_detail", args=[latest_import().pk])
    cadre_client.get(url)
    with django_assert_max_num_queries(6):
        assert cadre_client.get(url).status_code == 200
    with django_assert_max_num_queries(6):
        assert cadre_client.get(reverse("towns:import_list")).status_code == 200


def test_template_download_has_the_headers_and_is_itself_importable(cadre_client, cast, django_capture_on_commit_callbacks):
    response = cadre_client.get(reverse("towns:import_template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in book["花名册"][2]] == HEADERS
    guide = [r[0] for r in book["填写说明"].iter_rows(values_only=True)]
    assert "独居老人" in guide and "长兴社区" in guide
    assert "龙岗村" not in guide, "only the user's own town's villages"
    upload(cadre_client, response.content, "模板.xlsx", capture=django_capture_on_commit_callbacks)
    empty = latest_import()
    assert empty.status == RosterImport.Status.READY and not empty.can_confirm
    page = cadre_client.get(reverse("towns:import_detail", args=[empty.pk])).content.decode()
    assert "无需导入" in page and "确认导入</button>" not in page


# --- the audit batch append --------------------------------------------------------------------


def test_record_many_continues_the_chain(cast):
    from django.db import transaction

    with transaction.atomic():
        audit.record(actor=cast.yeshan.admin, action="beneficiary.update", obj=cast.yeshan.person, after={"phone": "1"})
        written = audit.record_many(
            actor=cast.yeshan.admin,
            entries=[{"action": "beneficiary.update", "obj": cast.yeshan.person, "after": {"n": i}} for i in range(5)],
        )
        audit.record(actor=cast.yeshan.admin, action="beneficiary.update", obj=cast.yeshan.person, after={"phone": "2"})
    assert written == 5
    report = audit.verify_chain()
    assert report.ok, report.problem
    with unscoped():
        batch = list(AuditRecord.objects.order_by("id"))[-6:-1]
    assert [r.after["n"] for r in batch] == [0, 1, 2, 3, 4]
    assert all(b.prev_hash == a.hash for a, b in zip(batch, batch[1:], strict=False))


def test_import_roster_command(cast, tmp_path):
    path = tmp_path / "花名册.xlsx"
    path.write_bytes(xlsx([row("王大山", new_id(sequence=151))]))
    out = io.StringIO()
    call_command("import_roster", str(path), "--town", cast.yeshan.town.code, "--user", "ys_cadre", "--yes", stdout=out)
    assert "新增 1 人" in out.getvalue()
    with unscoped():
        assert Beneficiary.objects.filter(id_number_digest=idnumbers.digest(new_id(sequence=151))).exists()


def test_import_works_without_copy_as_on_the_sqlite_demo(cadre_client, cast, django_capture_on_commit_callbacks, monkeypatch):
    """The quick-start demo runs on SQLite: the same import through bulk_create and bulk_update."""
    from core import bulk

    monkeypatch.setattr(bulk, "copy_supported", lambda: False)
    number = new_id(sequence=161)
    upload(cadre_client, xlsx([row("王大山", number, cats="独居老人、困难党员")]), capture=django_capture_on_commit_callbacks)
    confirm(cadre_client, latest_import(), capture=django_capture_on_commit_callbacks)
    assert latest_import().status == RosterImport.Status.DONE, latest_import().message
    upload(
        cadre_client,
        xlsx([row("王大山", number, phone="13855500007", cats="困难党员")]),
        capture=django_capture_on_commit_callbacks,
    )
    confirm(cadre_client, latest_import(), capture=django_capture_on_commit_callbacks)
    assert latest_import().status == RosterImport.Status.DONE, latest_import().message
    with unscoped():
        person = Beneficiary.objects.get(id_number_digest=idnumbers.digest(number))
    assert person.phone == "13855500007" and list(person.categories.values_list("name", flat=True)) == ["困难党员"]
    assert audit.verify_chain().ok


def test_sweep_fails_lost_jobs_and_drops_old_unimported_files(cast, settings, tmp_path):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from towns.models import RosterImport

    def upload(status, age_days):
        item = RosterImport.objects.create(
            town=cast.yeshan.town, uploaded_by=cast.yeshan.admin.cadre, original_name="a.xlsx", status=status
        )
        item.file.save("a.xlsx", ContentFile(b"PK"), save=True)
        RosterImport.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(days=age_days))
        return item

    lost = upload(RosterImport.Status.CHECKING, 1)
    old_failed = upload(RosterImport.Status.FAILED, 8)
    recent_failed = upload(RosterImport.Status.FAILED, 2)
    assert jobs.sweep() == {"stale": 1, "files_discarded": 1}
    lost.refresh_from_db()
    old_failed.refresh_from_db()
    recent_failed.refresh_from_db()
    assert lost.status == "failed" and "中断" in lost.message and lost.can_retry
    assert not old_failed.file and recent_failed.file
