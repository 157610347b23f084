"""Least privilege in PostgreSQL: what the application's database role may do (issue 13 §3).

The tables belong to the role that runs ``migrate`` (the owner). The application connects as
another role (settings.DATABASE_APP_ROLE, e.g. ``nuanxin_app``) that owns nothing, so it cannot
disable a trigger, drop or alter a table, or set ``session_replication_role`` (superuser only).
After every ``migrate`` the owner grants it, idempotently:

* read and write on every table and sequence (new tables of later migrations included), except:
* funds_auditrecord (core.AuditRecord; the table kept its name): SELECT and INSERT only (the
  triggers refuse UPDATE/DELETE/TRUNCATE even to the owner; the grant makes that two locks, not one);
* what the domain apps register (funds/apps.py: grants only change state, budgets are never deleted);
* django_migrations: read only.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connections

# Each app that keeps a table the application may not freely change registers its restrictions
# (funds: grants and budgets, funds/apps.py): build(quoted role) -> statements run after the grants.
_RESTRICTIONS: list[Callable[[str], list[str]]] = []


def register_restrictions(build: Callable[[str], list[str]]) -> None:
    if build not in _RESTRICTIONS:
        _RESTRICTIONS.append(build)


def grant_statements(role: str) -> list[str]:
    r = _quote(role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON funds_auditrecord FROM {r}",
    ]
    for build in _RESTRICTIONS:
        statements += build(r)
    statements.append(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {r}")
    return statements


def grant_app_role(using: str = "default", role: str | None = None) -> bool:
    """Give the application's role its privileges; False when there is nothing to do (SQLite, no role set)."""
    role = settings.DATABASE_APP_ROLE if role is None else role
    connection = connections[using]
    if not role or connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise RuntimeError(f"数据库角色 {role} 不存在：先用 deploy/postgres/init-roles.sh 创建（DATABASE_APP_ROLE）")
        for statement in grant_statements(role):
            cursor.execute(statement)
    return True


def on_post_migrate(sender, using="default", **kwargs):
    grant_app_role(using)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
