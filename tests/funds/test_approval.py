"""Approval above the town's threshold (issue 5 §2, issue 12 §2): grants above it wait for a town admin
(every town has one: its own or the county default); above the county ceiling a grant is refused;
nobody approves a grant they handed out or recorded — the service says so, the database refuses it too."""

import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from core.models import AuditRecord
from core.scoping import unscoped
from funds import services
from funds.models import Disbursement, GoodsItem, GoodsStock
from tests.cast import at
from tests.funds.grant_objects import make_grant, private_cache_and_media  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("private_cache_and_media")


@pytest.fixture(autouse=True)
def threshold(cast):
    cast.yeshan.town.grant_approval_threshold = Decimal("500.00")
    cast.yeshan.town.save(update_fields=["grant_approval_threshold"])
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


def reload(grant):
    with unscoped():
        grant.refresh_from_db()
    return grant


@pytest.mark.parametrize(("amount", "status"), [("600.00", "pending"), ("500.00", "not_required"), ("300.00", "not_required")])
def test_only_grants_above_the_threshold_wait(cast, amount, status):
    assert make_grant(cast.yeshan, amount=amount).approval_status == status


def test_goods_are_judged_at_their_unit_value(cast):
    oil = GoodsItem.objects.create(name="食用油", unit="桶", unit_value=Decimal("120.00"))
    with unscoped():
        GoodsStock.objects.create(town=cast.yeshan.town, goods_item=oil, quantity=20)
    assert make_grant(cast.yeshan, kind="goods", goods_item=oil, quantity=4).approval_status == "not_required"  # ¥480
    assert make_grant(cast.yeshan, kind="goods", goods_item=oil, quantity=5).approval_status == "pending"  # ¥600


def test_a_town_without_its_own_threshold_uses_the_county_default(cast, settings):
    settings.GRANT_APPROVAL_THRESHOLD_DEFAULT = Decimal("1000")
    assert cast.tongcheng.town.grant_approval_threshold is None
    assert make_grant(cast.tongcheng, amount="1000.00").approval_status == "not_required"
    grant = make_grant(cast.tongcheng, amount="5000.00")
    assert grant.approval_status == "pending"
    assert grant.approval_reason == "单笔¥5,000.00超过全市默认审批限额¥1,000.00"
    assert make_grant(cast.yeshan, amount="600.00").approval_reason == "单笔¥600.00超过本镇审批限额¥500.00"


def test_a_grant_above_the_county_ceiling_is_refused_and_nothing_is_written(cast, settings):
    settings.GRANT_CEILING = Decimal("10000")
    with unscoped():
        before = Disbursement.objects.count()
    with pytest.raises(ValidationError) as error:
        make_grant(cast.tongcheng, amount="10000.01")
    assert error.value.message_dict["amount"] == [
        "单笔发放¥10,000.01，超过全市单笔发放上限¥10,000.00，不能登记。请核对金额或数量"
    ]
    with unscoped():
        assert Disbursement.objects.count() == before
    assert make_grant(cast.tongcheng, amount="10000.00").approval_status == "pending"  # at the ceiling: approval


def test_the_admin_approves_a_cadres_grant_and_the_note_is_the_audit_reason(cast):
    grant = make_grant(cast.yeshan, amount="800.00")
    services.disbursement_approve(actor=cast.yeshan.admin, disbursement=grant, approve=True, note="特困家庭，同意")
    reload(grant)
    assert (grant.approval_status, grant.approved_by, grant.approval_note) == (
        "approved",
        cast.yeshan.admin.cadre,
        "特困家庭，同意",
    )
    with unscoped():
        record = AuditRecord.objects.filter(object_type="funds.disbursement", object_id=str(grant.pk)).latest("id")
    assert (record.action, record.reason) == ("disbursement.approve", "特困家庭，同意")
    assert (record.before["approval_status"], record.after["approval_status"]) == ("pending", "approved")


