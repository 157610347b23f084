"""The demo is alive on any date (issue 12 §5): loaded on a day, it shows a county at work that day.

The demo scale is loaded under time-machine on two dates (a Wednesday in spring, a Monday in
summer), each inside a transaction rolled back at the end of its tests. On each: ys_grid's home
page shows people due and overdue by days, the running campaign's "not yet reached"; the nightly
escalation would move a handful of items, not every item left open since 2024; last week's
bulletin waits as a draft; the 2024 campaign is the history it was.
"""

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse

from core.scoping import unscoped
from demo import facts, load
from demo.running import running_campaign_name, running_window
from reports.models import Bulletin
from towns.models import Beneficiary
from visits.followup_escalation import escalate_followups
from visits.models import Campaign, FollowUp, FollowUpEvent, Visit

DATES = [date(2027, 3, 17), date(2028, 7, 3)]


@pytest.fixture(scope="module", params=DATES, ids=str)
def loaded_on(request, django_db_setup, django_db_blocker):
    day = request.param
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        time_machine.travel(datetime(day.year, day.month, day.day, 10, 0, tzinfo=facts.TZ), tick=True),
    ):
        # The build itself (load_demo's inspection run and rollups are covered by test_load_demo).
        load.build("demo")
        yield day
        transaction.set_rollback(True)


def _section(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(.*?)</section>', html, re.S)
    assert match, testid
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_ys_grid_home_shows_due_and_overdue_in_days_and_who_the_campaign_has_not_reached(loaded_on, db, client):
    response = client.post(reverse("login"), {"username": "ys_grid", "password": facts.PASSWORD})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert f"今天 {loaded_on.month}月{loaded_on.day}日" in html  # this year: no year (towns/dates.py)
    overdue = _section(html, "overdue")
    late = [int(n) for n in re.findall(r"超期 (\d+) 天", overdue)]
    assert late and all(1 <= n <= 30 for n in late), overdue
    assert "尚未走访（已" not in overdue
    due = _section(html, "due-soon")
    assert re.search(r"\d+月\d+日前", due), due
    unreached = _section(html, "campaign-unvisited")
    assert f"{running_campaign_name(loaded_on - timedelta(days=27))}：尚未走访" in unreached
    assert "登记走访" in unreached
    mine = _section(html, "my-followups")
    assert "剩" in mine and "已超期 1 天" in mine, mine


def test_nobody_in_the_county_is_overdue_by_more_than_weeks(loaded_on, db):
    with unscoped():
        active = Beneficiary.objects.filter(status="active")
        oldest = active.order_by("next_visit_due").values_list("next_visit_due", flat=True).first()
        assert (loaded_on - oldest).days <= 30
        overdue = active.filter(next_visit_due__lt=loaded_on).count()
        due = active.filter(next_visit_due__gte=loaded_on, next_visit_due__lte=loaded_on + timedelta(days=7)).count()
        assert 0.05 * active.count() < overdue < 0.4 * active.count()
        assert due > 0.03 * active.count()


def test_the_running_campaign_started_four_weeks_ago_with_visits_grants_and_items_never_in_the_future(loaded_on, db):
    with unscoped():
        running = Campaign.objects.get(starts_on__lte=loaded_on, ends_on__gte=loaded_on)
        assert (running.starts_on, running.ends_on) == running_window(loaded_on)
        assert running.towns.count() == 16
        visits = Visit.objects.filter(campaign=running)
        assert visits.count() > 1000
        assert not Visit.objects.filter(visited_at__date__gte=loaded_on).exists()
        assert not Visit.objects.filter(created_at__gt=datetime.now(facts.TZ)).exists()
        assert running.disbursements.filter(status="issued").count() > 500
        open_items = FollowUp.objects.filter(campaign=running, status__in=["pending", "in_progress"])
        assert open_items.filter(deadline__gte=loaded_on, deadline__lte=loaded_on + timedelta(days=7)).count() >= 10


def test_the_nightly_escalation_moves_a_handful_not_everything_left_open_since_2024(loaded_on, db):
    with unscoped():
        late_2024 = FollowUp.objects.filter(status__in=["pending", "in_progress"], deadline__lt=date(2024, 3, 1))
        assert late_2024.count() > 50 and not late_2024.exclude(escalation_level=2).exists()
        # The job's events sit on the nights the items rose, never after the load.
        events = FollowUpEvent.objects.filter(kind="escalate")
        assert events.count() >= late_2024.count() * 2
        assert not events.filter(at__date__gt=loaded_on).exists()
    for nights in (0, 1, 2):
        with transaction.atomic():
            moved = escalate_followups(today=loaded_on + timedelta(days=nights)).total
            transaction.set_rollback(True)
        if nights == 0:
            assert moved == 0  # the load is as after last night's run
        else:
            assert 1 <= moved <= 30, (nights, moved)


def test_last_weeks_bulletin_waits_as_a_draft(loaded_on, db):
    monday = loaded_on - timedelta(days=loaded_on.weekday() + 7)
    with unscoped():
        bulletin = Bulletin.objects.get(week_start=monday)
        assert bulletin.status == Bulletin.Status.DRAFT
        assert bulletin.items.count() >= 10
        assert "走访慰问" in bulletin.topic


def test_the_2024_campaign_is_the_history_it_was(loaded_on, db):
    with unscoped():
        history = Campaign.objects.get(name=facts.CAMPAIGN_NAME)
        visits = Visit.objects.filter(campaign=history)
        assert visits.count() > 2000
        assert not visits.filter(visited_at__date__gt=facts.AS_OF).exists()
        # Between the history and the running campaign's weeks, nothing happened.
        quiet_from, quiet_to = facts.AS_OF + timedelta(days=1), loaded_on - timedelta(days=160)
        assert not Visit.objects.filter(visited_at__date__gte=quiet_from, visited_at__date__lte=quiet_to).exists()
        assert Bulletin.objects.count() == 1  # only the draft of last week; 2024's weeks are drafted on demand
