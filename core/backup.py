"""Backup and restore (issue 14 §5): `manage.py backup DIR`, `manage.py restore DIR`.

A backup directory holds:
  database.dump     pg_dump custom format (PostgreSQL) or database.sqlite3 (the SQLite demo),
                    taken in one snapshot with the row counts below;
  media.tar         MEDIA_ROOT: receipts, signed rosters, uploads, exports, bulletins;
  manifest.json     when, from which database, each table's row count, facts the apps registered
                    (the audit chain's head), sha256 of each file, and the fingerprints of the keys
                    (SECRET_KEY, ID_ENCRYPTION_KEY, ID_HMAC_KEY …) — never the keys themselves.

Restoring needs the same keys (escrowed apart from the backups): without ID_ENCRYPTION_KEY the
restored ID numbers cannot be read, so a restore with other keys is refused before it starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA_TAR = "media.tar"

_facts: dict[str, Callable[[], object]] = {}


class BackupError(Exception):
    pass


def register_fact(name: str, reader: Callable[[], object]) -> None:
    """An app records something the restore must find again (funds: the audit chain's head)."""
    _facts[name] = reader


_after_restore: list[Callable[[], object]] = []


def register_after_restore(hook: Callable[[], object]) -> None:
    """An app puts back what pg_restore --no-privileges leaves out (funds: the application role's grants)."""
    _after_restore.append(hook)


def key_fingerprints() -> dict[str, str]:
    """sha256 prefixes of every *_KEY setting: enough to tell keys apart, useless to an attacker."""
    found = {}
    for name in sorted(dir(settings)):
        if name.isupper() and name.endswith("_KEY"):
            value = getattr(settings, name)
            if isinstance(value, str) and value:
                found[name] = hashlib.sha256(value.encode()).hexdigest()[:16]
    return found


def _tables() -> list[str]:
    names = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            names.add(model._meta.db_table)
    existing = set(connection.introspection.table_names())
    return sorted(names & existing)


def _counts(cursor) -> dict[str, int]:
    counts = {}
    for table in _tables():
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (our tables)
        counts[table] = cursor.fetchone()[0]
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_env() -> dict:
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGDATABASE": db["NAME"]}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _run(args: list[str], env: dict) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (our arguments)
    if result.returncode != 0:
        raise BackupError(f"{args[0]} failed: {result.stderr.strip()[:2000]}")


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def backup(directory: Path, *, log=print) -> dict:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / MANIFEST).exists() or any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: give each backup a directory of its own")
    started = timezone.now()
    files = {}
    vendor = connection.vendor
    if vendor == "postgresql":
        # Counts, facts and the dump see one snapshot: the counts are what the dump holds.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _counts(cursor)
            facts = {name: reader() for name, reader in sorted(_facts.items())}
            log("database: pg_dump …")
            _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--no-privileges",
                  "--file", str(directory / PG_DUMP)], _pg_env())  # fmt: skip
        files["database"] = PG_DUMP
    elif vendor == "sqlite":
        with connection.cursor() as cursor:
            counts = _counts(cursor)
        facts = {name: reader() for name, reader in sorted(_facts.items())}
        connection.ensure_connection()
        target = sqlite3.connect(directory / SQLITE_COPY)
        try:
            connection.connection.backup(target)  # SQLite's online backup: a consistent copy
        finally:
            target.close()
        files["database"] = SQLITE_COPY
    else:
        raise BackupError(f"no backup for the {vendor} database")
    media = _media_root()
    media_files = 0
    log(f"media: {media} …")
    with tarfile.open(directory / MEDIA_TAR, "w") as tar:
        if media.exists():
            for path in sorted(media.rglob("*")):
                if path.is_file() and not path.name.endswith(".part"):
                    tar.add(path, arcname=str(path.relative_to(media)), recursive=False)
                    media_files += 1
    files["media"] = MEDIA_TAR
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "database_vendor": vendor,
        "database_name": str(settings.DATABASES["default"]["NAME"]),
        "files": {
            role: {"name": name, "sha256": _sha256(directory / name), "bytes": (directory / name).stat().st_size}
            for role, name in files.items()
        },  # fmt: skip
        "media_files": media_files,
        "counts": counts,
        "facts": facts,
        "key_fingerprints": key_fingerprints(),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return manifest


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise BackupError(f"{path} not found: not a backup directory")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    for role, item in manifest["files"].items():
        file = Path(directory) / item["name"]
        if not file.exists() or _sha256(file) != item["sha256"]:
            raise BackupError(f"{file.name} ({role}) is missing or damaged: its sha256 does not match the manifest")
    return manifest


def _database_is_empty() -> bool:
    return not connection.introspection.table_names()


def restore(directory: Path, *, allow_other_keys: bool = False, log=print) -> dict:
    """Into an empty database and an empty MEDIA_ROOT; then verify_audit and compare counts.
    Returns {"counts_differ": {...}, "facts_differ": {...}} (both empty when all is well)."""
    from django.core.management import call_command

    directory = Path(directory)
    manifest = read_manifest(directory)
    ours = key_fingerprints()
    differ = sorted(name for name, fp in manifest["key_fingerprints"].items() if name in ours and ours[name] != fp)
    if differ and not allow_other_keys:
        raise BackupError(
            "the keys differ from the backup's: " + ", ".join(differ) + ". Set the keys the backup was made with "
            "(ID numbers are unreadable without ID_ENCRYPTION_KEY / ID_HMAC_KEY)"
        )
    if not _database_is_empty():
        raise BackupError("the database is not empty: restore into a new, empty database")
    media = _media_root()
    if media.exists() and any(media.iterdir()):
        raise BackupError(f"MEDIA_ROOT {media} is not empty: restore into an empty media directory")
    vendor = connection.vendor
    if vendor != manifest["database_vendor"]:
        raise BackupError(f"the backup is of a {manifest['database_vendor']} database, this one is {vendor}")
    if vendor == "postgresql":
        log("database: pg_restore …")
        connection.close()
        db = settings.DATABASES["default"]
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              "--dbname", db["NAME"], str(directory / manifest["files"]["database"]["name"])], _pg_env())  # fmt: skip
    else:
        connection.close()
        shutil.copyfile(directory / manifest["files"]["database"]["name"], settings.DATABASES["default"]["NAME"])
    log("media …")
    media.mkdir(parents=True, exist_ok=True)
    with tarfile.open(directory / manifest["files"]["media"]["name"]) as tar:
        tar.extractall(media, filter="data")
    for hook in _after_restore:
        hook()
    log("verify_audit …")
    call_command("verify_audit", stdout=_Sink(log))
    with connection.cursor() as cursor:
        counts = _counts(cursor)
    counts_differ = {
        table: {"backup": expected, "restored": counts.get(table)}
        for table, expected in manifest["counts"].items()
        if counts.get(table) != expected
    }
    facts = {name: reader() for name, reader in sorted(_facts.items())}
    facts_differ = {
        name: {"backup": manifest["facts"].get(name), "restored": json.loads(json.dumps(value, default=str))}
        for name, value in facts.items()
        if json.loads(json.dumps(value, default=str)) != manifest["facts"].get(name)
    }
    return {"counts_differ": counts_differ, "facts_differ": facts_differ, "tables": len(counts), "rows": sum(counts.values())}


class _Sink:
    def __init__(self, log):
        self.log = log

    def write(self, text):
        if text.strip():
            self.log(text.rstrip())

    def flush(self):
        pass
