"""The audit trail as an inspector relies on it: every write leaves a signed, chained record;
the database refuses to change the trail; writes that skip the services are caught anyway;
tampering by a table owner is found by verify_audit."""

import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from core import audit
from core.models import AuditRecord
from core.scoping import unscoped
from funds import services as fund_services
from funds.models import Budget, Disbursement
from tests.cast import PASSWORD, at
from tests.dbroles import as_owner
from towns import services as town_services

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only")


@pytest.fixture
def jan10():
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


def grant(cast, **overrides):
    kwargs = {
        "actor": cast.yeshan.grid_worker,
        "beneficiary": cast.yeshan.person,
        "kind": "cash",
        "amount": Decimal("300.00"),
        "handed_at": at(2024, 1, 9, 10, 30),
        "idempotency_key": uuid.uuid4(),
        "campaign": cast.campaign,
    }
    kwargs.update(overrides)
    return fund_services.disbursement_create(**kwargs)[0]


def budget(cast, amount="20000.00", reason=""):
    return fund_services.budget_set(
        actor=cast.yeshan.admin,
        campaign=cast.campaign,
        town=cast.yeshan.town,
        source="party_fees",
        amount=Decimal(amount),
        reason=reason,
    )


def some_history(cast):
    """A few ordinary service writes, as a working day would leave them."""
    paid = grant(cast)
    fund_services.disbursement_void(actor=cast.yeshan.cadre, disbursement=paid, reason="金额录入错误，应为500元")
    grant(cast, amount=Decimal("500.00"), replaces=paid)
    budget(cast)
    budget(cast, "25000.00", reason="追加党费")
    town_services.reveal_id_number(actor=cast.yeshan.admin, beneficiary=cast.yeshan.person)
    return paid


def raw(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def tamper(sql, params=None):
    """What a table owner could do: switch the guard off, change a row, switch it on again."""
    raw("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no pending foreign-key checks of this test's inserts
    with as_owner():
        raw("ALTER TABLE funds_auditrecord DISABLE TRIGGER USER")
        raw(sql, params)
        raw("ALTER TABLE funds_auditrecord ENABLE TRIGGER USER")
    raw("SET CONSTRAINTS ALL DEFERRED")


def at_commit():
    """Run what PostgreSQL runs at COMMIT (the deferred capture trigger) without ending the test's
    transaction: switching deferred constraints to immediate checks what is pending now."""
    raw("SET CONSTRAINTS ALL IMMEDIATE")
    raw("SET CONSTRAINTS ALL DEFERRED")


def db_records():
    with unscoped():
        return list(AuditRecord.objects.filter(channel="db").order_by("id"))


def verify_audit_output() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


# --- the chain ------------------------------------------------------------------------------


def test_service_writes_leave_a_chain_that_verifies(cast, jan10):
    some_history(cast)
    with unscoped():
        records = list(AuditRecord.objects.order_by("id"))
    actions = [r.action for r in records]
    assert actions[-6:] == [
        "disbursement.create",
        "disbursement.void",
        "disbursement.create",
        "budget.create",
        "budget.update",
        "beneficiary.reveal_id",
    ]
    assert records[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(records, records[1:], strict=False))
    void = records[-5]
    assert void.actor_name == "冶山镇包村干部" and void.actor_role == "town_cadre" and void.actor_town == "冶山镇"
    assert void.reason == "金额录入错误，应为500元" and void.before["status"] == "issued" and void.after["status"] == "voided"
    report = audit.verify_chain()
    assert report.ok and report.checked == len(records)
    assert f"审计链完整：共 {len(records)} 条记录" in verify_audit_output()


def test_records_held_for_one_form_are_appended_in_order_or_not_at_all(cast, jan10):
    with transaction.atomic(), audit.appended_together():
        grant(cast)
        budget(cast)
        with unscoped():
            assert not AuditRecord.objects.filter(action__in=["disbursement.create", "budget.create"]).exists()
    with unscoped():
        assert list(AuditRecord.objects.order_by("-id").values_list("action", flat=True)[:2]) == [
            "budget.create",
            "disbursement.create",
        ]
        written = AuditRecord.objects.count()
    with pytest.raises(ValueError), transaction.atomic(), audit.appended_together():
        grant(cast, idempotency_key=uuid.uuid4())
        raise ValueError("a later part failed")
    with unscoped():
        assert AuditRecord.objects.count() == written
        assert Disbursement.objects.count() == 1  # the failed form's grant went with its record
    assert audit.verify_chain().ok


def test_when_is_the_databases_time_not_the_applications_clock(cast, jan10):
    # time-machine moves Python's clock to 2024; the record's time comes from PostgreSQL.
    grant(cast)
    with unscoped():
        record = AuditRecord.objects.get(action="disbursement.create")
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        database_now = cursor.fetchone()[0]
    assert abs((record.created_at - database_now).total_seconds()) < 60
    assert record.created_at.date() != at(2024, 1, 10).date()


# --- the database refuses to change the trail ------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE funds_auditrecord SET reason = '改过了' WHERE id = %s",
        "DELETE FROM funds_auditrecord WHERE id = %s",
        # (pending foreign-key checks of this test's own inserts would refuse a TRUNCATE first)
        "SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE funds_auditrecord CASCADE",
    ],
    ids=["update", "delete", "truncate"],
)
def test_the_database_refuses_to_change_audit_records(cast, jan10, sql):
    some_history(cast)
    with unscoped():
        record = AuditRecord.objects.order_by("id").last()
    # The application's role has no such privilege; the owner meets the trigger.
    with pytest.raises(DatabaseError, match="permission denied|权限不够|审计记录不可修改或删除"), transaction.atomic():
        raw(sql, [record.pk] if "%s" in sql else None)
    with pytest.raises(DatabaseError, match="审计记录不可修改或删除"), transaction.atomic(), as_owner():
        raw(sql, [record.pk] if "%s" in sql else None)
    assert audit.verify_chain().ok


