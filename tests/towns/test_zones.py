"""包保责任区 (issue 4 §6): load per cadre, gaps, assigning and ending, scope and query counts."""

from datetime import date

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditRecord
from core.scoping import unscoped
from tests.cast import at, make_user
from towns import services, visit_due
from towns.models import Assignment


@pytest.fixture
def jan30():
    # 李桂英 visited on 1月5日 (every 30 days) is due on 2月4日: within the week.
    # 周德海, never visited since registration (2023-06-01), is overdue.
    with time_machine.travel(at(2024, 1, 30, 9), tick=False):
        yield


@pytest.fixture
def ys(cast):
    with unscoped():
        visit_due.refresh_one(cast.yeshan.person, last_visited_at=at(2024, 1, 5))
    return cast.yeshan


def assign(cast, **kwargs):
    return services.assignment_create(actor=cast.yeshan.admin, starts_on=date(2024, 1, 2), **kwargs)


def loads(client):
    response = client.get(reverse("towns:zones"))
    assert response.status_code == 200
    return {c.pk: dict(c.load) for c in response.context["cadres"]}, response


def test_load_per_cadre_counts_people_due_and_overdue(client, cast, ys, jan30):
    cadre = ys.cadre.cadre
    assign(cast, cadre=cadre, cell=ys.other_cell)  # 周德海: overdue
    assign(cast, cadre=cadre, household=ys.household)  # 李桂英: due within the week
    # The grid worker's own cell holds 李桂英; their extra household in the same cell counts once.
    assign(cast, cadre=ys.grid_worker.cadre, household=ys.household)
    client.force_login(ys.admin)
    by_cadre, response = loads(client)
    assert by_cadre[cadre.pk] == {"people": 2, "due": 1, "overdue": 1}
    assert by_cadre[ys.grid_worker.cadre.pk] == {"people": 1, "due": 1, "overdue": 0}
    assert by_cadre[ys.admin.cadre.pk] == {"people": 0, "due": 0, "overdue": 0}
    body = response.content.decode()
    assert "长兴社区2号小网格" in body and "包户：李桂英户" in body
    assert response.context["unassigned_cells"] == []
    assert "钱金凤" not in body and "铜城镇包村干部" not in body


def test_people_no_longer_on_the_registry_are_not_load(client, cast, ys, jan30):
    with unscoped():
        ys.person_other_cell.status = "deceased"
        ys.person_other_cell.save()
    assign(cast, cadre=ys.cadre.cadre, cell=ys.other_cell)
    client.force_login(ys.admin)
    by_cadre, _ = loads(client)
    assert by_cadre[ys.cadre.cadre.pk] == {"people": 0, "due": 0, "overdue": 0}


def test_unassigned_small_cells_are_listed_with_their_people(client, cast, ys, jan30):
    client.force_login(ys.admin)
    _, response = loads(client)
    gaps = response.context["unassigned_cells"]
    assert [(c.pk, c.people) for c in gaps] == [(ys.other_cell.pk, 1)]
    assert ys.big not in gaps  # big cells hold no people


def test_the_page_costs_the_same_queries_for_one_cadre_or_five(client, cast, ys, jan30, django_assert_max_num_queries):
    client.force_login(ys.admin)
    url = reverse("towns:zones")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    first = queries()
    for i in range(5):
        user = make_user(f"ys_extra{i}", role="town_cadre", name=f"加派干部{i}", town=ys.town)
        assign(cast, cadre=user.cadre, cell=ys.other_cell if i % 2 else ys.cell)
        assign(cast, cadre=user.cadre, household=ys.household)
    assert queries() == first
    # session, user with cadre, cadres, assignments, load through cells, load through households, unassigned cells
    with django_assert_max_num_queries(7):
        response = client.get(url)
    assert len(response.context["cadres"]) == 8


