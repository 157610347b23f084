"""Nuanxin settings: one file, every value from the environment through typed helpers."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
DEMO_MODE = env_bool("NUANXIN_DEMO", False)

# Development defaults; refused below when DEBUG is off so production cannot start on them.
_DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"
_DEV_ID_KEY = "ZGV2LW9ubHktaWQtZW5jcnlwdGlvbi1rZXktMzJieXQ="  # urlsafe base64 of 32 bytes
_DEV_ID_HMAC_KEY = "dev-only-id-hmac-key"

SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY)
# A Fernet key (urlsafe base64, 32 bytes) used only for national ID numbers.
ID_ENCRYPTION_KEY = env_str("ID_ENCRYPTION_KEY", _DEV_ID_KEY)
# A separate key for the HMAC that makes exact ID search and duplicate checks possible.
ID_HMAC_KEY = env_str("ID_HMAC_KEY", _DEV_ID_HMAC_KEY)
# Keys the audit chain (HMAC-SHA256 of each record): the database never holds it, so whoever can
# write the database cannot re-sign a rewritten record. Escrow it: without it no chain verifies.
_DEV_AUDIT_HMAC_KEY = "dev-only-audit-hmac-key"
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", _DEV_AUDIT_HMAC_KEY)
# Append-only file of chain heads (manage.py audit_anchor, beat every AUDIT_ANCHOR_MINUTES), on a
# volume the database's owner cannot write: verify_audit checks the chains against its last line.
AUDIT_ANCHOR_FILE = env_str("AUDIT_ANCHOR_FILE", str(BASE_DIR / "media" / "private" / "audit-anchors.jsonl"))
AUDIT_ANCHOR_MINUTES = env_int("AUDIT_ANCHOR_MINUTES", 5, minimum=1)
# The PostgreSQL role the application connects as (core/db_roles.py): `migrate`, run as the
# tables' owner, grants it what it needs and no more. Empty: no grants (SQLite, one-role setups).
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE", "")

if not DEBUG and not DEMO_MODE:
    if SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 40:
        raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 40+ characters when DEBUG is off")
    if ID_ENCRYPTION_KEY == _DEV_ID_KEY or ID_HMAC_KEY == _DEV_ID_HMAC_KEY:
        raise ImproperlyConfigured("ID_ENCRYPTION_KEY and ID_HMAC_KEY must be set when DEBUG is off")
    if AUDIT_HMAC_KEY == _DEV_AUDIT_HMAC_KEY or len(AUDIT_HMAC_KEY) < 16:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must be set (16+ characters) when DEBUG is off")

# Outside the demo, a missing database or broker is a start-up error, not a silent fallback to
# SQLite (no audit triggers) or to Celery inside the web request (issue 14 §6).
if not DEMO_MODE:
    for _name in ("DATABASE_URL", "REDIS_URL"):
        if not env_str(_name):
            raise ImproperlyConfigured(
                f"{_name} must be set (e.g. postgres://… / redis://…); only the demo (NUANXIN_DEMO=1) runs without it"
            )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "csp",
    "axes",
    "core",
    "towns",
    "visits",
    "funds",
    "reports",
    "demo",
]
# The model an area scope's town id points to (core/scoping.py, the audit record's town): core names
# no domain app, the settings do, as AUTH_USER_MODEL names the user.
SCOPE_AREA_MODEL = "towns.Town"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.SaveTrackerMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "towns.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
    "towns.lockout.TemporaryPasswordMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.nuanxin",
            ],
            # |cn_date, |cn_datetime, |yuan, |cadre everywhere without {% load %}: one date style, one cadre label.
            "builtins": ["towns.templatetags.nuanxin"],
        },
    },
]

_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": database_from_url(_database_url)}
else:
    DATABASES = {"default": database_from_url(f"sqlite:///{BASE_DIR / 'demo.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Reconnecting per request costs 2.6x on a list page (ENGINEERING.md).
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_nuanxin")}
else:
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "towns.auth_backend.CadreModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "towns.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "towns.passwords.CharacterClassValidator"},
]

# Lockout per user name *and* address (issue 13 §4): five failures from one address lock that
# address out of that account for 30 minutes, so a griefer elsewhere cannot lock a cadre out. Across
# addresses the account is slowed down instead (towns/lockout.py): each address waits longer
# between tries as the account's failures add up.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "towns.lockout.locked_out_response"  # the page says when the lock ends
# Longest wait between two tries of one account from one address once it has failed that often.
LOGIN_SLOWDOWN_MAX_SECONDS = env_int("LOGIN_SLOWDOWN_MAX_SECONDS", 60, minimum=1)
AXES_RESET_ON_SUCCESS = True
# "Locked for 30 minutes" means from the fifth failure: by default axes restarts the clock on
# every try during the lockout, which keeps a cadre who retries every few minutes locked all day.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# axes warns that username-only lockout lets an attacker lock accounts; that is the point here
# (等保 lockout per account), and per-IP lockout would lock out a whole town hall.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Idle sessions end after 30 minutes: requests push the expiry forward (at most one write a minute).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
# Server-side sessions (a logout ends them) in the database: a Redis outage logs nobody out (core/sessions.py).
SESSION_ENGINE = "core.sessions"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and not DEMO_MODE)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files served at the site's root by whitenoise (/favicon.ico): browsers ask for it on every first visit.
WHITENOISE_ROOT = BASE_DIR / "public"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": env_str("STATICFILES_BACKEND", "whitenoise.storage.CompressedManifestStaticFilesStorage")},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Whole request bodies above this are refused at once (towns.middleware): a 20 MB roster plus form fields.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_MB", 25, minimum=1) * 1024 * 1024

# Celery runs tasks in-process when no broker is configured (the quick-start demo).
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Tests run tasks eagerly unless the test is about the queue (CELERY_EAGER=1 in `make test`).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_EAGER", REDIS_URL is None)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# An unacknowledged task goes back to the queue after this long: longer than the longest job
# (a county-scale roster import, ~10 s; the inspection run, ~1 min) and any countdown (20 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900, minimum=60),
    "socket_timeout": 30,  # a silently dropped connection is noticed, then re-established
    "socket_connect_timeout": 2,
    # A sender (a web request, the drain) tries the broker once, briefly: kombu's default retries
    # forever, which would hold the request while Redis is down. The worker's own connection
    # retries on its own terms (it waits the outage out and reconnects).
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Sending a task never holds a web request: one try within 2 s, then the outbox keeps the work
# (core/outbox.py) and the beat drain sends it once the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True  # redelivered (acks late), not run twice at once
CELERY_RESULT_EXPIRES = timedelta(days=1)
# Times are Asia/Shanghai (CELERY_TIMEZONE).
CELERY_BEAT_SCHEDULE = {
    "sweep-roster-imports": {"task": "towns.tasks.sweep_roster_imports", "schedule": crontab(hour=3, minute=10)},
    # Work announced by writes (core/outbox.py) is drained after each commit; this catches up after a broker outage.
    "drain-outbox": {"task": "core.tasks.drain_outbox", "schedule": 60.0},
    "purge-outbox": {"task": "core.tasks.purge_outbox", "schedule": crontab(hour=3, minute=50)},
    # Jobs whose heartbeat stopped (a killed worker) are failed with a retry button (core/jobs.py).
    "sweep-lost-imports": {"task": "towns.tasks.sweep_lost_roster_imports", "schedule": crontab(minute="*/2")},
    "sweep-lost-exports": {"task": "reports.tasks.sweep_lost_exports", "schedule": crontab(minute="*/2")},
    # Inspection flags (funds/inspection.py) for the inspectors' morning; the run is idempotent.
    "run-inspection": {"task": "funds.tasks.run_inspection_task", "schedule": crontab(hour=2, minute=30)},
    # Overdue follow-ups rise to the town admin, then the county (visits/followup_escalation.py); idempotent.
    "escalate-followups": {"task": "visits.tasks.escalate_followups_task", "schedule": crontab(hour=1, minute=40)},
    # The weekly bulletin (组工信息): Monday morning, a draft for the previous week (reports/tasks.py); idempotent.
    "draft-weekly-bulletin": {
        "task": "reports.tasks.draft_weekly_bulletin",
        "schedule": crontab(day_of_week=1, hour=7, minute=30),
    },
    # Dashboard rollups (reports/rollups.py) of the running campaigns; writes also queue a refresh on commit.
    "refresh-dashboards": {"task": "reports.tasks.refresh_dashboards", "schedule": crontab(minute="*/5")},
}

# Title of the weekly bulletin (reports/models.py).
BULLETIN_TITLE = env_str("BULLETIN_TITLE", "天长组工信息")
# Defaults of a new issue's header and its 报 / 送 footer (each issue's own fields are edited in the editor).
BULLETIN_ISSUING_UNIT = env_str("BULLETIN_ISSUING_UNIT", "中共天长市委组织部研究室")
BULLETIN_REPORT_TO = env_str("BULLETIN_REPORT_TO", "部领导，滁州市委组织部研究室，市委办公室、市政府办公室。")
BULLETIN_COPY_TO = env_str("BULLETIN_COPY_TO", "各镇（街道）党（工）委、市直各单位、本部各科室（电教中心）。")
# Where `manage.py bulletin_draft` writes the .docx (not served: the editor downloads through a view).
BULLETIN_OUTPUT_DIR = Path(env_str("BULLETIN_OUTPUT_DIR", str(MEDIA_ROOT / "private" / "bulletins")))

# Grant controls (funds/services.py), on for every town. A grant whose value (cash, or goods at
# their unit value) exceeds the town's threshold waits for a town admin's approval (待审批); a town
# without its own threshold uses the county default. Above the county ceiling a grant is refused.
# Whole yuan.
GRANT_APPROVAL_THRESHOLD_DEFAULT = Decimal(env_int("GRANT_APPROVAL_THRESHOLD_DEFAULT", 1000, minimum=1))
GRANT_CEILING = Decimal(env_int("GRANT_CEILING", 10000, minimum=1))
if GRANT_APPROVAL_THRESHOLD_DEFAULT > GRANT_CEILING:
    raise ImproperlyConfigured("GRANT_APPROVAL_THRESHOLD_DEFAULT must not exceed GRANT_CEILING")
# A person under this age (from the birth date in their ID number) receives cash only through a
# recorded guardian (name and relation).
GRANT_MINOR_AGE = env_int("GRANT_MINOR_AGE", 18, minimum=1)

# Inspection rules (funds/inspection.py); each flag shows the thresholds it was computed with.
INSPECTION_NO_VISIT_DAYS = env_int("INSPECTION_NO_VISIT_DAYS", 30, minimum=1)  # a visit within ± this many days of a grant
INSPECTION_RECEIPT_DAYS = env_int("INSPECTION_RECEIPT_DAYS", 15, minimum=1)  # cash and goods signed for within this
INSPECTION_LATE_ENTRY_DAYS = env_int("INSPECTION_LATE_ENTRY_DAYS", 7, minimum=1)  # recorded this long after handing
INSPECTION_BULK_COUNT = env_int("INSPECTION_BULK_COUNT", 30, minimum=2)  # more grants than this recorded by one cadre ...
INSPECTION_BULK_MINUTES = env_int("INSPECTION_BULK_MINUTES", 10, minimum=1)  # ... within this many minutes
INSPECTION_ROSTER_MAX_ROWS = env_int("INSPECTION_ROSTER_MAX_ROWS", 5000, minimum=100)  # a printed roster beyond this: narrow it

# Follow-up escalation (督办): this many days past the deadline an open item rises to the town
# admin (level 1), then to the county (level 2). Before that it is the owner's (level 0).
FOLLOWUP_ESCALATE_TOWN_DAYS = env_int("FOLLOWUP_ESCALATE_TOWN_DAYS", 3, minimum=1)
FOLLOWUP_ESCALATE_COUNTY_DAYS = env_int("FOLLOWUP_ESCALATE_COUNTY_DAYS", 7, minimum=2)
if FOLLOWUP_ESCALATE_COUNTY_DAYS <= FOLLOWUP_ESCALATE_TOWN_DAYS:
    raise ImproperlyConfigured("FOLLOWUP_ESCALATE_COUNTY_DAYS must be greater than FOLLOWUP_ESCALATE_TOWN_DAYS")

if REDIS_URL:
    # Fails open (core/cache.py): with Redis down every read misses and pages go on from the database.
    CACHES = {"default": {"BACKEND": "core.cache.FailOpenRedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Raise when a query on an area-scoped model bypasses for_user() inside a request or job.
SCOPE_GUARD = env_bool("SCOPE_GUARD", DEBUG)

SECURE_CONTENT_TYPE_NOSNIFF = True
# HSTS only where the site is served over TLS (set it in .env behind the TLS proxy; a year is usual).
_BEHIND_TLS = env_bool("BEHIND_TLS_PROXY", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _BEHIND_TLS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _BEHIND_TLS else None

# Content-Security-Policy on every page (django-csp): our own vendored scripts only, no inline
# scripts or handlers (they live in static/js/). Inline *styles* stay allowed: templates use style
# attributes for widths and colours, and htmx adds its indicator style; styles cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# ID numbers typed by a user that turn out to be registered outside their scope (towns/idchecks.py):
# each answer is audited; after this many in a day the user cannot add new numbers until tomorrow.
ID_CHECK_DAILY_LIMIT = env_int("ID_CHECK_DAILY_LIMIT", 10, minimum=1)
# The inspectors' page flags a user with at least this many such checks within 30 days.
ID_CHECK_FLAG_COUNT = env_int("ID_CHECK_FLAG_COUNT", 5, minimum=1)

# Spreadsheet exports (issue 7 §3, reports/exporters.py). Files live under EXPORT_ROOT (default
# MEDIA_ROOT/exports), are never served from a URL, only by the download view, and are deleted with
# their job after EXPORT_RETENTION_DAYS by the daily sweep below.
EXPORT_ROOT = env_str("EXPORT_ROOT", "")
EXPORT_RETENTION_DAYS = env_int("EXPORT_RETENTION_DAYS", 7, minimum=1)
EXPORT_WRITER = env_str("EXPORT_WRITER", "rustpy")  # or "openpyxl" (7x slower, pure Python)
if EXPORT_WRITER not in ("rustpy", "openpyxl"):
    raise ImproperlyConfigured(f"EXPORT_WRITER must be rustpy or openpyxl, not {EXPORT_WRITER!r}")
CELERY_BEAT_SCHEDULE["sweep-exports"] = {"task": "reports.tasks.sweep_exports", "schedule": crontab(hour=3, minute=40)}
# Audit chain heads to the append-only file outside the database (core/audit_anchor.py); idempotent.
CELERY_BEAT_SCHEDULE["audit-anchor"] = {"task": "funds.tasks.audit_anchor_task", "schedule": AUDIT_ANCHOR_MINUTES * 60.0}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_client_error_tracebacks": {"()": "towns.log_filters.NoTracebackForClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # On the logger, not a handler: it must act before any handler (Django's own console one too) prints.
    "loggers": {"axes": {"level": "WARNING"}, "django.request": {"filters": ["no_client_error_tracebacks"]}},
}

if env_bool("NUANXIN_TESTING", False):
    # Hashing cost is not what the tests are about.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Serve static files from the app folders: tests never run collectstatic.
    WHITENOISE_AUTOREFRESH = True
    WHITENOISE_USE_FINDERS = True

# Dashboards (reports/rollups.py): a write queues a rebuild of its campaign this many seconds later
# (a burst of visits costs one rebuild); the beat job keeps refreshing a campaign this many days
# after it ended (late entries).
DASHBOARD_REFRESH_DELAY = env_int("DASHBOARD_REFRESH_DELAY", 20, minimum=0)
DASHBOARD_REFRESH_AFTER_DAYS = env_int("DASHBOARD_REFRESH_AFTER_DAYS", 30, minimum=0)

# Health and job heartbeats (core/jobs.py, core/signals.py, core/health.py). A long job stamps its
# row every JOB_HEARTBEAT_SECONDS; a running job silent for JOB_STALE_MINUTES (a queued one for
# JOB_QUEUED_STALE_MINUTES) is failed by the two-minute sweeps. /readyz calls the worker or beat
# down when its last sign of life is older than these.
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 30, minimum=1)
JOB_STALE_MINUTES = env_int("JOB_STALE_MINUTES", 3, minimum=1)
JOB_QUEUED_STALE_MINUTES = env_int("JOB_QUEUED_STALE_MINUTES", 30, minimum=1)
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 30, minimum=1)
READY_WORKER_STALE_SECONDS = env_int("READY_WORKER_STALE_SECONDS", 120, minimum=10)
READY_BEAT_STALE_SECONDS = env_int("READY_BEAT_STALE_SECONDS", 180, minimum=10)