def test_the_orm_cannot_delete_an_audit_record_either(cast, jan10):
    some_history(cast)
    with unscoped(), pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(action="budget.update").delete()


# --- tampering by a table owner is found ---------------------------------------------------


def test_a_changed_record_is_named_by_verify_chain_and_verify_audit(cast, jan10):
    some_history(cast)
    with unscoped():
        void = AuditRecord.objects.get(action="disbursement.void")
    tamper("UPDATE funds_auditrecord SET reason = '对象本人拒收' WHERE id = %s", [void.pk])

    report = audit.verify_chain()
    assert not report.ok and report.broken_id == void.pk and "reason" in report.problem
    with pytest.raises(CommandError) as error:
        verify_audit_output()
    assert error.value.returncode == 1
    assert f"#{void.pk}" in str(error.value)


@pytest.mark.parametrize("column", ["after", "actor_name", "created_at"])
def test_every_mirrored_column_is_checked(cast, jan10, column):
    some_history(cast)
    with unscoped():
        record = AuditRecord.objects.get(action="budget.update")
    value = {
        "after": '{"amount": "2500.00"}',
        "actor_name": "别人",
        "created_at": at(2024, 1, 1),
    }[column]
    tamper(f'UPDATE funds_auditrecord SET "{column}" = %s WHERE id = %s', [value, record.pk])
    report = audit.verify_chain()
    assert report.broken_id == record.pk and column in report.problem


def test_a_re_signed_record_breaks_the_link_to_the_next(cast, jan10):
    # A careful forger recomputes the record's own hash; the next record still points at the old one.
    some_history(cast)
    with unscoped():
        records = list(AuditRecord.objects.order_by("id"))
    target, following = records[-2], records[-1]
    payload = target.payload.replace("追加党费", "年初预算")
    tamper(
        "UPDATE funds_auditrecord SET payload = %s, reason = %s, hash = %s WHERE id = %s",
        [payload, "年初预算", audit.compute_hash(target.prev_hash, payload), target.pk],
    )
    report = audit.verify_chain()
    assert report.broken_id == following.pk and "上一条哈希不符" in report.problem


def test_a_deleted_record_in_the_middle_is_found(cast, jan10):
    some_history(cast)
    with unscoped():
        records = list(AuditRecord.objects.order_by("id"))
    tamper("DELETE FROM funds_auditrecord WHERE id = %s", [records[-3].pk])
    report = audit.verify_chain()
    assert report.broken_id == records[-2].pk and "上一条哈希不符" in report.problem


# --- writes to money that skip the services ------------------------------------------------


def test_raw_sql_on_a_budget_is_recorded_and_the_chain_still_verifies(cast, jan10):
    row = budget(cast)
    assert db_records() == []
    raw("UPDATE funds_budget SET amount = 99999 WHERE id = %s", [row.pk])
    at_commit()

    [record] = db_records()
    assert record.action == "budget.db_update" and record.object_type == "funds.budget" and record.object_id == str(row.pk)
    assert record.town_id == cast.yeshan.town.pk and record.reason == "绕过业务服务的数据库直接修改"
    assert Decimal(str(record.before["amount"])) == Decimal("20000.00") and Decimal(str(record.after["amount"])) == Decimal(
        "99999"
    )
    assert record.actor is None and record.actor_name  # the database role that did it
    assert audit.verify_chain().ok


def test_queryset_update_of_a_grant_is_recorded(cast, jan10):
    paid = grant(cast)
    with unscoped():
        changed = Disbursement.objects.filter(pk=paid.pk).update(approval_note="已同意")
    assert changed == 1
    at_commit()
    [record] = db_records()
    assert record.action == "disbursement.db_update" and record.object_id == str(paid.pk)
    assert record.before["approval_note"] == "" and record.after["approval_note"] == "已同意"
    assert audit.verify_chain().ok


def test_even_the_owner_changing_an_amount_is_recorded(cast, jan10):
    paid = grant(cast)
    with unscoped(), as_owner():
        Disbursement.objects.filter(pk=paid.pk).update(amount=Decimal("3000.00"))
        at_commit()
    [record] = db_records()
    assert Decimal(str(record.before["amount"])) == Decimal("300.00") and Decimal(str(record.after["amount"])) == Decimal(
        "3000.00"
    )
    assert audit.verify_chain().ok


