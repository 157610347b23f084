"""Issue 13 §3, each attack as the application's own database credentials (or the owner) would try
it. Before: the app connected as the tables' owner, one unkeyed chain, a session switch. After:
each is refused, recorded, or found by verify_audit."""

import hashlib
import json
import uuid
from decimal import Decimal

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from core import audit
from core.audit_anchor import latest_anchor, write_anchor
from core.models import AuditRecord
from core.scoping import unscoped
from funds.models import Disbursement
from tests.cast import at
from tests.dbroles import APP_ROLE
from tests.funds.test_audit import at_commit, budget, db_records, grant, raw, some_history, tamper
from tests.funds.test_audit import jan10 as jan10  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="roles and triggers exist on PostgreSQL only"),
    pytest.mark.skipif(not APP_ROLE, reason="run by `make test`, which sets DATABASE_APP_ROLE"),
]

DENIED = "permission denied|权限不够|must be owner|属主"


def scalar(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


# --- least privilege -------------------------------------------------------------------------


def test_the_application_role_owns_nothing_and_is_no_superuser(db):
    assert scalar("SELECT current_user") == APP_ROLE
    assert scalar("SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = current_user") is False
    assert scalar("SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)") == 0


def test_update_of_a_grants_amount_and_cashier_is_refused(cast, jan10):
    paid = grant(cast)
    for sql, params in [
        ("UPDATE funds_disbursement SET amount = 3000 WHERE id = %s", [paid.pk]),
        ("UPDATE funds_disbursement SET handed_by_id = %s WHERE id = %s", [cast.tongcheng.cadre.cadre.pk, paid.pk]),
        ("UPDATE funds_auditrecord SET reason = '' WHERE town_id = %s", [cast.yeshan.town.pk]),
    ]:
        with pytest.raises(DatabaseError, match=DENIED), transaction.atomic():
            raw(sql, params)
    with unscoped():
        assert Disbursement.objects.get(pk=paid.pk).amount == Decimal("300.00")


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE funds_auditrecord DISABLE TRIGGER USER",
        "ALTER TABLE funds_disbursement DISABLE TRIGGER funds_disbursement_capture",
        "SET session_replication_role = replica",
        "TRUNCATE funds_auditrecord",
        "DROP TRIGGER funds_auditrecord_append_only ON funds_auditrecord",
    ],
)
def test_the_application_role_cannot_switch_the_guards_off(db, sql):
    with pytest.raises(DatabaseError, match=DENIED), transaction.atomic():
        raw(sql)


# --- no session switch -------------------------------------------------------------------------


def test_the_session_setting_no_longer_skips_the_capture_trigger(cast, jan10):
    paid = grant(cast)
    row = budget(cast)
    raw("SELECT set_config('nuanxin.audited_write', 'on', true)")
    raw("UPDATE funds_disbursement SET approval_note = '已核' WHERE id = %s", [paid.pk])
    raw("UPDATE funds_budget SET amount = 1 WHERE id = %s", [row.pk])
    at_commit()
    assert [r.action for r in db_records()] == ["disbursement.db_update", "budget.db_update"]
    assert db_records()[0].actor_name  # the database login that did it
    assert audit.verify_chain().ok


def test_a_forged_record_that_fools_the_trigger_is_named_by_verify(cast, jan10):
    """The only way past the capture trigger is a record for the row in the same transaction; without
    the key its hash cannot be right."""
    paid = grant(cast)
    town = cast.yeshan.town.pk
    prev = scalar("SELECT hash FROM funds_auditrecord WHERE chain = %s ORDER BY id DESC LIMIT 1", [town])
    fields = {"before": {"approval_note": ""}, "after": {"approval_note": "已核"}}
    payload = json.dumps({**fields, "action": "disbursement.approve"}, sort_keys=True)
    raw(
        "INSERT INTO funds_auditrecord (created_at, actor_name, actor_role, actor_town, town_id, action, object_type, object_id,"
        ' object_repr, "before", "after", reason, request_id, channel, payload, prev_hash, hash, chain, keyed)'
        " VALUES (now(), '冶山镇管理员', 'town_admin', '冶山镇', %s, 'disbursement.approve', 'funds.disbursement', %s, '',"
        " %s, %s, '', '', 'web', %s, %s, %s, %s, true)",
        [
            town,
            str(paid.pk),
            json.dumps(fields["before"]),
            json.dumps(fields["after"]),
            payload,
            prev,
            hashlib.sha256((prev + payload).encode()).hexdigest(),
            town,
        ],
    )
    raw("UPDATE funds_disbursement SET approval_note = '已核' WHERE id = %s", [paid.pk])
    at_commit()
    assert db_records() == []  # the trigger was fooled ...
    report = audit.verify_chain()
    forged = scalar("SELECT max(id) FROM funds_auditrecord")
    assert report.broken_id == forged and "密钥签名" in report.problem  # ... the chain was not


# --- a keyed chain -----------------------------------------------------------------------------


