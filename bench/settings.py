"""Settings for `python -m bench`: the production settings plus the bench's bare views."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The in-process test client calls itself "testserver".
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
# Benchmarks run over plain HTTP on 127.0.0.1 (wrk, the test client).
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# A benchmark's queries are not user requests: no logging of every one.
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

import warnings  # noqa: E402

# No collectstatic for the bench: whitenoise's "No directory at staticfiles/" is expected.
warnings.filterwarnings("ignore", message="No directory at")
