"""Issue 13 §1-2: who viewed whom (PIPL access log), whole ID numbers stored nowhere in clear,
request ids we generate, and the headers that keep personal pages out of caches and scripts out."""

import io
import logging
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from core import idnumbers
from core.models import AuditRecord
from core.scoping import unscoped
from reports.models import ExportJob
from towns.models import PersonAccess


def accesses(**filters):
    with unscoped():
        return list(PersonAccess.objects.filter(**filters).values_list("user_id", "person_id", "kind"))


def test_person_household_and_revealed_id_views_are_recorded(client, cast):
    ys = cast.yeshan
    client.force_login(ys.admin)
    client.get(reverse("registry:person_detail", args=[ys.person.pk]))
    client.get(reverse("towns:household_detail", args=[ys.household.pk]))
    client.post(reverse("towns:person_reveal_id", args=[ys.person.pk]))
    assert sorted(accesses(person=ys.person)) == sorted(
        [
            (ys.admin.pk, ys.person.pk, "person"),
            (ys.admin.pk, ys.person.pk, "household"),
            (ys.admin.pk, ys.person.pk, "reveal_id"),
        ]
    )


def test_a_person_page_costs_one_insert_and_no_chain_lock(client, cast, django_assert_max_num_queries):
    client.force_login(cast.yeshan.cadre)
    url = reverse("registry:person_detail", args=[cast.yeshan.person.pk])
    client.get(url)
    before = AuditRecord.objects.count()
    with django_assert_max_num_queries(14) as captured:
        client.get(url)
    inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "towns_personaccess" in inserts[0]
    assert not any("pg_advisory" in q["sql"] for q in captured.captured_queries)
    assert AuditRecord.objects.count() == before


def test_who_viewed_this_person_for_a_town_admin_and_an_inspector(client, cast, django_assert_max_num_queries):
    ys, tc = cast.yeshan, cast.tongcheng
    for user, person in ((ys.cadre, ys.person), (ys.grid_worker, ys.person), (tc.cadre, tc.person)):
        client.force_login(user)
        client.get(reverse("registry:person_detail", args=[person.pk]))
    client.force_login(ys.admin)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("towns:access_log"), {"person": ys.person.pk})
    body = page.content.decode()
    assert page.status_code == 200 and "谁看过李桂英" in body
    assert "冶山镇包村干部" in body and "冶山镇网格员" in body
    # Their town only: 铜城镇's person and viewers are not in the town admin's list.
    everything = client.get(reverse("towns:access_log")).content.decode()
    assert "铜城镇包村干部" not in everything and "钱金凤" not in everything
    assert client.get(reverse("towns:access_log"), {"person": tc.person.pk}).status_code == 404
    # Per user: what one cadre looked at.
    mine = client.get(reverse("towns:access_log"), {"user": ys.cadre.pk}).context["rows"]
    assert {r.person_id for r in mine} == {ys.person.pk}
    client.force_login(cast.inspector)
    rows = client.get(reverse("towns:access_log")).context["rows"]
    assert {r.user_id for r in rows} == {ys.cadre.pk, ys.grid_worker.pk, tc.cadre.pk}
    # Grid workers and cadres have no access to the log itself.
    client.force_login(ys.cadre)
    assert client.get(reverse("towns:access_log")).status_code == 403


def test_the_printed_roster_records_its_people(client, cast):
    from tests.funds.grant_objects import tongcheng_grant

    tongcheng_grant(cast)
    client.force_login(cast.inspector)
    client.get(reverse("funds:roster"), {"town": cast.tongcheng.town.pk, "campaign": cast.campaign.pk})
    assert (cast.inspector.pk, cast.tongcheng.person.pk, "roster") in accesses(person=cast.tongcheng.person)


# --- request ids and headers ---------------------------------------------------------------


