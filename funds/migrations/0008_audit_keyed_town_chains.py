"""Per-town audit chains, keyed records, and a capture trigger no session can switch off.

* ``chain`` (town id, 0 = county) and ``keyed`` (HMAC under AUDIT_HMAC_KEY) columns; the records
  already there stay where they were (the county chain, unkeyed) and verify as before. The index
  audit_chain_head serves "the newest record of this chain".
* The capture trigger on grants and budgets no longer reads a setting any session could set
  (``set_config('nuanxin.audited_write', 'on', true)`` skipped it). It is a constraint trigger
  deferred to commit, and a write counts as audited when the same transaction appended a record
  for that object (funds/audit.py): its creation, or changes whose ``after`` name every column the
  update changed; a bulk
  load audited as a whole appends one record with object_id '*'. Anything else gets a channel 'db'
  record in the row's town chain, unkeyed (the database has no key): the keyed record that follows
  it in the chain, or the anchor outside the database, covers it. A forged record (one inserted to
  pass this check) cannot carry a valid HMAC, so verify_audit names it.
* ``txid``: the transaction that appended a record (txid_current(), the top-level transaction even
  inside savepoints). Not a model field: only the trigger reads it.
"""

from django.db import migrations, models

CHAIN_LOCK_KEY = 72410101  # funds/audit.py

INSTALL = f"""
ALTER TABLE funds_auditrecord ADD COLUMN txid bigint DEFAULT txid_current();

DROP TRIGGER IF EXISTS funds_disbursement_capture ON funds_disbursement;
DROP TRIGGER IF EXISTS funds_budget_capture ON funds_budget;
DROP FUNCTION IF EXISTS nuanxin_capture_unaudited_write();

-- TG_ARGV: entity name for the action ('disbursement'), object_type, label for object_repr.
-- The payload has the same keys as funds/audit.py record(); verify_chain() compares the
-- mirrored columns with it, so both are filled from the same variables.
CREATE FUNCTION nuanxin_capture_unaudited_write() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    row_before jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
    row_after jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
    subject jsonb := coalesce(row_after, row_before);
    v_action text := TG_ARGV[0] || '.db_' || lower(TG_OP);
    v_actor text := left(session_user::text, 60);
    v_town bigint := (subject ->> 'town_id')::bigint;
    v_chain integer := coalesce(v_town, 0);
    v_object_id text := subject ->> 'id';
    v_repr text := left(TG_ARGV[2] || ' #' || (subject ->> 'id'), 120);
    v_reason text := '绕过业务服务的数据库直接修改';
    v_changed text[];
    v_at timestamptz;
    v_prev text;
    v_payload text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        v_changed := ARRAY(SELECT jsonb_object_keys(row_after));
    ELSIF TG_OP = 'UPDATE' THEN
        v_changed := ARRAY(
            SELECT n.key FROM jsonb_each(row_after) AS n WHERE n.value IS DISTINCT FROM row_before -> n.key
        );
    END IF;
    IF TG_OP = 'UPDATE' AND cardinality(v_changed) = 0 THEN
        RETURN NULL;
    END IF;
    -- Audited by the service: this transaction appended a record for this very row (an insert), or
    -- records of changes (a "before" and an "after") whose "after" name every column this update
    -- changed (a creation's record covers the insert, not a later update). A bulk load: one record for all.
    IF TG_OP <> 'DELETE' AND (
        EXISTS (
            SELECT 1 FROM funds_auditrecord
            WHERE object_type = TG_ARGV[1] AND object_id = '*' AND txid = txid_current()
        )
        OR (TG_OP = 'INSERT' AND EXISTS (
            SELECT 1 FROM funds_auditrecord
            WHERE object_type = TG_ARGV[1] AND object_id = v_object_id AND txid = txid_current()
        ))
        OR (TG_OP = 'UPDATE' AND NOT EXISTS (
            SELECT unnest(v_changed)
            EXCEPT
            SELECT jsonb_object_keys(r."after") FROM funds_auditrecord r
            WHERE r.object_type = TG_ARGV[1] AND r.object_id = v_object_id AND r.txid = txid_current()
              AND r.channel <> 'db' AND jsonb_typeof(r."before") = 'object' AND jsonb_typeof(r."after") = 'object'
        ))
    ) THEN
        RETURN NULL;
    END IF;
    -- Serialises this town's chain writers until commit, like record() in Python.
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY}, v_chain);
    SELECT hash INTO v_prev FROM funds_auditrecord WHERE chain = v_chain ORDER BY id DESC LIMIT 1;
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
        object_repr, "before", "after", reason, request_id, channel, payload, prev_hash, hash, chain, keyed
    ) VALUES (
        v_at, NULL, v_actor, '', '', v_town, v_action, TG_ARGV[1], v_object_id,
        v_repr, row_before, row_after, v_reason, '', 'db', v_payload, v_prev,
        encode(sha256(convert_to(v_prev || v_payload, 'UTF8')), 'hex'), v_chain, false
    );
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER funds_disbursement_capture
    AFTER INSERT OR UPDATE ON funds_disbursement
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION nuanxin_capture_unaudited_write('disbursement', 'funds.disbursement', '发放记录');
CREATE CONSTRAINT TRIGGER funds_budget_capture
    AFTER INSERT OR UPDATE OR DELETE ON funds_budget
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION nuanxin_capture_unaudited_write('budget', 'funds.budget', '经费预算');
"""

# Back to migration 0002's triggers (the setting-based switch) and no txid column.
UNINSTALL = """
DROP TRIGGER IF EXISTS funds_budget_capture ON funds_budget;
DROP TRIGGER IF EXISTS funds_disbursement_capture ON funds_disbursement;
DROP FUNCTION IF EXISTS nuanxin_capture_unaudited_write();
ALTER TABLE funds_auditrecord DROP COLUMN IF EXISTS txid;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(UNINSTALL, params=None)
    from importlib import import_module

    old = import_module("funds.migrations.0002_audit_triggers").INSTALL
    schema_editor.execute(old[old.index("-- TG_ARGV") :], params=None)


class Migration(migrations.Migration):
    dependencies = [("funds", "0007_grant_guardian_and_approval_reason")]

    operations = [
        migrations.AddField(
            model_name="auditrecord",
            name="chain",
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False, verbose_name="审计链"),
        ),
        migrations.AddField(
            model_name="auditrecord",
            name="keyed",
            field=models.BooleanField(db_default=False, default=False, editable=False, verbose_name="密钥签名"),
        ),
        migrations.AddIndex(
            model_name="auditrecord",
            index=models.Index(fields=["chain", "-id"], name="audit_chain_head"),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
