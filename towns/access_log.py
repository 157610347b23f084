"""PIPL access log (issue 13 §1): who viewed a person, recorded cheaply.

Views call ``note(request, kind, people)``; the rows of one request are written together in one
INSERT when the response is ready (the middleware's ``collecting`` block), outside the audit
chain, so reading a person costs one statement and never waits on the chain's lock.
Outside a request (a job, the shell) ``note`` writes at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging

from django.db import DatabaseError

log = logging.getLogger(__name__)

_pending: contextvars.ContextVar[list | None] = contextvars.ContextVar("access_log_pending", default=None)


def note(request_or_user, kind: str, people) -> None:
    """Record that the user saw these people (Beneficiary objects, or (id, town id) pairs)."""
    user = getattr(request_or_user, "user", request_or_user)
    if user is None or not getattr(user, "is_authenticated", False):
        return
    request_id = getattr(request_or_user, "request_id", "")
    rows = []
    for person in people:
        person_id, town_id = (person.pk, person.town_id) if hasattr(person, "pk") else person
        rows.append((user.pk, person_id, town_id, kind, request_id))
    if not rows:
        return
    pending = _pending.get()
    if pending is not None:
        pending.extend(rows)
    else:
        _write(rows)


def _write(rows) -> None:
    from towns.models import PersonAccess

    seen = set()
    objects = []
    for user_id, person_id, town_id, kind, request_id in rows:
        if (user_id, person_id, kind) in seen:
            continue  # a household page listing one person twice is one look
        seen.add((user_id, person_id, kind))
        objects.append(PersonAccess(user_id=user_id, person_id=person_id, town_id=town_id, kind=kind, request_id=request_id))
    PersonAccess.objects.bulk_create(objects, batch_size=2000)


@contextlib.contextmanager
def collecting(request):
    """Hold the request's notes and write them in one statement at the end."""
    token = _pending.set([])
    try:
        yield
    finally:
        rows = _pending.get()
        _pending.reset(token)
        if rows:
            try:
                _write(rows)
            except DatabaseError:  # the page was already built; say so loudly rather than fail it
                log.exception("access log: %d rows of request %s not written", len(rows), getattr(request, "request_id", ""))
