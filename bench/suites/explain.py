"""EXPLAIN (FORMAT JSON) of the list pages' queries at county scale (issue 8: no sequential scan
over visits or grants where an index serves). The SQL is captured from real requests (in-process
test client) and each statement is explained as sent; the top node of each plan is printed.

A Seq Scan over visits_visit or funds_disbursement fails the check, unless the statement is in
ALLOWED_SEQ_SCANS with the reason (a query that reads most of the table is better served by one).
"""

from __future__ import annotations

from django.urls import reverse

from bench.core import Benchmark, Outcome, suite
from bench.suites.common import captured, client_for, get_ok, raw
from bench.suites.registry_list import DEEP_PAGE, _cursor_before_page
from towns.models import Cadre, Town

BIG_TABLES = ("visits_visit", "funds_disbursement")
# (page label, a fragment of the statement) -> why a sequential scan is right there.
ALLOWED_SEQ_SCANS: dict[tuple[str, str], str] = {}

USERS = ("county", "tc_admin")


def pages(username: str, conn) -> dict[str, str]:
    cadre = Cadre._base_manager.filter(user__username=username).first()
    town_id = cadre.town_id if cadre else None
    people = reverse("registry:person_list")
    tongcheng = Town.objects.get(name="铜城镇").pk
    return {
        # County roles land on the dashboard (home redirects them there); town roles on 我的任务.
        "home" if town_id else "dashboard": reverse("home") if town_id else reverse("reports:dashboard"),
        "dashboard 铜城镇": reverse("reports:dashboard_town", kwargs={"pk": tongcheng}),
        "visit ledger": reverse("visits:visit_list"),
        "registry p1": people,
        f"registry p{DEEP_PAGE}": f"{people}?after={_cursor_before_page(conn, town_id, DEEP_PAGE)}",
        "grant list": reverse("funds:grant_list"),
        "follow-up list": reverse("visits:followup_list"),
    }


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


SHORT = {"Seq Scan": "seq", "Index Scan": "idx", "Index Only Scan": "idx-only", "Bitmap Heap Scan": "bitmap"}


def describe(plan: dict) -> str:
    """The top node, its cost and rows, then how each table is read (seq / idx(index) / bitmap)."""
    scans = []
    for node in nodes(plan):
        if node.get("Relation Name"):
            how = SHORT.get(node["Node Type"], node["Node Type"])
            if node.get("Index Name"):
                how += f"({node['Index Name']})"
            scans.append(f"{node['Relation Name']}:{how}")
    return f"{plan['Node Type']} cost {plan['Total Cost']:,.0f} rows {plan['Plan Rows']:,} | " + ", ".join(scans)


def run(ctx) -> list[Outcome]:
    conn = raw(ctx)
    outcomes = []
    for username in USERS:
        client = client_for(ctx, username)
        for label, url in pages(username, conn).items():
            get_ok(client, url)  # warm the caches: explain the steady-state statements
            statements = captured(lambda u=url, c=client: get_ok(c, u))
            lines, bad = [], []
            for sql in statements:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                plan = conn.execute("EXPLAIN (FORMAT JSON) " + sql.replace("%", "%%")).fetchone()[0][0]["Plan"]
                seq = [n for n in nodes(plan) if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG_TABLES]
                lines.append(describe(plan))
                for node in seq:
                    allowed = [why for (page, fragment), why in ALLOWED_SEQ_SCANS.items() if page == label and fragment in sql]
                    if allowed:
                        lines.append(f"  seq scan on {node['Relation Name']} allowed: {allowed[0]}")
                    else:
                        bad.append(f"Seq Scan on {node['Relation Name']}: {sql[:200]}")
            outcome = Outcome(
                f"EXPLAIN {label} ({username})",
                "no Seq Scan over visits_visit / funds_disbursement",
                met=not bad,
                note="\n".join([*lines, *bad]),
                extra={"statements": len(statements), "seq_scans": bad, "plans": lines},
            )
            outcomes.append(outcome)
    return outcomes


@suite("explain")
def build(ctx):
    return [Benchmark("EXPLAIN list pages", "", run=run)]
