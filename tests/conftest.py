import contextlib
import os

import pytest

from tests.cast import build_cast
from tests.dbroles import APP_ROLE, as_owner

if os.environ.get("NUANXIN_TESTING") != "1":
    raise pytest.UsageError("Run the tests with `make test` (it sets the test environment: PostgreSQL, Redis, keys).")


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture(autouse=True, scope="session")
def _anchor_file_of_its_own(tmp_path_factory):
    """verify_audit reads the latest anchor (AUDIT_ANCHOR_FILE): never one a developer's own
    database left in media/private/."""
    from django.conf import settings

    settings.AUDIT_ANCHOR_FILE = str(tmp_path_factory.mktemp("audit-anchors") / "anchors.jsonl")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: cached filter choices hold another test's ids."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True, scope="session")
def _media_in_a_temporary_directory(tmp_path_factory):
    """Files the code writes (receipts, the demo's generated receipt pages) go to a directory of the
    run's own, never the working tree's media/."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


# --- the owner migrates, the application's role runs the tests (issue 13 §3) ------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Before the test database is made: the application's role exists (roles are cluster-wide;
    another suite may be creating it at the same moment)."""
    from django.db import connections

    if not APP_ROLE or connections["default"].vendor != "postgresql":
        return
    import psycopg

    params = connections["default"].get_connection_params()
    params.pop("options", None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                admin.execute(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT')


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After migrate (as the owner): every connection from here on acts as the application's role."""
    from django.db import connections

    from core.db_roles import grant_app_role

    default = connections["default"]
    if not APP_ROLE or default.vendor != "postgresql":
        yield
        return
    with django_db_blocker.unblock():
        grant_app_role()  # --reuse-db skips migrate and its post_migrate grants: grant anyway (idempotent)
    for conn in connections.all():
        conn.close()
    options = default.settings_dict.setdefault("OPTIONS", {})
    options["options"] = f"-c role={APP_ROLE}"
    yield
    options.pop("options", None)
    for conn in connections.all():
        conn.close()


# --- audit triggers vs. the flush of transactional tests (funds migration 0002) -------------
_TRIGGER_GUARDED_TABLES = ("funds_auditrecord", "funds_disbursement", "funds_budget")


@pytest.fixture(autouse=True, scope="session")
def _flush_past_audit_triggers():
    """Transactional tests (live_server, transactional_db) end with a TRUNCATE of every table,
    which the append-only triggers and the application's role rightly refuse. Around that flush
    only, act as the owner (the test database's login user) and switch the tables' triggers off
    and back on, so the next test runs with the database's protection in place again."""
    from django.db import connection
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def _alter(state):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in _TRIGGER_GUARDED_TABLES:
                    cursor.execute(f"ALTER TABLE {table} {state} TRIGGER USER")

    def _fixture_teardown(self):
        with as_owner():
            _alter("DISABLE")
            try:
                original(self)
            finally:
                _alter("ENABLE")

    TransactionTestCase._fixture_teardown = _fixture_teardown
    yield
    TransactionTestCase._fixture_teardown = original


# --- every audit record a test writes has a Chinese label (issue 12 §3) ----------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After each database test, while its transaction is still open: any action written without a
    label in core/audit_labels.py fails the test that wrote it (services, jobs, the admin, triggers)."""
    result = yield
    if not {"db", "transactional_db"} & set(getattr(item, "fixturenames", ())):
        return result
    from django.db import DatabaseError, connection
    from django.db.transaction import TransactionManagementError

    from core.audit_labels import has_label
    from core.models import AuditRecord

    if connection.connection is None or connection.needs_rollback:
        return result
    try:
        actions = set(AuditRecord._base_manager.values_list("action", flat=True).distinct())
    except (DatabaseError, TransactionManagementError):
        return result
    missing = sorted(a for a in actions if not has_label(a))
    if missing:
        pytest.fail(f"audit actions without a Chinese label in core/audit_labels.py: {missing}")
    return result
