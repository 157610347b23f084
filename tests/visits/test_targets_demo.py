"""On the demo county (tiny scale), every page that says who a campaign has not reached names the
same people: the registry's 专项活动 + 未走访 filter, the home page's list and the dashboard
rollups, town by town (issue 12 §1: 冶山镇's registry listed 34 including 7 who had moved away,
its dashboard 27). And the demo's towns have approved lists (§2)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from core.scoping import unscoped
from reports.models import CampaignTarget
from reports.rollups import refresh_campaign
from towns.models import Beneficiary, Cadre, Town
from visits import selectors
from visits.models import Campaign, TargetList, TargetListEntry
from visits.registry_filters import RegistryFilter


@pytest.fixture(scope="module")
def demo_county(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", "--scale", "tiny", stdout=StringIO())
        with unscoped():
            campaign = Campaign.objects.order_by("starts_on").first()
            refresh_campaign(campaign.pk)
            county = Cadre.objects.select_related("user").get(role="county_viewer").user
        yield campaign, county
        transaction.set_rollback(True)


def test_the_demo_towns_decided_their_lists(demo_county, db):
    campaign, _ = demo_county
    with unscoped():
        lists = TargetList.objects.filter(campaign=campaign)
        assert lists.count() == campaign.towns.count() == 16
        assert not lists.exclude(status=TargetList.Status.APPROVED).exists()
        assert not lists.filter(decided_on__gte=campaign.starts_on).exists()  # decided before the campaign began
        ys = lists.get(town__name="冶山镇")
        removed = TargetListEntry.objects.get(target_list=ys, listed=False)
        added = TargetListEntry.objects.get(target_list=ys, source=TargetListEntry.Source.ADDED)
        assert removed.removed_reason and added.added_reason and added.added_after_approval


def test_registry_home_and_dashboard_name_the_same_unvisited_people_in_every_town(demo_county, db):
    campaign, county = demo_county
    with unscoped():
        towns = list(Town.objects.order_by("code"))
        moved = set(Beneficiary.objects.exclude(status=Beneficiary.Status.ACTIVE).values_list("pk", flat=True))
        assert moved, "the demo has people who died or moved away"
        home = {}
        for person in selectors.campaign_unvisited(county, campaign):
            home.setdefault(person.town_id, set()).add(person.pk)
        for town in towns:
            f = RegistryFilter(
                {"campaign": str(campaign.pk), "visited": "no", "town": str(town.pk)},
                queryset=Beneficiary.objects.for_user(county),
                user=county,
            )
            assert f.is_valid(), f.errors
            registry = set(f.qs.values_list("pk", flat=True))
            dashboard = set(
                CampaignTarget.objects.filter(campaign_id=campaign.pk, town_id=town.pk, first_visit_on__isnull=True).values_list(
                    "beneficiary_id", flat=True
                )
            )
            assert registry == dashboard == home.get(town.pk, set()), town.name
            assert not registry & moved, f"{town.name}: the registry lists people who died or moved away"
