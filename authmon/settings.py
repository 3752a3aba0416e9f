"""Django settings for authmon, read from the environment.

Embedded default (nothing set): SQLite under ``AUTHMON_DATA_DIR`` and Celery tasks run in-process.
Production: ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` (Celery broker), ``SECRET_KEY``, ``DEBUG=0``,
``ALLOWED_HOSTS``. With DEBUG off a missing, default or weak (under 50 characters) secret key refuses to start, and
HTTPS is enforced (redirect, HSTS); ``manage.py check --deploy`` is then clean.
"""

import hashlib
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("AUTHMON_DATA_DIR", BASE_DIR / "data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "authmon-insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not env_bool("AUTHMON_ALLOW_DEV_SECRET", False):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (or set DEBUG=1 for local development).")
    SECRET_KEY = _DEV_SECRET
elif SECRET_KEY == _DEV_SECRET and not DEBUG:
    raise ImproperlyConfigured("The development SECRET_KEY cannot be used with DEBUG off.")
elif not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    # The key signs sessions, CSRF tokens and (through AUTHMON_EXPORT_KEYS) export seals: a short one can be guessed.
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for DEBUG off: it needs at least 50 characters, not all alike. Make one with: "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "django_filters",
    "ninja",
    "authmon",
    "audit",
    "events",
    "jobs",
    "notifications",
    "sessions_grants",
    "insights",
    "console",  # the site above the kinds: views, URLs, API, task wiring, sign-in, demo data
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "authmon.security.headers.NoStoreMiddleware",  # after WhiteNoise: static files stay cacheable
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "authmon.security.uploads.UploadGateMiddleware",  # before CSRF, whose check reads (and spools) the body
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "authmon.middleware.LoginRequiredMiddleware",
    "authmon.tenancy.TenantMiddleware",
    "authmon.middleware.TenantTimezoneMiddleware",
    "authmon.security.nul.NulRefusalMiddleware",  # last: after the CSRF check and the sign-in redirect
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "authmon.wsgi.application"

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
                "authmon.context_processors.console",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "authmon.sqlite3",
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "authmon.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# The runs that change the schema (monthly partitions, dropping trimmed months) go to their own queue, consumed by a
# worker that connects as the owner (`celery -A authmon worker -Q maintenance`); every other run is done by workers
# connected as the app role (DESIGN section 4; docs/scaling.md "Database roles").
MAINTENANCE_QUEUE = "maintenance"
CELERY_TASK_ROUTES = {
    "authmon.tasks.trim_run_task": {"queue": MAINTENANCE_QUEUE},
    "authmon.tasks.partitions_ensure_run_task": {"queue": MAINTENANCE_QUEUE},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    # Production is HTTPS only: plain HTTP is redirected and browsers are told (HSTS, a year) never to use it again.
    # Behind a TLS-terminating proxy, Django learns that a request came in over HTTPS from the header the proxy sets
    # (SECURE_PROXY_SSL_HEADER, default X-Forwarded-Proto; the proxy must overwrite it from clients). A proxy that
    # redirects to HTTPS itself may turn authmon's redirect off explicitly with SECURE_SSL_REDIRECT=0 (README).
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 60 * 60)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0 and env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    _proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_PROTO").strip()
    SECURE_PROXY_SSL_HEADER = (_proxy_header, "https") if _proxy_header else None

# Export seals (DESIGN section 8). Keys are "id:secret" pairs, comma-separated; the first signs new exports and all
# of them verify, so a rotated key keeps old exports valid. Derived from SECRET_KEY when unset.
_export_keys = env_list("AUTHMON_EXPORT_KEYS", "")
AUTHMON_EXPORT_KEYS = dict(pair.split(":", 1) for pair in _export_keys if ":" in pair) or {
    "default": hashlib.sha256(("authmon-export:" + SECRET_KEY).encode()).hexdigest()
}
AUTHMON_EXPORT_KEY_ID = next(iter(AUTHMON_EXPORT_KEYS))

AUTHMON_EXPORT_DIR = Path(os.environ.get("AUTHMON_EXPORT_DIR", DATA_DIR / "exports"))
AUTHMON_ARCHIVE_DIR = Path(os.environ.get("AUTHMON_ARCHIVE_DIR", DATA_DIR / "archives"))
# Signed audit chain checkpoints (audit.checkpoints): append-only files outside the database, best on storage the
# database's host and users cannot write; each new checkpoint is also mailed to AUTHMON_CHECKPOINT_EMAIL, if set.
AUTHMON_CHECKPOINT_DIR = Path(os.environ.get("AUTHMON_CHECKPOINT_DIR", DATA_DIR / "checkpoints"))
AUTHMON_CHECKPOINT_EMAIL = env_list("AUTHMON_CHECKPOINT_EMAIL", "")
AUTHMON_EXPORT_TTL_HOURS = int(os.environ.get("AUTHMON_EXPORT_TTL_HOURS", "72"))
# Largest audit archive a restore accepts (checked before the upload is read): 1 GiB. An exported audit record
# averages about 940 bytes (demo data: 934 and 947 per tenant), so this holds an archive of 1,000,000 records.
AUTHMON_RESTORE_MAX_BYTES = int(os.environ.get("AUTHMON_RESTORE_MAX_BYTES", str(1024 * 1024 * 1024)))
AUTHMON_JOB_STALE_SECONDS = int(os.environ.get("AUTHMON_JOB_STALE_SECONDS", str(15 * 60)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The first handler enforces the upload view's limit and refuses files everywhere else (authmon.security.uploads).
FILE_UPLOAD_HANDLERS = [
    "authmon.security.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Every e-mail goes through notifications.backends.LoggingEmailBackend, which records it in Notification Logs and
# sends it with AUTHMON_EMAIL_TRANSPORT: SMTP (the EMAIL_* settings) when EMAIL_HOST is set, else the console.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "notifications.backends.LoggingEmailBackend")
AUTHMON_EMAIL_TRANSPORT = os.environ.get(
    "AUTHMON_EMAIL_TRANSPORT",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "authmon@localhost")

# Revocation webhooks (sessions_grants.webhooks): attempts per push, first backoff (doubles each retry), timeout.
AUTHMON_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("AUTHMON_WEBHOOK_MAX_ATTEMPTS", "6"))
AUTHMON_WEBHOOK_BACKOFF_SECONDS = int(os.environ.get("AUTHMON_WEBHOOK_BACKOFF_SECONDS", "30"))
AUTHMON_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("AUTHMON_WEBHOOK_TIMEOUT_SECONDS", "10"))
# Outbound requests (webhooks, authmon.security.outbound) may reach loopback and private networks: on-premises only.
AUTHMON_OUTBOUND_ALLOW_PRIVATE = env_bool("AUTHMON_OUTBOUND_ALLOW_PRIVATE", False)

# The tenant (slug) whose Job Logs record runs that concern no one tenant (partition maintenance); default the oldest.
AUTHMON_SYSTEM_TENANT = os.environ.get("AUTHMON_SYSTEM_TENANT", "")

# Nightly maintenance (Celery beat); the watchdog runs every five minutes.
CELERY_BEAT_SCHEDULE = {
    "maintenance-nightly": {"task": "authmon.tasks.maintenance_nightly_task", "schedule": crontab(hour=2, minute=0)},
    "jobs-watchdog": {"task": "jobs.tasks.jobs_watchdog_task", "schedule": 5 * 60},
    # Month partitions ahead of their rows (PostgreSQL; docs/scaling.md), recorded in AUTHMON_SYSTEM_TENANT's jobs.
    "partitions-ensure": {"task": "authmon.tasks.partitions_ensure_task", "schedule": crontab(hour=1, minute=30)},
    "insights-alerts": {"task": "insights.tasks.alerts_evaluate_all_task", "schedule": 10 * 60},
    "audit-checkpoints": {"task": "audit.tasks.checkpoints_write_all_task", "schedule": crontab(minute=15)},
}

# API ingest limits (DESIGN section 6).
API_MAX_RECORDS = 10_000
API_MAX_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BYTES + 1024

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# ---- Hardening (issue 7): secrets masked before storage, safe log lines, throttling, CSP, session lifetime.

# Keys whose values are secrets in audit snapshots and details (a key matches when it ends with one of these,
# ignoring case and separators: client_secret, clientSecret and db_password all match). Comma-separated to override.
AUTHMON_SENSITIVE_KEYS = env_list(
    "AUTHMON_SENSITIVE_KEYS",
    "password,passwd,passphrase,secret,token,client_secret,private_key,api_key,apikey,access_key,credential,"
    "credentials,authorization,cookie",
)
LOGGING["filters"] = {"safe": {"()": "authmon.security.logs.SafeLogFilter"}}
LOGGING["handlers"]["console"]["filters"] = ["safe"]

# A cache shared by every process (login throttling, API rate limits): Redis when REDIS_URL is set.
AUTHMON_CACHE_URL = os.environ.get("AUTHMON_CACHE_URL", REDIS_URL)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": AUTHMON_CACHE_URL}
    if AUTHMON_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "authmon"}
}
AUTHMON_LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("AUTHMON_LOGIN_FAILURES_PER_ACCOUNT", "5"))
AUTHMON_LOGIN_FAILURES_PER_IP = int(os.environ.get("AUTHMON_LOGIN_FAILURES_PER_IP", "50"))
AUTHMON_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("AUTHMON_LOGIN_LOCKOUT_SECONDS", str(15 * 60)))
AUTHMON_CLIENT_IP_HEADER = os.environ.get("AUTHMON_CLIENT_IP_HEADER", "")  # e.g. HTTP_X_FORWARDED_FOR behind a proxy
AUTHMON_API_RATE_LIMIT = int(os.environ.get("AUTHMON_API_RATE_LIMIT", "1200"))  # requests per window per token
AUTHMON_API_RATE_WINDOW = int(os.environ.get("AUTHMON_API_RATE_WINDOW", "60"))

# The console's session: 8 hours from sign-in, and (by default) ended when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 60 * 60)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)

# Strict Content-Security-Policy: the templates carry no inline script or style, and nothing loads from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if not DEBUG:
    # Only a signal of consent: a domain enters browsers' preload lists when its owner submits it (hstspreload.org).
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
