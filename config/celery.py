import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("nuanxin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker's heartbeat for /readyz (core/signals.py); a bootstep must be added before the worker starts.
from core.signals import install  # noqa: E402

install(app)
