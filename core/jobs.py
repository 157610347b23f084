"""Heartbeats of long jobs (roster imports, exports) and the sweep that fails the lost ones.

A job runs inside ``heartbeat(Model, pk)``: a thread stamps the row's ``heartbeat_at`` every
JOB_HEARTBEAT_SECONDS on its own connection (the job's transaction would hide the stamp). When the
worker process dies, the stamps stop; ``stale()`` finds the running rows whose last stamp is older
than JOB_STALE_MINUTES, and each app's sweep (every few minutes, beat) marks them failed with a
message a cadre understands and a retry button.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

log = logging.getLogger(__name__)


def _stamp(connection, table: str, pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET heartbeat_at = %s WHERE id = %s", [timezone.now(), pk])  # noqa: S608 (our table)


@contextlib.contextmanager
def heartbeat(model, pk: int, *, every: float | None = None):
    """Stamp model row pk now and every few seconds until the block ends (or the process dies)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # In-process jobs (the demo) die with the request that runs them: nothing to watch.
        yield
        return
    every = every if every is not None else settings.JOB_HEARTBEAT_SECONDS
    table = model._meta.db_table
    stop = threading.Event()

    def run():
        connection = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            while True:
                try:
                    _stamp(connection, table, pk)
                except Exception:  # the database blinked: the next stamp tries again
                    log.warning("job heartbeat %s %s failed", table, pk, exc_info=True)
                    with contextlib.suppress(Exception):
                        connection.close()
                if stop.wait(every):
                    return
        finally:
            with contextlib.suppress(Exception):
                connection.close()

    thread = threading.Thread(target=run, name=f"heartbeat-{table}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def stale(queryset, *, running_field: str = "status", running: tuple = (), queued: tuple = (), now=None):
    """Rows of the queryset in a running state whose heartbeat (or, never stamped, creation) is older
    than JOB_STALE_MINUTES; rows still queued get JOB_QUEUED_STALE_MINUTES (a busy worker is not a
    lost one)."""
    now = now or timezone.now()
    running_cutoff = now - timedelta(minutes=settings.JOB_STALE_MINUTES)
    queued_cutoff = now - timedelta(minutes=settings.JOB_QUEUED_STALE_MINUTES)
    last = Coalesce("heartbeat_at", "created_at")
    return queryset.alias(last_sign=last).filter(
        Q(**{f"{running_field}__in": running}, last_sign__lt=running_cutoff)
        | Q(**{f"{running_field}__in": queued}, last_sign__lt=queued_cutoff)
    )
