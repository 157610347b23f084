"""Registry list (registry:person_list), page 1 and page 500, vs the raw page query (ENGINEERING.md:
constant query count ≤ 5, deep pages no slower than 1.5× page 1, no exact COUNT over visits)."""

from __future__ import annotations

from django.urls import reverse

from bench.core import Benchmark, Outcome, fmt_ratio, suite, timed
from bench.suites.common import captured, client_for, counts_over, get_ok, raw
from towns.models import Cadre
from visits.registry_selectors import REGISTRY_PAGE_SIZE

DEEP_PAGE = 500
MAX_QUERIES = 5
DEEP_LIMIT = 1.5

# The rows the page shows, by hand: the person with household, village, town, cell and
# responsible cadre in one statement, then the categories of those people (as the prefetch does).
PAGE_SQL = """
SELECT b.id, b.name, b.gender, b.birth_date, b.id_number_masked, b.phone, b.status, b.last_visited_at,
       b.next_visit_due, h.address, h.head_name, v.name, t.name, c.name, r.name
  FROM towns_beneficiary b
  JOIN towns_household h ON h.id = b.household_id
  JOIN towns_village v ON v.id = h.village_id
  JOIN towns_town t ON t.id = b.town_id
  JOIN towns_gridcell c ON c.id = b.cell_id
  LEFT JOIN towns_cadre r ON r.id = b.responsible_cadre_id
 WHERE b.id > %(after)s {town}
 ORDER BY b.id
 LIMIT %(limit)s
"""
CATEGORIES_SQL = """
SELECT bc.beneficiary_id, k.name FROM towns_beneficiary_categories bc JOIN towns_category k ON k.id = bc.category_id
 WHERE bc.beneficiary_id = ANY(%s)
"""


def _raw_page(conn, town_id, after):
    sql = PAGE_SQL.format(town="AND b.town_id = %(town)s" if town_id else "")
    rows = conn.execute(sql, {"after": after, "town": town_id, "limit": REGISTRY_PAGE_SIZE + 1}).fetchall()
    conn.execute(CATEGORIES_SQL, [[r[0] for r in rows[:REGISTRY_PAGE_SIZE]]]).fetchall()
    return rows


def _cursor_before_page(conn, town_id, page: int) -> int:
    """The ?after= that opens page ``page`` (the id of the last row of the page before it)."""
    where = "WHERE town_id = %s" if town_id else ""
    params = [town_id] if town_id else []
    row = conn.execute(
        f"SELECT id FROM towns_beneficiary {where} ORDER BY id OFFSET %s LIMIT 1", [*params, (page - 1) * REGISTRY_PAGE_SIZE - 1]
    ).fetchone()
    if row is None:
        raise RuntimeError(f"fewer than {page} pages of people")
    return row[0]


def _user_bench(label: str, username: str):
    def run(ctx) -> list[Outcome]:
        client = client_for(ctx, username)
        conn = raw(ctx)
        cadre = Cadre._base_manager.filter(user__username=username).first()
        town_id = cadre.town_id if cadre else None
        url = reverse("registry:person_list")
        deep_after = _cursor_before_page(conn, town_id, DEEP_PAGE)
        pages = {1: (url, 0), DEEP_PAGE: (f"{url}?after={deep_after}", deep_after)}
        # Warm up (the filter's choice lists are cached for five minutes: warm is the steady state).
        cold_sql = captured(lambda: get_ok(client, pages[1][0]))
        for page_url, after in pages.values():
            get_ok(client, page_url)
            _raw_page(conn, town_id, after)
        sql = {page: captured(lambda u=page_url: get_ok(client, u)) for page, (page_url, _) in pages.items()}
        # Interleaved: each round times both pages, ours and raw, alternating the order.
        times = {(page, which): [] for page in pages for which in ("ours", "raw")}
        for round_ in range(ctx.repeat):
            steps = [(page, which) for page in pages for which in ("ours", "raw")]
            if round_ % 2:
                steps.reverse()
            for page, which in steps:
                page_url, after = pages[page]
                fn = (lambda u=page_url: get_ok(client, u)) if which == "ours" else (lambda a=after: _raw_page(conn, town_id, a))
                times[(page, which)].append(timed(fn))
        outcomes = []
        for page in pages:
            queries = len(sql[page])
            counting = counts_over(sql[page], "visits_visit")
            outcome = Outcome(
                f"registry list p{page} ({label})",
                f"≤ {MAX_QUERIES} queries, no COUNT over visits" + (f"; ≤ {DEEP_LIMIT}× page 1" if page != 1 else ""),
                ours=times[(page, "ours")],
                baseline=times[(page, "raw")],
                extra={"queries": queries, "queries_cold": len(cold_sql) if page == 1 else None, "count_over_visits": counting},
            )
            ok = queries <= MAX_QUERIES and not counting
            notes = [f"{queries} queries warm" + (f" ({len(cold_sql)} with the filter choices' cache cold)" if page == 1 else "")]
            notes.append("no COUNT over visits_visit" if not counting else f"COUNT over visits_visit: {counting[0][:120]}")
            if page != 1:
                first = outcomes[0].ours_median
                deep = outcome.ours_median / first if first else None
                outcome.extra["deep_over_page1"] = deep
                ok = ok and deep is not None and deep <= DEEP_LIMIT
                notes.append(f"page {page} / page 1 = {fmt_ratio(deep)} (≤ {DEEP_LIMIT}×)")
            notes.append("ratio vs raw is informational: a rendered page vs the bare rows")
            outcome.met, outcome.note = ok, "; ".join(notes)
            outcomes.append(outcome)
        return outcomes

    return Benchmark(f"registry list ({label})", "", run=run)


@suite("registry")
def build(ctx):
    return [_user_bench("county viewer", "county"), _user_bench("town admin 铜城镇", "tc_admin")]
