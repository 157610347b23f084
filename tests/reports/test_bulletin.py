"""The weekly bulletin (issue 7 §2): phrasing, numbering, one item per active town, figures, redraft, schedule."""

import uuid
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditRecord
from core.scoping import unscoped
from reports.bulletin_selectors import next_number
from reports.bulletin_services import publish, set_numbering
from reports.models import Bulletin, BulletinItem, BulletinSeries
from reports.phrasing import approx, approx_yuan
from reports.services import BulletinPublished, bulletin_draft
from reports.tasks import previous_week_start
from tests.cast import at
from tests.funds.grant_objects import make_grant
from visits.models import Activity, FollowUp, Visit

WEEK = date(2024, 1, 8)

# The seed bulletin's own figures (天长组工信息 第118期) and the neighbours of the rules.
COUNTS = [
    (0, "0"),
    (7, "7"),
    (9, "9"),
    (10, "10"),
    (13, "10余"),
    (22, "20余"),
    (24, "20余"),
    (43, "40余"),
    (57, "50余"),
    (99, "90余"),
    (100, "100"),
    (283, "280余"),
    (280, "280"),
    (400, "400"),
    (431, "400余"),
    (700, "700"),
    (726, "700余"),
    (755, "700余"),
    (1000, "1000"),
    (1437, "1400余"),
    (2999, "2900余"),
    (3500, "3000余"),
    (12345, "12000余"),
]
YUAN = [
    (500, "500"),
    (Decimal("500.50"), "500余"),
    (8500, "8000余"),
    (200000, "20万"),
    (Decimal("203500.00"), "20万余"),
    (247000, "24万余"),
    (250800, "25万余"),
    (1437000, "140万余"),
]


@pytest.mark.parametrize(("n", "text"), COUNTS)
def test_approx_counts_read_like_the_seed(n, text):
    assert approx(n) == text
    assert "超" not in approx(n)


@pytest.mark.parametrize(("amount", "text"), YUAN)
def test_approx_yuan_in_wan(amount, text):
    assert approx_yuan(amount) == text


def _visit(tc, person, when):
    return Visit.objects.create(
        beneficiary=person,
        household=person.household,
        town=tc.town,
        cell=person.cell,
        visited_at=when,
        recorded_by=tc.cadre.cadre,
        idempotency_key=uuid.uuid4(),
    )


def _activity(tc, held_on, *, reached=0, gifts=0, people=()):
    activity = Activity.objects.create(
        town=tc.town,
        village=tc.village,
        kind=Activity.Kind.GROUP_VISIT,
        title="集中慰问",
        held_on=held_on,
        reached_count=max(reached, len(people)),  # as activity_create stores it: the picked people included
        gifts_count=gifts,
        recorded_by=tc.cadre.cadre,
    )
    activity.beneficiaries.set(people)
    return activity


def _followup(tc, kind, status, raised_on):
    return FollowUp.objects.create(
        town=tc.town,
        village=tc.village,
        kind=kind,
        title="事项",
        raised_by=tc.cadre.cadre,
        raised_on=raised_on,
        status=status,
        owner=tc.cadre.cadre if status != FollowUp.Status.PENDING else None,
        closed_on=raised_on if status == FollowUp.Status.CLOSED else None,
    )


@pytest.fixture
def week_data(cast):
    return build_week_data(cast)


