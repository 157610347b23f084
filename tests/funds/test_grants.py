"""Grants as a cadre records them and an inspector checks them (issue 5 §2, §5): the transfer
account rule, void and reissue that keep both records, the grant page and the grant list."""

import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from core import audit
from core.models import AuditRecord
from core.scoping import unscoped
from funds import grant_selectors, services
from funds.models import Disbursement
from tests.cast import at
from tests.dbroles import as_owner
from tests.funds.grant_objects import make_grant, private_cache_and_media, upload  # noqa: F401 - a fixture
from tests.funds.test_audit import at_commit

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the money-table triggers exist on PostgreSQL only")


pytestmark = pytest.mark.usefixtures("private_cache_and_media")


@pytest.fixture(autouse=True)
def jan10():
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


def counts():
    with unscoped():
        return {"grants": Disbursement.objects.count(), "audit": AuditRecord.objects.count()}


def grant_records(grant):
    with unscoped():
        return list(AuditRecord.objects.filter(object_type="funds.disbursement", object_id=str(grant.pk)).order_by("id"))


# --- bank transfers go to the person's own account, or a named proxy's ---------------------------


def transfer(cast, **overrides):
    return make_grant(cast.yeshan, kind="transfer", **overrides)


def test_transfer_needs_the_account_holder(cast):
    with pytest.raises(ValidationError) as error:
        transfer(cast)
    assert error.value.message_dict["account_holder"] == [
        "转账户名须为慰问对象本人，或填写代领人及关系；未成年人可转入所登记监护人的账户"
    ]


def test_transfer_to_the_persons_own_account(cast):
    grant = transfer(cast, account_holder=" 李桂英 ")
    assert (grant.kind, grant.account_holder) == ("transfer", "李桂英")


def test_transfer_to_a_named_proxy_with_relation(cast):
    grant = transfer(cast, account_holder="李明", proxy_name="李明", proxy_relation="儿子")
    assert (grant.account_holder, grant.proxy_name, grant.proxy_relation) == ("李明", "李明", "儿子")


@pytest.mark.parametrize(
    "values",
    [
        {"account_holder": "王会计"},  # somebody else's account
        {"account_holder": "王会计", "proxy_name": "李明", "proxy_relation": "儿子"},  # not even the proxy's
        {"account_holder": "李明", "proxy_name": "李明"},  # proxy without relation
    ],
)
def test_transfer_to_anyone_else_is_refused(cast, values):
    before = counts()
    with pytest.raises(ValidationError) as error:
        transfer(cast, **values)
    assert "account_holder" in error.value.message_dict
    assert counts() == before


def test_cash_and_goods_keep_no_account_holder(cast):
    grant = make_grant(cast.yeshan, account_holder="李桂英")
    assert grant.account_holder == ""


# --- void and reissue: never edited, both records stay -------------------------------------------


def test_void_keeps_the_record_and_writes_the_reason_to_the_audit_trail(cast, client):
    grant = make_grant(cast.yeshan)
    services.disbursement_void(actor=cast.yeshan.cadre, disbursement=grant, reason="重复录入")
    with unscoped():
        grant.refresh_from_db()
        assert Disbursement.objects.count() == 1
    assert (grant.status, grant.void_reason) == ("voided", "重复录入")
    void = grant_records(grant)[-1]
    assert (void.action, void.reason, void.before["status"], void.after["status"]) == (
        "disbursement.void",
        "重复录入",
        "issued",
        "voided",
    )

    client.force_login(cast.inspector)
    page = client.get(reverse("funds:grant_detail", args=[grant.pk])).content.decode()
    assert "已作废" in page and "重复录入" in page and "作废发放" in page


def test_void_needs_a_reason(cast, client):
    grant = make_grant(cast.yeshan)
    client.force_login(cast.yeshan.cadre)
    response = client.post(reverse("funds:grant_void", args=[grant.pk]), {"reason": "  "})
    assert response.status_code == 200
    assert "作废须填写原因" in response.content.decode()
    with unscoped():
        assert Disbursement.objects.get().status == "issued"


def test_reissue_voids_the_original_and_creates_the_correction(cast):
    original = make_grant(cast.yeshan, campaign=cast.campaign)
    key = uuid.uuid4()
    corrected, created = services.disbursement_reissue(
        actor=cast.yeshan.cadre, original=original, reason="金额录入错误，应为500元", idempotency_key=key, amount=Decimal("500")
    )
    with unscoped():
        original.refresh_from_db()
    assert created
    assert (original.status, original.void_reason) == ("voided", "金额录入错误，应为500元")
    assert (corrected.replaces_id, corrected.amount, corrected.status) == (original.pk, Decimal("500.00"), "issued")
    assert (corrected.beneficiary_id, corrected.campaign_id) == (original.beneficiary_id, original.campaign_id)
    assert grant_records(original)[-1].reason == "金额录入错误，应为500元"
    create = grant_records(corrected)[0]
    assert create.action == "disbursement.create"
    assert create.after["replaces_id"] == original.pk
    assert f"#{original.pk}" in create.reason

    # A double submit answers with the correction already made.
    before = counts()
    again, created = services.disbursement_reissue(actor=cast.yeshan.cadre, original=original, reason="x", idempotency_key=key)
    assert (again.pk, created) == (corrected.pk, False)
    assert counts() == before


