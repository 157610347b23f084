"""PostgreSQL triggers: the database's own guard on the audit trail and the money tables.

* funds_auditrecord rejects UPDATE, DELETE and TRUNCATE. There is deliberately no switch:
  only a table owner disabling the trigger gets round it, and the hash chain then shows
  what was changed (``manage.py verify_audit``).
* funds_disbursement rejects DELETE and TRUNCATE: a grant is voided and reissued, never removed.
* funds_budget rejects TRUNCATE (it would skip the row triggers below).
* Any INSERT, UPDATE or DELETE of a grant or budget row that did not come through a service
  (raw SQL, queryset.update(), a psql session) appends a channel 'db' audit record, signed and
  chained exactly like funds/audit.py record() does. Services say "this write is audited" with
  the transaction-local setting nuanxin.audited_write (funds.audit.mark_service_write()).

SQLite (the demo) has none of this; the page footer says so. On SQLite this migration is a no-op.
"""

from django.db import migrations

# Same values as funds/audit.py: one chain, one lock, one flag.
CHAIN_LOCK_KEY = 72410101
AUDITED_WRITE_SETTING = "nuanxin.audited_write"

INSTALL = f"""
CREATE OR REPLACE FUNCTION nuanxin_reject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END
$$;

CREATE TRIGGER funds_auditrecord_append_only
    BEFORE UPDATE OR DELETE ON funds_auditrecord
    FOR EACH ROW EXECUTE FUNCTION nuanxin_reject('审计记录不可修改或删除');
CREATE TRIGGER funds_auditrecord_no_truncate
    BEFORE TRUNCATE ON funds_auditrecord
    FOR EACH STATEMENT EXECUTE FUNCTION nuanxin_reject('审计记录不可修改或删除');

CREATE TRIGGER funds_disbursement_no_delete
    BEFORE DELETE ON funds_disbursement
    FOR EACH ROW EXECUTE FUNCTION nuanxin_reject('发放记录不可删除：请作废并填写原因，再重新发放');
CREATE TRIGGER funds_disbursement_no_truncate
    BEFORE TRUNCATE ON funds_disbursement
    FOR EACH STATEMENT EXECUTE FUNCTION nuanxin_reject('发放记录不可删除：请作废并填写原因，再重新发放');
CREATE TRIGGER funds_budget_no_truncate
    BEFORE TRUNCATE ON funds_budget
    FOR EACH STATEMENT EXECUTE FUNCTION nuanxin_reject('经费预算不可整表清空');

-- TG_ARGV: entity name for the action ('disbursement'), object_type, label for object_repr.
-- The payload has the same keys as funds/audit.py record(); verify_chain() compares the
-- mirrored columns with it, so both are filled from the same variables.
CREATE OR REPLACE FUNCTION nuanxin_capture_unaudited_write() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    row_before jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
    row_after jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
    subject jsonb := coalesce(row_after, row_before);
    v_action text := TG_ARGV[0] || '.db_' || lower(TG_OP);
    v_actor text := left(session_user::text, 60);
    v_town bigint := (subject ->> 'town_id')::bigint;
    v_object_id text := subject ->> 'id';
    v_repr text := left(TG_ARGV[2] || ' #' || (subject ->> 'id'), 120);
    v_reason text := '绕过业务服务的数据库直接修改';
    v_at timestamptz;
    v_prev text;
    v_payload text;
BEGIN
    -- Serialises chain writers until commit, like record() in Python.
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
    SELECT hash INTO v_prev FROM funds_auditrecord ORDER BY id DESC LIMIT 1;
    v_prev := coalesce(v_prev, repeat('0', 64));
    v_at := clock_timestamp();
    v_payload := jsonb_build_object(
        'actor_id', NULL, 'actor_name', v_actor, 'actor_role', '', 'actor_town', '',
        'town_id', v_town, 'action', v_action, 'object_type', TG_ARGV[1], 'object_id', v_object_id,
        'object_repr', v_repr, 'before', row_before, 'after', row_after, 'reason', v_reason,
        'request_id', '', 'channel', 'db', 'created_at', v_at
    )::text;
    INSERT INTO funds_auditrecord (
        created_at, actor_id, actor_name, actor_role, actor_town, town_id, action, object_type, object_id,
        object_repr, "before", "after", reason, request_id, channel, payload, prev_hash, hash
    ) VALUES (
        v_at, NULL, v_actor, '', '', v_town, v_action, TG_ARGV[1], v_object_id,
        v_repr, row_before, row_after, v_reason, '', 'db', v_payload, v_prev,
        encode(sha256(convert_to(v_prev || v_payload, 'UTF8')), 'hex')
    );
    RETURN NULL;
END
$$;

-- The WHEN clause keeps audited service writes free of the function call.
CREATE TRIGGER funds_disbursement_capture
    AFTER INSERT OR UPDATE ON funds_disbursement
    FOR EACH ROW WHEN (current_setting('{AUDITED_WRITE_SETTING}', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION nuanxin_capture_unaudited_write('disbursement', 'funds.disbursement', '发放记录');
CREATE TRIGGER funds_budget_capture
    AFTER INSERT OR UPDATE OR DELETE ON funds_budget
    FOR EACH ROW WHEN (current_setting('{AUDITED_WRITE_SETTING}', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION nuanxin_capture_unaudited_write('budget', 'funds.budget', '经费预算');
"""

UNINSTALL = """
DROP TRIGGER IF EXISTS funds_budget_capture ON funds_budget;
DROP TRIGGER IF EXISTS funds_disbursement_capture ON funds_disbursement;
DROP FUNCTION IF EXISTS nuanxin_capture_unaudited_write();
DROP TRIGGER IF EXISTS funds_budget_no_truncate ON funds_budget;
DROP TRIGGER IF EXISTS funds_disbursement_no_truncate ON funds_disbursement;
DROP TRIGGER IF EXISTS funds_disbursement_no_delete ON funds_disbursement;
DROP TRIGGER IF EXISTS funds_auditrecord_no_truncate ON funds_auditrecord;
DROP TRIGGER IF EXISTS funds_auditrecord_append_only ON funds_auditrecord;
DROP FUNCTION IF EXISTS nuanxin_reject();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(INSTALL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(UNINSTALL, params=None)


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
