"""Bare views: the floor a real view is compared with (same middleware, session, login and CSRF).

Only reachable through bench.urls (ROOT_URLCONF of bench.settings); never in config.urls.
"""

import uuid

from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST, require_safe

# The bare insert goes to a table of the bench's own (same columns and indexes as visits_visit,
# created by bench.db.prepare): an unaudited row must never appear in the real visit table.
BARE_VISIT_TABLE = "bench_bare_visit"


@login_required
@require_safe
def bare_get(request):
    """A logged-in GET that does nothing: session, auth and middleware only."""
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_POST
def bare_post(request):
    """A logged-in POST that writes nothing and redirects, as the visit log does."""
    return HttpResponseRedirect("/")


@login_required
@require_POST
def bare_visit(request):
    """A logged-in POST that inserts one visit row with raw SQL in its own transaction."""
    person = int(request.POST["beneficiary"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {BARE_VISIT_TABLE}
                  (kind, visited_at, volunteers_count, notes, idempotency_key, created_at,
                   beneficiary_id, cell_id, household_id, recorded_by_id, town_id)
                SELECT 'home', now(), 0, %s, %s, now(), b.id, b.cell_id, b.household_id, %s, b.town_id
                  FROM towns_beneficiary b WHERE b.id = %s""",
            [request.POST.get("notes", ""), uuid.uuid4(), int(request.POST.get("recorder", 0) or 0), person],
        )
    return HttpResponseRedirect("/")
