"""Overdue follow-ups rise to the town admin after 3 days and the county after 7 (issue 6 §2),
moved by the nightly job with the clock moved, not waited for."""

from datetime import date

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from core.models import AuditRecord
from core.scoping import unscoped
from tests.cast import at
from tests.visits.followup_objects import make_followup
from visits.followup_escalation import escalate_followups
from visits.models import FollowUp, FollowUpEvent
from visits.tasks import escalate_followups_task

DEADLINE = date(2024, 1, 10)


def _levels(*items):
    with unscoped():
        return [FollowUp.objects.get(pk=item.pk).escalation_level for item in items]


def _escalations(item):
    with unscoped():
        return list(FollowUpEvent.objects.filter(followup=item, kind=FollowUpEvent.Kind.ESCALATE).values_list("note", flat=True))


def _audits(item):
    with unscoped():
        return list(
            AuditRecord.objects.filter(action="followup.escalate", object_id=str(item.pk))
            .order_by("id")
            .values_list("after", "channel", "town_id")
        )


@pytest.fixture
def items(cast):
    return {
        "late": make_followup(cast.yeshan, title="逾期事项", deadline=DEADLINE),
        "pending": make_followup(cast.yeshan, title="待受理事项", status=FollowUp.Status.PENDING, deadline=DEADLINE),
        "resolved": make_followup(cast.yeshan, title="已办结事项", status=FollowUp.Status.RESOLVED, deadline=DEADLINE),
        "closed": make_followup(cast.yeshan, title="已销号事项", status=FollowUp.Status.CLOSED, deadline=DEADLINE),
        "later": make_followup(cast.tongcheng, title="未到期事项", deadline=date(2024, 1, 20)),
        "no_deadline": make_followup(cast.yeshan, title="无时限事项"),
    }


def test_two_days_late_stays_with_the_owner(items):
    with time_machine.travel(at(2024, 1, 12), tick=False):
        result = escalate_followups()
    assert result.total == 0
    assert _levels(items["late"]) == [0]


def test_three_days_late_rises_to_the_town_then_seven_to_the_county(items):
    late, pending = items["late"], items["pending"]
    with time_machine.travel(at(2024, 1, 13), tick=False):
        escalate_followups_task.delay()
    assert _levels(late, pending) == [1, 1]
    assert _escalations(late) == ["逾期3天以上，升级至镇级督办"]
    [(after, channel, town_id)] = _audits(late)
    assert after["escalation_level"] == 1 and channel == "job" and town_id == late.town_id
    with unscoped():
        assert FollowUp.objects.get(pk=late.pk).escalated_at == at(2024, 1, 13)

    with time_machine.travel(at(2024, 1, 17), tick=False):
        escalate_followups()
    assert _levels(late, pending) == [2, 2]
    assert _escalations(late) == ["逾期3天以上，升级至镇级督办", "逾期7天以上，升级至县级督办"]
    assert [a[0]["escalation_level"] for a in _audits(late)] == [1, 2]


def test_ten_days_late_goes_straight_to_the_county_in_one_step(items):
    with time_machine.travel(at(2024, 1, 20), tick=False):
        result = escalate_followups()
    assert result.moved == {2: sorted([items["late"].pk, items["pending"].pk])}
    assert _escalations(items["late"]) == ["逾期7天以上，升级至县级督办"]


def test_running_twice_the_same_day_changes_nothing(items, django_assert_num_queries):
    with time_machine.travel(at(2024, 1, 20), tick=False):
        escalate_followups()
        with unscoped():
            events, audits = FollowUpEvent.objects.count(), AuditRecord.objects.count()
        # Second run: one candidate query per level and the savepoint, nothing written.
        with django_assert_num_queries(4):
            result = escalate_followups()
    assert result.total == 0
    with unscoped():
        assert (FollowUpEvent.objects.count(), AuditRecord.objects.count()) == (events, audits)


def test_done_work_and_items_without_a_deadline_never_escalate(items):
    with time_machine.travel(at(2024, 3, 1), tick=False):
        escalate_followups()
    assert _levels(items["resolved"], items["closed"], items["no_deadline"]) == [0, 0, 0]
    assert _levels(items["later"]) == [2]


def test_queries_do_not_grow_with_the_number_of_items(cast, django_assert_max_num_queries):
    def run(n):
        for i in range(n):
            make_followup(cast.yeshan, title=f"批量{i}", deadline=DEADLINE)
        with time_machine.travel(at(2024, 1, 20), tick=False), django_assert_max_num_queries(12) as captured:
            escalate_followups()
        return len(captured)

    assert run(2) == run(20)


