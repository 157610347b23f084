import os

import pytest

from tests.cast import build_cast

if os.environ.get("NUANXIN_TESTING") != "1":
    raise pytest.UsageError("Run the tests with `make test` (it sets the test environment: PostgreSQL, Redis, keys).")


@pytest.fixture
def cast(db):
    return build_cast()


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


# --- audit triggers vs. the flush of transactional tests (funds migration 0002) -------------
_TRIGGER_GUARDED_TABLES = ("funds_auditrecord", "funds_disbursement", "funds_budget")


@pytest.fixture(autouse=True, scope="session")
def _flush_past_audit_triggers():
    """Transactional tests (live_server, transactional_db) end with a TRUNCATE of every table,
    which the append-only triggers rightly refuse. Around that flush only, switch the tables'
    triggers off as their owner (the test database user) and back on, so the next test runs
    with the database's protection in place again."""
    from django.db import connection
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def _alter(state):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in _TRIGGER_GUARDED_TABLES:
                    cursor.execute(f"ALTER TABLE {table} {state} TRIGGER USER")

    def _fixture_teardown(self):
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
    label in funds/audit_labels.py fails the test that wrote it (services, jobs, the admin, triggers)."""
    result = yield
    if not {"db", "transactional_db"} & set(getattr(item, "fixturenames", ())):
        return result
    from django.db import DatabaseError, connection
    from django.db.transaction import TransactionManagementError

    from funds.audit_labels import has_label
    from funds.models import AuditRecord

    if connection.connection is None or connection.needs_rollback:
        return result
    try:
        actions = set(AuditRecord._base_manager.values_list("action", flat=True).distinct())
    except (DatabaseError, TransactionManagementError):
        return result
    missing = sorted(a for a in actions if not has_label(a))
    if missing:
        pytest.fail(f"audit actions without a Chinese label in funds/audit_labels.py: {missing}")
    return result
