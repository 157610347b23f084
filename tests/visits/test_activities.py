"""Group activities (issue 4 §4): the service's rules, the pages, scope and query counts."""

import uuid
from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditRecord
from core.scoping import unscoped
from tests.cast import CANARY_NAME, at
from towns.models import VolunteerTeam
from visits import services
from visits.models import Activity, Campaign


@pytest.fixture
def jan10():
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


@pytest.fixture
def teams(cast):
    with unscoped():
        return {
            "ys": VolunteerTeam.objects.create(town=cast.yeshan.town, name="冶山镇党员志愿服务队", members_count=20),
            "tc": VolunteerTeam.objects.create(town=cast.tongcheng.town, name="“与你‘铜’行”党员志愿服务队", members_count=30),
        }


def create(cast, **overrides):
    kwargs = {
        "actor": cast.yeshan.cadre,
        "kind": Activity.Kind.HEALTH,
        "title": "长兴社区健康宣讲",
        "held_on": date(2024, 1, 9),
        "village": cast.yeshan.village,
        "participants_count": 6,
        "beneficiary_ids": [cast.yeshan.person.pk, cast.yeshan.person_other_cell.pk],
        "reached_count": 40,
        "gifts_count": 35,
        "campaign": cast.campaign,
        "idempotency_key": uuid.uuid4(),
    }
    kwargs.update(overrides)
    return services.activity_create(**kwargs)


def form_data(cast, **overrides):
    data = {
        "kind": "group_visit",
        "held_on": "2024-01-09",
        "village": cast.yeshan.village.pk,
        "title": "",
        "organiser_name": "镇卫生院",
        "participants_count": "8",
        "reached_count": "30",
        "gifts_count": "30",
        "campaign": cast.campaign.pk,
        "notes": "为独居老人测量血压",
        "idempotency_key": str(uuid.uuid4()),
        "beneficiaries": [cast.yeshan.person.pk],
    }
    data.update(overrides)
    return data


# --- the service -------------------------------------------------------------------------------


def test_a_town_cadre_logs_an_activity_with_picked_people_and_a_count(cast, jan10):
    activity, created = create(cast)
    assert created
    assert activity.town == cast.yeshan.town and activity.recorded_by == cast.yeshan.cadre.cadre
    assert set(activity.beneficiaries.all()) == {cast.yeshan.person, cast.yeshan.person_other_cell}
    assert activity.reached_count == 40 and activity.gifts_count == 35
    record = AuditRecord.objects.get(action="activity.create", object_id=str(activity.pk))
    assert record.after["beneficiaries"] == sorted([cast.yeshan.person.pk, cast.yeshan.person_other_cell.pk])
    assert "idempotency_key" not in record.after


@pytest.mark.parametrize(("given", "expected"), [(None, 2), (0, 2), (1, 2), (2, 2), (40, 40)])
def test_reached_count_is_never_below_the_people_picked(cast, jan10, given, expected):
    activity, _ = create(cast, reached_count=given)
    assert activity.reached_count == expected


def test_a_count_alone_is_enough_and_the_title_defaults_to_village_and_kind(cast, jan10):
    activity, _ = create(cast, beneficiary_ids=(), reached_count=120, title="", kind=Activity.Kind.LECTURE)
    assert activity.reached_count == 120 and activity.beneficiaries.count() == 0
    assert activity.title == "长兴社区宣讲"


def test_a_future_date_and_negative_or_huge_counts_are_refused(cast, jan10):
    with pytest.raises(ValidationError) as error:
        create(cast, held_on=date(2024, 1, 11), participants_count=-1, gifts_count=10**6)
    errors = error.value.message_dict
    assert errors["held_on"] == ["活动日期不能晚于今天"]
    assert "参与人数" in errors["participants_count"][0]
    assert "发放慰问品份数" in errors["gifts_count"][0]
    assert not Activity.objects.exists()


