from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The bottom of the app stack: plumbing every domain app may use (the outbox, sessions, health,
    job heartbeats, backup). It imports no domain app; domain apps register with it instead."""

    name = "core"
    verbose_name = "系统运行"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import signals  # noqa: F401 (the worker's and beat's heartbeats)