def test_inserts_and_budget_deletes_by_raw_sql_are_recorded(cast, jan10):
    row = budget(cast)
    with as_owner():  # the application's role may not delete a budget at all
        raw("DELETE FROM funds_budget WHERE id = %s", [row.pk])
    with unscoped():
        Budget.objects.create(campaign=cast.campaign, town=cast.tongcheng.town, source="charity", amount=Decimal("1.00"))
    at_commit()
    assert [r.action for r in db_records()] == ["budget.db_delete", "budget.db_insert"]
    assert db_records()[1].town_id == cast.tongcheng.town.pk
    assert audit.verify_chain().ok


def test_a_tampered_database_record_is_caught_too(cast, jan10):
    row = budget(cast)
    raw("UPDATE funds_budget SET amount = 1 WHERE id = %s", [row.pk])
    at_commit()
    [record] = db_records()
    tamper("""UPDATE funds_auditrecord SET "after" = jsonb_set("after", '{amount}', '2') WHERE id = %s""", [record.pk])
    report = audit.verify_chain()
    assert report.broken_id == record.pk and "after" in report.problem


def test_a_grant_is_never_deleted(cast, jan10):
    paid = grant(cast)
    with pytest.raises(DatabaseError, match="permission denied|权限不够"), transaction.atomic():
        raw("DELETE FROM funds_disbursement WHERE id = %s", [paid.pk])
    with pytest.raises(DatabaseError, match="发放记录不可删除"), transaction.atomic(), as_owner():
        raw("DELETE FROM funds_disbursement WHERE id = %s", [paid.pk])
    with pytest.raises(DatabaseError, match="发放记录不可删除"), transaction.atomic(), as_owner():
        raw("SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE funds_disbursement CASCADE")
    assert Disbursement.objects.for_user(cast.yeshan.cadre).filter(pk=paid.pk).exists()


def test_service_writes_leave_no_database_record(cast, jan10):
    some_history(cast)
    at_commit()
    assert db_records() == []


def test_an_unaudited_write_after_a_service_write_in_the_same_transaction_is_still_caught(cast, jan10):
    # The flag a service sets is closed again by its audit record, not left open for the transaction.
    with transaction.atomic():
        paid = grant(cast)
        fund_services.disbursement_void(actor=cast.yeshan.cadre, disbursement=paid, reason="录入错误")
        raw("UPDATE funds_disbursement SET approval_note = '补记' WHERE id = %s", [paid.pk])
        at_commit()
    assert [r.action for r in db_records()] == ["disbursement.db_update"]
    assert db_records()[0].after["approval_note"] == "补记"


# --- request id and channel ----------------------------------------------------------------


def test_records_written_from_a_request_carry_its_id_and_the_web_channel(client, cast):
    response = client.post(reverse("login"), {"username": "ys_admin", "password": PASSWORD}, HTTP_X_REQUEST_ID="req-audit-0001")
    assert response.status_code == 302
    response = client.post(
        reverse("towns:reset_password", args=[cast.yeshan.cadre.cadre.pk]),
        {"new_password1": "Reset-Pass-2024!", "new_password2": "Reset-Pass-2024!"},
        HTTP_X_REQUEST_ID="req-audit-0002",
    )
    assert response.status_code == 302
    with unscoped():
        login = AuditRecord.objects.get(action="account.login")
        reset = AuditRecord.objects.get(action="account.password_reset")
    # Our own request id (issue 13 §2): the client's header is kept apart, never in the record.
    assert (reset.request_id, reset.channel) == (response["X-Request-ID"], "web")
    assert login.channel == "web" and len(login.request_id) == 32
    assert {login.request_id, reset.request_id}.isdisjoint({"req-audit-0001", "req-audit-0002"})
    assert reset.actor_name == "冶山镇管理员" and reset.actor_role == "town_admin" and reset.town_id == cast.yeshan.town.pk


def test_personal_data_access_helper_leaves_a_record(cast):
    with transaction.atomic():
        audit.record_personal_data_access(
            actor=cast.yeshan.cadre, what="慰问对象台账", count=2, town=cast.yeshan.town, filters={"cell": 1}
        )
    with unscoped():
        record = AuditRecord.objects.get(action="personal_data.export")
    assert record.object_repr == "慰问对象台账（2人）" and record.after["count"] == 2
    assert audit.verify_chain().ok


# --- transactional tests (live_server) flush past the triggers ------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_writes_money_and_audit_rows_and_is_flushed_afterwards(cast):
    # Its teardown TRUNCATEs every table; tests/conftest.py lets that flush past the triggers.
    grant(cast, handed_at=at(2024, 1, 9, 10, 30))
    budget(cast)
    assert audit.verify_chain().ok


def test_after_that_flush_the_triggers_are_on_again(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
            "WHERE NOT tgisinternal AND tgrelid IN ('funds_auditrecord'::regclass, 'funds_disbursement'::regclass, 'funds_budget'::regclass)"
        )
        triggers = cursor.fetchall()
    assert len(triggers) == 7
    assert all(enabled == "O" for _, _, enabled in triggers), triggers
    with unscoped():
        assert not AuditRecord.objects.exists()