def test_a_date_outside_the_campaign_is_refused(cast, jan10):
    with pytest.raises(ValidationError) as error:
        create(cast, held_on=date(2023, 12, 1))
    assert "专项活动期间" in error.value.message_dict["campaign"][0]


def test_another_towns_village_person_team_and_campaign_are_refused(cast, jan10, teams):
    with unscoped():
        tc_campaign = Campaign.objects.create(name="铜城镇敬老月", starts_on=date(2024, 1, 1), ends_on=date(2024, 1, 31))
        tc_campaign.towns.set([cast.tongcheng.town])
    cases = {
        "village": ({"village": cast.tongcheng.village}, "村（社区）不存在或不在您的管辖范围内"),
        "organiser": ({"organiser": teams["tc"]}, "组织队伍不存在或不在您的管辖范围内"),
        "campaign": ({"campaign": tc_campaign}, "专项活动不存在或不在您的管辖范围内"),
        "beneficiaries": (
            {"beneficiary_ids": [cast.yeshan.person.pk, cast.tongcheng.person.pk]},
            "受益对象不存在或不在您的管辖范围内",
        ),
    }
    for field, (overrides, message) in cases.items():
        with pytest.raises(ValidationError) as error:
            create(cast, **overrides)
        assert error.value.message_dict[field] == [message], field
    assert not Activity.objects.exists()


def test_roles_without_activity_log_are_refused_by_the_service(cast, jan10):
    for user in (cast.yeshan.grid_worker, cast.inspector, cast.county_viewer):
        with pytest.raises(PermissionDenied):
            create(cast, actor=user)


def test_the_same_key_answers_with_the_first_activity(cast, jan10):
    key = uuid.uuid4()
    first, created = create(cast, idempotency_key=key)
    again, created_again = create(cast, idempotency_key=key, title="重复提交")
    assert created and not created_again and again.pk == first.pk
    assert Activity.objects.count() == 1
    assert AuditRecord.objects.filter(action="activity.create").count() == 1
    with pytest.raises(ValidationError):  # another town replaying the key learns nothing
        create(cast, actor=cast.tongcheng.cadre, village=cast.tongcheng.village, beneficiary_ids=(), idempotency_key=key)


# --- the pages ---------------------------------------------------------------------------------


