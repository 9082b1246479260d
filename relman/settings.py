"""Django settings for relman. Every setting comes from the environment; see docs/configuration.md."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("RELMAN_DATA_DIR", Path.cwd() / "var")).resolve()


def _secret_key() -> str:
    """Use SECRET_KEY, else a key kept in the data directory so sessions survive restarts."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("RELMAN_DEBUG")
ALLOWED_HOSTS = [
    h
    for h in os.environ.get("RELMAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h
]
CSRF_FAILURE_VIEW = "relman.core.handlers.csrf_failure"
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("RELMAN_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Ninja's own app only for its vendored Swagger UI files: the API docs must render on an
    # intranet that cannot reach a CDN.
    "ninja",
    "relman.core",
    "relman.accounts",
    "relman.audit",
    "relman.processes",
    "relman.cmdb",
    "relman.releases",
    "relman.calendar",
    "relman.approvals",
    "relman.notifications",
    "relman.changes",
    "relman.reports",
    "relman.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "relman.core.middleware.RequestContextMiddleware",
    "relman.core.middleware.UserTimeZoneMiddleware",
    "relman.core.limits.TimeLimitMiddleware",
]

ROOT_URLCONF = "relman.urls"
WSGI_APPLICATION = "relman.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:release-list"
LOGOUT_REDIRECT_URL = "web:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # An organisation's own templates (documents of reports/documents/, ...) under
        # $RELMAN_DATA_DIR/templates/ replace the shipped ones of the same path.
        "DIRS": [DATA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

_sqlite_path = DATA_DIR / "relman.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{_sqlite_path}"), conn_max_age=600
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so two writers queue instead of
    # failing half-way; WAL lets readers go on while one writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# PostgreSQL cancels a statement running longer than this (0: never); the request gets a 503.
RELMAN_DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("RELMAN_DB_STATEMENT_TIMEOUT_MS", "30000"))
if DATABASES["default"]["ENGINE"] in {
    "django.db.backends.postgresql",
    "django.db.backends.postgresql_psycopg2",
}:
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options["options"] = (
        f"{_pg_options.get('options', '')} -c statement_timeout={RELMAN_DB_STATEMENT_TIMEOUT_MS}"
    ).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("RELMAN_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("RELMAN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Static files are served from the installed package by WhiteNoise; `collectstatic` is only
# needed to serve them from a proxy, into RELMAN_STATIC_ROOT.
STATIC_ROOT = os.environ.get("RELMAN_STATIC_ROOT") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "files"

# Deliverable uploads, and the largest request body besides uploaded files (forms, JSON).
RELMAN_MAX_UPLOAD_BYTES = int(os.environ.get("RELMAN_MAX_UPLOAD_MB", "50")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("RELMAN_MAX_BODY_MB", "10")) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Release numbering: fields {year}, {app} (application code) and {seq}.
RELMAN_RELEASE_NUMBER_FORMAT = os.environ.get("RELMAN_RELEASE_NUMBER_FORMAT", "REL-{year}-{seq:04}")
# Change numbering: fields {year} and {seq} (docs/changes.md).
RELMAN_CHANGE_NUMBER_FORMAT = os.environ.get("RELMAN_CHANGE_NUMBER_FORMAT", "CHG-{year}-{seq:04}")
# The shared secret that signs external trackers' webhook calls (HMAC-SHA256 of the raw
# body); unset, the webhook refuses every call. See docs/changes.md.
RELMAN_CHANGE_WEBHOOK_SECRET = os.environ.get("RELMAN_CHANGE_WEBHOOK_SECRET", "")
# How old a signed webhook call's X-Relman-Timestamp may be, and the largest body it takes.
RELMAN_CHANGE_WEBHOOK_MAX_AGE_SECONDS = int(
    os.environ.get("RELMAN_CHANGE_WEBHOOK_MAX_AGE_SECONDS", "300")
)
RELMAN_CHANGE_WEBHOOK_MAX_BYTES = int(os.environ.get("RELMAN_CHANGE_WEBHOOK_MAX_KB", "64")) * 1024
# Folders of organisation-defined process files, besides the shipped presets.
RELMAN_PROCESS_DIRS = [
    Path(p)
    for p in os.environ.get("RELMAN_PROCESS_DIRS", str(DATA_DIR / "processes")).split(os.pathsep)
    if p
]
# The gates a process definition may use under a stage's `gates:` (docs/architecture.md),
# in the order the engine evaluates them and a release's page lists them. Adding a gate:
# write it in its app's gates.py and add one line here.
RELMAN_GATES = [
    "relman.releases.gates.DeliverablesGate",
    "relman.approvals.gates.ApprovalsGate",
    "relman.releases.gates.ChecklistGate",
    "relman.calendar.gates.ScheduledGate",
    "relman.approvals.gates.ReadinessGate",
    "relman.calendar.gates.FreezeGate",
    "relman.releases.gates.ImpactReviewedGate",
    "relman.releases.gates.CmdbUpdatedGate",
    "relman.changes.gates.ChangesApprovedGate",
    "relman.changes.gates.ChangeReviewsGate",
]

# Reports: whether cancelled releases count among "all releases" of the release success rate
# (seed 003's successful releases / all releases). Off: only deployed outcomes count.
RELMAN_KPI_COUNT_CANCELLED = env_bool("RELMAN_KPI_COUNT_CANCELLED")

RELMAN_TOKEN_DAYS = int(os.environ.get("RELMAN_TOKEN_DAYS", "90"))
# What one process document may cost to read (processes/loader.py): its size, its values
# (each use of a YAML alias counts again), its nesting and the time to read it.
RELMAN_PROCESS_MAX_BYTES = int(os.environ.get("RELMAN_PROCESS_MAX_KB", "256")) * 1024
RELMAN_PROCESS_MAX_NODES = int(os.environ.get("RELMAN_PROCESS_MAX_NODES", "20000"))
RELMAN_PROCESS_MAX_DEPTH = 40
RELMAN_PROCESS_MAX_SECONDS = float(os.environ.get("RELMAN_PROCESS_MAX_SECONDS", "5"))
# How long making one PDF (the CAB minutes) may take before the request is answered 503.
RELMAN_PDF_TIMEOUT_SECONDS = float(os.environ.get("RELMAN_PDF_TIMEOUT_SECONDS", "60"))
# Internal addresses and host names that webhooks and robots may be sent to nonetheless
# (comma-separated: 10.20.0.0/16,hooks.intra.example). See relman/core/outbound.py.
RELMAN_OUTBOUND_ALLOW = [
    entry.strip()
    for entry in os.environ.get("RELMAN_OUTBOUND_ALLOW", "").split(",")
    if entry.strip()
]

# Background work: Celery. Without a broker the worker runs inside the server process.
CELERY_BROKER_URL = os.environ.get("RELMAN_BROKER_URL", "memory://localhost/")
CELERY_RESULT_BACKEND = os.environ.get("RELMAN_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("RELMAN_TASKS_EAGER")
CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.1}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain": {"task": "relman.audit.tasks.verify_chain", "schedule": 3600.0},
    "approval-deadlines": {"task": "relman.approvals.tasks.run_deadlines", "schedule": 60.0},
}