@pytest.mark.parametrize("resign", ["sha256", "another key"])
def test_a_rewritten_and_re_hashed_chain_is_caught_without_the_key(cast, jan10, resign):
    some_history(cast)
    with unscoped():
        chain = list(AuditRecord.objects.filter(chain=cast.yeshan.town.pk).order_by("id"))
    target = next(r for r in chain if r.action == "budget.update")
    # The forger rewrites the record and re-hashes it and every later record of its chain.
    prev = target.prev_hash
    for record in chain[chain.index(target) :]:
        payload = record.payload.replace("追加党费", "年初预算")
        message = (prev + payload).encode()
        if resign == "sha256":
            digest = hashlib.sha256(message).hexdigest()
        else:
            import hmac

            digest = hmac.new(b"a key the forger made up", message, hashlib.sha256).hexdigest()
        tamper(
            "UPDATE funds_auditrecord SET payload = %s, reason = replace(reason, '追加党费', '年初预算'),"
            " prev_hash = %s, hash = %s WHERE id = %s",
            [payload, prev, digest, record.pk],
        )
        prev = digest
    report = audit.verify_chain()
    assert report.broken_id == target.pk and "密钥签名与内容不符" in report.problem


def test_an_unkeyed_service_record_in_a_town_chain_is_forged(cast, jan10):
    some_history(cast)
    with unscoped():
        last = AuditRecord.objects.filter(chain=cast.yeshan.town.pk).order_by("id").last()
    tamper(
        "UPDATE funds_auditrecord SET keyed = false, hash = %s WHERE id = %s",
        [audit.compute_hash(last.prev_hash, last.payload, keyed=False), last.pk],
    )
    report = audit.verify_chain()
    assert report.broken_id == last.pk and "缺少密钥签名" in report.problem


# --- anchors outside the database ----------------------------------------------------------


def test_cutting_off_the_newest_records_is_caught_by_the_anchor(cast, jan10, tmp_path, settings):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")
    some_history(cast)
    call_command("audit_anchor")
    anchor = latest_anchor()
    town = str(cast.yeshan.town.pk)
    assert town in anchor["heads"] and "0" in anchor["heads"]
    with unscoped():
        seal = AuditRecord.objects.filter(action="audit.seal").order_by("id").last()
        newest = list(AuditRecord.objects.filter(chain=cast.yeshan.town.pk).order_by("-id")[:2])
    assert seal.chain == 0 and seal.after["heads"][town] == [newest[0].pk, newest[0].hash]
    assert audit.verify_chain(anchor=anchor).ok

    tamper("DELETE FROM funds_auditrecord WHERE id = ANY(%s)", [[r.pk for r in newest]])
    assert audit.verify_chain().ok  # a shorter chain is still a whole chain ...
    report = audit.verify_chain(anchor=anchor)
    assert not report.ok and "最新的记录被删除" in report.problem  # ... the anchor shows what is missing
    with pytest.raises(CommandError) as error:
        call_command("verify_audit")
    assert error.value.returncode == 1 and "最新的记录被删除" in str(error.value)


def test_anchor_lines_are_appended_only_when_a_head_moved_and_cannot_be_forged(cast, jan10, tmp_path):
    path = tmp_path / "anchors.jsonl"
    grant(cast)
    first, written = write_anchor(path)
    assert written
    assert write_anchor(path) == (first, False)  # nothing moved: no new line, no new seal
    grant(cast)
    second, written = write_anchor(path)
    assert written and path.read_text().count("\n") == 2 and second["heads"] != first["heads"]
    forged = dict(second, heads={**second["heads"], "0": [1, "0" * 64]})
    with path.open("a") as handle:
        handle.write(json.dumps(forged) + "\n")
    from core.audit_anchor import AnchorFileError

    with pytest.raises(AnchorFileError):
        latest_anchor(path)


# --- per-town chains ------------------------------------------------------------------------


def test_each_town_writes_its_own_chain(cast, jan10):
    grant(cast)
    grant(cast, actor=cast.tongcheng.grid_worker, beneficiary=cast.tongcheng.person)
    with unscoped():
        ys = AuditRecord.objects.filter(chain=cast.yeshan.town.pk).order_by("id")
        tc = AuditRecord.objects.filter(chain=cast.tongcheng.town.pk).order_by("id")
        assert ys.last().action == tc.last().action == "disbursement.create"
        assert tc.first().prev_hash == audit.GENESIS  # 铜城镇's chain does not run through 冶山镇's records
        assert all(r.keyed for r in [*ys, *tc])
    assert audit.verify_chain().ok


# --- as a real login of the application's role (not SET ROLE) ---------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_psql_session_with_the_applications_credentials(cast):
    paid = grant(cast, handed_at=at(2024, 1, 9, 10, 30), idempotency_key=uuid.uuid4())
    params = connection.get_connection_params()
    params.pop("options", None)
    params["user"] = APP_ROLE
    with psycopg.connect(**params) as psql:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            psql.execute("UPDATE funds_disbursement SET amount = 3000 WHERE id = %s", [paid.pk])
        psql.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            psql.execute("SET session_replication_role = replica")
        psql.rollback()
        psql.execute("SELECT set_config('nuanxin.audited_write', 'on', true)")
        psql.execute("UPDATE funds_disbursement SET approval_note = '改了' WHERE id = %s", [paid.pk])
        psql.commit()
    [record] = db_records()
    assert record.actor_name == APP_ROLE and record.after["approval_note"] == "改了"
    assert audit.verify_chain().ok