def test_a_rejected_grant_stays_on_record_but_is_not_counted_as_handed_out(cast):
    grant = make_grant(cast.yeshan, amount="800.00")
    with pytest.raises(ValidationError) as error:
        services.disbursement_approve(actor=cast.yeshan.admin, disbursement=grant, approve=False)
    assert error.value.message_dict["note"] == ["不通过须填写审批意见"]
    services.disbursement_approve(actor=cast.yeshan.admin, disbursement=grant, approve=False, note="超出标准")
    assert reload(grant).approval_status == "rejected"
    with unscoped():
        assert Disbursement.objects.filter(pk=grant.pk).exists()
        assert not Disbursement.objects.handed_out().filter(pk=grant.pk).exists()
    with pytest.raises(ValidationError):  # decided once
        services.disbursement_approve(actor=cast.yeshan.admin, disbursement=grant, approve=True)


def test_nobody_approves_their_own_grant(cast):
    handed = make_grant(cast.yeshan, actor=cast.yeshan.admin, amount="800.00")  # the admin recorded and handed it
    for grant in (handed, make_grant(cast.yeshan, amount="900.00", handed_by=cast.yeshan.admin.cadre)):
        with pytest.raises(ValidationError) as error:
            services.disbursement_approve(actor=cast.yeshan.admin, disbursement=grant, approve=True)
        assert error.value.messages == ["不能审批自己经手的发放"]
        assert reload(grant).approval_status == "pending"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the check constraint is enforced by PostgreSQL")
def test_the_database_refuses_self_approval_written_past_the_service(cast):
    grant = make_grant(cast.yeshan, actor=cast.yeshan.admin, amount="800.00")
    with transaction.atomic(), pytest.raises(IntegrityError, match="disbursement_not_self_approved"), unscoped():
        Disbursement.objects.filter(pk=grant.pk).update(approval_status="approved", approved_by=cast.yeshan.admin.cadre)
    assert reload(grant).approval_status == "pending"


def test_only_town_admins_approve_and_only_their_towns(cast):
    grant = make_grant(cast.yeshan, amount="800.00")
    for user in (cast.yeshan.cadre, cast.inspector, cast.sysadmin):
        with pytest.raises(PermissionDenied):
            services.disbursement_approve(actor=user, disbursement=grant, approve=True)
    with pytest.raises(ValidationError):
        services.disbursement_approve(actor=cast.tongcheng.admin, disbursement=grant, approve=True)
    assert reload(grant).approval_status == "pending"


def test_approval_queue_shows_own_grants_without_the_buttons(cast, client, django_assert_max_num_queries):
    theirs = make_grant(cast.yeshan, amount="800.00")
    mine = make_grant(cast.yeshan, actor=cast.yeshan.admin, amount="700.00")
    make_grant(cast.yeshan, amount="100.00")  # below the threshold: not in the queue
    client.force_login(cast.yeshan.admin)
    url = reverse("funds:approval_queue")
    client.get(url)
    with django_assert_max_num_queries(4):
        page = client.get(url).content.decode()
    assert f'data-grant-id="{theirs.pk}"' in page and f'data-grant-id="{mine.pk}"' in page
    assert page.count('name="decision" value="approve"') == 1
    assert reverse("funds:grant_approve", args=[theirs.pk]) in page
    assert reverse("funds:grant_approve", args=[mine.pk]) not in page
    assert "本人经手" in page

    response = client.post(reverse("funds:grant_approve", args=[theirs.pk]), {"decision": "approve", "back": "queue"})
    assert response["Location"] == url
    assert reload(theirs).approval_status == "approved"
    response = client.post(reverse("funds:grant_approve", args=[mine.pk]), {"decision": "approve"}, follow=True)
    assert "不能审批自己经手的发放" in response.content.decode()
    assert reload(mine).approval_status == "pending"


def test_the_visit_form_says_a_grant_waits_for_approval(cast, client):
    client.force_login(cast.yeshan.grid_worker)
    data = {
        "beneficiary": cast.yeshan.person.pk,
        "idempotency_key": str(uuid.uuid4()),
        "kind": "home",
        "visited_at": "2024-01-10T15:30",
        "cash_amount": "600",
        "cash_kind": "cash",
    }
    url = f"{reverse('visits:visit_create')}?beneficiary={cast.yeshan.person.pk}&key={data['idempotency_key']}"
    response = client.post(url, data, follow=True)
    assert "待审批" in response.content.decode()
    with unscoped():
        assert Disbursement.objects.get(beneficiary=cast.yeshan.person).approval_status == "pending"
