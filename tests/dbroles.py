"""The test suite runs as production does (issue 13 §3): migrated by the owner (the URL's user),
then every connection acts as the application's role (DATABASE_APP_ROLE, `make test`: nuanxin_app)
with only the privileges core/db_roles.py grants it. A test that needs the owner's powers (to
play the attacker who has them, or to build a fixture past the triggers) says so with these."""

import contextlib
import os

from django.db import connection

APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "")


def _set_role(role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')


def _owner() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_user")
        return cursor.fetchone()[0]


@contextlib.contextmanager
def as_owner():
    """Act as the tables' owner (the login role of the test connection) inside the block."""
    if not APP_ROLE or connection.vendor != "postgresql":
        yield
        return
    _set_role(_owner())
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # an aborted transaction restores the role at its rollback
            _set_role(APP_ROLE)


@contextlib.contextmanager
def past_the_triggers():
    """Fixture writes that must not leave 'db' audit records (a grant voided in 2024 for a roster
    test): as the owner, with triggers and constraint triggers off for the block only."""
    with as_owner():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            if connection.vendor == "postgresql":
                with contextlib.suppress(Exception), connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = origin")
