"""Settings for leadsite, read from the environment.

With nothing set, the app runs for local development on an embedded SQLite file (WAL) and django-q2's
ORM broker. ``DATABASE_URL`` switches to PostgreSQL and ``REDIS_URL`` switches the task broker and the
cache to Redis. Every variable is documented in README.md with its default.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def email_settings(url: str) -> dict[str, object]:
    """Turn ``smtp://user:pass@host:587?tls=1`` (or ``console:``) into Django EMAIL_* settings."""
    parts = urlsplit(url)
    if parts.scheme in {"", "console"}:
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parts.scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(f"EMAIL_URL scheme {parts.scheme!r} is not smtp, smtps or console")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", "") in {"1", "true", "yes"},
        "EMAIL_TIMEOUT": 10,
    }


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")
    # Only ever used with DEBUG on; `check --deploy` flags the "django-insecure" prefix.
    SECRET_KEY = "django-insecure-local-development-only-key-do-not-use-in-production"

# How many reverse proxies of ours stand in front of the app; client addresses (sign-in lockouts,
# form and API rate limits) are read from X-Forwarded-For that far from the right, never further.
PROXY_COUNT = env_int("PROXY_COUNT", 0)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Links in emails and the forms' embed snippets. Unset, it follows the address the run command serves on
# (its HOST and PORT); in production set it (`check --deploy` warns when it is not).
IS_SITE_URL_SET = bool(env_str("SITE_URL"))
SITE_URL = env_str("SITE_URL", f"http://{env_str('HOST', '127.0.0.1')}:{env_int('PORT', 8000)}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_q",
    "axes",
    "csp",
    # The audit trail of admin-edited settings (integrations.audit registers the models).
    "auditlog",
    "core",
    "leads",
    "scoring",
    "nurture",  # before handoff: its demo tracks exist when handoff's demo routes leads to them
    "handoff",
    "reports",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.CSPMiddleware",  # django-csp's, each policy built once per process
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # PostgreSQL cannot hold a NUL: an admin query parameter with one is a 400 before it reaches the database.
    "core.middleware.RejectNulInAdminQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Records who made each audited change (integrations.audit); needs request.user, so after authentication.
    "integrations.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Must stay last: it turns a lockout raised by the auth backend into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadsite.urls"
WSGI_APPLICATION = "leadsite.wsgi.application"

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
                "core.navigation.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections are kept (CONN_MAX_AGE) on SQLite too: opening one costs the WAL pragma, and the task
    # worker's ORM broker closes a connection past its age before every enqueue (django-q2's
    # close_old_connections), which at age 0 meant a new connection for each task a batch queued.
    # Django's SQLite backend, with writers queued on a file lock rather than in SQLite's busy handler, which
    # sleeps up to 100 ms between tries (core/backends/sqlite3): capture's p95 fell by half or more under load.
    DATABASES["default"]["ENGINE"] = "core.backends.sqlite3"
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE makes a read-then-write
        # transaction take the write lock up front, so concurrent writers queue for `timeout`
        # seconds instead of failing at once with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # Parameters bound by the server, and each statement prepared once a connection has run it twice: PostgreSQL
    # parses and plans a page's dozen small queries once per connection instead of on every request (psycopg 3;
    # the lead page's wall time in process fell from 8.8 to 5.4 ms). A pooler in transaction mode that cannot
    # keep prepared statements (PgBouncer before 1.21) needs DATABASE_PREPARED_STATEMENTS=0.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and task queue -----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer must not hold up a request: give up after a second (not the OS's
            # minutes of TCP retries), and the rate limits count per process meanwhile (core.ratelimit).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # The database cache is shared by every gunicorn worker and qcluster process (rate limits
    # must be), and needs nothing installed. Every `manage.py migrate` creates its table (core.cache_table).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}}

Q_CLUSTER: dict[str, Any] = {
    "name": "leadsite",
    "workers": env_int("Q_WORKERS", 2),
    # `retry` must exceed `timeout`, or a slow task is handed to a second worker while it still runs.
    "timeout": env_int("Q_TIMEOUT", 120),
    "retry": env_int("Q_RETRY", 180),
    "max_attempts": 3,
    "save_limit": 1000,
    "ack_failures": True,
    # Periodic sweeps are idempotent and cover any gap themselves: one run after downtime is enough.
    "catch_up": False,
    "sync": env_bool("Q_SYNC", default=False),
    "label": "Task queue",
}
if REDIS_URL:
    # A broker that does not answer must not hold up a capture's wake-up (the lead is stored and due
    # already): fail fast. The read timeout stays above the 1-second blocking pop of django-q2's worker.
    _timeouts = "socket_connect_timeout=1&socket_timeout=5"
    _joiner = "&" if "?" in REDIS_URL else "?"
    Q_CLUSTER["redis"] = REDIS_URL if "timeout=" in REDIS_URL else f"{REDIS_URL}{_joiner}{_timeouts}"
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

# Readiness (/healthz/ready/, core.health): a task waiting longer than this means the worker is not
# keeping up; a schedule is overdue when its next run is two of its intervals plus this grace in the past.
HEALTH_QUEUE_MAX_AGE = timedelta(seconds=env_int("HEALTH_QUEUE_MAX_AGE_SECONDS", 600))
HEALTH_SCHEDULE_GRACE = timedelta(seconds=env_int("HEALTH_SCHEDULE_GRACE_SECONDS", 120))
# ...and a lead whose pipeline work has waited longer than this (handoff.pipeline) means the same.
HEALTH_PIPELINE_MAX_WAIT = timedelta(seconds=env_int("HEALTH_PIPELINE_MAX_WAIT_SECONDS", 300))

# One pipeline run (handoff.tasks.run_pipeline) takes batches for at most this long, well inside the
# task timeout; what is left waits for the next run, which every capture queues.
PIPELINE_TASK_BUDGET = timedelta(seconds=env_int("PIPELINE_TASK_BUDGET_SECONDS", max(Q_CLUSTER["timeout"] // 3, 5)))

# --- Auth ---------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Permission checks only: ModelBackend's answers, kept per process while no permission has changed.
    "core.permission_cache.CachedPermissionBackend",
    # Django's ModelBackend, reading the signed-in user at raw SQL's cost (core.sessions).
    "core.sessions.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection: lock a username+IP pair after AXES_FAILURE_LIMIT failed sign-ins.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "core.client.client_ip"
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            # WhiteNoise's CompressedManifestStaticFilesStorage, each URL worked out once a process.
            else "core.staticfiles.CachedUrlStaticFilesStorage"
        )
    },
}

# --- Email --------------------------------------------------------------------------------------
vars().update(email_settings(env_str("EMAIL_URL", "console:")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "leads@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Nurture emails go out through the same backend (EMAIL_URL). The mail service signs the bounce and complaint
# reports it posts to /n/bounces/ with this secret (HMAC-SHA256, see README); empty turns the endpoint off.
NURTURE_BOUNCE_SECRET = env_str("NURTURE_BOUNCE_SECRET")
# SMTP connections the nurture worker sends a batch over at once (each email waits for three answers).
NURTURE_SMTP_CONNECTIONS = env_int("NURTURE_SMTP_CONNECTIONS", 4)
# Mail scanners open every link of an email soon after delivery: a click this many seconds or less after the send,
# or on another link of the same email this many seconds or less from one, is taken for a scanner's and not scored.
NURTURE_CLICK_MIN_DELAY_SECONDS = max(0, env_int("NURTURE_CLICK_MIN_DELAY_SECONDS", 60))
NURTURE_CLICK_BURST_SECONDS = max(0, env_int("NURTURE_CLICK_BURST_SECONDS", 2))

# --- Security -----------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions are saved only when they change, so list pages do not write a row on every request.
SESSION_SAVE_EVERY_REQUEST = False
# Sessions stay in their own table (Django's ``db`` engine, whose read core.sessions compiles once), not read
# through the cache: Django's ``cached_db`` store raises when Redis does not answer (it writes a session read from
# the database back to the cache unguarded), so every signed-in page would fail while Redis is down; and without
# Redis the cache is the database itself, which keeps 300 entries, so a miss would turn a page view into a cache
# write.
SESSION_ENGINE = "core.sessions"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Every page loads its scripts and styles from our own origin only (Bootstrap and Chart.js are
# vendored under static/), so the policy needs no CDN and no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Forms and API ------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The API: API keys (integrations.authentication) for systems and scripts, the session for the docs page.
# Each view declares the scope an API key needs and the permissions a person needs (integrations.permissions).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so a request without credentials gets a 401 with a challenge rather than a 403.
        "integrations.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["integrations.permissions.HasRequiredScope"],
    "DEFAULT_THROTTLE_CLASSES": [
        "integrations.throttling.ApiKeyRateThrottle",
        "integrations.throttling.SessionRateThrottle",
        "integrations.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env_str("API_RATE_PER_KEY", "600/min"),
        "user": env_str("API_RATE_PER_KEY", "600/min"),
        "anon": env_str("API_RATE_ANONYMOUS", "60/min"),
    },
    # Client addresses for the anonymous rate: trust X-Forwarded-For only as far as our own proxies.
    "NUM_PROXIES": PROXY_COUNT,
    # JSON only: the browsable API needs inline scripts our CSP forbids; /api/docs/ is the interactive view.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser, refusing lone surrogates and deep nesting with a 400 (see integrations.parsers).
    "DEFAULT_PARSER_CLASSES": ["integrations.parsers.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Leadsite API",
    "DESCRIPTION": (
        "Capture, enrich, score and hand over B2B leads.\n\n"
        "Authenticate with the header `Authorization: Api-Key <key>`: an integration key made in admin "
        "(scope `capture`: only send submissions and activities; `read`: only read; `full`: everything), "
        "or a personal token made at /api/tokens/, which acts with its owner's permissions. Each key has "
        "its own rate limit. POSTs that accept an `Idempotency-Key` header replay the first response to a retry."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is self-hosted (drf-spectacular-sidecar): the CSP allows no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}
# Webhooks and the HTTP enrichment provider refuse URLs that resolve into private, loopback or link-local
# networks (core.outbound); set this to deliver to an internal CRM on purpose.
OUTBOUND_ALLOW_PRIVATE_NETWORKS = env_bool("OUTBOUND_ALLOW_PRIVATE_NETWORKS", default=False)

# Limits a marketer or admin may tune (README, "Configuration"); the defaults are the ones that shipped.
FORM_TIME_TRAP_SECONDS = env_int("FORM_TIME_TRAP_SECONDS", 3)  # sent faster than this after rendering: spam
FORM_RATE_LIMIT = env_int("FORM_RATE_LIMIT", 20)  # submissions per address within the window
FORM_RATE_WINDOW_MINUTES = env_int("FORM_RATE_WINDOW_MINUTES", 10)
FORM_LINK_MAX_AGE_DAYS = env_int("FORM_LINK_MAX_AGE_DAYS", 7)  # asset and confirm links, and a form's render
DEFAULT_SLA_HOURS = env_int("DEFAULT_SLA_HOURS", 24)  # first-contact target when no SLA policy matches
# Position-based attribution: the first and the last touch's shares in percent; the middle ones share the rest.
ATTRIBUTION_POSITION_FIRST_PERCENT = env_int("ATTRIBUTION_POSITION_FIRST_PERCENT", 40)
ATTRIBUTION_POSITION_LAST_PERCENT = env_int("ATTRIBUTION_POSITION_LAST_PERCENT", 40)
# More free-mail domains besides the shipped list (leads/enrichment/data/free_mail_domains.txt), comma-separated.
FREE_MAIL_EXTRA_DOMAINS = env_list("FREE_MAIL_EXTRA_DOMAINS", [])
# Enrichment older than this is refreshed by an hourly task, this many leads per run (0 days: never).
ENRICHMENT_REFRESH_AGE_DAYS = env_int("ENRICHMENT_REFRESH_AGE_DAYS", 180)
ENRICHMENT_REFRESH_BATCH = env_int("ENRICHMENT_REFRESH_BATCH", 500)

# --- Audit trail (django-auditlog; the audited models are registered in integrations.audit) --------------
# Changes are stored as JSON (old and new value per field), and the actor's IP address is not kept: who,
# what and when is the record, and an IP is one more piece of personal data to erase.
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_REMOTE_ADDR = True
# Related objects by name ("Default model", not 3).
AUDITLOG_USE_FK_STRING_REPRESENTATION = True

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Demo ---------------------------------------------------------------------------------------
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo")
