"""What the application's database role may not do to the money tables (core/db_roles.py grants the rest).

* funds_disbursement: no DELETE or TRUNCATE, and UPDATE of the state columns the services change
  (void, approval, receipt) only: amount, person, cashier, goods and times cannot be changed at all;
* funds_budget: no DELETE or TRUNCATE (a budget is set to a new amount, audited).
"""

# The columns of a grant the services update (funds/services.py: void, approve, receipt_attach).
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


def restrictions(role: str) -> list[str]:
    """Statements for the quoted ``role``, run after core's grants of every table."""
    return [
        # Revoking UPDATE on the table revokes it on every column too; then the state columns only.
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON funds_disbursement FROM {role}",
        f"GRANT UPDATE ({', '.join(GRANT_STATE_COLUMNS)}) ON funds_disbursement TO {role}",
        f"REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON funds_budget FROM {role}",
    ]
