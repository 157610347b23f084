import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from core import idnumbers
from core.models import AuditRecord
from tests.cast import CANARY_ID, CANARY_NAME, at, make_person
from towns import visit_due
from towns.models import Beneficiary, Household
from visits import services as visit_services

LIST = reverse("registry:person_list")


@pytest.fixture
def jan10():
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


def body(response):
    return response.content.decode()


def test_registry_list_shows_masked_ids_only_and_the_towns_people(client, cast):
    client.force_login(cast.yeshan.cadre)
    page = body(client.get(LIST))
    assert "李桂英" in page and "周德海" in page
    assert cast.yeshan.person.id_number_masked in page
    assert idnumbers.decrypt(cast.yeshan.person.id_number_encrypted) not in page
    assert CANARY_NAME not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "lgy"}, ["李桂英"]),
        ({"q": "桂英"}, ["李桂英"]),
        ({"q": "138 5550 1234"}, ["李桂英"]),
        ({"status": "active", "q": "zdh"}, ["周德海"]),
    ],
)
def test_registry_search(client, cast, query, expected):
    client.force_login(cast.yeshan.cadre)
    names = [p.name for p in client.get(LIST, query).context["page"]]
    assert names == expected


def test_exact_id_search_finds_the_person_and_never_another_towns(client, cast):
    client.force_login(cast.yeshan.cadre)
    number = idnumbers.decrypt(cast.yeshan.person.id_number_encrypted)
    found = client.post(LIST, {"q": number.lower()}, follow=True)
    assert [p.name for p in found.context["page"]] == ["李桂英"]
    assert number not in found.redirect_chain[-1][0] and number.lower() not in found.redirect_chain[-1][0]
    assert list(client.post(LIST, {"q": CANARY_ID}, follow=True).context["page"]) == []
    # Nothing in scope: the check is recorded for the inspectors, with the digest only.
    record = AuditRecord.objects.get(action="id_check.search")
    assert record.after["digest"] == idnumbers.digest(CANARY_ID) and CANARY_ID not in record.payload


def test_filters_by_village_cell_category_and_overdue(client, cast, jan10):
    client.force_login(cast.yeshan.cadre)
    by_cell = client.get(LIST, {"village": cast.yeshan.village.pk, "cell": cast.yeshan.other_cell.pk}).context["page"]
    assert [p.name for p in by_cell] == ["周德海"]
    by_category = client.get(LIST, {"category": cast.categories["poor_party_member"].pk}).context["page"]
    assert list(by_category) == []
    # Never visited since registration (2023-06-01), 30-day interval: everyone is overdue.
    assert len(client.get(LIST, {"overdue": "true"}).context["page"]) == 2
    visit_services.visit_create(
        actor=cast.yeshan.cadre, beneficiary=cast.yeshan.person, visited_at=at(2024, 1, 9), idempotency_key=uuid.uuid4()
    )
    assert [p.name for p in client.get(LIST, {"overdue": "true"}).context["page"]] == ["周德海"]


def test_campaign_not_yet_visited_filter(client, cast, jan10):
    client.force_login(cast.yeshan.cadre)
    visit_services.visit_create(
        actor=cast.yeshan.cadre,
        beneficiary=cast.yeshan.person,
        visited_at=at(2024, 1, 9),
        idempotency_key=uuid.uuid4(),
        campaign=cast.campaign,
    )
    names = lambda q: [p.name for p in client.get(LIST, q).context["page"]]  # noqa: E731
    assert names({"campaign": cast.campaign.pk, "visited": "no"}) == ["周德海"]
    assert names({"campaign": cast.campaign.pk, "visited": "yes"}) == ["李桂英"]


def _many_people(cast, count):
    household = cast.yeshan.household
    for i in range(count):
        make_person(
            household,
            name=f"测试{i:03d}",
            id_number=idnumbers.make_number("341181", date(1940, 1, 1) + timedelta(days=i), 301 + 2 * (i % 300)),
            categories=[cast.categories["elderly_alone"]],
        )


def test_keyset_pages_walk_the_list_with_the_same_query_count(client, cast, django_assert_max_num_queries):
    _many_people(cast, 120)
    client.force_login(cast.yeshan.cadre)
    client.get(LIST)  # warm the filter choices cache, as on any busy day
    with django_assert_max_num_queries(5):
        first = client.get(LIST)
    seen = [p.pk for p in first.context["page"]]
    after = first.context["page"].next_after
    pages = 1
    while after:
        with django_assert_max_num_queries(5):
            response = client.get(LIST, {"after": after})
        seen += [p.pk for p in response.context["page"]]
        after = response.context["page"].next_after
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 122
    back = client.get(LIST, {"before": seen[50]}).context["page"]
    assert [p.pk for p in back] == seen[:50]


