"""Least privilege in PostgreSQL: what the application's database role may do (issue 13 §3).

The tables belong to the role that runs ``migrate`` (the owner). The application connects as
another role (settings.DATABASE_APP_ROLE, e.g. ``nuanxin_app``) that owns nothing, so it cannot
disable a trigger, drop or alter a table, or set ``session_replication_role`` (superuser only).
After every ``migrate`` the owner grants it, idempotently:

* read and write on every table and sequence (new tables of later migrations included), except:
* funds_auditrecord: SELECT and INSERT only (the triggers refuse UPDATE/DELETE/TRUNCATE even to
  the owner; the grant makes that two locks, not one);
* funds_disbursement: no DELETE or TRUNCATE, and UPDATE of the state columns the services change
  (void, approval, receipt) only: amount, person, cashier, goods and times cannot be changed at all;
* funds_budget: no DELETE or TRUNCATE (a budget is set to a new amount, audited);
* django_migrations: read only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections

# The columns of a grant the services update (funds grant, approval and receipt services: void, approve, receipt_attach).
GRANT_STATE_COLUMNS = (
    "status",
    "void_reason",
    "voided_by_id",
    "voided_at",
    "approval_status",
    "approved_by_id",
    "approved_at",
    "approval_note",
    "receipt_id",
)


def grant_statements(role: str) -> list[str]:
    r = _quote(role)
    return [
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON funds_auditrecord FROM {r}",
        # Revoking UPDATE on the table revokes it on every column too; then the state columns only.
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON funds_disbursement FROM {r}",
        f"GRANT UPDATE ({', '.join(GRANT_STATE_COLUMNS)}) ON funds_disbursement TO {r}",
        f"REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON funds_budget FROM {r}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {r}",
    ]


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