def build_week_data(cast):
    """冶山镇 busy in the week of 2024-01-08; 铜城镇 active only the week before."""
    ys, tc = cast.yeshan, cast.tongcheng
    with unscoped():
        _visit(ys, ys.person, at(2024, 1, 8, 9))
        _visit(ys, ys.person, at(2024, 1, 10))
        _visit(ys, ys.person_other_cell, at(2024, 1, 14, 23, 59))
        _visit(ys, ys.person, at(2024, 1, 15, 0, 1))  # next week
        _activity(ys, date(2024, 1, 9), reached=700, gifts=1400, people=[ys.person, ys.person_other_cell])
        _activity(ys, date(2024, 1, 12), reached=24, gifts=37)
        _activity(ys, date(2024, 1, 16), reached=5000)  # next week
        for _ in range(12):
            _followup(ys, FollowUp.Kind.MEASURE, FollowUp.Status.IN_PROGRESS, date(2024, 1, 3))
        for status in [FollowUp.Status.RESOLVED] * 5 + [FollowUp.Status.CLOSED] * 6 + [FollowUp.Status.PENDING] * 3:
            _followup(ys, FollowUp.Kind.DEMAND, status, date(2024, 1, 11))
        _activity(tc, date(2024, 1, 4), reached=40)
        _visit(tc, tc.person, at(2024, 1, 5))
    # ¥247,000 in grants the town need not approve (each below its threshold and the county ceiling).
    ys.town.grant_approval_threshold = Decimal("10000.00")
    ys.town.save(update_fields=["grant_approval_threshold"])
    for _ in range(25):
        make_grant(ys, amount="9880.00", handed_at=at(2024, 1, 9, 10, 30))
    make_grant(ys, amount="300.00", handed_at=at(2024, 1, 11, 10, 30))
    return cast


@pytest.mark.django_db
def test_one_item_per_town_with_activity_and_figures_from_independent_counts(week_data):
    cast = week_data
    bulletin = bulletin_draft(week_start=WEEK, actor=cast.county_viewer)
    items = list(bulletin.items.select_related("town"))
    assert [i.town for i in items] == [cast.yeshan.town]
    body = items[0].body
    with unscoped():
        visits = [
            v
            for v in Visit.objects.all()
            if v.town_id == cast.yeshan.town.pk
            and date(2024, 1, 8) <= v.visited_at.astimezone(at(2024, 1, 1).tzinfo).date() <= date(2024, 1, 14)
        ]
        acts = [a for a in Activity.objects.all() if a.town_id == cast.yeshan.town.pk and WEEK <= a.held_on <= date(2024, 1, 14)]
        reached = sum(a.reached_count for a in acts)  # the picked people are counted in it, not again
        gifts = sum(a.gifts_count for a in acts)
        demands = sum(
            1
            for f in FollowUp.objects.filter(town=cast.yeshan.town, kind="demand")
            if f.status in ("resolved", "revisited", "closed")
        )
        measures = FollowUp.objects.filter(town=cast.yeshan.town, kind="measure").count()
    households = len({v.household_id for v in visits})
    people = len({v.beneficiary_id for v in visits})
    assert (len(visits), households, people, len(acts), reached, gifts, demands, measures) == (3, 2, 2, 2, 724, 1437, 11, 12)
    # Every visit here is a door visit: households, named 入户走访 (no other kind of contact to name).
    assert f"入户走访{households}户，开展集中慰问活动2次，惠及群众700余人" in body
    assert "发放慰问金24万余元、慰问品1400余份" in body
    assert "截至目前，制定慰问帮扶措施10余条，帮助解决群众诉求10余个，办结“事项”等事项。" in body
    assert "电话慰问" not in body and "慰问群众" not in body
    assert "超" not in body
    assert items[0].headline == "问需于民解难题，“双节慰问”见行见效"
    assert items[0].included
    assert bulletin.lead.startswith("1月8日至14日，围绕“双节慰问”，全市1个镇（街道）共入户走访2户")
    assert bulletin.closing == ""
    assert bulletin.topic == "双节慰问"
    assert AuditRecord.objects.filter(action="bulletin.draft", object_id=str(bulletin.pk)).count() == 1


@pytest.mark.django_db
def test_a_town_active_only_another_week_gets_its_own_issue(week_data):
    cast = week_data
    bulletin = bulletin_draft(week_start=date(2024, 1, 1))
    # 冶山镇's follow-ups of 2024-01-03 are activity of that week too.
    assert {i.town_id for i in bulletin.items.all()} == {cast.tongcheng.town.pk, cast.yeshan.town.pk}
    tongcheng = bulletin.items.get(town=cast.tongcheng.town)
    assert tongcheng.included and "本周，入户走访1户，开展集中慰问活动1次，惠及群众40人。" in tongcheng.body
    # 冶山镇 only planned its measures that week: nothing singled out, named in the closing sentence instead.
    assert not bulletin.items.get(town=cast.yeshan.town).included
    assert bulletin.closing.startswith("此外，冶山镇本周")


