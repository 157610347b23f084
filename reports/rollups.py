"""Dashboard rollups (issue 7 §1): rebuilt per campaign in a few set-based statements.

Counting the distinct people a campaign has reached over a million visits on every request does
not fit the dashboard's 50 ms. So a refresh writes, for one campaign and in one transaction:

* CampaignTarget: every target (visits/targets.py, the one rule: 在册, in a campaign town, on the
  town's approved list or, before approval, in a target category) with the day of their first
  visit under the campaign;
* CellCoverage: targeted people (and households) per small cell;
* CellDay / TownDay: additive counts per cell / town and day (visits, people first reached,
  grants and their cash and goods value, follow-ups raised and closed; activities per town);
* CadreDay: visits logged per cadre and day.

Because "reached" is counted on the day of a person's *first* visit, coverage up to any day is a
plain SUM, and so is every other figure over any date range. Readers (reports/selectors.py) sum
a few hundred rows. Writers (visits, grants, activities, follow-ups, imports) announce the change in
their own transaction (core/outbox.py: "campaign X changed", "town Y's registry changed"); the
outbox drain refreshes each campaign once per burst after commit; a beat job refreshes the running campaigns
every few minutes as well, so a missed signal costs minutes of staleness, never a wrong figure
for long. The page says when its figures were computed.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.scoping import unscoped
from funds.models import handed_out_sql
from reports.models import RollupRefresh

# Grants counted: those handed out, the one definition (Disbursement.objects.handed_out(); its SQL
# is generated from the same constants, and tests/funds/test_handed_out.py compares the rollups with
# the queryset): pending, rejected and voided grants are not. Cash and transfers at their amount,
# goods at quantity × unit value. Rejected follow-ups (不予受理) are not work taken on.
_COUNTED_GRANT = handed_out_sql("d")
_ADVISORY_NAMESPACE = 7107  # pg_advisory_xact_lock(namespace, campaign id): one refresh per campaign at a time


def _day(column: str) -> str:
    """SQL for the local (settings.TIME_ZONE) date of a timestamp column."""
    if connection.vendor == "postgresql":
        tz = settings.TIME_ZONE.replace("'", "")
        return f"(({column}) AT TIME ZONE '{tz}')::date"
    # SQLite keeps UTC text; Asia/Shanghai has one fixed offset (no DST).
    offset = timezone.now().astimezone(timezone.get_current_timezone()).utcoffset()
    return f"date({column}, '{int(offset.total_seconds() // 3600):+d} hours')"


def _targets_sql(campaign_id: int) -> tuple[str, list]:
    """The campaign's targets as SQL compiled from visits.targets.campaign_targets (the one rule:
    在册, the campaign's towns, the approved list or before approval the categories), so the
    dashboards cannot count a different set from the registry and the home page."""
    from visits.targets import campaign_targets

    with unscoped():
        query = campaign_targets(campaign_id).order_by().values("id").query
    sql, params = query.sql_with_params()
    return sql, list(params)


def _statements(campaign_id: int) -> list[tuple[str, int | list]]:
    """(SQL, how many times it takes the campaign id — or its parameters) in the order they run."""
    tables = [
        "reports_campaigntarget",
        "reports_cellcoverage",
        "reports_cellday",
        "reports_townday",
        "reports_cadreday",
        "reports_cadrezone",
    ]
    deletes = [(f"DELETE FROM {t} WHERE campaign_id = %s", 1) for t in tables]  # noqa: S608 (our table names)
    target_sql, target_params = _targets_sql(campaign_id)
    targets = f"""
        INSERT INTO reports_campaigntarget
               (campaign_id, beneficiary_id, household_id, town_id, cell_id, big_cell_id, responsible_cadre_id, first_visit_on)
        SELECT %s, b.id, b.household_id, b.town_id, b.cell_id, g.parent_id, b.responsible_cadre_id, {_day("fv.first_at")}
          FROM towns_beneficiary b
          JOIN towns_gridcell g ON g.id = b.cell_id
          LEFT JOIN (SELECT beneficiary_id, MIN(visited_at) AS first_at FROM visits_visit
                      WHERE campaign_id = %s GROUP BY beneficiary_id) fv ON fv.beneficiary_id = b.id
         WHERE b.id IN ({target_sql})"""  # noqa: S608 (our SQL and the ORM's, values as parameters)
    cells = """
        INSERT INTO reports_cellcoverage (campaign_id, town_id, big_cell_id, cell_id, targeted, households)
        SELECT campaign_id, town_id, big_cell_id, cell_id, COUNT(*), COUNT(DISTINCT household_id)
          FROM reports_campaigntarget WHERE campaign_id = %s
         GROUP BY campaign_id, town_id, big_cell_id, cell_id"""
    cell_days = f"""
        INSERT INTO reports_cellday (campaign_id, town_id, cell_id, big_cell_id, day, visits, reached, grants, cash,
                                     goods_value, followups_raised, followups_closed)
        SELECT %s, u.town_id, u.cell_id, g.parent_id, u.day, SUM(u.visits), SUM(u.reached), SUM(u.grants), SUM(u.cash),
               SUM(u.goods_value), SUM(u.raised), SUM(u.closed)
          FROM (
            SELECT town_id, cell_id, {_day("visited_at")} AS day, COUNT(*) AS visits, 0 AS reached, 0 AS grants,
                   0 AS cash, 0 AS goods_value, 0 AS raised, 0 AS closed
              FROM visits_visit WHERE campaign_id = %s GROUP BY 1, 2, 3
            UNION ALL
            SELECT town_id, cell_id, first_visit_on, 0, COUNT(*), 0, 0, 0, 0, 0
              FROM reports_campaigntarget WHERE campaign_id = %s AND first_visit_on IS NOT NULL GROUP BY 1, 2, 3
            UNION ALL
            SELECT d.town_id, d.cell_id, {_day("d.handed_at")}, 0, 0, COUNT(*),
                   SUM(CASE WHEN d.kind IN ('cash', 'transfer') THEN d.amount ELSE 0 END),
                   SUM(CASE WHEN d.kind = 'goods' THEN d.quantity * gi.unit_value ELSE 0 END), 0, 0
              FROM funds_disbursement d LEFT JOIN funds_goodsitem gi ON gi.id = d.goods_item_id
             WHERE d.campaign_id = %s AND {_COUNTED_GRANT} GROUP BY 1, 2, 3
            UNION ALL
            SELECT town_id, cell_id, raised_on, 0, 0, 0, 0, 0, COUNT(*), 0
              FROM visits_followup WHERE campaign_id = %s AND status <> 'rejected' AND cell_id IS NOT NULL GROUP BY 1, 2, 3
            UNION ALL
            SELECT town_id, cell_id, closed_on, 0, 0, 0, 0, 0, 0, COUNT(*)
              FROM visits_followup WHERE campaign_id = %s AND status = 'closed' AND cell_id IS NOT NULL GROUP BY 1, 2, 3
          ) u
          JOIN towns_gridcell g ON g.id = u.cell_id
         GROUP BY u.town_id, u.cell_id, g.parent_id, u.day"""  # noqa: S608
    town_days = """
        INSERT INTO reports_townday (campaign_id, town_id, day, visits, reached, grants, cash, goods_value,
                                     followups_raised, followups_closed, activities, activity_people)
        SELECT %s, u.town_id, u.day, SUM(u.visits), SUM(u.reached), SUM(u.grants), SUM(u.cash), SUM(u.goods_value),
               SUM(u.raised), SUM(u.closed), SUM(u.activities), SUM(u.people)
          FROM (
            SELECT town_id, day, SUM(visits) AS visits, SUM(reached) AS reached, SUM(grants) AS grants, SUM(cash) AS cash,
                   SUM(goods_value) AS goods_value, SUM(followups_raised) AS raised, SUM(followups_closed) AS closed,
                   0 AS activities, 0 AS people
              FROM reports_cellday WHERE campaign_id = %s GROUP BY 1, 2
            UNION ALL
            SELECT town_id, raised_on, 0, 0, 0, 0, 0, COUNT(*), 0, 0, 0
              FROM visits_followup WHERE campaign_id = %s AND status <> 'rejected' AND cell_id IS NULL GROUP BY 1, 2
            UNION ALL
            SELECT town_id, closed_on, 0, 0, 0, 0, 0, 0, COUNT(*), 0, 0
              FROM visits_followup WHERE campaign_id = %s AND status = 'closed' AND cell_id IS NULL GROUP BY 1, 2
            UNION ALL
            -- an activity's reached_count already includes the people picked from the registry
            SELECT town_id, held_on, 0, 0, 0, 0, 0, 0, 0, COUNT(*), SUM(reached_count)
              FROM visits_activity WHERE campaign_id = %s GROUP BY 1, 2
          ) u
         GROUP BY u.town_id, u.day"""
    cadre_days = f"""
        INSERT INTO reports_cadreday (campaign_id, town_id, cadre_id, day, visits)
        SELECT %s, town_id, recorded_by_id, {_day("visited_at")}, COUNT(*)
          FROM visits_visit WHERE campaign_id = %s GROUP BY 2, 3, 4"""  # noqa: S608
    # Each person once per cadre, whichever way the cadre answers for them (visits.selectors.mine
    # says the same for the home page): the cells and households of current assignments, and the
    # people whose responsible cadre they are.
    cadre_zones = """
        INSERT INTO reports_cadrezone (campaign_id, town_id, cadre_id, first_visit_on, people)
        SELECT %s, z.town_id, z.cadre_id, z.first_visit_on, COUNT(*)
          FROM (
            SELECT a.cadre_id, t.town_id, t.beneficiary_id, t.first_visit_on
              FROM towns_assignment a
              JOIN reports_campaigntarget t ON t.campaign_id = %s AND t.town_id = a.town_id AND t.cell_id = a.cell_id
             WHERE a.ends_on IS NULL AND a.cell_id IS NOT NULL
            UNION
            SELECT a.cadre_id, t.town_id, t.beneficiary_id, t.first_visit_on
              FROM towns_assignment a
              JOIN reports_campaigntarget t ON t.campaign_id = %s AND t.household_id = a.household_id
             WHERE a.ends_on IS NULL AND a.household_id IS NOT NULL
            UNION
            SELECT responsible_cadre_id, town_id, beneficiary_id, first_visit_on FROM reports_campaigntarget
             WHERE campaign_id = %s AND responsible_cadre_id IS NOT NULL
          ) z
         GROUP BY z.town_id, z.cadre_id, z.first_visit_on"""
    return [
        *deletes,
        (targets, [campaign_id, campaign_id, *target_params]),
        (cells, 1),
        (cell_days, 6),
        (town_days, 5),
        (cadre_days, 2),
        (cadre_zones, 4),
    ]


def refresh_campaign(campaign_id: int) -> RollupRefresh:
    """Rebuild one campaign's rollups in one transaction: readers see the old figures until it commits."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_ADVISORY_NAMESPACE, campaign_id])
            # The targets statement's subplans push its cost estimate over jit_above_cost, and compiling
            # took longer than it saved: at county scale the refresh is ~3.6 s without JIT, ~5.5 s with.
            cursor.execute("SET LOCAL jit = off")
        for sql, uses in _statements(campaign_id):
            cursor.execute(sql, uses if isinstance(uses, list) else [campaign_id] * uses)
        took = int((time.perf_counter() - started) * 1000)
        state, _ = RollupRefresh.objects.update_or_create(
            campaign_id=campaign_id, defaults={"refreshed_at": timezone.now(), "took_ms": took}
        )
    return state


