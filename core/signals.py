"""Signs of life of the Celery worker and beat, written to core_heartbeat for /readyz.

The worker stamps "worker" from its main process every WORKER_HEARTBEAT_SECONDS (a timer in the
consumer's event loop); beat stamps "beat" each time it sends a scheduled task (at least every
minute: the outbox drain). Both close their database connection after each stamp: the worker's
main process forks pool children, which must not inherit an open connection.
"""

import logging

from celery import bootsteps
from celery.signals import beat_init, before_task_publish
from django.db import close_old_connections, connection
from django.utils import timezone

log = logging.getLogger(__name__)
_in_beat = False


def stamp(name: str, detail: str = "") -> None:
    from core.models import Heartbeat

    try:
        Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now(), "detail": detail[:200]})
    except Exception:  # PostgreSQL down: /readyz says so itself
        log.warning("heartbeat %s not written", name, exc_info=True)
    finally:
        connection.close()


class WorkerHeartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        from django.conf import settings

        hostname = getattr(worker, "hostname", "") or ""
        stamp("worker", hostname)
        self.tref = worker.timer.call_repeatedly(settings.WORKER_HEARTBEAT_SECONDS, stamp, ("worker", hostname))

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()


def install(app) -> None:
    app.steps["worker"].add(WorkerHeartbeat)


@beat_init.connect
def _beat_started(sender=None, **kwargs):
    global _in_beat
    _in_beat = True
    stamp("beat", "started")


@before_task_publish.connect
def _beat_sent(sender=None, **kwargs):
    if _in_beat:
        close_old_connections()
        stamp("beat", f"sent {sender}")