@pytest.mark.django_db
def test_numbering_continues_the_countys_series_from_the_number_the_editor_sets(week_data):
    cast = week_data
    first = bulletin_draft(week_start=date(2024, 1, 1))
    abandoned = bulletin_draft(week_start=date(2023, 12, 25))  # issued 2024-01-01, never published
    second = bulletin_draft(week_start=WEEK)
    assert (first.year, first.number, abandoned.number) == (2024, None, None)  # drafts are not numbered
    assert next_number(2024) == 1
    set_numbering(actor=cast.county_viewer, next_number=119, restart_yearly=False)  # the series is at 第118期
    assert next_number(2024) == 119
    first = publish(actor=cast.county_viewer, bulletin=first)
    second = publish(actor=cast.county_viewer, bulletin=second)
    assert (first.year, first.number) == (2024, 119)
    assert (second.year, second.number) == (2024, 120)  # no gap for the abandoned draft
    assert str(second) == "天长组工信息 2024年第120期"
    with pytest.raises(ValidationError, match="已发布到第120期，下一期至少是第121期"):
        set_numbering(actor=cast.county_viewer, next_number=120, restart_yearly=False)
    with unscoped():
        _visit(cast.yeshan, cast.yeshan.person, at(2025, 1, 2))
    across = bulletin_draft(week_start=date(2024, 12, 30))  # issued Monday 2025-01-06: the series runs on
    across = publish(actor=cast.county_viewer, bulletin=across)
    assert (across.year, across.number) == (2025, 121)
    assert abandoned.pk and Bulletin.objects.get(pk=abandoned.pk).number is None
    assert AuditRecord.objects.filter(action="bulletin.numbering").count() == 1


@pytest.mark.django_db
def test_numbering_may_restart_each_year_when_the_editor_says_so(week_data, monkeypatch):
    from reports import bulletin_services

    cast = week_data
    monkeypatch.setattr(bulletin_services.timezone, "localdate", lambda: date(2024, 1, 20))
    set_numbering(actor=cast.county_viewer, next_number=5, restart_yearly=True)
    assert BulletinSeries.objects.get().restart_yearly  # stored, not an environment setting
    first = publish(actor=cast.county_viewer, bulletin=bulletin_draft(week_start=WEEK))
    assert first.number == 5
    with unscoped():
        _visit(cast.yeshan, cast.yeshan.person, at(2025, 1, 2))
    across = bulletin_draft(week_start=date(2024, 12, 30))
    # Seen from 2024-01-20 that week has not ended: publishing it asks first.
    with pytest.raises(ValidationError, match="才结束，数字可能还会变化。确认现在发布吗"):
        publish(actor=cast.county_viewer, bulletin=across)
    across = publish(actor=cast.county_viewer, bulletin=across, confirm_unfinished=True)
    assert (across.year, across.number) == (2025, 1)
    assert next_number(2024) == 6 and next_number(2025) == 2


@pytest.mark.django_db
def test_redraft_updates_the_draft_keeps_edited_items_and_refuses_a_published_one(week_data):
    cast = week_data
    first = bulletin_draft(week_start=WEEK)
    item = first.items.get()
    item.body, item.source = "编辑改写的正文。", BulletinItem.Source.EDITED
    item.save()
    with unscoped():
        _activity(cast.tongcheng, date(2024, 1, 13), reached=3)
    again = bulletin_draft(week_start=WEEK)
    assert again.pk == first.pk and again.number is None
    assert Bulletin.objects.count() == 1
    assert again.items.count() == 2
    assert again.items.get(town=cast.yeshan.town).body == "编辑改写的正文。"
    # The towns already in the issue keep their places; a new one follows.
    assert [i.town.code for i in again.items.order_by("order")] == [cast.yeshan.town.code, cast.tongcheng.town.code]
    assert AuditRecord.objects.filter(action="bulletin.redraft").count() == 1
    publish(actor=cast.county_viewer, bulletin=first)
    with pytest.raises(BulletinPublished):
        bulletin_draft(week_start=WEEK)


