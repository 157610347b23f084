"""Every figure of the bulletin equals an independent count of the same thing (issue 12 §1, §4).

The demo county at tiny scale (16 towns, every kind of contact, activities, grants, follow-ups) is
built once for the module inside a transaction rolled back at the end. For several weeks the test
drafts the issue, reads the .docx with python-docx and checks each figure of the county lead, of
every town's item (every town is printed for the check) and of the closing sentence against SQL
written here, not the service's queries. Approximate figures ("80余") are compared by their rounding
rule: the floor of the count to a round figure, and 余 exactly when the count is above it.
"""

import io
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from docx import Document

from core.scoping import unscoped
from demo import load
from reports import bulletin_docx, bulletin_selectors, bulletin_services
from reports.phrasing import approx_yuan, floor_round
from reports.rollups import campaigns_to_refresh, refresh_campaign
from reports.services import bulletin_draft
from towns.models import Town

WEEKS = [date(2023, 12, 25), date(2024, 1, 1), date(2024, 1, 8)]
TZ = ZoneInfo("Asia/Shanghai")
SOLVED = ("resolved", "revisited", "closed")
N = r"(\d+余?)"
# figure name -> the words that name it in the bulletin
PATTERNS = {
    "home": rf"入户走访{N}户",
    "phone": rf"电话慰问{N}人",
    "group": rf"集中慰问{N}人",
    "study": rf"送学上门{N}人",
    "health": rf"健康服务{N}人",
    "activities": rf"活动{N}次",
    "reached": rf"惠及群众{N}人",
    "cash": r"慰问金(\d+万?余?)元",
    "gifts": rf"慰问品{N}份",
    "measures": rf"帮扶措施{N}条",
    "demands": rf"群众诉求{N}个",
    "wishes": rf"“微心愿”{N}个",
}
WEEK_FIGURES = ("home", "phone", "group", "study", "health", "activities", "reached", "cash", "gifts")


