"""Export jobs (issue 7 §3): asked for from a list page, built by Celery, downloaded by their requester only."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.models import AuditRecord
from core.scoping import unscoped
from reports.exporters import EXPORTERS, MONEY_FORMAT, run_export
from reports.models import ExportJob, export_storage
from tests.cast import CANARY_ID, CANARY_NAME, CANARY_PHONE
from tests.reports import test_exports

pytestmark = pytest.mark.django_db

data = test_exports.data  # the shared fixture: both towns' visits, grants and follow-ups, a formula-like name


@pytest.fixture(autouse=True)
def _export_root(settings, tmp_path):
    settings.EXPORT_ROOT = str(tmp_path / "exports")


def _start(client, user, name, query="", capture=None, **form):
    client.force_login(user)
    url = reverse("reports:export_start") + (f"?{query}" if query else "")
    with capture(execute=True):
        response = client.post(url, {"name": name, **form})
    assert response.status_code == 302, response.content[:300]
    with unscoped():
        return ExportJob.objects.filter(requester=user).latest("id")


def _book(job):
    with job.file.open("rb") as handle:
        return load_workbook(io.BytesIO(handle.read()))


def _values(book):
    return [str(c.value) for row in book.worksheets[0].iter_rows() for c in row if c.value is not None]


@pytest.mark.parametrize("name", ["ledger", "registry", "followups", "roster", "coverage"])
def test_a_town_cadres_export_job_holds_only_their_town(client, data, cast, django_capture_on_commit_callbacks, name):
    # Another town named in the filter: either not a choice for a town user (ignored) or refused.
    client.force_login(cast.yeshan.cadre)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("reports:export_start") + f"?town={cast.tongcheng.town.pk}", {"name": name, "campaign": cast.campaign.pk}
        )
    job = _start(client, cast.yeshan.cadre, name, f"campaign={cast.campaign.pk}", django_capture_on_commit_callbacks)
    with unscoped():
        jobs = list(ExportJob.objects.filter(requester=cast.yeshan.cadre))
    assert len(jobs) in (1, 2)
    for job in jobs:
        assert job.status == ExportJob.Status.DONE, job.error
        assert job.town_id == cast.yeshan.town.pk and job.row_count > 0 and job.size > 0
        values = _values(_book(job))
        assert any("冶山镇" in v for v in values)
        for canary in (CANARY_NAME, CANARY_ID, CANARY_PHONE, "铜城镇", "秘密诉求"):
            assert not any(canary in v for v in values), (name, canary)


def test_job_lifecycle_from_queued_to_done_with_progress_fields(client, data, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.county_viewer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("reports:export_start"), {"name": "ledger"})
    with unscoped():
        job = ExportJob.objects.get(requester=cast.county_viewer)
    assert job.status == ExportJob.Status.QUEUED and not job.file
    assert abs(job.expires_at - job.created_at - timedelta(days=settings.EXPORT_RETENTION_DAYS)) < timedelta(minutes=1)
    page = client.get(reverse("reports:exports"))
    assert "排队中" in page.content.decode() and 'hx-trigger="every 2s"' in page.content.decode()
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    assert job.rows_total == job.row_count == job.rows_done == 6  # 冶山镇's five visits and 铜城镇's one
    assert job.started_at <= job.finished_at and job.percent == 100
    page = client.get(reverse("reports:exports")).content.decode()
    assert "已完成" in page and reverse("reports:export_download", args=[job.pk]) in page and "every 2s" not in page


def test_a_failed_job_says_so_in_chinese_and_leaves_no_file(client, data, cast, django_capture_on_commit_callbacks, monkeypatch):
    def broken(self, out, progress=None):
        with open(out, "wb") as handle:
            handle.write(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(EXPORTERS["registry"], "write", broken)
    job = _start(client, cast.yeshan.cadre, "registry", "", django_capture_on_commit_callbacks)
    assert job.status == ExportJob.Status.FAILED and not job.file
    assert "生成文件时出错" in job.error and str(job.pk) in job.error
    assert not any(p.suffix == ".part" for p in export_storage_files())
    page = client.get(reverse("reports:exports")).content.decode()
    assert "失败" in page and "生成文件时出错" in page


def export_storage_files():
    from pathlib import Path

    return [p for p in Path(export_storage.location).rglob("*") if p.is_file()]


def test_the_list_pages_filter_reaches_the_job_and_an_invalid_one_is_refused(
    client, data, cast, django_capture_on_commit_callbacks
):
    job = _start(
        client, cast.county_viewer, "ledger", "kind=home&date_from=2024-01-10&after=5", django_capture_on_commit_callbacks
    )
    assert job.params == {"kind": "home", "date_from": "2024-01-10"}  # paging is not a filter
    assert job.description == "走访方式：入户走访；起始日期：2024-01-10"
    client.force_login(cast.county_viewer)
    response = client.post(reverse("reports:export_start") + "?date_from=not-a-date", {"name": "ledger"}, follow=True)
    assert "无法导出" in response.content.decode() and "起始日期" in response.content.decode()
    response = client.post(reverse("reports:export_start"), {"name": "nonsense"}, follow=True)
    assert "无法导出" in response.content.decode()
    with unscoped():
        assert ExportJob.objects.filter(requester=cast.county_viewer).count() == 1


def test_a_grid_worker_may_not_ask_for_an_export(client, cast):
    client.force_login(cast.yeshan.grid_worker)
    assert client.post(reverse("reports:export_start"), {"name": "ledger"}).status_code == 403
    assert client.get(reverse("reports:exports")).status_code == 403


def test_download_is_the_requesters_alone_and_is_audited(client, data, cast, django_capture_on_commit_callbacks):
    job = _start(client, cast.yeshan.cadre, "ledger", "", django_capture_on_commit_callbacks)
    with unscoped():
        asked = AuditRecord.objects.filter(action="export.request").latest("id")
    assert asked.actor_id == cast.yeshan.cadre.pk and asked.after["export"] == "ledger" and asked.town_id == cast.yeshan.town.pk
    url = reverse("reports:export_download", args=[job.pk])
    for other in (cast.yeshan.admin, cast.county_viewer, cast.tongcheng.cadre):
        client.force_login(other)
        assert client.get(url).status_code == 404
    with unscoped():
        before = AuditRecord.objects.filter(action="personal_data.export").count()
    client.force_login(cast.yeshan.cadre)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment") and "no-store" in response["Cache-Control"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert "李桂英" in _values(book)
    with unscoped():
        record = AuditRecord.objects.filter(action="personal_data.export").latest("id")
        assert AuditRecord.objects.filter(action="personal_data.export").count() == before + 1
    assert (
        record.actor_id == cast.yeshan.cadre.pk and record.after["what"] == "走访台账" and record.after["count"] == job.row_count
    )
    assert record.after["filters"]["job"] == job.pk


def test_the_exports_page_lists_only_the_users_own_jobs(client, data, cast, django_capture_on_commit_callbacks):
    mine = _start(client, cast.yeshan.cadre, "registry", "", django_capture_on_commit_callbacks)
    theirs = _start(client, cast.yeshan.admin, "followups", "", django_capture_on_commit_callbacks)
    client.force_login(cast.yeshan.cadre)
    page = client.get(reverse("reports:exports")).content.decode()
    assert reverse("reports:export_download", args=[mine.pk]) in page
    assert reverse("reports:export_download", args=[theirs.pk]) not in page
    assert "保留7天" in page


def test_retention_sweep_deletes_old_files_and_jobs(client, data, cast, django_capture_on_commit_callbacks):
    from reports.tasks import sweep_exports

    old = _start(client, cast.yeshan.cadre, "registry", "", django_capture_on_commit_callbacks)
    new = _start(client, cast.yeshan.cadre, "followups", "", django_capture_on_commit_callbacks)
    old_path, new_path = old.file.path, new.file.path
    with unscoped():
        ExportJob.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(days=8), expires_at=timezone.now() - timedelta(days=1)
        )
    assert sweep_exports.delay().get() == {"removed": 1}
    with unscoped():
        assert list(ExportJob.objects.values_list("pk", flat=True)) == [new.pk]
    import os

    assert not os.path.exists(old_path) and os.path.exists(new_path)


def test_the_sweep_and_nothing_else_is_on_the_beat_schedule():
    from celery.schedules import crontab

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-exports"]
    assert entry["task"] == "reports.tasks.sweep_exports"
    assert isinstance(entry["schedule"], crontab) and entry["schedule"].hour == {3}
    from config.celery import app

    app.loader.import_default_modules()
    assert "reports.tasks.sweep_exports" in app.tasks and "reports.tasks.build_export" in app.tasks


@pytest.mark.parametrize("writer", ["rustpy", "openpyxl"])
def test_both_writers_keep_formula_like_text_as_text_and_format_cells(data, cast, settings, writer):
    settings.EXPORT_WRITER = writer
    for name, texts in (("ledger", {"=1+1", "+8613800000000 请回电", "@x"}), ("followups", {"-修缮屋顶"})):
        out = io.BytesIO()
        run_export(name, cast.yeshan.cadre, {"campaign": cast.campaign.pk}, out)
        sheet = load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
        cells = [c for row in sheet.iter_rows() for c in row]
        by_value = {c.value: c for c in cells if isinstance(c.value, str)}
        for text in texts:
            assert by_value[text].data_type == "s", (writer, text)
        assert not any(c.data_type == "f" for c in cells)
        assert sheet.freeze_panes == "A2"
        assert all(c.font.b for c in next(sheet.iter_rows(max_row=1)))
        assert sheet.column_dimensions["A"].width >= 8
    out = io.BytesIO()
    run_export("roster", cast.yeshan.cadre, {"campaign": cast.campaign.pk}, out)
    rows = list(load_workbook(io.BytesIO(out.getvalue())).worksheets[0].iter_rows(min_row=2))
    amount = rows[0][5]
    assert amount.value == 1234.5 and amount.data_type == "n" and amount.number_format == MONEY_FORMAT
    assert rows[0][12].is_date and rows[0][12].number_format == "yyyy-mm-dd"
    assert rows[-1][0].value == "合计" and rows[-1][5].value == 2469


def test_registry_export_has_the_rows_of_the_registry_page(client, data, cast):
    client.force_login(cast.yeshan.cadre)
    category = cast.categories["elderly_alone"].pk
    query = f"category={category}"
    listed = {p.name for p in client.get(reverse("registry:person_list") + "?" + query).context["page"]}
    out = io.BytesIO()
    run_export("registry", cast.yeshan.cadre, {"category": category}, out)
    rows = list(load_workbook(io.BytesIO(out.getvalue())).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert listed and {r[3] for r in rows} == listed


def test_followup_export_has_the_rows_of_the_followup_page(client, data, cast):
    from tests.visits.followup_objects import make_followup

    make_followup(cast.yeshan, title="已办结事项", deadline=timezone.localdate(), campaign=cast.campaign, status="closed")
    client.force_login(cast.yeshan.cadre)
    for params in ({"status": "open"}, {"status": "closed"}, {}):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        listed = {item.pk for item in client.get(reverse("visits:followup_list") + "?" + query).context["page"]}
        out = io.BytesIO()
        run_export("followups", cast.yeshan.cadre, params, out)
        rows = list(load_workbook(io.BytesIO(out.getvalue())).worksheets[0].iter_rows(min_row=2, values_only=True))
        assert listed and {int(r[0]) for r in rows} == listed, params


def test_ledger_export_has_the_rows_of_the_ledger_page(client, data, cast):
    client.force_login(cast.yeshan.cadre)
    for params in ({"date_from": "2024-01-10"}, {"village": cast.yeshan.village.pk}, {}):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        response = client.get(reverse("visits:visit_list") + "?" + query)
        assert response.status_code == 200
        listed = sorted((v.beneficiary.name, v.notes) for v in response.context["page"])
        out = io.BytesIO()
        run_export("ledger", cast.yeshan.cadre, params, out)
        rows = list(load_workbook(io.BytesIO(out.getvalue())).worksheets[0].iter_rows(min_row=2, values_only=True))
        assert listed and sorted((r[4], r[9] or "") for r in rows) == listed, params
        assert not any(CANARY_NAME in str(r) for r in rows)


def test_ledger_page_keeps_a_constant_number_of_queries(client, data, cast, django_assert_max_num_queries):
    client.force_login(cast.county_viewer)
    client.get(reverse("visits:visit_list"))  # warm the choice cache
    with django_assert_max_num_queries(6):
        response = client.get(reverse("visits:visit_list") + f"?campaign={cast.campaign.pk}")
    assert response.status_code == 200 and "导出 Excel" in response.content.decode()


def test_progress_is_reported_while_writing_and_at_the_end(data, cast, monkeypatch):
    from reports import exporters

    monkeypatch.setattr(exporters, "PROGRESS_EVERY", 2)
    seen = []
    exporter = EXPORTERS["ledger"](cast.county_viewer, {})
    count = exporter.write(io.BytesIO(), progress=seen.append)
    assert count == 6 and seen == [2, 4, 6, 6]


def test_an_empty_export_still_has_its_header(cast, tmp_path):
    out = tmp_path / "empty.xlsx"
    assert run_export("followups", cast.yeshan.cadre, {"status": "closed"}, str(out)) == 0
    sheet = load_workbook(out).worksheets[0]
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == [c.header for c in EXPORTERS["followups"].columns]
