"""A transactional outbox: work that must follow a write without ever failing it.

A service calls ``announce("campaign.changed", key=str(campaign_id))`` inside its transaction: one
row in core_outboxevent, committed or rolled back with the write. After commit a drain is queued
(a broker outage is logged and swallowed: the row waits); the worker drains, and beat drains
every minute too, so nothing announced is lost while the database holds.

Lower apps announce facts ("campaign X changed"); the apps that care register handlers at start-up
(``register(topic, handler)`` in their AppConfig.ready), so core imports no domain app and a writer
never imports its readers. Events of one (topic, key) coalesce: a burst of visits costs one handling.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core.models import Heartbeat, OutboxEvent

log = logging.getLogger(__name__)

_handlers: dict[str, list[Callable[[str, list[dict]], None]]] = {}
BATCH = 200
MAX_BACKOFF = timedelta(minutes=30)


def register(topic: str, handler: Callable[[str, list[dict]], None]) -> None:
    """handler(key, payloads) runs once per pending (topic, key), with the payloads of its events."""
    if handler not in _handlers.setdefault(topic, []):
        _handlers[topic].append(handler)


def _already_announced(topic: str, key: str, payload: dict | None) -> bool:
    """The same announcement twice in one transaction (a visit with two grants and a demand all
    change one campaign) is written once. Django replaces the connection's on-commit list when a
    transaction or savepoint ends, so a set tied to that list forgets what a rollback undid."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return False
    seen = getattr(connection, "_nuanxin_outbox_seen", None)
    if seen is None or seen[0] is not connection.run_on_commit:
        seen = (connection.run_on_commit, set())
        connection._nuanxin_outbox_seen = seen
    ident = (topic, str(key), repr(sorted((payload or {}).items())))
    if ident in seen[1]:
        return True
    seen[1].add(ident)
    return False


def announce(topic: str, *, key: str = "", payload: dict | None = None, delay: int = 0) -> OutboxEvent | None:
    """Record work to do after this transaction commits; ``delay`` seconds later at the earliest
    (in-process Celery, the demo and the tests, ignores the delay: there is no later). None when
    this transaction already announced the same."""
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    countdown = 0 if eager else delay
    event = None
    if not _already_announced(topic, key, payload):
        event = OutboxEvent.objects.create(
            topic=topic, key=str(key), payload=payload or {}, available_at=timezone.now() + timedelta(seconds=countdown)
        )
    transaction.on_commit(lambda: _committed(countdown=countdown))
    return event


def _committed(*, countdown: int) -> None:
    # What this transaction announced is out of its hands now: a later announcement is new work
    # (tests that run on-commit callbacks inside their own transaction rely on this too).
    transaction.get_connection()._nuanxin_outbox_seen = None
    kick(countdown=countdown)


def kick(*, countdown: int = 0) -> None:
    """Ask the worker to drain soon. Never raises: the beat drain catches up after a broker outage."""
    try:
        # By name, as every queued job: core.tasks imports this module.
        import_string("core.tasks.drain_outbox").apply_async(countdown=countdown)
    except Exception:  # a broker or network error of any kind: the event waits in the table
        log.warning("outbox: could not queue a drain (the beat drain will pick the work up)", exc_info=True)


def drain(*, limit: int = BATCH) -> dict:
    """Handle the pending events that are due, each (topic, key) once. Several drains may run at
    once: rows are claimed with SKIP LOCKED. A failing handler leaves its events pending with a
    growing delay and the error; the others go on."""
    handled, failed = 0, 0
    now = timezone.now()
    with transaction.atomic():
        due = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(done_at__isnull=True, available_at__lte=now)
            .order_by("available_at", "id")[:limit]
        )
        groups: dict[tuple[str, str], list[OutboxEvent]] = {}
        for event in due:
            groups.setdefault((event.topic, event.key), []).append(event)
        # Events of the same (topic, key) written before this drain started but not yet due are
        # covered by this handling too (it reads everything committed): close them as well.
        if groups:
            later = (
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(done_at__isnull=True, available_at__gt=now, created_at__lte=now)
                .order_by("id")
            )
            for event in later:
                if (event.topic, event.key) in groups:
                    groups[(event.topic, event.key)].append(event)
        for (topic, key), events in groups.items():
            ids = [e.pk for e in events]
            try:
                with transaction.atomic():
                    for handler in _handlers.get(topic, []):
                        handler(key, [e.payload for e in events])
            except Exception as exc:
                failed += 1
                log.exception("outbox: handling %s %s failed", topic, key)
                attempts = max(e.attempts for e in events) + 1
                backoff = min(timedelta(seconds=30 * 2 ** min(attempts, 10)), MAX_BACKOFF)
                OutboxEvent.objects.filter(pk__in=ids).update(
                    attempts=attempts, available_at=timezone.now() + backoff, last_error=repr(exc)[:300]
                )
                continue
            handled += 1
            OutboxEvent.objects.filter(pk__in=ids).update(done_at=timezone.now(), attempts=events[0].attempts + 1)
    _beat("outbox", f"handled {handled}, failed {failed}")
    return {"handled": handled, "failed": failed}


def pending_count() -> int:
    return OutboxEvent.objects.filter(done_at__isnull=True).count()


def purge(*, older_than_days: int = 7) -> int:
    """Handled events are kept a week (what happened after a write, for a post-mortem)."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxEvent.objects.filter(done_at__lt=cutoff).delete()
    return deleted


def _beat(name: str, detail: str = "") -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now(), "detail": detail[:200]})


# --- Celery tasks through the outbox ------------------------------------------------------------

TASK_TOPIC = "task"


def run_task(name: str, **kwargs) -> OutboxEvent | None:
    """Queue the Celery task ``name`` (its dotted name) with ``kwargs`` once this transaction
    commits: in place of ``transaction.on_commit(lambda: task.delay(...))``, whose broker error
    after commit turned a saved write into an error page and lost the job."""
    key = name + ":" + ",".join(f"{k}={kwargs[k]}" for k in sorted(kwargs))
    return announce(TASK_TOPIC, key=key[:60], payload={"task": name, "kwargs": kwargs})


def _send_tasks(key: str, payloads: list[dict]) -> None:
    sent = set()
    for payload in payloads:
        ident = (payload["task"], tuple(sorted(payload["kwargs"].items())))
        if ident in sent:  # the same job asked twice before it ran: once is enough (the tasks are idempotent)
            continue
        sent.add(ident)
        import_string(payload["task"]).apply_async(kwargs=payload["kwargs"])


register(TASK_TOPIC, _send_tasks)


# --- facts the lower apps announce (handlers: reports/apps.py) -----------------------------------

CAMPAIGN_CHANGED = "campaign.changed"
TOWN_REGISTRY_CHANGED = "town.registry_changed"


def campaign_changed(campaign_id: int | None) -> None:
    """What a campaign counts changed (a visit, grant, activity, follow-up): a burst within
    DASHBOARD_REFRESH_DELAY seconds is handled once."""
    if campaign_id is not None:
        announce(CAMPAIGN_CHANGED, key=str(campaign_id), delay=settings.DASHBOARD_REFRESH_DELAY)


def town_registry_changed(town_id: int) -> None:
    """A town's people, cells or assignments changed (an import, a zone assignment)."""
    announce(TOWN_REGISTRY_CHANGED, key=str(town_id), delay=settings.DASHBOARD_REFRESH_DELAY)