@pytest.mark.django_db
def test_draft_runs_a_constant_number_of_queries(week_data):
    with CaptureQueriesContext(connection) as one:
        assert bulletin_draft(week_start=WEEK).items.count() == 1
    with CaptureQueriesContext(connection) as two:
        assert bulletin_draft(week_start=date(2024, 1, 1)).items.count() == 2
    assert len(one) == len(two) <= 25


def test_beat_drafts_the_previous_week_every_monday_morning():
    entry = settings.CELERY_BEAT_SCHEDULE["draft-weekly-bulletin"]
    assert entry["task"] == "reports.tasks.draft_weekly_bulletin"
    assert entry["schedule"] == crontab(day_of_week=1, hour=7, minute=30)
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"
    assert previous_week_start(date(2024, 1, 15)) == date(2024, 1, 8)
    assert previous_week_start(date(2024, 1, 17)) == date(2024, 1, 8)


@pytest.mark.django_db
def test_the_task_drafts_last_week(week_data, monkeypatch):
    from reports import tasks

    monkeypatch.setattr(tasks.timezone, "localdate", lambda: date(2024, 1, 15))
    result = tasks.draft_weekly_bulletin.apply().get()
    assert result["week"] == "2024-01-08" and result["pk"] == Bulletin.objects.get().pk
    assert AuditRecord.objects.get(action="bulletin.draft").channel == AuditRecord.Channel.JOB


@pytest.mark.django_db
def test_command_prints_the_number_and_the_page_and_writes_the_docx(week_data, tmp_path):
    out = StringIO()
    call_command("bulletin_draft", "--week", "2024-01-10", "--out", str(tmp_path), stdout=out)
    bulletin = Bulletin.objects.get()
    assert bulletin.week_start == WEEK
    assert "2024年第1期（草稿，期号暂定" in out.getvalue()
    assert f"/reports/bulletins/{bulletin.pk}/" in out.getvalue()
    docx = tmp_path / "bulletin-2024-01-08.docx"
    assert f"Word：{docx}" in out.getvalue()
    assert docx.read_bytes()[:2] == b"PK"


@pytest.mark.django_db
def test_the_page_reads_like_the_seed(client, week_data):
    cast = week_data
    bulletin = bulletin_draft(week_start=WEEK)
    client.force_login(cast.county_viewer)
    page = client.get(reverse("reports:bulletin_detail", args=[bulletin.pk])).content.decode()
    for text in [
        "天长组工信息",
        "第 1 期",
        "中共天长市委组织部研究室",
        "2024年1月15日",
        "【“双节慰问”专题】",
        "□冶山镇：问需于民解难题，“双节慰问”见行见效。",
        "草稿 · 期号暂定",
        "1月8日至14日，围绕“双节慰问”，全市1个镇（街道）共入户走访2户",
        "报：部领导",
        "送：各镇（街道）党（工）委",
    ]:
        assert text in page
    listing = client.get(reverse("reports:bulletin_list")).content.decode()
    assert "草稿（期号暂定）" in listing
    # A town reads published issues only: the draft stays with the editor.
    client.force_login(cast.yeshan.admin)
    listing = client.get(reverse("reports:bulletin_list")).content.decode()
    assert "草稿" not in listing and "尚无已发布的组工信息" in listing
    assert client.get(reverse("reports:bulletin_detail", args=[bulletin.pk])).status_code == 404
    assert client.get(reverse("reports:bulletin_docx", args=[bulletin.pk])).status_code == 404
    client.force_login(cast.yeshan.grid_worker)
    assert client.get(reverse("reports:bulletin_list")).status_code == 403
