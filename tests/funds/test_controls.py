"""Controls on by default (issue 12 §2): every town's approval threshold (its own or the county
default), a hard county ceiling, a minor's guardian for cash, 超标准 outside campaigns."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from core import idnumbers
from core.scoping import unscoped
from funds import services
from funds.inspection import Context, rule_above_standard
from funds.models import Disbursement
from tests.cast import at, make_person
from tests.funds.grant_objects import make_grant
from visits.models import Visit

NEW_VISIT = reverse("visits:visit_create")


@pytest.fixture(autouse=True)
def county_rules(settings):
    settings.GRANT_APPROVAL_THRESHOLD_DEFAULT = Decimal("1000")
    settings.GRANT_CEILING = Decimal("10000")
    settings.GRANT_MINOR_AGE = 18
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


@pytest.fixture
def child(cast):
    """A left-behind child of 10 in the grid worker's cell."""
    return make_person(cast.yeshan.household, name="李小雨", id_number=idnumbers.make_number("341181", date(2013, 9, 1), 162))


def visit_form(person, **overrides) -> dict:
    data = {
        "beneficiary": person.pk,
        "idempotency_key": str(uuid.uuid4()),
        "kind": "home",
        "visited_at": "2024-01-10T15:30",
        "cash_amount": "300",
        "cash_kind": "cash",
        "notes": "",
    }
    data.update(overrides)
    return data


def counts():
    with unscoped():
        return Visit.objects.count(), Disbursement.objects.count()


def post_visit(client, person, **overrides):
    data = visit_form(person, **overrides)
    return client.post(f"{NEW_VISIT}?beneficiary={person.pk}&key={data['idempotency_key']}", data)


# --- the ¥50,000 case of the issue ------------------------------------------------------------


def test_a_grid_workers_visit_with_50000_cash_is_refused_naming_the_ceiling(client, cast):
    client.force_login(cast.yeshan.grid_worker)
    assert cast.yeshan.town.grant_approval_threshold is None  # no town set anything: the defaults hold
    response = post_visit(client, cast.yeshan.person, cash_amount="50000")
    assert response.status_code == 200
    body = response.content.decode()
    assert "单笔发放¥50,000.00，超过全市单笔发放上限¥10,000.00，不能登记。请核对金额或数量" in body
    assert counts() == (0, 0)  # the visit is not half-saved without its grant


def test_a_grid_workers_visit_above_the_default_threshold_waits_for_approval(client, cast):
    client.force_login(cast.yeshan.grid_worker)
    response = post_visit(client, cast.yeshan.person, cash_amount="1500")
    assert response.status_code == 302
    with unscoped():
        grant = Disbursement.objects.get()
    assert (grant.approval_status, grant.approval_reason) == ("pending", "单笔¥1,500.00超过全市默认审批限额¥1,000.00")
    with unscoped():
        assert not Disbursement.objects.handed_out().exists()  # not counted until approved
    client.force_login(cast.yeshan.admin)
    queue = client.get(reverse("funds:approval_queue")).content.decode()
    assert f'data-grant-id="{grant.pk}"' in queue and "单笔¥1,500.00超过全市默认审批限额¥1,000.00" in queue
    services.disbursement_approve(actor=cast.yeshan.admin, disbursement=grant, approve=True, note="特困，同意")
    with unscoped():
        assert list(Disbursement.objects.handed_out()) == [grant]


def test_the_approval_page_states_the_towns_threshold_and_the_ceiling(client, cast, django_assert_max_num_queries):
    client.force_login(cast.yeshan.admin)
    url = reverse("funds:approval_queue")
    client.get(url)
    with django_assert_max_num_queries(4):
        body = client.get(url).content.decode()
    assert "本镇发放审批限额：<strong>¥1,000.00</strong>（全市默认，本镇未另行设定）" in body
    assert "全市单笔发放上限：<strong>¥10,000.00</strong>" in body
    assert "未满18周岁的，发放现金或转账须登记监护人" in body
    cast.yeshan.town.grant_approval_threshold = Decimal("500.00")
    cast.yeshan.town.save(update_fields=["grant_approval_threshold"])
    body = client.get(url).content.decode()
    assert "本镇发放审批限额：<strong>¥500.00</strong>（本镇设定；全市默认 ¥1,000.00）" in body


def test_goods_above_the_ceiling_are_refused_too(cast):
    from funds.models import GoodsItem
    from tests.cast import give_stock

    tv = GoodsItem.objects.create(name="电视机", unit="台", unit_value=Decimal("3000.00"))
    give_stock(cast.yeshan.town, tv, 10)
    with pytest.raises(ValidationError) as error:
        make_grant(cast.yeshan, kind="goods", goods_item=tv, quantity=4)
    assert "超过全市单笔发放上限¥10,000.00" in error.value.message_dict["quantity"][0]
    assert make_grant(cast.yeshan, kind="goods", goods_item=tv, quantity=1).approval_status == "pending"


# --- a minor's guardian -----------------------------------------------------------------------


def test_the_visit_form_asks_for_a_minors_guardian_and_the_service_insists(client, cast, child):
    client.force_login(cast.yeshan.grid_worker)
    form = client.get(f"{NEW_VISIT}?beneficiary={child.pk}&key={uuid.uuid4()}").content.decode()
    assert 'data-testid="guardian"' in form and "李小雨未成年：发放慰问金（现金或转账）须登记监护人" in form
    adult = client.get(f"{NEW_VISIT}?beneficiary={cast.yeshan.person.pk}&key={uuid.uuid4()}").content.decode()
    assert 'data-testid="guardian"' not in adult

    refused = post_visit(client, child, cash_amount="50000").content.decode()
    # Every problem at once: the missing guardian and the ceiling.
    assert "李小雨未满18周岁，发放慰问金须登记监护人姓名及与其关系" in refused
    assert "超过全市单笔发放上限¥10,000.00" in refused
    assert counts() == (0, 0)
    saved = post_visit(client, child, cash_amount="200", guardian_name="李强", guardian_relation="父亲")
    assert saved.status_code == 302
    with unscoped():
        grant = Disbursement.objects.get()
    assert (grant.guardian_name, grant.guardian_relation) == ("李强", "父亲")
    client.force_login(cast.yeshan.admin)
    page = client.get(reverse("funds:grant_detail", args=[grant.pk])).content.decode()
    assert "李强（父亲）" in page