def test_the_command_runs_the_same_escalation(items, capsys):
    with time_machine.travel(at(2024, 1, 13), tick=False):
        call_command("escalate_followups")
    assert "共升级 2 件" in capsys.readouterr().out
    [(_, channel, _)] = _audits(items["late"])
    assert channel == "shell"


# --- the 挂图作战 board -------------------------------------------------------------------------


@pytest.fixture
def board_items(cast):
    with time_machine.travel(at(2024, 1, 10), tick=False):
        items = {
            "red": make_followup(cast.yeshan, title="红色逾期事项", deadline=date(2024, 1, 5), tracked=True),
            "orange": make_followup(cast.yeshan, title="橙色临期事项", deadline=date(2024, 1, 12)),
            "green": make_followup(cast.yeshan, title="绿色事项", deadline=date(2024, 1, 30)),
            "county": make_followup(cast.yeshan, title="县级督办事项", deadline=date(2024, 1, 1), escalation_level=2),
            "town": make_followup(cast.yeshan, title="镇级督办事项", deadline=date(2024, 1, 6), escalation_level=1),
            "done": make_followup(cast.yeshan, title="已办结事项", status=FollowUp.Status.RESOLVED, deadline=date(2024, 1, 1)),
            "other": make_followup(cast.tongcheng, title="铜城镇督办事项", deadline=date(2024, 1, 1), escalation_level=2),
        }
    return items


def _cards(response):
    import re

    body = response.content.decode()
    return {
        title: (colour, int(level))
        for colour, level, title in re.findall(
            r'data-colour="(\w+)" data-level="(\d)">\s*<div[^>]*>\s*<span class="fw-semibold">([^<]+)</span>', body
        )
    }


def test_the_town_board_colours_and_marks_escalated_items(client, cast, board_items):
    client.force_login(cast.yeshan.cadre)
    with time_machine.travel(at(2024, 1, 10), tick=False):
        response = client.get(reverse("visits:board"))
    assert response.status_code == 200
    cards = _cards(response)
    assert cards == {
        "县级督办事项": ("danger", 2),
        "红色逾期事项": ("danger", 0),
        "镇级督办事项": ("danger", 1),
        "橙色临期事项": ("warning", 0),
        "绿色事项": ("success", 0),
    }
    assert list(cards)[0] == "县级督办事项"  # by deadline
    body = response.content.decode()
    assert "督办：县" in body and "督办：镇" in body
    assert "铜城镇督办事项" not in body and "已办结事项" not in body
    assert "逾期5天" in body and "剩2天" in body


def test_the_board_filters_by_kind_village_and_owner(client, cast, board_items):
    make_followup(cast.yeshan, title="管理员的措施", kind=FollowUp.Kind.MEASURE, owner=cast.yeshan.admin.cadre)
    client.force_login(cast.yeshan.admin)
    by_kind = _cards(client.get(reverse("visits:board"), {"kind": "measure"}))
    assert list(by_kind) == ["管理员的措施"]
    by_owner = _cards(client.get(reverse("visits:board"), {"owner": cast.yeshan.admin.cadre.pk}))
    assert list(by_owner) == ["管理员的措施"]
    by_village = _cards(client.get(reverse("visits:board"), {"village": cast.yeshan.village.pk}))
    assert len(by_village) == 6


def test_a_town_user_asking_for_another_town_gets_a_404(client, cast, board_items):
    client.force_login(cast.yeshan.admin)
    assert client.get(reverse("visits:board"), {"town": cast.tongcheng.town.pk}).status_code == 404


def test_the_county_sees_level_two_items_across_towns_and_figures_per_town(client, cast, board_items):
    client.force_login(cast.county_viewer)
    with time_machine.travel(at(2024, 1, 10), tick=False):
        response = client.get(reverse("visits:board"))
        town_board = client.get(reverse("visits:board"), {"town": cast.tongcheng.town.pk})
    assert set(_cards(response)) == {"县级督办事项", "铜城镇督办事项"}
    figures = response.content.decode().split('data-testid="figures"')[1]
    assert "冶山镇" in figures and "铜城镇" in figures
    assert set(_cards(town_board)) == {"铜城镇督办事项"}


def test_board_queries_are_constant_in_the_number_of_items(client, cast, django_assert_max_num_queries):
    client.force_login(cast.yeshan.admin)

    def count(n):
        for i in range(n):
            make_followup(cast.yeshan, title=f"批量{i}", deadline=date(2024, 1, 5 + i % 20), escalation_level=i % 3)
        with django_assert_max_num_queries(12) as captured:
            assert client.get(reverse("visits:board")).status_code == 200
        return len(captured)

    assert count(2) == count(40)