# Notifications: the outbox is swept every RELMAN_NOTIFY_SWEEP_SECONDS for messages whose
# delivery task was lost, and for messages left "sending" longer than
# RELMAN_NOTIFY_STUCK_SECONDS by a worker that died. See docs/notifications.md.
RELMAN_BASE_URL = os.environ.get("RELMAN_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
RELMAN_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("RELMAN_NOTIFY_MAX_ATTEMPTS", "8"))
RELMAN_NOTIFY_BACKOFF_SECONDS = float(os.environ.get("RELMAN_NOTIFY_BACKOFF_SECONDS", "10"))
RELMAN_NOTIFY_BACKOFF_MAX_SECONDS = float(
    os.environ.get("RELMAN_NOTIFY_BACKOFF_MAX_SECONDS", "3600")
)
RELMAN_NOTIFY_STUCK_SECONDS = float(os.environ.get("RELMAN_NOTIFY_STUCK_SECONDS", "300"))
RELMAN_NOTIFY_SWEEP_SECONDS = float(os.environ.get("RELMAN_NOTIFY_SWEEP_SECONDS", "15"))
RELMAN_NOTIFY_TIMEOUT = float(os.environ.get("RELMAN_NOTIFY_TIMEOUT", "10"))
CELERY_BEAT_SCHEDULE["sweep-notification-outbox"] = {
    "task": "relman.notifications.tasks.sweep",
    "schedule": RELMAN_NOTIFY_SWEEP_SECONDS,
}

# E-mail (SMTP) for notifications. Without RELMAN_EMAIL_HOST (the embedded defaults) each
# message is written as a file under $RELMAN_DATA_DIR/mail instead of being sent.
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("RELMAN_EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = os.environ.get("RELMAN_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("RELMAN_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("RELMAN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("RELMAN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("RELMAN_EMAIL_USE_TLS")
EMAIL_TIMEOUT = RELMAN_NOTIFY_TIMEOUT
DEFAULT_FROM_EMAIL = os.environ.get("RELMAN_EMAIL_FROM", "relman@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("RELMAN_LOG_LEVEL", "INFO")},
    "loggers": {"celery": {"level": "WARNING"}, "kombu": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 50

# What one CMDB import may hold (relman/cmdb/transfer.py): the file's size and its rows.
RELMAN_CMDB_IMPORT_MAX_BYTES = int(os.environ.get("RELMAN_CMDB_IMPORT_MAX_MB", "50")) * 1024 * 1024
RELMAN_CMDB_IMPORT_MAX_ROWS = int(os.environ.get("RELMAN_CMDB_IMPORT_MAX_ROWS", "200000"))
