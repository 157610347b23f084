import pytest
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from core.scoping import ScopeError, get_for_user_or_404, guarded, unscoped
from towns.middleware import RequestContextMiddleware
from towns.models import Beneficiary, Cadre, GridCell, Town
from visits.models import Campaign


def names(qs):
    return sorted(qs.values_list("name", flat=True))


def test_grid_worker_sees_only_their_cells(cast):
    assert names(Beneficiary.objects.for_user(cast.yeshan.grid_worker)) == ["李桂英"]


def test_town_roles_see_their_whole_town(cast):
    for user in (cast.yeshan.cadre, cast.yeshan.admin):
        assert names(Beneficiary.objects.for_user(user)) == ["周德海", "李桂英"]


def test_county_roles_see_every_town(cast):
    for user in (cast.county_viewer, cast.inspector, cast.sysadmin):
        assert Beneficiary.objects.for_user(user).count() == 4


def test_anonymous_and_profileless_users_see_nothing(cast, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    bare = django_user_model.objects.create_user("bare", password="x")
    assert Beneficiary.objects.for_user(AnonymousUser()).count() == 0
    assert Beneficiary.objects.for_user(bare).count() == 0


def test_deactivated_cadre_sees_nothing(cast):
    Cadre.objects.filter(pk=cast.yeshan.cadre.cadre.pk).update(is_active=False)
    cast.yeshan.cadre.refresh_from_db()
    user = type(cast.yeshan.cadre).objects.get(pk=cast.yeshan.cadre.pk)
    assert Beneficiary.objects.for_user(user).count() == 0


def test_grid_worker_sees_their_cell_and_its_big_parent(cast):
    assert set(GridCell.objects.for_user(cast.yeshan.grid_worker).values_list("code", flat=True)) == {"ys-B1", "ys-S1"}


def test_campaigns_and_towns_are_scoped(cast):
    assert names(Town.objects.for_user(cast.yeshan.cadre)) == ["冶山镇"]
    assert Campaign.objects.for_user(cast.yeshan.cadre).count() == 1
    cast.campaign.towns.remove(cast.yeshan.town)
    assert Campaign.objects.for_user(cast.yeshan.cadre).count() == 0


def test_another_towns_object_is_a_404(cast):
    with pytest.raises(Http404):
        get_for_user_or_404(Beneficiary, cast.yeshan.admin, pk=cast.tongcheng.person.pk)
    assert get_for_user_or_404(Beneficiary, cast.inspector, pk=cast.tongcheng.person.pk) == cast.tongcheng.person


def test_guard_refuses_a_query_that_bypasses_for_user(cast):
    with guarded():
        with pytest.raises(ScopeError):
            list(Beneficiary.objects.all())
        with pytest.raises(ScopeError):
            Beneficiary.objects.filter(name="李桂英").exists()
        with pytest.raises(ScopeError):
            Beneficiary.objects.count()
        # The legitimate ways through:
        assert Beneficiary.objects.for_user(cast.yeshan.cadre).filter(name="李桂英").count() == 1
        person = Beneficiary.objects.for_user(cast.yeshan.cadre).get(name="李桂英")
        assert list(person.categories.all())  # categories are not area-scoped
        assert person.status_changes.count() == 0  # reached through a scoped instance
        with unscoped():
            assert Beneficiary.objects.count() == 4


def test_the_middleware_turns_the_guard_on_for_every_request(cast, settings):
    settings.SCOPE_GUARD = True

    def forgetful_view(request):
        return HttpResponse(str(Beneficiary.objects.count()))

    request = RequestFactory().get("/")
    with pytest.raises(ScopeError):
        RequestContextMiddleware(forgetful_view)(request)


def test_a_household_assignment_extends_a_grid_workers_scope(cast):
    from datetime import date

    from towns.models import Assignment

    Assignment.objects.create(
        cadre=cast.yeshan.grid_worker.cadre,
        town=cast.yeshan.town,
        household=cast.yeshan.person_other_cell.household,
        starts_on=date(2024, 1, 1),
    )
    user = type(cast.yeshan.grid_worker).objects.get(
        pk=cast.yeshan.grid_worker.pk
    )  # a fresh user: the scope is cached per user object
    assert names(Beneficiary.objects.for_user(user)) == ["周德海", "李桂英"]
    assert GridCell.objects.for_user(user).filter(code="ys-S2").count() == 0  # the cell itself stays out of scope
