"""Reads for the privacy pages: who viewed whom (PIPL access log) and who checked whose ID numbers."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from core.audit_labels import action_label
from core.models import AuditRecord
from core.scoping import get_for_user_or_404, unscoped
from towns import idchecks
from towns.models import Beneficiary, Cadre, PersonAccess

ACCESS_ROWS = 300
CHECK_DAYS = 30


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def access_log(user, params) -> dict:
    """Newest views first, for one person ("谁看过这个人") or one user, within the reader's towns."""
    rows = PersonAccess.objects.for_user(user).select_related("person", "town")
    person = viewer = None
    person_id, user_id = _int(params.get("person")), _int(params.get("user"))
    if person_id:
        person = get_for_user_or_404(Beneficiary.objects.only("pk", "name", "id_number_masked", "town_id"), user, pk=person_id)
        rows = rows.filter(person_id=person.pk)
    if user_id:
        rows = rows.filter(user_id=user_id)
        with unscoped():  # the name of whoever looked at the reader's people, a county inspector included
            viewer = Cadre.objects.filter(user_id=user_id).select_related("town").first()
    kind = params.get("kind") or ""
    if kind in PersonAccess.Kind.values:
        rows = rows.filter(kind=kind)
    rows = list(rows[: ACCESS_ROWS + 1])
    with unscoped():  # as above: viewers of rows the reader may see
        cadres = {c.user_id: c for c in Cadre.objects.filter(user_id__in={r.user_id for r in rows}).select_related("town")}
    for row in rows:
        row.viewer = cadres.get(row.user_id)
    return {
        "rows": rows[:ACCESS_ROWS],
        "more": len(rows) > ACCESS_ROWS,
        "person": person,
        "viewer": viewer,
        "viewer_id": user_id,
        "kind": kind,
        "kinds": PersonAccess.Kind.choices,
    }


def id_checks(user) -> dict:
    """Per user over the last 30 days: ID numbers found registered outside their scope, limits
    reached, import files whose numbers disagreed with the people they matched (probes)."""
    since = timezone.now() - timedelta(days=CHECK_DAYS)
    records = AuditRecord.objects.for_user(user).filter(action__in=idchecks.ACTIONS, created_at__gte=since)
    by_user = list(
        records.values("actor_id", "actor_name", "actor_role", "actor_town")
        .annotate(
            total=Count("id"),
            elsewhere=Count("id", filter=Q(action=idchecks.ACTION_ELSEWHERE)),
            limited=Count("id", filter=Q(action=idchecks.ACTION_LIMITED)),
            mismatch=Count("id", filter=Q(action=idchecks.ACTION_MISMATCH)),
            probes=Count("id", filter=Q(action=idchecks.ACTION_MISMATCH, after__probe=True)),
            searches=Count("id", filter=Q(action=idchecks.ACTION_SEARCH)),
            last=Max("created_at"),
        )
        .order_by("-total", "actor_name")
    )
    for row in by_user:
        row["flagged"] = row["total"] >= settings.ID_CHECK_FLAG_COUNT or row["probes"] > 0 or row["limited"] > 0
    recent = list(records.order_by("-id")[:100])
    for record in recent:
        record.label = action_label(record.action)
    return {"by_user": by_user, "recent": recent, "days": CHECK_DAYS, "flag_count": settings.ID_CHECK_FLAG_COUNT}