def test_assigning_a_cell_through_the_page_is_audited_and_warns_when_shared(client, cast, ys, jan30):
    client.force_login(ys.admin)
    response = client.post(
        reverse("towns:zone_assign"), {"cadre": ys.cadre.cadre.pk, "cell": ys.cell.pk, "starts_on": "2024-01-30"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("towns:zones")
    assignment = Assignment.objects.get(cadre=ys.cadre.cadre)
    assert assignment.cell == ys.cell and assignment.starts_on == date(2024, 1, 30)
    assert AuditRecord.objects.filter(action="assignment.create", object_id=str(assignment.pk)).exists()
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("冶山镇网格员" in t and "明确分工" in t for t in texts), texts
    # The same cadre on the same cell again is a slip, refused with a message on the field.
    again = client.post(reverse("towns:zone_assign"), {"cadre": ys.cadre.cadre.pk, "cell": ys.cell.pk, "starts_on": "2024-01-30"})
    assert again.status_code == 200 and "该干部已包保此责任区" in again.content.decode()
    assert Assignment.objects.filter(cadre=ys.cadre.cadre).count() == 1


def test_a_household_is_found_by_name_and_assigned(client, cast, ys, jan30):
    client.force_login(ys.admin)
    url = reverse("towns:zone_assign")
    found = client.post(url, {"cadre": ys.cadre.cadre.pk, "q": "周德海", "_search": "1"})
    assert found.status_code == 200
    assert [h.pk for h in found.context["households"]] == [ys.person_other_cell.household_id]
    assert found.context["form"].initial["cadre"] == str(ys.cadre.cadre.pk)
    assert not client.post(url, {"q": "钱金凤", "_search": "1"}).context["households"]
    done = client.post(
        url, {"cadre": ys.cadre.cadre.pk, "household": ys.person_other_cell.household_id, "starts_on": "2024-01-30"}
    )
    assert done.status_code == 302
    assert Assignment.objects.filter(cadre=ys.cadre.cadre, household_id=ys.person_other_cell.household_id).exists()
    neither = client.post(url, {"cadre": ys.cadre.cadre.pk, "starts_on": "2024-01-30"})
    assert "二者选一" in neither.content.decode()


def test_ending_an_assignment_is_audited_with_its_reason(client, cast, ys, jan30):
    assignment = assign(cast, cadre=ys.cadre.cadre, cell=ys.other_cell)
    client.force_login(ys.admin)
    url = reverse("towns:zone_end", args=[assignment.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"ends_on": "2024-02-01", "reason": ""})
    body = refused.content.decode()
    assert refused.status_code == 200 and "请填写结束原因" in body
    assert "结束日期不能晚于今天" in body
    response = client.post(url, {"ends_on": "2024-01-30", "reason": "工作调整"})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.ends_on == date(2024, 1, 30)
    record = AuditRecord.objects.get(action="assignment.end", object_id=str(assignment.pk))
    assert record.reason == "工作调整" and record.after == {"ends_on": "2024-01-30"}
    by_cadre, response = loads(client)
    assert by_cadre[ys.cadre.cadre.pk]["people"] == 0
    assert [c.pk for c in response.context["unassigned_cells"]] == [ys.other_cell.pk]
    with pytest.raises(ValidationError) as error:
        services.assignment_end(actor=ys.admin, assignment=assignment, ends_on=date(2024, 1, 30), reason="再次")
    assert "已于" in error.value.message_dict["ends_on"][0]


def test_another_towns_cadre_cell_and_assignment_are_refused(client, cast, ys, jan30):
    tc = cast.tongcheng
    with pytest.raises(ValidationError) as error:
        assign(cast, cadre=tc.cadre.cadre, cell=ys.cell)
    assert error.value.message_dict["cadre"] == ["干部不存在或不在您的管辖范围内"]
    with pytest.raises(ValidationError) as error:
        assign(cast, cadre=ys.cadre.cadre, cell=tc.cell)
    assert error.value.message_dict["cell"] == ["网格不存在或不在您的管辖范围内"]
    with pytest.raises(ValidationError):
        assign(cast, cadre=ys.cadre.cadre, cell=ys.big)  # a big cell holds no people
    client.force_login(ys.admin)
    response = client.post(
        reverse("towns:zone_assign"),
        {"cadre": tc.cadre.cadre.pk, "cell": tc.cell.pk, "starts_on": "2024-01-30", "town": tc.town.pk},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "干部不存在或不在您的管辖范围内" in body and "网格不存在或不在您的管辖范围内" in body
    with unscoped():
        theirs = Assignment.objects.get(cadre=tc.grid_worker.cadre)
        assert Assignment.objects.filter(town=tc.town).count() == 1
    assert client.get(reverse("towns:zone_end", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("towns:zone_end", args=[theirs.pk]), {"ends_on": "2024-01-30", "reason": "x"}).status_code == 404
    with unscoped():
        theirs.refresh_from_db()
    assert theirs.ends_on is None


def test_only_map_editors_reach_the_zones(client, cast, ys, jan30):
    for user in (ys.cadre, ys.grid_worker, cast.county_viewer, cast.inspector):
        client.force_login(user)
        assert client.get(reverse("towns:zones")).status_code == 403
        assert client.get(reverse("towns:zone_assign")).status_code == 403
        with pytest.raises(PermissionDenied):
            services.assignment_end(
                actor=user, assignment=Assignment.objects.for_user(ys.admin).first(), ends_on=date(2024, 1, 30), reason="x"
            )
    client.force_login(cast.sysadmin)
    response = client.get(reverse("towns:zones"), {"town": cast.tongcheng.town.pk})
    assert response.status_code == 200 and response.context["town"] == cast.tongcheng.town