def campaigns_to_refresh(*, today=None) -> list[int]:
    """The beat job's campaigns: running ones, those ended in the last DASHBOARD_REFRESH_AFTER_DAYS
    (late entries still arrive), and any never refreshed."""
    from visits.models import Campaign

    today = today or timezone.localdate()
    recent = today - timedelta(days=settings.DASHBOARD_REFRESH_AFTER_DAYS)
    refreshed = set(RollupRefresh.objects.values_list("campaign_id", flat=True))
    with unscoped():
        rows = Campaign.objects.values_list("pk", "starts_on", "ends_on")
        return [pk for pk, starts, ends in rows if (starts <= today and ends >= recent) or pk not in refreshed]


def refresh_town_campaigns(town_id: int) -> None:
    """After a change to a town's registry (a roster import, a zone): refresh the town's live campaigns."""
    from visits.models import Campaign

    recent = timezone.localdate() - timedelta(days=settings.DASHBOARD_REFRESH_AFTER_DAYS)
    with unscoped():
        ids = list(Campaign.objects.filter(towns=town_id, ends_on__gte=recent).values_list("pk", flat=True))
    for campaign_id in ids:
        refresh_campaign(campaign_id)


def on_campaign_changed(key: str, payloads: list[dict]) -> None:
    """Outbox handler (core/outbox.py, registered in reports/apps.py): one refresh per burst."""
    refresh_campaign(int(key))


def on_town_registry_changed(key: str, payloads: list[dict]) -> None:
    refresh_town_campaigns(int(key))