def test_the_create_form_defaults_to_today_and_the_running_campaign(client, cast, jan10):
    client.force_login(cast.yeshan.cadre)
    response = client.get(reverse("visits:activity_create"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["held_on"] == date(2024, 1, 10)
    assert form.initial["campaign"] == cast.campaign.pk
    body = response.content.decode()
    assert "惠及人数" in body and "已在重点人群信息库登记" in body
    assert cast.tongcheng.village.name not in body


def test_a_double_post_creates_one_activity(client, cast, jan10):
    client.force_login(cast.yeshan.cadre)
    data = form_data(cast)
    first = client.post(reverse("visits:activity_create"), data)
    second = client.post(reverse("visits:activity_create"), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    activity = Activity.objects.get()
    assert activity.title == "长兴社区集中慰问" and activity.organiser_name == "镇卫生院"
    assert activity.reached_count == 30 and list(activity.beneficiaries.all()) == [cast.yeshan.person]
    detail = client.get(first["Location"])
    assert "李桂英" in detail.content.decode()


def test_the_form_refuses_another_towns_village_and_person_with_field_messages(client, cast, jan10):
    client.force_login(cast.yeshan.cadre)
    response = client.post(reverse("visits:activity_create"), form_data(cast, village=cast.tongcheng.village.pk))
    assert response.status_code == 200
    assert "村（社区）不存在或不在您的管辖范围内" in response.content.decode()
    response = client.post(reverse("visits:activity_create"), form_data(cast, beneficiaries=[cast.tongcheng.person.pk]))
    body = response.content.decode()
    assert response.status_code == 200 and "受益对象不存在或不在您的管辖范围内" in body
    assert CANARY_NAME not in body
    response = client.post(reverse("visits:activity_create"), form_data(cast, held_on="2024-01-12", participants_count="-3"))
    body = response.content.decode()
    assert "活动日期不能晚于今天" in body and "参与人数不能为负数" in body
    assert not Activity.objects.exists()


def test_the_people_search_works_without_javascript_and_keeps_what_was_typed(client, cast, jan10):
    client.force_login(cast.yeshan.cadre)
    data = form_data(cast, q="zdh", _search="1", notes="保留的记录")
    response = client.post(reverse("visits:activity_create"), data)
    assert response.status_code == 200 and not Activity.objects.exists()
    body = response.content.decode()
    assert "周德海" in body  # found by pinyin initials
    assert "保留的记录" in body  # the typed notes survive the round trip
    assert [p.pk for p in response.context["picked"]] == [cast.yeshan.person.pk]
    assert response.context["form"].initial["idempotency_key"] == data["idempotency_key"]


def test_the_people_search_partial_never_finds_another_towns_people(client, cast, jan10):
    client.force_login(cast.yeshan.cadre)
    url = reverse("visits:activity_people")
    response = client.get(url, {"q": CANARY_NAME})
    assert response.status_code == 200 and CANARY_NAME not in response.content.decode()
    response = client.get(
        url, {"q": "李", "beneficiaries": [cast.yeshan.person_other_cell.pk, cast.tongcheng.person.pk]}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'hx-swap-oob="true"' in body and "周德海" in body and "李桂英" in body and CANARY_NAME not in body


def test_grid_workers_and_inspectors_view_but_cannot_log(client, cast, jan10):
    activity, _ = create(cast)
    for user in (cast.yeshan.grid_worker, cast.inspector):
        client.force_login(user)
        assert client.get(reverse("visits:activity_create")).status_code == 403
        assert client.post(reverse("visits:activity_create"), form_data(cast)).status_code == 403
        assert client.get(reverse("visits:activity_list")).status_code == 200
        assert client.get(reverse("visits:activity_detail", args=[activity.pk])).status_code == 200
    # The grid worker answers for one cell: the other cell's person is counted, not named.
    client.force_login(cast.yeshan.grid_worker)
    response = client.get(reverse("visits:activity_detail", args=[activity.pk]))
    assert [p.pk for p in response.context["people"]] == [cast.yeshan.person.pk]
    assert response.context["hidden_people"] == 1


def test_another_towns_activity_is_a_404(client, cast, jan10):
    other, _ = create(
        cast, actor=cast.tongcheng.cadre, village=cast.tongcheng.village, beneficiary_ids=[cast.tongcheng.person.pk]
    )
    client.force_login(cast.yeshan.cadre)
    assert client.get(reverse("visits:activity_detail", args=[other.pk])).status_code == 404
    listing = client.get(reverse("visits:activity_list")).content.decode()
    assert other.title not in listing or "铜城镇" not in listing
    assert list(client.get(reverse("visits:activity_list")).context["page"].object_list) == []
    client.force_login(cast.county_viewer)
    response = client.get(reverse("visits:activity_detail", args=[other.pk]))
    assert response.status_code == 200 and CANARY_NAME in response.content.decode()


def test_list_filters_by_kind_village_month_and_town(client, cast, jan10):
    health, _ = create(cast, kind=Activity.Kind.HEALTH, held_on=date(2024, 1, 9))
    lecture, _ = create(cast, kind=Activity.Kind.LECTURE, held_on=date(2023, 12, 28), village=None)
    other, _ = create(cast, actor=cast.tongcheng.cadre, village=cast.tongcheng.village, beneficiary_ids=())
    client.force_login(cast.yeshan.cadre)
    url = reverse("visits:activity_list")

    def shown(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return [a.pk for a in response.context["page"].object_list]

    assert shown() == [health.pk, lecture.pk]
    assert shown(kind="lecture") == [lecture.pk]
    assert shown(village=cast.yeshan.village.pk) == [health.pk]
    assert shown(month="2023-12") == [lecture.pk]
    assert shown(month="2024-01") == [health.pk]
    assert "月份" in client.get(url, {"month": "2024-13"}).content.decode()
    assert shown(village=cast.tongcheng.village.pk) == [health.pk, lecture.pk]  # not a choice: ignored with an error
    assert "town" not in client.get(url).context["filter"].form.fields
    client.force_login(cast.county_viewer)
    assert shown() == [other.pk, health.pk, lecture.pk]  # same day: newest entry first
    assert shown(town=cast.tongcheng.town.pk) == [other.pk]


def test_the_list_pages_with_a_constant_number_of_queries(client, cast, jan10, django_assert_max_num_queries):
    client.force_login(cast.yeshan.cadre)
    url = reverse("visits:activity_list")
    create(cast)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    one = count_queries()
    for day in range(1, 40):
        create(cast, held_on=date(2024, 1, 1 + day % 9), campaign=None, organiser_name=f"队伍{day}")
    assert count_queries() == one
    # session, user with cadre, COUNT, the page, the village choices of the filter
    with django_assert_max_num_queries(5):
        response = client.get(url, {"page": 2, "kind": "health"})
    assert len(response.context["page"].object_list) == 10


# --- people of other villages (issue 12 §1) ----------------------------------------------------


@pytest.fixture
def neighbour(cast):
    """A person of another village of 冶山镇 (a 集中慰问 in 长兴社区 may draw its neighbours)."""
    from core import idnumbers
    from tests.cast import make_person
    from towns.models import GridCell, Household, Village

    with unscoped():
        ys = cast.yeshan
        village = Village.objects.create(town=ys.town, code="341181109202", name="花园村")
        big = GridCell.objects.create(town=ys.town, village=village, level="big", code="ys-B9", name="花园村第一大网格")
        cell = GridCell.objects.create(
            town=ys.town, village=village, level="small", parent=big, code="ys-S9", name="花园村1号小网格"
        )
        home = Household.objects.create(
            town=ys.town, village=village, cell=cell, address="冶山镇花园村前庄组3号", head_name="王秀兰"
        )
        return make_person(home, name="王秀兰", id_number=idnumbers.make_number("341181", date(1948, 3, 5), 142))


def test_people_of_another_village_are_named_and_saved_only_once_confirmed(cast, jan10, neighbour):
    picked = [cast.yeshan.person.pk, neighbour.pk]
    with pytest.raises(ValidationError) as error:
        create(cast, beneficiary_ids=picked)
    message = error.value.message_dict["other_villages_confirmed"][0]
    assert "王秀兰（花园村）" in message and "不是长兴社区的" in message and "确认跨村参加" in message
    assert cast.yeshan.person.name not in message
    assert not Activity.objects.exists()
    activity, _ = create(cast, beneficiary_ids=picked, other_villages_confirmed=True)
    assert set(activity.beneficiaries.all()) == {cast.yeshan.person, neighbour}
    record = AuditRecord.objects.get(action="activity.create", object_id=str(activity.pk))
    assert record.after["other_villages"] == [neighbour.pk]
    # A town-wide activity (no village) takes anyone of the town without asking.
    town_wide, _ = create(cast, beneficiary_ids=picked, village=None, title="全镇集中慰问")
    assert town_wide.beneficiaries.count() == 2


def test_the_form_asks_for_the_confirmation_and_then_saves(client, cast, jan10, neighbour):
    client.force_login(cast.yeshan.cadre)
    data = form_data(cast, beneficiaries=[cast.yeshan.person.pk, neighbour.pk])
    response = client.post(reverse("visits:activity_create"), data)
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="other-villages"' in body
    assert "王秀兰（花园村）" in body and not Activity.objects.exists()
    response = client.post(reverse("visits:activity_create"), {**data, "other_villages_confirmed": "on"})
    assert response.status_code == 302 and Activity.objects.get().beneficiaries.count() == 2
    assert 'data-testid="other-villages"' not in client.get(reverse("visits:activity_create")).content.decode()
