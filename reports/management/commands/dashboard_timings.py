"""Times the dashboards at the current database's scale (run on the county-scale data set):

    python manage.py dashboard_timings [--campaign ID] [--repeat 15]

The rollup refresh, each read of reports/selectors.py against the same SQL run bare through a
cursor (the selectors' own overhead), a live count from the raw tables (what the rollups save),
and the dashboard requests in-process (best of N, with their query counts).
"""

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from core.permissions import COUNTY_VIEWER, TOWN_ADMIN
from core.scoping import unscoped
from reports import selectors
from reports.rollups import refresh_campaign
from towns.models import GridCell, Town
from visits.models import Campaign

LIVE_COVERAGE_BY_TOWN = """
    SELECT b.town_id, COUNT(*), COUNT(v.beneficiary_id)
      FROM towns_beneficiary b
      LEFT JOIN (SELECT DISTINCT beneficiary_id FROM visits_visit WHERE campaign_id = %s AND visited_at < %s) v
             ON v.beneficiary_id = b.id
     WHERE b.status = 'active' AND b.town_id IN (SELECT town_id FROM visits_campaign_towns WHERE campaign_id = %s)
       AND EXISTS (SELECT 1 FROM towns_beneficiary_categories bc JOIN visits_campaign_target_categories tc
                     ON tc.category_id = bc.category_id WHERE tc.campaign_id = %s AND bc.beneficiary_id = b.id)
     GROUP BY b.town_id"""


def best(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


class _Recorder:
    """Captures the SQL a selector runs, so the same statement can be timed bare."""

    def __init__(self):
        self.calls = []

    def __call__(self, execute, sql, params, many, context):
        self.calls.append((sql, params))
        return execute(sql, params, many, context)


def bare(call):
    sql, params = call

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return run


class Command(BaseCommand):
    help = "Times the dashboard rollups, selectors and pages at this database's scale."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int)
        parser.add_argument("--repeat", type=int, default=15)

    def handle(self, *args, campaign=None, repeat=15, **options):
        with unscoped():
            campaign = Campaign.objects.get(pk=campaign) if campaign else Campaign.objects.order_by("-starts_on").first()
            towns = list(Town.objects.filter(campaigns=campaign).order_by("code"))
            town = max(towns, key=lambda t: t.beneficiaries.count())
            big = GridCell.objects.filter(town=town, level="big").order_by("code").first()
            small = GridCell.objects.filter(parent=big).order_by("code").first()
        ids = [t.pk for t in towns]
        start, end = campaign.starts_on, campaign.ends_on
        out = self.stdout.write
        out(f"campaign {campaign} · {len(towns)} towns · biggest town {town} · best of {repeat}")

        took = []
        for _ in range(3):
            started = time.perf_counter()
            refresh_campaign(campaign.pk)
            took.append((time.perf_counter() - started) * 1000)
        out(f"rollup refresh (whole campaign, one transaction): best {min(took):.0f} ms")

        reads = {
            "coverage_by_town": lambda: selectors.coverage_by_town(campaign.pk, ids, start=start, end=end),
            "coverage_by_cell (big cells of a town)": lambda: selectors.coverage_by_cell(
                campaign.pk, town.pk, start=start, end=end
            ),
            "coverage_by_cell (small cells of a big cell)": lambda: selectors.coverage_by_cell(
                campaign.pk, town.pk, start=start, end=end, big_cell_id=big.pk
            ),
            "trend_by_week (county)": lambda: selectors.trend_by_week(campaign.pk, ids, start=start, end=end),
            "cadre_zone_coverage (a town)": lambda: selectors.cadre_zone_coverage(campaign.pk, town.pk, end=end),
            "cadre_visits (a town)": lambda: selectors.cadre_visits(campaign.pk, town.pk, start=start, end=end),
        }
        out(f"{'selector':48} {'selector':>9} {'bare SQL':>9} {'ratio':>6}")
        for name, read in reads.items():
            recorder = _Recorder()
            with connection.execute_wrapper(recorder):
                read()
            ours, raw = best(read, repeat), best(bare(recorder.calls[0]), repeat)
            out(f"{name:48} {ours:7.2f}ms {raw:7.2f}ms {ours / raw:5.2f}×")
        live = best(bare((LIVE_COVERAGE_BY_TOWN, [campaign.pk, end, campaign.pk, campaign.pk])), 3)
        out(f"for comparison, coverage by town counted live from visits: {live:.0f} ms")

        user_model = get_user_model()
        with unscoped():
            county = user_model.objects.filter(cadre__role=COUNTY_VIEWER, is_active=True).first()
            admin = user_model.objects.filter(cadre__role=TOWN_ADMIN, cadre__town=town, is_active=True).first()
        pages = [
            (county, "/reports/dashboard/"),
            (county, f"/reports/dashboard/town/{town.pk}/"),
            (county, f"/reports/dashboard/cell/{big.pk}/"),
            (county, f"/reports/dashboard/cell/{small.pk}/"),
            (admin, f"/reports/dashboard/town/{town.pk}/"),
        ]
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            for user, url in pages:
                if user is None:
                    continue
                client = Client()
                client.force_login(user)
                ms = best(lambda url=url, client=client: client.get(url), repeat)
                with CaptureQueriesContext(connection) as queries:
                    status = client.get(url).status_code
                out(f"{user.username:>10} {url:42} {status} {ms:6.1f} ms {len(queries):3d} queries")