def test_client_request_id_is_not_written_into_audit_records(client, cast):
    client.force_login(cast.yeshan.admin)
    forged = "a3f0c9e1-forged-by-client"
    response = client.post(reverse("towns:person_reveal_id", args=[cast.yeshan.person.pk]), HTTP_X_REQUEST_ID=forged)
    record = AuditRecord.objects.get(action="beneficiary.reveal_id")
    assert record.request_id == response["X-Request-ID"] != forged
    assert re.fullmatch(r"[0-9a-f]{32}", record.request_id)
    assert response["X-Client-Request-ID"] == forged  # kept apart, for the caller's own tracing
    junk = client.post(reverse("towns:person_reveal_id", args=[cast.yeshan.person.pk]), HTTP_X_REQUEST_ID="<script>" + "3" * 18)
    assert "X-Client-Request-ID" not in junk


def test_personal_pages_are_not_cached_and_carry_a_csp(client, cast):
    client.force_login(cast.yeshan.cadre)
    for url in (
        reverse("registry:person_detail", args=[cast.yeshan.person.pk]),
        reverse("registry:person_list"),
        reverse("home"),
    ):
        response = client.get(url)
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], url
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
    login = client.get(reverse("login"))
    assert "Content-Security-Policy" in login


def test_templates_have_no_inline_scripts_or_handlers():
    root = Path(settings.BASE_DIR) / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in match.group(1) and "application/json" not in match.group(1):
                offenders.append(f"{path.relative_to(root)}: inline <script>")
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text) or "javascript:" in text:
            offenders.append(f"{path.relative_to(root)}: inline handler")
    assert not offenders, offenders


def test_dockerignore_keeps_secrets_history_and_uploads_out_of_images():
    lines = (Path(settings.BASE_DIR) / ".dockerignore").read_text().split()
    assert {".env", ".git", "media/"} <= set(lines)


# --- a whole ID number is stored nowhere in clear ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_full_id_search_then_export_leaves_the_number_nowhere(client, tmp_path, settings, caplog):
    from tests.cast import build_cast

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_ROOT = str(tmp_path / "exports")
    cast = build_cast()
    number = idnumbers.decrypt(cast.yeshan.person.id_number_encrypted)
    caplog.set_level(logging.DEBUG)
    for user in (cast.yeshan.cadre, cast.yeshan.admin):  # matched by masked form, and by digest
        client.force_login(user)
        found = client.post(reverse("registry:person_list"), {"q": number}, follow=True)
        assert [p.pk for p in found.context["page"]] == [cast.yeshan.person.pk]
        page_url = found.redirect_chain[-1][0]
        assert number not in page_url
        query = page_url.split("?", 1)[1]
        client.post(f"{reverse('reports:export_start')}?{query}", {"name": "registry"})
        job = ExportJob.objects.order_by("-id").first()
        download = client.get(reverse("reports:export_download", args=[job.pk]))
        assert download.status_code == 200 and "no-store" in download["Cache-Control"]
        b"".join(download.streaming_content)
    jobs = list(ExportJob.objects.order_by("id"))
    assert len(jobs) == 2 and all(job.status == ExportJob.Status.DONE for job in jobs)
    for job in jobs:
        assert job.row_count == 1
        assert number not in f"{job.params} {job.description} {job.error}"
        with zipfile.ZipFile(io.BytesIO(Path(job.file.path).read_bytes())) as book:
            for member in book.namelist():
                assert number.encode() not in book.read(member), member
    assert AuditRecord.objects.filter(action="export.request").count() == 2
    assert AuditRecord.objects.filter(action="personal_data.export").count() == 2
    # What the app logged while doing it.
    assert number not in caplog.text
    # The whole database, as pg_dump writes it.
    db = connection.settings_dict
    dump = subprocess.run(
        ["pg_dump", "--data-only", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"], db["NAME"]],
        capture_output=True,
        check=True,
        env={"PGPASSWORD": db.get("PASSWORD") or "", "PATH": "/usr/bin:/bin"},
    ).stdout
    assert b"towns_beneficiary" in dump and len(dump) > 10_000
    assert number.encode() not in dump and number.lower().encode() not in dump