def test_person_page_shows_one_timeline_with_pinned_queries(client, cast, jan10, django_assert_max_num_queries):
    from funds import services as fund_services

    visit, _ = visit_services.visit_create(
        actor=cast.yeshan.cadre,
        beneficiary=cast.yeshan.person,
        visited_at=at(2024, 1, 9),
        idempotency_key=uuid.uuid4(),
        bp_systolic=140,
        bp_diastolic=90,
        notes="取暖不足",
    )
    fund_services.disbursement_create(
        actor=cast.yeshan.cadre,
        beneficiary=cast.yeshan.person,
        kind="cash",
        amount=300,
        handed_at=at(2024, 1, 9, 10, 5),
        idempotency_key=uuid.uuid4(),
        visit=visit,
    )
    visit_services.followup_create(
        actor=cast.yeshan.cadre, kind="demand", title="需要电热毯", beneficiary=cast.yeshan.person, visit=visit
    )
    client.force_login(cast.yeshan.cadre)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("registry:person_detail", args=[cast.yeshan.person.pk]))
    page = body(response)
    assert [e["kind"] for e in response.context["timeline"]] == ["followup", "grant", "visit"]
    assert "¥300.00" in page and "待签领" in page and "140/90" in page and "需要电热毯" in page
    assert "2月8日" in page  # next due: visited 2024-01-09 + 30 days (this year: no year, towns/dates.py)


def test_full_id_is_shown_only_to_allowed_roles_and_is_audited(client, cast):
    url = reverse("towns:person_reveal_id", args=[cast.yeshan.person.pk])
    number = idnumbers.decrypt(cast.yeshan.person.id_number_encrypted)
    client.force_login(cast.yeshan.cadre)
    assert client.post(url).status_code == 403
    client.force_login(cast.yeshan.admin)
    response = client.post(url)
    assert number in body(response)
    record = AuditRecord.objects.get(action="beneficiary.reveal_id")
    assert record.actor_name == "冶山镇管理员" and record.object_id == str(cast.yeshan.person.pk)


def test_household_and_person_are_created_through_the_forms(client, cast):
    client.force_login(cast.yeshan.cadre)
    response = client.post(
        reverse("towns:household_create"),
        {"cell": cast.yeshan.cell.pk, "address": "长兴社区和平路3号", "head_name": "赵大山", "phone": "13955502222"},
    )
    household = Household.objects.get(head_name="赵大山")
    assert response.url == reverse("towns:person_create", kwargs={"household": household.pk})
    new_id = idnumbers.make_number("341181", date(1944, 5, 6), 171)
    response = client.post(
        response.url,
        {"name": "赵大山", "id_number": new_id, "categories": [cast.categories["elderly_alone"].pk], "relation_to_head": "本人"},
    )
    person = Beneficiary.objects.get(name="赵大山")
    assert response.url == reverse("registry:person_detail", args=[person.pk])
    assert person.next_visit_due is not None


def test_errors_keep_what_was_typed_and_name_the_field(client, cast):
    client.force_login(cast.yeshan.cadre)
    url = reverse("towns:person_create", kwargs={"household": cast.yeshan.household.pk})
    wrong = idnumbers.make_number("341181", date(1944, 5, 6), 171)[:17] + "0"
    if idnumbers.check_char(wrong[:17]) == "0":
        wrong = wrong[:17] + "1"
    response = client.post(
        url, {"name": "赵小花", "id_number": wrong, "categories": [cast.categories["elderly_alone"].pk], "notes": "独居，耳背"}
    )
    page = body(response)
    assert response.status_code == 200
    assert "身份证号：身份证号校验位不正确" in page
    assert "赵小花" in page and "独居，耳背" in page and wrong in page


def test_duplicate_in_town_links_to_the_person(client, cast):
    client.force_login(cast.yeshan.cadre)
    url = reverse("towns:person_create", kwargs={"household": cast.yeshan.household.pk})
    number = idnumbers.decrypt(cast.yeshan.person.id_number_encrypted)
    page = body(client.post(url, {"name": "李桂英", "id_number": number, "categories": [cast.categories["elderly_alone"].pk]}))
    assert "可能是同一人" in page
    assert reverse("registry:person_detail", args=[cast.yeshan.person.pk]) in page


def test_duplicate_in_another_town_names_only_the_town(client, cast):
    client.force_login(cast.yeshan.cadre)
    url = reverse("towns:person_create", kwargs={"household": cast.yeshan.household.pk})
    page = body(client.post(url, {"name": "某人", "id_number": CANARY_ID, "categories": [cast.categories["elderly_alone"].pk]}))
    assert "该身份证号已在其他镇（街道）登记，请联系县级管理员核实" in page and "铜城镇" not in page.split("<main")[-1]
    assert CANARY_NAME not in page and reverse("registry:person_detail", args=[cast.tongcheng.person.pk]) not in page