def test_reissue_is_one_transaction(cast, monkeypatch):
    original = make_grant(cast.yeshan)
    before = counts()

    def create_fails(**kwargs):
        raise RuntimeError("database went away between the void and the new grant")

    monkeypatch.setattr(services, "disbursement_create", create_fails)
    with pytest.raises(RuntimeError):
        services.disbursement_reissue(actor=cast.yeshan.cadre, original=original, reason="更正", idempotency_key=uuid.uuid4())
    with unscoped():
        original.refresh_from_db()
    assert original.status == "issued" and original.void_reason == ""
    assert counts() == before


def test_a_refused_correction_leaves_the_original_issued(cast, client):
    original = make_grant(cast.yeshan)
    client.force_login(cast.yeshan.cadre)  # a login is itself recorded
    before = counts()
    form = {
        "idempotency_key": str(uuid.uuid4()),
        "kind": "transfer",
        "amount": "500",
        "handed_at": "2024-01-09T10:30",
        "source": "town_finance",
        "account_holder": "王会计",
        "reason": "改为转账",
    }
    response = client.post(reverse("funds:grant_reissue", args=[original.pk]), form)
    assert response.status_code == 200
    assert "转账户名须为慰问对象本人" in response.content.decode()
    with unscoped():
        original.refresh_from_db()
    assert original.status == "issued"
    assert counts() == before


def test_reissue_page_is_prefilled_and_both_records_show(cast, client):
    original = make_grant(cast.yeshan, amount="300.00")
    client.force_login(cast.yeshan.cadre)
    form_page = client.get(reverse("funds:grant_reissue", args=[original.pk])).content.decode()
    assert 'value="300.00"' in form_page
    form = {
        "idempotency_key": str(uuid.uuid4()),
        "kind": "cash",
        "amount": "500",
        "handed_at": "2024-01-09T10:30",
        "source": "town_finance",
        "reason": "金额录入错误",
    }
    response = client.post(reverse("funds:grant_reissue", args=[original.pk]), form)
    with unscoped():
        corrected = Disbursement.objects.get(replaces=original)
    assert response["Location"] == reverse("funds:grant_detail", args=[corrected.pk])
    new_page = client.get(response["Location"]).content.decode()
    assert "更正自" in new_page and "¥500.00" in new_page
    old_page = client.get(reverse("funds:grant_detail", args=[original.pk])).content.decode()
    assert "已作废" in old_page and "金额录入错误" in old_page and f"#{corrected.pk}" in old_page


# --- writes that bypass the services are caught and shown on the grant page ---------------------


@postgres_only
@pytest.mark.parametrize("how", ["orm", "sql"])
def test_a_change_that_bypasses_the_services_shows_on_the_grant_page(cast, client, how):
    grant = make_grant(cast.yeshan)
    # The application's role may not change an amount at all (core/db_roles.py): the owner can, and is recorded.
    if how == "orm":
        with unscoped(), as_owner():
            Disbursement.objects.filter(pk=grant.pk).update(amount=1)
    else:
        with connection.cursor() as cursor, as_owner():
            cursor.execute("UPDATE funds_disbursement SET amount = 2 WHERE id = %s", [grant.pk])
    at_commit()
    record = grant_records(grant)[-1]
    assert (record.channel, record.action) == ("db", "disbursement.db_update")
    assert audit.verify_chain().ok

    client.force_login(cast.inspector)
    page = client.get(reverse("funds:grant_detail", args=[grant.pk])).content.decode()
    history = page[page.index('data-testid="grant-history"') :]
    assert "数据库直接修改发放记录" in history
    assert "数据库直接修改" in history  # the channel column
    assert "300.00" in history and ("1.00" in history or "2.00" in history)


# --- the grant page ------------------------------------------------------------------------------


def busy_grant(cast):
    """A grant with everything its page shows: a visit, a receipt, a correction and siblings."""
    person = cast.yeshan.person
    first = make_grant(cast.yeshan, campaign=cast.campaign)
    make_grant(cast.yeshan, campaign=cast.campaign, amount="200.00")  # paid twice in one campaign
    make_grant(cast.yeshan, amount="100.00")
    corrected, _ = services.disbursement_reissue(
        actor=cast.yeshan.cadre, original=first, reason="金额录入错误", idempotency_key=uuid.uuid4(), amount=Decimal("500")
    )
    services.receipt_attach(actor=cast.yeshan.cadre, disbursements=[corrected], kind="signature", uploaded_file=upload())
    assert person.pk == corrected.beneficiary_id
    with unscoped():
        corrected.refresh_from_db()
    return corrected