def test_a_guardian_needs_a_relation_and_goods_need_no_guardian(cast, child):
    with pytest.raises(ValidationError) as error:
        make_grant(cast.yeshan, person=child, guardian_name="李强")
    assert error.value.message_dict["guardian_relation"] == ["请填写监护人与慰问对象的关系（如：母亲、祖父）"]
    from funds.models import GoodsItem
    from tests.cast import give_stock

    books = GoodsItem.objects.create(name="书包", unit="个", unit_value=Decimal("80.00"))
    give_stock(cast.yeshan.town, books, 5)
    assert make_grant(cast.yeshan, person=child, kind="goods", goods_item=books, quantity=1).guardian_name == ""
    # On their 18th birthday a person is of age.
    grown = make_person(cast.yeshan.household, name="李大雨", id_number=idnumbers.make_number("341181", date(2006, 1, 9), 172))
    assert make_grant(cast.yeshan, person=grown).guardian_name == ""


def test_a_correction_keeps_the_guardian_and_the_reissue_form_shows_it(client, cast, child):
    grant = make_grant(cast.yeshan, person=child, guardian_name="王芳", guardian_relation="母亲")
    corrected, _ = services.disbursement_reissue(
        actor=cast.yeshan.admin, original=grant, reason="金额录入错误", idempotency_key=uuid.uuid4(), amount=Decimal("250.00")
    )
    assert (corrected.guardian_name, corrected.guardian_relation) == ("王芳", "母亲")
    client.force_login(cast.yeshan.admin)
    page = client.get(reverse("funds:grant_reissue", args=[corrected.pk])).content.decode()
    assert 'name="guardian_name"' in page and 'value="王芳"' in page


def test_a_batch_asks_each_minors_guardian(client, cast, child):
    client.force_login(cast.yeshan.cadre)
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "campaign": cast.campaign.pk,
        "handed_at": "2024-01-09T10:00",
        "handed_by": cast.yeshan.cadre.cadre.pk,
        "kind": "cash",
        "source": "town_finance",
        "amount": "200",
        "beneficiaries": [cast.yeshan.person.pk, child.pk],
    }
    preview = client.post(reverse("funds:batch"), {**data, "_preview": "1"}).content.decode()
    assert preview.count('data-testid="batch-guardian"') == 1 and f'name="guardian_name_{child.pk}"' in preview
    refused = client.post(reverse("funds:batch"), {**data, "_confirm": "1"}).content.decode()
    assert "李小雨未满18周岁，请填写监护人姓名及与其关系" in refused
    assert counts() == (0, 0)
    done = client.post(
        reverse("funds:batch"),
        {**data, "_confirm": "1", f"guardian_name_{child.pk}": "李强", f"guardian_relation_{child.pk}": "父亲"},
    )
    assert done.status_code == 302
    with unscoped():
        assert Disbursement.objects.get(beneficiary=child).guardian_name == "李强"
        assert Disbursement.objects.get(beneficiary=cast.yeshan.person).guardian_name == ""


# --- 超标准 outside campaigns -----------------------------------------------------------------


def test_above_standard_covers_grants_outside_a_campaign_per_calendar_year(cast):
    category = cast.categories["elderly_alone"]
    category.standard = Decimal("600.00")
    category.save(update_fields=["standard"])
    ys = cast.yeshan
    first = make_grant(ys, amount="300.00", handed_at=at(2024, 1, 2))
    second = make_grant(ys, amount="400.00", handed_at=at(2024, 1, 8))
    make_grant(ys, amount="500.00", handed_at=at(2023, 12, 31, 20))  # last year's: its own year, below
    make_grant(ys, amount="200.00", campaign=cast.campaign)  # a campaign's: judged by the campaign's standard
    make_grant(ys, amount="1200.00", person=ys.person_other_cell)  # pending: not handed out (yet)
    with unscoped():
        found = [c for c in rule_above_standard(Context(now=at(2024, 1, 10, 16))) if c.campaign_id is None]
    assert len(found) == 1
    flag = found[0]
    assert (flag.key, flag.beneficiary_id, sorted(flag.disbursement_ids)) == (
        f"year-2024-{ys.person.pk}",
        ys.person.pk,
        sorted([first.pk, second.pk]),
    )
    assert "2024年在专项活动以外共领取¥700.00，超过其类别日常慰问标准每年¥600.00（多¥100.00）" in flag.summary
    category.standard = None  # no standard: not judged
    category.save(update_fields=["standard"])
    with unscoped():
        assert not [c for c in rule_above_standard(Context(now=at(2024, 1, 10, 16))) if c.campaign_id is None]


def test_a_towns_own_threshold_cannot_exceed_the_county_ceiling(cast):
    town = cast.yeshan.town
    town.grant_approval_threshold = Decimal("20000.00")
    with pytest.raises(ValidationError) as error:
        town.full_clean()
    assert error.value.message_dict["grant_approval_threshold"] == [
        "审批限额不能高于全市单笔发放上限¥10,000.00（超过上限的发放不能登记）"
    ]
    town.grant_approval_threshold = Decimal("2000.00")
    town.full_clean()
