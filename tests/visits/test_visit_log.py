"""The visit log screen (issue 4 §3): one screen, one transaction, one visit per form."""

import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from core import audit
from core.models import AuditRecord
from core.scoping import unscoped
from funds.models import Disbursement, GoodsItem, GoodsStock
from tests.cast import CANARY_ID, CANARY_NAME, at, give_stock
from visits import services
from visits.models import FollowUp, Visit
from visits.views.visits import _after_url

NEW = reverse("visits:visit_create")


@pytest.fixture
def now():
    # 2024-01-10 16:00 in Shanghai: inside the cast's campaign 2024年双节慰问.
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


@pytest.fixture
def rice(cast):
    item = GoodsItem.objects.create(name="大米", unit="袋", unit_value=Decimal("50.00"))
    # Handing out goods takes them from the town's store (issue 5 §1).
    give_stock(cast.yeshan.town, item, 20)
    give_stock(cast.tongcheng.town, item, 20)
    return item


@pytest.fixture
def grid(client, cast):
    client.force_login(cast.yeshan.grid_worker)
    return client


def form_data(cast, rice=None, **overrides):
    data = {
        "beneficiary": cast.yeshan.person.pk,
        "idempotency_key": str(uuid.uuid4()),
        "kind": "home",
        "visited_at": "2024-01-10T15:30",
        "visitors": [cast.yeshan.cadre.cadre.pk],
        "volunteers_count": "2",
        "cash_amount": "300",
        "cash_kind": "cash",
        "goods_item": rice.pk if rice else "",
        "goods_quantity": "2" if rice else "",
        "bp_systolic": "138",
        "bp_diastolic": "86",
        "demands": "屋顶漏雨需要修缮\n\n申请临时救助\n",
        "notes": "身体尚可，家中取暖不足",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def counts():
    with unscoped():
        return {
            "visits": Visit.objects.count(),
            "grants": Disbursement.objects.count(),
            "followups": FollowUp.objects.count(),
            "audit": AuditRecord.objects.count(),
        }


def url_for(person):
    return f"{NEW}?beneficiary={person.pk}"


# --- the screen -------------------------------------------------------------------------------


def test_the_form_opens_prefilled_for_the_person(grid, cast, now, rice, django_assert_max_num_queries):
    # The form's key goes into its address first, so going back to it shows the same key.
    opened = grid.get(url_for(cast.yeshan.person))
    assert opened.status_code == 302
    assert opened["Location"].startswith(url_for(cast.yeshan.person) + "&key=")
    key = opened["Location"].rsplit("=", 1)[1]
    with django_assert_max_num_queries(12):
        response = grid.get(opened["Location"])
    assert response.status_code == 200
    body = response.content.decode()
    assert "李桂英" in body and cast.yeshan.person.id_number_masked in body
    assert "独居老人" in body and "冶山镇长兴社区幸福路8号" in body
    assert 'value="2024-01-10T16:00"' in body  # now, in Shanghai time
    assert "冶山镇网格员（本人）" in body and "冶山镇包村干部" in body
    assert "铜城镇" not in body  # colleagues come from the person's town only
    assert "大米（袋）" in body
    assert "计入“2024年双节慰问”" in body and "独居老人标准 ¥300.00" in body
    # Overdue since registration (2023-06-01) and never visited.
    assert "已超期" in body
    assert f'name="idempotency_key" value="{key}"' in body
    assert "这份走访已于" not in body


def test_back_on_a_submitted_form_says_so_and_resubmitting_replays(grid, cast, now, rice):
    form_url = grid.get(url_for(cast.yeshan.person))["Location"]
    key = form_url.rsplit("=", 1)[1]
    first = grid.post(form_url, form_data(cast, rice, idempotency_key=key))
    written = counts()
    back = grid.get(form_url)  # back, reload, or a browser that re-fetches the page
    body = back.content.decode()
    assert f'value="{key}"' in body
    assert "这份走访已于 1月10日 16:00 保存，再次提交不会重复登记" in body
    again = grid.post(form_url, form_data(cast, rice, idempotency_key=key))
    assert again["Location"] == first["Location"]
    assert counts() == written
    # "另登记一次" opens a new form with a new key.
    fresh = grid.get(url_for(cast.yeshan.person))["Location"]
    assert fresh != form_url


def test_without_a_person_the_screen_searches_by_pinyin_initials_name_phone_and_id(
    grid, cast, now, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = grid.get(NEW, {"q": "LGY"})
    body = response.content.decode()
    assert "李桂英" in body and f"?beneficiary={cast.yeshan.person.pk}" in body
    assert "周德海" not in body  # not a match (and in a cell the grid worker does not answer for)
    assert "李桂英" in grid.get(NEW, {"q": "桂英"}).content.decode()
    assert "李桂英" in grid.get(NEW, {"q": "13855501234"}).content.decode()
    # The grid worker's cells only; another town's person is not found by name or ID number.
    for q in (CANARY_NAME, CANARY_ID, "qjf"):
        body = grid.get(NEW, {"q": q}).content.decode()
        assert f'?beneficiary={cast.tongcheng.person.pk}"' not in body and "没有找到" in body
    # No query: the people most due, in scope.
    body = grid.get(NEW).content.decode()
    assert "李桂英" in body and CANARY_NAME not in body


# --- logging a visit ----------------------------------------------------------------------------


def test_one_post_logs_the_visit_its_grants_and_followups_with_audit(grid, cast, now, rice, django_assert_max_num_queries):
    before = counts()
    data = form_data(cast, rice)
    # Each part goes through its own service, as parts of one write (no savepoint each); what one
    # service resolved in the actor's scope the next trusts, and the six audit records are
    # appended together at the end (one lock, one read of the chain's head). Goods also leave the
    # town store: the stock update and its movement. The demands' deadline comes from the town's
    # rules, read once. (97 queries before these changes; 34 before issue 13 and 14.) Issue 14 adds the
    # session's row, the same-visit-within-the-hour check and one outbox row for the dashboards; issue
    # 13 drops the session switch's two statements; the user is read with their cadre (one query).
    with django_assert_max_num_queries(33):
        response = grid.post(url_for(cast.yeshan.person), data)
    assert response.status_code == 302
    visit = Visit.objects.for_user(cast.yeshan.grid_worker).get()
    assert response["Location"] == _after_url(visit)
    assert visit.campaign == cast.campaign  # the running campaign that targets 独居老人
    assert visit.bp_systolic == 138 and visit.bp_diastolic == 86 and visit.volunteers_count == 2
    assert visit.notes == "身体尚可，家中取暖不足"
    assert {c.name for c in visit.visitors.all()} == {"冶山镇网格员", "冶山镇包村干部"}
    grants = list(visit.disbursements.order_by("kind"))
    assert [(g.kind, g.amount, g.quantity) for g in grants] == [("cash", Decimal("300.00"), None), ("goods", None, 2)]
    assert all(g.campaign == cast.campaign and g.handed_at == visit.visited_at for g in grants)
    assert grants[0].idempotency_key == uuid.uuid5(uuid.UUID(data["idempotency_key"]), "cash")
    assert [f.title for f in visit.followups.order_by("id")] == ["屋顶漏雨需要修缮", "申请临时救助"]
    assert all(f.kind == "demand" and f.beneficiary == cast.yeshan.person for f in visit.followups.all())
    after = counts()
    assert after["visits"] - before["visits"] == 1
    assert after["grants"] - before["grants"] == 2
    assert after["followups"] - before["followups"] == 2
    with unscoped():
        actions = list(AuditRecord.objects.order_by("id").exclude(action="demo.load").values_list("action", flat=True))
    # In the order the writes were made, and chained like any other records.
    assert actions[-6:] == [
        "visit.create",
        "disbursement.create",
        "disbursement.create",
        "stockmovement.create",
        "followup.create",
        "followup.create",
    ]
    assert audit.verify_chain().ok

    page = grid.get(response["Location"])
    assert "已登记走访：李桂英（发放慰问金 ¥300.00，慰问品 大米×2袋，诉求 2 条）" in page.content.decode()


def test_the_same_form_posted_again_writes_nothing_more_and_answers_the_same(
    grid, cast, now, rice, django_assert_max_num_queries
):
    data = form_data(cast, rice)
    first = grid.post(url_for(cast.yeshan.person), data)
    written = counts()
    # A double tap, a retry, or back-and-resubmit: the same key, even with edits in between.
    with django_assert_max_num_queries(18):
        again = grid.post(url_for(cast.yeshan.person), {**data, "cash_amount": "500", "notes": "又改了"})
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert counts() == written
    page = grid.get(again["Location"])
    assert "该次走访已登记过，未重复保存：李桂英（发放慰问金 ¥300.00" in page.content.decode()
    # Through htmx, the answer is a client-side redirect to the same page.
    htmx = grid.post(url_for(cast.yeshan.person), data, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx["HX-Redirect"] == first["Location"]
    assert counts() == written


def test_errors_keep_what_was_typed_and_name_the_field_in_chinese(grid, cast, now, rice):
    data = form_data(cast, rice, bp_systolic="300", cash_amount="300.50", notes="老人独居，取暖不足")
    response = grid.post(url_for(cast.yeshan.person), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "收缩压：收缩压应在60–260之间" in body
    assert 'value="300.50"' in body and "老人独居，取暖不足" in body and "屋顶漏雨需要修缮" in body
    assert f'value="{data["idempotency_key"]}"' in body  # the same key: fixing and resubmitting is still one visit
    assert 'value="2024-01-10T15:30"' in body
    assert counts()["visits"] == 0 and counts()["grants"] == 0  # nothing half-saved

    fixed = grid.post(url_for(cast.yeshan.person), {**data, "bp_systolic": "150"})
    assert fixed.status_code == 302
    assert counts()["visits"] == 1 and counts()["grants"] == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"visited_at": "2024-01-11T09:00"}, "走访时间：走访时间不能晚于现在"),
        ({"visited_at": "2023-05-01T09:00"}, "走访时间：走访时间不能早于该对象的建档日期（2023年6月1日）"),
        ({"bp_systolic": "120", "bp_diastolic": ""}, "收缩压：血压须同时填写收缩压和舒张压"),
        ({"bp_systolic": "80", "bp_diastolic": "90"}, "舒张压：舒张压应低于收缩压"),
        ({"bp_diastolic": "20"}, "舒张压：舒张压应在30–160之间"),
        ({"cash_amount": "0"}, "慰问金（元）：金额须大于0"),
        ({"cash_amount": "12.345"}, "慰问金（元）：金额最多保留两位小数"),
        ({"goods_quantity": ""}, "数量：选择了慰问品，请填写数量"),
        ({"volunteers_count": "-1"}, "志愿者人数：志愿者人数不能为负数"),
        ({"kind": ""}, "走访方式：请选择走访方式"),
        ({"visited_at": "昨天"}, "走访时间：请按“年-月-日 时:分”填写走访时间"),
        ({"demands": "\n".join(f"诉求{i}" for i in range(11))}, "群众诉求：一次最多登记10条诉求（现有11条）"),
        ({"demands": "修" * 121}, "群众诉求：第1条超过120字（121字）"),
    ],
)
def test_bad_input_is_refused_beside_its_field(grid, cast, now, rice, overrides, message):
    response = grid.post(url_for(cast.yeshan.person), form_data(cast, rice, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert counts()["visits"] == 0 and counts()["grants"] == 0 and counts()["followups"] == 0


def test_errors_of_several_parts_come_back_together(cast, now, rice):
    with pytest.raises(ValidationError) as error:
        services.visit_log(
            actor=cast.yeshan.grid_worker,
            beneficiary=cast.yeshan.person,
            idempotency_key=uuid.uuid4(),
            visited_at=at(2024, 1, 10, 15),
            kind="home",
            bp_systolic=300,
            bp_diastolic=80,
            cash_amount=Decimal("100"),
            cash_kind="cheque",
            demands=["x" * 130],
        )
    assert set(error.value.message_dict) == {"bp_systolic", "cash_kind", "demands"}
    assert counts()["visits"] == 0


def test_parts_refused_after_the_visit_was_written_leave_nothing_behind(cast, now, rice):
    # Both grants refuse after the visit row exists (the parts share one transaction, no savepoints):
    # every refusal is reported, and the visit, the grants, the stock and the audit trail are as before.
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.visit_log(
            actor=cast.yeshan.grid_worker,
            beneficiary=cast.yeshan.person,
            idempotency_key=uuid.uuid4(),
            visited_at=at(2024, 1, 10, 15),
            kind="home",
            cash_amount=Decimal("100.005"),
            goods_item=rice,
            goods_quantity=21,
            demands=["屋顶漏雨"],
        )
    assert error.value.message_dict == {
        "cash_amount": ["金额最多保留两位小数"],
        "goods_quantity": ["库存不足：大米 现有 20袋"],
    }
    assert counts() == before
    with unscoped():
        assert GoodsStock.objects.get(town=cast.yeshan.town, goods_item=rice).quantity == 20


def test_the_service_answers_a_replay_with_the_first_result(cast, now, rice):
    key = uuid.uuid4()
    kwargs = {
        "actor": cast.yeshan.grid_worker,
        "beneficiary": cast.yeshan.person,
        "idempotency_key": key,
        "visited_at": at(2024, 1, 10, 15),
        "kind": "home",
        "cash_amount": Decimal("300"),
        "goods_item": rice,
        "goods_quantity": 1,
        "demands": ["修缮屋顶"],
    }
    first = services.visit_log(**kwargs)
    written = counts()
    again = services.visit_log(**{**kwargs, "demands": ["修缮屋顶", "另一条"], "cash_amount": Decimal("1")})
    assert first.created and not again.created
    assert again.visit == first.visit
    assert [g.pk for g in again.grants] == [g.pk for g in first.grants]
    assert [f.pk for f in again.followups] == [f.pk for f in first.followups]
    assert counts() == written


def test_no_campaign_outside_its_dates(grid, cast, rice):
    with time_machine.travel(at(2024, 3, 1, 10), tick=False):
        response = grid.post(url_for(cast.yeshan.person), form_data(cast, rice, visited_at="2024-03-01T09:00"))
    assert response.status_code == 302
    assert Visit.objects.for_user(cast.yeshan.grid_worker).get().campaign is None


def test_transfer_by_a_proxy_is_recorded(grid, cast, now):
    response = grid.post(
        url_for(cast.yeshan.person),
        form_data(cast, cash_kind="transfer", proxy_name="李明", proxy_relation="儿子", account_holder="李明", demands=""),
    )
    assert response.status_code == 302
    grant = Disbursement.objects.for_user(cast.yeshan.grid_worker).get()
    assert (grant.kind, grant.proxy_name, grant.proxy_relation) == ("transfer", "李明", "儿子")
    page = grid.get(response["Location"]).content.decode()
    assert "转账慰问金 ¥300.00" in page


# --- scope and roles ------------------------------------------------------------------------------


def test_another_towns_or_cells_person_is_a_404(grid, cast, now, rice):
    for person in (cast.tongcheng.person, cast.yeshan.person_other_cell):
        assert grid.get(url_for(person)).status_code == 404
        assert grid.get(url_for(person) + f"&key={uuid.uuid4()}").status_code == 404
        data = form_data(cast, rice, beneficiary=person.pk)
        assert grid.post(NEW, data).status_code == 404
        assert grid.post(url_for(person), data).status_code == 404
    # A form for my person whose hidden field was changed to another town's person.
    response = grid.post(url_for(cast.yeshan.person), form_data(cast, rice, beneficiary=cast.tongcheng.person.pk))
    assert response.status_code == 404
    assert counts()["visits"] == 0


def test_a_colleague_from_another_town_is_refused_as_visitor(grid, cast, now, rice):
    other = cast.tongcheng.cadre.cadre.pk
    response = grid.post(url_for(cast.yeshan.person), form_data(cast, rice, visitors=[other]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "走访干部：所选干部不是本镇在岗干部，请重新选择" in body
    assert "铜城镇包村干部" not in body
    assert counts()["visits"] == 0
    # The service refuses it too, whatever the form lets through.
    with pytest.raises(ValidationError) as error:
        services.visit_log(
            actor=cast.yeshan.grid_worker,
            beneficiary=cast.yeshan.person,
            idempotency_key=uuid.uuid4(),
            visited_at=at(2024, 1, 10, 15),
            kind="home",
            visitor_ids=[other],
        )
    assert error.value.message_dict["visitors"] == ["走访干部不存在或不在您的管辖范围内"]


@pytest.mark.parametrize("role", ["county_viewer", "inspector", "sysadmin"])
def test_roles_without_visit_log_get_403(client, cast, now, rice, role):
    client.force_login(cast.users_by_role()[role])
    assert client.get(url_for(cast.yeshan.person)).status_code == 403
    assert client.get(url_for(cast.yeshan.person) + f"&key={uuid.uuid4()}").status_code == 403
    assert client.post(url_for(cast.yeshan.person), form_data(cast, rice)).status_code == 403
    assert counts()["visits"] == 0


def test_town_cadre_logs_for_any_person_of_the_town(client, cast, now, rice):
    client.force_login(cast.yeshan.cadre)
    response = client.post(
        url_for(cast.yeshan.person_other_cell), form_data(cast, rice, beneficiary=cast.yeshan.person_other_cell.pk, visitors=[])
    )
    assert response.status_code == 302
    visit = Visit.objects.for_user(cast.yeshan.cadre).get()
    assert visit.recorded_by == cast.yeshan.cadre.cadre


# --- the visit's page ------------------------------------------------------------------------------


def test_the_visit_page_shows_what_was_logged_and_is_404_outside_scope(client, cast, now, rice, django_assert_max_num_queries):
    client.force_login(cast.yeshan.grid_worker)
    client.post(url_for(cast.yeshan.person), form_data(cast, rice))
    visit = Visit.objects.for_user(cast.yeshan.grid_worker).get()
    url = reverse("visits:visit_detail", kwargs={"pk": visit.pk})
    with django_assert_max_num_queries(10):
        body = client.get(url).content.decode()
    for text in (
        "李桂英",
        "1月10日 15:30",  # the clock is in 2024: no year (towns/dates.py)
        "入户走访",
        "志愿者 2 人",
        "138/86 mmHg",
        "¥300.00",
        "大米 × 2袋",
        "屋顶漏雨需要修缮",
        "申请临时救助",
        "身体尚可，家中取暖不足",
        "2024年双节慰问",
    ):
        assert text in body, text
    assert "冶山镇网格员" in body and "冶山镇包村干部" in body
    client.force_login(cast.tongcheng.grid_worker)
    assert client.get(url).status_code == 404
    client.force_login(cast.tongcheng.admin)
    assert client.get(url).status_code == 404
    client.force_login(cast.inspector)
    assert client.get(url).status_code == 200