GRANT_PAGE_QUERIES = 8  # session, user with cadre, the grant, the person's grants, corrections, history, the names its ids stand for (one UNION) (+ a grid worker's cells)


@pytest.mark.parametrize("role", ["inspector", "town_cadre", "grid_worker"])
def test_grant_page_shows_everything_in_a_fixed_number_of_queries(cast, client, django_assert_max_num_queries, role):
    grant = busy_grant(cast)
    client.force_login(cast.users_by_role()[role])
    url = reverse("funds:grant_detail", args=[grant.pk])
    client.get(url)  # warm the session
    with django_assert_max_num_queries(GRANT_PAGE_QUERIES):
        response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert cast.yeshan.person.id_number_masked in page
    assert "疑似重复发放" in page
    assert "签字照片" in page and reverse("funds:receipt_file", args=[grant.receipt_id]) in page
    assert "更正自" in page
    for action in ("登记发放", "上传签领凭证"):
        assert action in page
    # The inspector reads, never writes: no buttons that lead to a write.
    write_links = [reverse("funds:grant_void", args=[grant.pk]), reverse("funds:grant_reissue", args=[grant.pk])]
    if role == "inspector":
        assert not any(link in page for link in write_links)
    if role == "town_cadre":
        assert all(link in page for link in write_links)


def test_person_page_links_each_grant(cast, client):
    grant = make_grant(cast.yeshan)
    client.force_login(cast.yeshan.grid_worker)
    page = client.get(reverse("registry:person_detail", args=[cast.yeshan.person.pk])).content.decode()
    assert reverse("funds:grant_detail", args=[grant.pk]) in page
    assert "待签领" in page


# --- the grant list ------------------------------------------------------------------------------


def test_grant_list_filters(cast, client):
    unsigned = make_grant(cast.yeshan, campaign=cast.campaign)
    signed = make_grant(cast.yeshan, person=cast.yeshan.person_other_cell, amount="200.00")
    services.receipt_attach(actor=cast.yeshan.cadre, disbursements=[signed], kind="signature", uploaded_file=upload())
    voided = make_grant(cast.yeshan, amount="50.00")
    services.disbursement_void(actor=cast.yeshan.cadre, disbursement=voided, reason="录错")
    other_town = make_grant(cast.tongcheng)

    def ids(user, **params):
        _, page = grant_selectors.grant_page(user, params)
        return {g.pk for g in page}

    cadre = cast.yeshan.cadre
    assert ids(cadre) == {unsigned.pk, signed.pk, voided.pk}
    assert ids(cadre, state="unsigned") == {unsigned.pk}
    assert ids(cadre, state="voided") == {voided.pk}
    assert ids(cadre, state="issued") == {unsigned.pk, signed.pk}
    assert ids(cadre, campaign=cast.campaign.pk) == {unsigned.pk}
    assert ids(cadre, village=cast.yeshan.village.pk) == {unsigned.pk, signed.pk, voided.pk}
    assert ids(cadre, date_from="2024-01-10") == set()
    assert ids(cadre, date_from="2024-01-09", date_to="2024-01-09") == {unsigned.pk, signed.pk, voided.pk}
    # The grid worker answers for one cell; the county sees every town and may pick one.
    assert ids(cast.yeshan.grid_worker) == {unsigned.pk, voided.pk}
    assert ids(cast.inspector) == {unsigned.pk, signed.pk, voided.pk, other_town.pk}
    assert ids(cast.inspector, town=cast.tongcheng.town.pk) == {other_town.pk}

    client.force_login(cast.yeshan.cadre)
    page = client.get(reverse("funds:grant_list"), {"state": "unsigned"}).content.decode()
    assert "待签领" in page and f'data-grant-id="{unsigned.pk}"' in page and f'data-grant-id="{signed.pk}"' not in page


def test_grant_list_query_count_is_the_same_on_every_page(cast, client, django_assert_max_num_queries, monkeypatch):
    monkeypatch.setattr(grant_selectors, "GRANT_PAGE_SIZE", 5)
    for n in range(12):
        make_grant(cast.yeshan, amount=f"{100 + n}.00", campaign=cast.campaign)
    client.force_login(cast.inspector)
    url = reverse("funds:grant_list")
    client.get(url)  # warm the session and the cached filter choices
    seen = []
    params = {}
    queries = []
    for _ in range(3):
        with django_assert_max_num_queries(5) as captured:
            response = client.get(url, params)
        queries.append(len(captured))
        page = response.context["page"]
        seen += [g.pk for g in page]
        if page.next_after:
            params = {"after": page.next_after}
    assert len(seen) == 12 == len(set(seen))
    assert len(set(queries)) == 1, queries
