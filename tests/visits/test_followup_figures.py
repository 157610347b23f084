"""Follow-up figures per town and per cadre on a seeded set (issue 6 §3)."""

from datetime import date

import pytest

from tests.visits.followup_objects import make_followup
from visits.followup_figures import followup_figures
from visits.models import FollowUp

TODAY = date(2024, 2, 1)
S = FollowUp.Status


@pytest.fixture
def seeded(cast):
    ys, tc = cast.yeshan, cast.tongcheng
    admin = ys.admin.cadre
    make_followup(
        ys,
        title="当场解决",
        status=S.CLOSED,
        resolved_at_once=True,
        raised_on=date(2024, 1, 2),
        closed_on=date(2024, 1, 2),
        satisfaction="satisfied",
    )
    make_followup(
        ys,
        title="销号",
        status=S.CLOSED,
        raised_on=date(2024, 1, 2),
        closed_on=date(2024, 1, 12),
        satisfaction="mostly",
        reopened_count=1,
        tracked=True,
    )
    make_followup(ys, title="逾期", status=S.IN_PROGRESS, deadline=date(2024, 1, 20), tracked=True)
    make_followup(ys, title="已回访", status=S.REVISITED, satisfaction="dissatisfied", reopened_count=2, owner=admin)
    make_followup(ys, title="措施", kind=FollowUp.Kind.MEASURE, status=S.IN_PROGRESS, deadline=date(2024, 3, 1), owner=admin)
    make_followup(ys, title="不予受理", status=S.REJECTED, rejection_reason="不属实")
    make_followup(ys, title="去年", status=S.CLOSED, raised_on=date(2023, 5, 1), closed_on=date(2023, 5, 2))
    make_followup(tc, title="铜城逾期", status=S.PENDING, deadline=date(2024, 1, 5))
    return cast


def test_town_and_cadre_rows(seeded, django_assert_num_queries):
    user = seeded.county_viewer
    followup_figures(user)  # the user's scope is read once per user (one query), then cached
    with django_assert_num_queries(2):
        figures = followup_figures(user, start=date(2024, 1, 1), today=TODAY)
    rows = {row.name: row for row in figures.towns}  # in division-code order
    yeshan, tongcheng = rows["冶山镇"], rows["铜城镇"]
    assert (yeshan.raised, yeshan.at_once, yeshan.tracked, yeshan.overdue, yeshan.reopened, yeshan.closed) == (5, 1, 2, 1, 3, 2)
    assert yeshan.avg_days_to_close == 5.0  # 0 and 10 days
    assert (yeshan.revisited, yeshan.satisfied) == (3, 2)
    assert yeshan.satisfaction == pytest.approx(2 / 3)
    assert (yeshan.measures, yeshan.demands_solved) == (1, 3)
    assert (tongcheng.raised, tongcheng.overdue, tongcheng.satisfaction, tongcheng.avg_days_to_close) == (1, 1, None, None)

    by_cadre = {(row.name, row.raised) for row in figures.cadres}
    assert by_cadre == {("冶山镇包村干部", 3), ("冶山镇管理员", 2), ("铜城镇包村干部", 1)}


def test_a_town_user_sees_only_their_town(seeded):
    figures = followup_figures(seeded.yeshan.cadre, today=TODAY)
    assert [row.name for row in figures.towns] == ["冶山镇"]
    assert figures.towns[0].raised == 6  # last year's included without a start date
    assert "铜城镇包村干部" not in {row.name for row in figures.cadres}


def test_queries_are_constant_in_the_number_of_items(cast, django_assert_num_queries):
    for i in range(30):
        make_followup(cast.yeshan, title=f"批量{i}", owner=cast.yeshan.admin.cadre if i % 2 else None, status=S.PENDING)
    user = cast.county_viewer
    followup_figures(user)
    with django_assert_num_queries(2):
        figures = followup_figures(user, today=TODAY)
    assert sum(row.raised for row in figures.cadres) == 30
