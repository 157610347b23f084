"""Inspection: flags for the known abuses of grants (issue 5 §4).

Each ``rule_*`` function reads the grants of the county (or one campaign) with a fixed number
of set-based queries — aggregates, Exists and correlated subqueries that run on PostgreSQL and
on SQLite alike — and returns candidate flags naming the rule, the records and why.
``run_inspection`` upserts them by (rule, key): new ones are created, existing ones refreshed,
ones no longer produced are marked cleared (their findings stay). It is a county-wide job, so it
runs inside ``unscoped()``; one audit record per run says what it found.

What counts as handed out is Disbursement.objects.handed_out() (funds/models.py), as on every page
and in every file: pending grants (待审批) wait for the decision, rejected and voided ones are not
counted. Two rules read other grants on purpose: the "voided and reissued to someone else" half of
rule 8 reads voided grants, and rule 9 (集中代签) counts entries as they were recorded, pending and
voided ones included, because the burst of entries is what it looks for.

The package: base.py (what a rule reads and returns), one rules module per family —
rules_money.py (how much: duplicates, above the standard, over budget), rules_people.py (to whom:
relatives, not targeted, off the approved list), rules_records.py (how it was recorded: no visit,
no receipt, late entry, bulk signing) — help.py (the rules in the inspectors' words) and
runner.py (every rule, and the upsert of their flags).
"""