def test_status_change_takes_a_person_off_the_due_lists(client, cast, jan10):
    client.force_login(cast.yeshan.admin)
    assert {c.code for c in client.get(reverse("home")).context["tasks"]["by_cell"]} == {"ys-S1", "ys-S2"}
    response = client.post(
        reverse("towns:person_status", args=[cast.yeshan.person_other_cell.pk]),
        {"to_status": "moved", "effective_on": "2024-01-08", "reason": "随子女迁往南京"},
    )
    assert response.status_code == 302
    assert {c.code for c in client.get(reverse("home")).context["tasks"]["by_cell"]} == {"ys-S1"}
    assert [p.name for p in client.get(LIST, {"overdue": "true"}).context["page"]] == ["李桂英"]


def test_edit_keeps_the_stored_id_when_left_blank(client, cast):
    client.force_login(cast.yeshan.cadre)
    person = cast.yeshan.person
    response = client.post(
        reverse("towns:person_edit", args=[person.pk]),
        {"name": "李桂英", "id_number": "", "phone": "0550-7021234", "categories": [cast.categories["elderly_alone"].pk]},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone == "0550-7021234"
    assert idnumbers.decrypt(person.id_number_encrypted) == idnumbers.decrypt(cast.yeshan.person.id_number_encrypted)


def test_home_lists_what_the_grid_worker_must_do(client, cast, jan10, django_assert_max_num_queries):
    visit_services.followup_create(
        actor=cast.yeshan.cadre,
        kind="demand",
        title="屋顶漏雨",
        beneficiary=cast.yeshan.person,
        owner=cast.yeshan.grid_worker.cadre,
        deadline=date(2024, 1, 8),
        raised_on=date(2024, 1, 5),
    )
    client.force_login(cast.yeshan.grid_worker)
    with django_assert_max_num_queries(12):  # the session row, and the user read with their cadre (towns/auth_backend.py)
        response = client.get(reverse("home"))
    tasks = response.context["tasks"]
    assert [p.name for p in tasks["overdue"]] == ["李桂英"]  # only their cell
    assert tasks["overdue"][0].days_overdue == (date(2024, 1, 10) - date(2023, 6, 1)).days
    assert [p.name for p in tasks["campaign_unvisited"]] == ["李桂英"]
    assert [f.title for f in tasks["followups"]] == ["屋顶漏雨"]
    page = body(response)
    assert "已超期 2 天" in page
    assert f"?beneficiary={cast.yeshan.person.pk}" in page or "visits:visit_create" not in page


def test_a_visit_moves_the_person_from_overdue_to_later(client, cast, jan10):
    client.force_login(cast.yeshan.grid_worker)
    visit_services.visit_create(
        actor=cast.yeshan.grid_worker,
        beneficiary=cast.yeshan.person,
        visited_at=at(2024, 1, 10, 9),
        idempotency_key=uuid.uuid4(),
        campaign=cast.campaign,
    )
    tasks = client.get(reverse("home")).context["tasks"]
    assert tasks["overdue"] == [] and tasks["due_soon"] == [] and tasks["campaign_unvisited"] == []


def test_home_for_a_town_cadre_shows_the_town_by_cell_and_by_cadre(client, cast, jan10, django_assert_max_num_queries):
    client.force_login(cast.yeshan.admin)
    with django_assert_max_num_queries(18):  # the session row; user and cadre in one query
        response = client.get(reverse("home"))
    tasks = response.context["tasks"]
    assert tasks["overdue"] == []  # the admin answers for no cell or person yet
    assert {c.code: c.overdue for c in tasks["by_cell"]} == {"ys-S1": 1, "ys-S2": 1}
    assert [(c.name, c.load["overdue"]) for c in tasks["by_cadre"]] == [("冶山镇网格员", 1)]


def test_visit_due_refresh_all_agrees_with_the_per_person_rule(cast, jan10):
    visit_services.visit_create(
        actor=cast.yeshan.cadre, beneficiary=cast.yeshan.person, visited_at=at(2024, 1, 9, 23, 30), idempotency_key=uuid.uuid4()
    )
    expected = {p.pk: p.next_visit_due for p in Beneficiary.objects.all()}
    Beneficiary.objects.update(next_visit_due=None, last_visited_at=None, visit_interval_days=None)
    visit_due.refresh_all()
    assert {p.pk: p.next_visit_due for p in Beneficiary.objects.all()} == expected
    assert expected[cast.yeshan.person.pk] == date(2024, 2, 8)  # 23:30 Shanghai time is still 9 January
