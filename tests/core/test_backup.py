"""Backup and restore (issue 14 §5): backup → restore into a fresh database → verify_audit and
equal counts, as a newcomer following README "Operations" would do it."""

import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection

from core import audit, backup
from core.models import AuditRecord
from core.scoping import unscoped
from visits import services as visit_services
from visits.models import Visit

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _admin_dsn(name="postgres"):
    s = connection.settings_dict
    return f"host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432} user={s['USER']} dbname={name}" + (
        f" password={s['PASSWORD']}" if s["PASSWORD"] else ""
    )


@pytest.fixture
def fresh_database():
    name = connection.settings_dict["NAME"] + "_restore"
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_then_restore_into_a_fresh_database_verifies(cast, settings, tmp_path, fresh_database):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    settings.MEDIA_ROOT = tmp_path / "media"
    receipt = settings.MEDIA_ROOT / "receipts" / "2024" / "签领单.jpg"
    receipt.parent.mkdir(parents=True)
    receipt.write_bytes(b"\xff\xd8 a scanned receipt")
    visit_services.visit_log(
        actor=cast.yeshan.grid_worker,
        beneficiary=cast.yeshan.person,
        kind="home",
        visited_at=datetime(2024, 1, 10, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
        cash_amount=Decimal("300"),
        idempotency_key=uuid.uuid4(),
    )
    with unscoped():
        visits, records = Visit.objects.count(), AuditRecord.objects.count()
    assert records > 0

    target = tmp_path / "backup-2024-01-10"
    call_command("backup", str(target))
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["counts"]["visits_visit"] == visits and manifest["counts"]["funds_auditrecord"] == records
    assert manifest["facts"]["audit_head"]["hash"] == audit.verify_chain().head
    assert manifest["media_files"] == 1
    # Fingerprints of the keys, never the keys.
    dumped = (target / "manifest.json").read_text()
    assert set(manifest["key_fingerprints"]) >= {"SECRET_KEY", "ID_ENCRYPTION_KEY", "ID_HMAC_KEY"}
    assert settings.ID_ENCRYPTION_KEY not in dumped and settings.ID_HMAC_KEY not in dumped and settings.SECRET_KEY not in dumped

    # Restore as the README says: a new empty database and media directory, the same keys.
    media = tmp_path / "restored-media"
    env = {**os.environ, "MEDIA_ROOT": str(media)}
    env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + "/" + fresh_database
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "restore", str(target)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "审计链完整" in result.stdout and "与备份清单一致" in result.stdout
    assert (media / "receipts" / "2024" / "签领单.jpg").read_bytes() == receipt.read_bytes()
    with psycopg.connect(_admin_dsn(fresh_database)) as restored:
        assert restored.execute("SELECT COUNT(*) FROM visits_visit").fetchone()[0] == visits
        assert (
            restored.execute("SELECT hash FROM funds_auditrecord ORDER BY id DESC LIMIT 1").fetchone()[0]
            == (manifest["facts"]["audit_head"]["hash"])
        )
        # The append-only triggers came back with the schema.
        with pytest.raises(psycopg.errors.RaiseException):
            restored.execute("DELETE FROM funds_auditrecord")
    if settings.DATABASE_APP_ROLE:
        # pg_restore --no-privileges drops the grants; the restore gives the application's role its own
        # back (it reads visits, and still cannot change a grant's amount).
        with psycopg.connect(_admin_dsn(fresh_database), options=f"-c role={settings.DATABASE_APP_ROLE}") as app:
            assert app.execute("SELECT COUNT(*) FROM visits_visit").fetchone()[0] == visits
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute("UPDATE funds_disbursement SET amount = 1")

    # A second restore into the now non-empty database is refused, naming why.
    again = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "restore", str(target)], env=env, capture_output=True, text=True, check=False
    )
    assert again.returncode != 0 and "not empty" in again.stderr


def test_a_restore_with_other_keys_is_refused_before_it_starts(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("backup", str(tmp_path / "b"))
    settings.ID_HMAC_KEY = "another-key"
    with pytest.raises(backup.BackupError, match="ID_HMAC_KEY"):
        backup.restore(tmp_path / "b")


def test_a_damaged_backup_is_refused(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("backup", str(tmp_path / "b"))
    with (tmp_path / "b" / "media.tar").open("ab") as handle:
        handle.write(ContentFile(b"x").read())
    with pytest.raises(backup.BackupError, match="damaged"):
        backup.read_manifest(tmp_path / "b")
