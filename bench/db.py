"""The county-scale database: create it if missing, migrate it, load the county demo if empty."""

from __future__ import annotations

import time

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection


def _conninfo(name: str | None = None) -> str:
    db = settings.DATABASES["default"]
    parts = {
        "dbname": name or db["NAME"],
        "user": db.get("USER") or "",
        "host": db.get("HOST") or "",
        "port": db.get("PORT") or "",
    }
    if db.get("PASSWORD"):
        parts["password"] = db["PASSWORD"]
    return " ".join(f"{k}={v}" for k, v in parts.items() if v != "")


def raw_connection(**kwargs) -> psycopg.Connection:
    """A plain psycopg connection to the bench database, for the raw baselines."""
    return psycopg.connect(_conninfo(), **kwargs)


class SchemaMismatch(RuntimeError):
    pass


def missing_columns() -> list[str]:
    """Tables and columns the models expect but the database lacks.

    `migrate` trusts django_migrations: a database that recorded a migration while it was still an
    empty placeholder (the reserved reports migrations) never gets its operations, and the bench
    would fail later with a confusing error. This says so at once.
    """
    from django.apps import apps

    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'")
        present = {}
        for table, column in cursor.fetchall():
            present.setdefault(table, set()).add(column)
    missing = []
    for model in apps.get_models():
        meta = model._meta
        if not meta.managed or meta.proxy:
            continue
        if meta.db_table not in present:
            missing.append(meta.db_table)
            continue
        for field in meta.local_concrete_fields:
            if field.column not in present[meta.db_table]:
                missing.append(f"{meta.db_table}.{field.column}")
    return missing


def prepare(*, quiet: bool = False) -> dict:
    """Make sure the county DB exists, is migrated and holds the county demo; return its size."""
    name = settings.DATABASES["default"]["NAME"]
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"bench: creating database {name}", flush=True)
            admin.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", interactive=False, verbosity=0)
    missing = missing_columns()
    if missing:
        raise SchemaMismatch(
            f"{name} lacks what the models expect ({', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}): a migration "
            "was recorded as applied while it was still an empty placeholder. Apply its SQL by hand "
            "(manage.py sqlmigrate APP NAME | psql) or rebuild the database (drop it; the bench reloads it)."
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM towns_beneficiary")
        people = cursor.fetchone()[0]
    if people == 0:
        print("bench: the database is empty; loading the county demo (load_demo --scale county, ~4 min)", flush=True)
        start = time.perf_counter()
        call_command("load_demo", scale="county", verbosity=0 if quiet else 1)
        print(f"bench: county demo loaded in {time.perf_counter() - start:.0f} s", flush=True)
    # The bare insert view's own table: visits_visit's columns and indexes, no foreign keys.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_bare_visit (LIKE visits_visit INCLUDING ALL)")
        cursor.execute("TRUNCATE bench_bare_visit")
        # Plans depend on statistics. Autovacuum may be off (it is on the bench machine), and a freshly
        # loaded database has none: ANALYZE what autovacuum's default thresholds would have analysed.
        cursor.execute(
            """SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                WHERE s.schemaname = 'public' AND s.relname NOT LIKE 'bench\\_%%'
                  AND (c.reltuples < 0 OR s.n_mod_since_analyze > 50 + 0.1 * c.reltuples)"""
        )
        stale = [table for (table,) in cursor.fetchall()]
        if stale:
            print(f"bench: ANALYZE {len(stale)} table(s) without current statistics: {', '.join(sorted(stale))}", flush=True)
            for table in stale:
                cursor.execute(f'ANALYZE "{table}"')
    vacuum_bloated(quiet=quiet)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT (SELECT count(*) FROM towns_beneficiary), (SELECT count(*) FROM towns_household),
                      (SELECT reltuples::bigint FROM pg_class WHERE relname = 'visits_visit'),
                      (SELECT reltuples::bigint FROM pg_class WHERE relname = 'funds_disbursement')"""
        )
        people, households, visits, grants = cursor.fetchone()
    return {"database": name, "people": people, "households": households, "visits_estimate": visits, "grants_estimate": grants}


def vacuum_bloated(*, quiet: bool = False) -> list[str]:
    """VACUUM what autovacuum's default thresholds would have (dead rows > 50 + 20% of the table).

    Each dashboard refresh deletes and re-inserts a campaign's rollups: with autovacuum off (as on
    the bench machine) six refreshes left the rollup tables 85% dead rows and the town page's reads
    took twice as long. Production runs autovacuum; the bench must not measure its absence.
    """
    with raw_connection(autocommit=True) as conn:
        bloated = [
            table
            for (table,) in conn.execute(
                """SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                    WHERE s.schemaname = 'public' AND s.relname NOT LIKE 'bench\\_%%'
                      AND s.n_dead_tup > 50 + 0.2 * GREATEST(c.reltuples, 0)"""
            ).fetchall()
        ]
        if bloated and not quiet:
            print(f"bench: VACUUM ANALYZE {len(bloated)} table(s) with many dead rows: {', '.join(sorted(bloated))}", flush=True)
        for table in bloated:
            conn.execute(f'VACUUM ANALYZE "{table}"')
    return bloated