@pytest.fixture(scope="module")
def county(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        load.build("tiny")
        for campaign_id in campaigns_to_refresh():
            refresh_campaign(campaign_id)
        yield
        transaction.set_rollback(True)


def _one(sql: str, params) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _expected(week: date, town_ids: list[int]) -> dict:
    """The counts by hand: door visits count households, the other contacts people; grants handed out
    (issued, approved or needing no approval) in the week; follow-ups raised by the week's end, not rejected, to date."""
    start = datetime.combine(week, time.min, TZ)
    end = start + timedelta(days=7)
    towns = list(town_ids)
    out = {}
    for kind in ("home", "phone", "group", "study", "health"):
        households, people = _one(
            "SELECT COUNT(DISTINCT household_id), COUNT(DISTINCT beneficiary_id) FROM visits_visit"
            " WHERE kind = %s AND town_id = ANY(%s) AND visited_at >= %s AND visited_at < %s",
            [kind, towns, start, end],
        )
        out[kind] = households if kind == "home" else people
    out["activities"], out["reached"], activity_gifts = _one(
        "SELECT COUNT(*), COALESCE(SUM(reached_count), 0), COALESCE(SUM(gifts_count), 0) FROM visits_activity"
        " WHERE town_id = ANY(%s) AND held_on >= %s AND held_on < %s",
        [towns, week, week + timedelta(days=7)],
    )
    out["cash"], goods = _one(
        "SELECT COALESCE(SUM(amount) FILTER (WHERE kind IN ('cash', 'transfer')), 0),"
        " COALESCE(SUM(quantity) FILTER (WHERE kind = 'goods'), 0) FROM funds_disbursement"
        " WHERE status = 'issued' AND approval_status IN ('not_required', 'approved')"
        " AND town_id = ANY(%s) AND handed_at >= %s AND handed_at < %s",
        [towns, start, end],
    )
    out["gifts"] = activity_gifts + goods
    out["measures"], out["demands"], out["wishes"] = _one(
        "SELECT COUNT(*) FILTER (WHERE kind = 'measure'),"
        " COUNT(*) FILTER (WHERE kind = 'demand' AND status = ANY(%s)),"
        " COUNT(*) FILTER (WHERE kind = 'wish' AND status = ANY(%s))"
        " FROM visits_followup WHERE town_id = ANY(%s) AND raised_on < %s AND status <> 'rejected'",
        [list(SOLVED), list(SOLVED), towns, week + timedelta(days=7)],
    )
    return out


def _agrees(text: str, count) -> bool:
    """ "80余" for 80 < count < 90 (the floor rule of reports/phrasing.py), "7" for exactly 7."""
    if "万" in text or isinstance(count, Decimal):
        return text == approx_yuan(count)
    if text.endswith("余"):
        shown = int(text[:-1])
        return shown == floor_round(count) and count > shown
    return int(text) == count


def _check(text: str, expected: dict, where: str, names=PATTERNS) -> int:
    """Every figure named in the text agrees with the count; every nonzero week figure is named."""
    checked = 0
    for name, pattern in names.items():
        found = re.findall(pattern, text)
        if not expected.get(name):
            assert not found, f"{where}: {name} printed {found} but the count is 0\n{text}"
            continue
        if name in WEEK_FIGURES:
            assert found, f"{where}: {name} = {expected[name]} is not named\n{text}"
        for shown in found:
            assert _agrees(shown, expected[name]), f"{where}: {name} printed {shown}, counted {expected[name]}\n{text}"
            checked += 1
    return checked


def _paragraphs(bulletin) -> list[str]:
    data = bulletin_docx.build(bulletin, bulletin_selectors.printed_items(bulletin), bulletin_selectors.display_number(bulletin))
    return [p.text for p in Document(io.BytesIO(data)).paragraphs if p.text.strip()]


def _editor():
    return get_user_model().objects.get(username="county")


@pytest.mark.django_db
@pytest.mark.parametrize("week", WEEKS)
def test_every_figure_of_the_issue_equals_an_independent_count(county, week):
    with unscoped():
        towns = {t.name: t.pk for t in Town.objects.all()}
    bulletin = bulletin_draft(week_start=week)
    paragraphs = _paragraphs(bulletin)
    checked = 0

    # The county lead: every town's work of the week.
    lead = next(p for p in paragraphs if p.startswith(f"{week.month}月{week.day}日至"))
    assert "超" not in lead
    checked += _check(lead, _expected(week, list(towns.values())), "导语")

    # The closing sentence: the towns it names, together.
    closing = next((p for p in paragraphs if p.startswith("此外，")), "")
    if closing:
        named = re.match(r"此外，(.+?)(?:等(\d+)个镇（街道）)?本周", closing)
        names = named.group(1).split("、")
        assert int(named.group(2) or 1) == len(names)
        checked += _check(closing, _expected(week, [towns[n] for n in names]), "结尾")

    # Every town's item: the printed ones as drafted, then the rest printed too for the check.
    printed = {item.town.name for item in bulletin_selectors.printed_items(bulletin)}
    assert printed and not printed & set(names if closing else [])
    headlines = [item.headline for item in bulletin.items.all()]
    assert len(headlines) == len(set(headlines)), "a headline repeats within the issue"
    for item in bulletin.items.filter(included=False):
        bulletin_services.set_included(actor=_editor(), item=item, included=True)
    bulletin.refresh_from_db()
    items = [p for p in _paragraphs(bulletin) if p.startswith("□")]
    assert len(items) == bulletin.items.count() >= 10
    for text in items:
        town = re.match(r"□(.+?)：", text).group(1)
        assert "超" not in text
        checked += _check(text, _expected(week, [towns[town]]), town)
    assert checked >= 50  # the check did look at the figures (tiny scale: 50-150 per week)


@pytest.mark.django_db
def test_a_door_visit_is_never_counted_with_a_phone_call(county):
    """The bug of issue 12: 入户走访 counted every visit. A town with both kinds that week names both."""
    week = date(2024, 1, 8)
    start = datetime.combine(week, time.min, TZ)
    row = _one(
        "SELECT town_id FROM visits_visit WHERE visited_at >= %s AND visited_at < %s GROUP BY town_id"
        " HAVING COUNT(*) FILTER (WHERE kind = 'home') > 0 AND COUNT(*) FILTER (WHERE kind <> 'home') > 0 LIMIT 1",
        [start, start + timedelta(days=7)],
    )
    assert row, "the demo week has a town with door visits and other contacts"
    bulletin = bulletin_draft(week_start=week)
    item = bulletin.items.select_related("town").get(town_id=row[0])
    expected = _expected(week, [row[0]])
    shown = re.search(PATTERNS["home"], item.body).group(1)
    assert _agrees(shown, expected["home"])  # households with a door visit, nothing else
    for kind in ("phone", "group", "study", "health"):
        assert bool(re.search(PATTERNS[kind], item.body)) == bool(expected[kind]), kind


@pytest.mark.django_db
def test_coverage_in_an_item_is_the_dashboards_targets_reached(county):
    """Coverage is read through the rollups (reports.selectors), so the rule for who is a target is the
    dashboard's; the printed percentage is floored, never rounded up."""
    for week in WEEKS:
        bulletin = bulletin_draft(week_start=week)
        for item in bulletin.items.select_related("town"):
            found = re.search(r"覆盖率达(\d+)%", item.body)
            if not found:
                continue
            targeted, reached = _one(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE first_visit_on <= %s) FROM reports_campaigntarget t"
                " JOIN visits_campaign c ON c.id = t.campaign_id"
                " WHERE t.town_id = %s AND c.starts_on <= %s AND c.ends_on >= %s",
                [week + timedelta(days=6), item.town_id, week + timedelta(days=6), week],
            )
            assert int(found.group(1)) == reached * 100 // targeted
            return
    pytest.fail("no item of the demo weeks states a coverage")
