"""The audit page as an inspector uses it: filter, read before/after side by side, page back in time."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core import audit
from core.models import AuditRecord
from core.scoping import unscoped
from tests.cast import CANARY_PHONE

LIST = reverse("funds:audit_list")


def write(actor, action, obj=None, **kwargs):
    with transaction.atomic():
        return audit.record(actor=actor, action=action, obj=obj, **kwargs)


@pytest.fixture
def trail(cast):
    """A small trail in both towns."""
    ys, tc = cast.yeshan, cast.tongcheng
    write(
        ys.cadre,
        "beneficiary.update",
        ys.person,
        before={"phone": "13855501234", "name": "李桂英"},
        after={"phone": "13855509999", "name": "李桂英"},
    )
    write(tc.admin, "beneficiary.update", tc.person, before={"phone": ""}, after={"phone": CANARY_PHONE})
    write(
        tc.admin,
        "beneficiary.status",
        tc.person,
        before={"status": "active"},
        after={"status": "deceased"},
        reason="本人于2024年1月去世",
    )
    write(cast.inspector, "beneficiary.reveal_id", tc.person)
    return cast


def text(response) -> str:
    return response.content.decode()


def shown_ids(response) -> list[int]:
    return [r.pk for r in response.context["records"]]


def all_ids(**filters) -> list[int]:
    with unscoped():
        return list(AuditRecord.objects.filter(**filters).order_by("-id").values_list("pk", flat=True))


def test_inspector_sees_every_town_with_before_and_after_side_by_side(client, trail):
    client.force_login(trail.inspector)
    response = client.get(LIST)
    assert response.status_code == 200
    body = text(response)
    for label in ("操作时间", "操作人", "角色", "所属镇", "操作", "对象", "修改前", "修改后", "原因", "渠道", "请求编号"):
        assert label in body
    assert "铜城镇管理员" in body and CANARY_PHONE in body  # county-wide: 铜城镇 too
    assert "变更对象状态" in body and "本人于2024年1月去世" in body and "查看完整身份证号" in body
    assert 'class="diff-before">13855501234<' in body and 'class="diff-after">13855509999<' in body
    assert "联系电话" in body or "phone" in body  # the field's Chinese name where the model has one
    assert "李桂英</td>" not in body.split("data-record-id")[1]  # unchanged fields are left out of an update's diff


def test_the_system_admin_sees_it_too(client, trail):
    client.force_login(trail.sysadmin)
    assert client.get(LIST).status_code == 200


@pytest.mark.parametrize("role", ["grid_worker", "town_cadre", "town_admin", "county_viewer"])
def test_other_roles_are_refused(client, trail, role):
    client.force_login(trail.users_by_role()[role])
    assert client.get(LIST).status_code == 403
    record_id = all_ids()[0]
    assert client.get(reverse("funds:audit_detail", args=[record_id])).status_code == 403


def test_anonymous_is_sent_to_login(client, trail):
    response = client.get(LIST)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_page_is_read_only(client, trail):
    client.force_login(trail.inspector)
    assert client.post(LIST).status_code == 405


def test_filter_by_town(client, trail):
    client.force_login(trail.inspector)
    response = client.get(LIST, {"town": trail.tongcheng.town.pk})
    assert shown_ids(response) == all_ids(town=trail.tongcheng.town)
    assert "李桂英" not in text(response).split('data-testid="audit-records"')[1]


def test_filter_by_actor_name_or_username(client, trail):
    client.force_login(trail.inspector)
    assert shown_ids(client.get(LIST, {"actor": "包村干部"})) == all_ids(actor=trail.yeshan.cadre)
    assert shown_ids(client.get(LIST, {"actor": "tc_ad"})) == all_ids(actor=trail.tongcheng.admin)


def test_filter_by_action_object_and_channel(client, trail):
    client.force_login(trail.inspector)
    assert shown_ids(client.get(LIST, {"action": "beneficiary.status"})) == all_ids(action="beneficiary.status")
    person = trail.tongcheng.person
    by_object = shown_ids(client.get(LIST, {"object_type": "towns.beneficiary", "object_id": person.pk}))
    assert by_object == all_ids(object_type="towns.beneficiary", object_id=str(person.pk)) and len(by_object) == 3
    assert shown_ids(client.get(LIST, {"channel": "db"})) == []


def test_an_action_without_a_label_can_still_be_filtered(client, trail):
    write(
        trail.sysadmin, "goodsitem.update", object_type="funds.goodsitem", object_id="1", object_repr="米", after={"unit": "袋"}
    )
    client.force_login(trail.inspector)
    response = client.get(LIST, {"action": "goodsitem.update"})
    assert shown_ids(response) == all_ids(action="goodsitem.update")
    assert "修改慰问品" in text(response)


def test_filter_by_date_in_local_days(client, trail):
    client.force_login(trail.inspector)
    today = timezone.localdate()
    assert shown_ids(client.get(LIST, {"date_from": today, "date_to": today})) == all_ids()
    assert shown_ids(client.get(LIST, {"date_to": today - timedelta(days=1)})) == []
    assert shown_ids(client.get(LIST, {"date_from": today + timedelta(days=1)})) == []


def test_a_bad_date_is_explained_and_ignored(client, trail):
    client.force_login(trail.inspector)
    response = client.get(LIST, {"date_from": "2024-13-45"})
    assert response.status_code == 200 and "起始日期：" in text(response)
    assert shown_ids(response) == all_ids()


def test_pages_go_back_by_id_fifty_at_a_time(client, trail):
    for n in range(60):
        write(
            trail.yeshan.cadre, "beneficiary.update", trail.yeshan.person, before={"phone": str(n)}, after={"phone": str(n + 1)}
        )
    client.force_login(trail.inspector)
    first = client.get(LIST, {"town": trail.yeshan.town.pk})
    expected = all_ids(town=trail.yeshan.town)
    assert shown_ids(first) == expected[:50]
    next_query = first.context["next_query"]
    assert f"before={expected[49]}" in next_query and f"town={trail.yeshan.town.pk}" in next_query
    second = client.get(f"{LIST}?{next_query}")
    assert shown_ids(second) == expected[50:] and second.context["next_query"] == ""
    assert "最新记录" in text(second)


def test_the_list_page_query_count_does_not_grow_with_the_records(client, trail, django_assert_max_num_queries):
    for n in range(60):
        write(
            trail.tongcheng.admin,
            "beneficiary.update",
            trail.tongcheng.person,
            before={"phone": str(n)},
            after={"phone": str(n + 1)},
        )
    client.force_login(trail.inspector)
    # session, user, cadre, scope (2), the town filter's check and choices, the records, session save (3)
    with django_assert_max_num_queries(11):
        response = client.get(LIST, {"town": trail.tongcheng.town.pk, "actor": "管理员"})
    assert len(response.context["records"]) == 50


def test_the_detail_page_shows_every_field_and_the_signature(client, trail):
    [record_id] = all_ids(action="beneficiary.status")
    client.force_login(trail.inspector)
    response = client.get(reverse("funds:audit_detail", args=[record_id]))
    assert response.status_code == 200
    body = text(response)
    with unscoped():
        record = AuditRecord.objects.get(pk=record_id)
    assert record.hash in body and record.prev_hash in body and "本人于2024年1月去世" in body
    assert 'class="diff-before">在册<' in body and 'class="diff-after">已故<' in body
    assert f"object_id={trail.tongcheng.person.pk}" in body  # link to the object's whole history


def test_an_unknown_record_is_404(client, trail):
    client.force_login(trail.inspector)
    assert client.get(reverse("funds:audit_detail", args=[all_ids()[0] + 1000])).status_code == 404


def test_a_change_made_behind_the_services_back_reads_plainly(client, trail):
    from decimal import Decimal

    from django.db import connection

    from funds import services

    budget = services.budget_set(
        actor=trail.yeshan.admin, campaign=trail.campaign, town=trail.yeshan.town, source="charity", amount=Decimal("20000.00")
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE funds_budget SET amount = 99999.5 WHERE id = %s", [budget.pk])
    from tests.funds.test_audit import at_commit

    at_commit()  # the capture trigger runs at commit
    client.force_login(trail.inspector)
    body = text(client.get(LIST, {"channel": "db"}))
    assert "数据库直接修改预算" in body and "绕过业务服务的数据库直接修改" in body
    assert 'class="diff-before">20000.00<' in body and 'class="diff-after">99999.50<' in body
    assert "预算金额（元）" in body
