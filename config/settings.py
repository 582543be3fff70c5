"""The one settings module, driven by the environment.

Nothing set: SQLite file in the project, DEBUG on, Celery tasks run eagerly
in-process, secrets generated into var/. Set DATABASE_URL for PostgreSQL,
CELERY_BROKER_URL for real workers, and DEBUG=0 with SECRET_KEY,
ALLOWED_HOSTS and the PII keys for production.
"""

import hashlib
import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.local_secrets import load_or_create
from core.cutoff import cutoff_parse

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

if DEBUG:
    _local = load_or_create(BASE_DIR / "var" / "local_secrets.json")
else:
    _local = {}


def secret(name: str) -> str:
    value = os.environ.get(name) or _local.get(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in the environment when DEBUG is off")
    return value


SECRET_KEY = secret("SECRET_KEY")
# The rule of Django's own deploy check (security.W009), made fatal: at least 50 characters, 5 distinct.
if not DEBUG and (
    SECRET_KEY.startswith(("dev-", "django-insecure")) or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured("SECRET_KEY is a development or too-short key; set a strong one")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Before django.contrib.admin: its admin/index.html adds the work screens to the admin home.
    "workspace",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "core",
    "ledger",
    "lending",
    "underwriting",
    "debt_collection",
    "insurance",
    "partners",
    "payments",
    "dashboard",
]

MIDDLEWARE = [
    # First, so every later log line of the request carries its id, and metrics time the whole request.
    "core.request_context.RequestIdMiddleware",
    "core.metrics.ApiMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
    # deadlocking on a lock upgrade; WAL lets readers run beside a writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language, time -------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# zh_Hans groups amounts by thousands like Chinese bank statements (config/formats/zh_Hans).
FORMAT_MODULE_PATH = ["config.formats"]
# The business time zone: cut-off times, contact hours and "today" for staff.
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"

# --- Security (production when DEBUG is off) ------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A proxy that marks TLS with another header: SECURE_PROXY_SSL_HEADER="X-Forwarded-Ssl: on".
    if os.environ.get("SECURE_PROXY_SSL_HEADER"):
        _header, _, _value = os.environ["SECURE_PROXY_SSL_HEADER"].partition(":")
        if not _header.strip() or not _value.strip():
            raise ImproperlyConfigured(
                "SECURE_PROXY_SSL_HEADER is 'Header-Name: value', e.g. 'X-Forwarded-Proto: https'"
            )
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header.strip().upper().replace("-", "_"), _value.strip())
    # Load balancers probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Admin login lock-out (core/login_throttle.py): this many failures per (username, address) lock it this long.
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES") or 5)
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS") or 900)

# /metrics (core/metrics.py): a bearer token, or these client networks (loopback only by default).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1/32", "::1/128"])
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {_network!r} is not an address or network") from None


# --- Personal data encryption (see core/pii.py) ---------------------------
def _pii_keys() -> dict[str, str]:
    configured = os.environ.get("PII_ENCRYPTION_KEYS")
    if not configured:
        if not _local:
            raise ImproperlyConfigured("PII_ENCRYPTION_KEYS must be set when DEBUG is off")
        return dict(_local["PII_ENCRYPTION_KEYS"])
    keys = {}
    for item in configured.split(","):
        key_id, _, key = item.strip().partition(":")
        if not key_id or not key:
            raise ImproperlyConfigured("PII_ENCRYPTION_KEYS is 'id:base64key,id:base64key'")
        keys[key_id] = key
    return keys


PII_ENCRYPTION_KEYS = _pii_keys()
PII_ACTIVE_KEY_ID = os.environ.get("PII_ACTIVE_KEY_ID") or (
    _local.get("PII_ACTIVE_KEY_ID") if not os.environ.get("PII_ENCRYPTION_KEYS") else None
)
if PII_ACTIVE_KEY_ID not in PII_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("PII_ACTIVE_KEY_ID must name one of PII_ENCRYPTION_KEYS")
PII_HASH_KEY = secret("PII_HASH_KEY")

# --- Audit history --------------------------------------------------------
# Reverting from the admin would step around the state machines and the ledger.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Cache ------------------------------------------------------------------
# The partner API's rate-limit counters. Local memory counts per process; a
# Redis CACHE_URL (redis://host:6379/1) shares one count across processes.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- REST framework (the partner API, partners/api) ------------------------
REST_FRAMEWORK = {
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Bearer partner keys only: a staff session never reaches the API.
    "DEFAULT_AUTHENTICATION_CLASSES": ["partners.api.auth.BearerKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["partners.api.auth.IsPartner"],
    "DEFAULT_PARSER_CLASSES": ["partners.api.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "partners.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lending partner API",
    "DESCRIPTION": "Partner REST API v1: borrowers, credit lines, quotes with APR, drawdowns, loans, repayments. "
    'Money is a decimal string in CNY; errors are {"error": {"code", "message", "fields"}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LoanStateEnum": "lending.models.Loan.State",
        "CreditLineStateEnum": "lending.models.CreditLine.State",
        "BorrowerKindEnum": "lending.models.Borrower.Kind",
        "PaymentAccountKindEnum": "payments.models.PaymentAccount.Kind",
        "DisbursementStateEnum": "payments.models.Disbursement.State",
        "DebitStateEnum": "payments.models.Debit.State",
    },
}

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# Without a broker every task runs in-process as it is called: the embedded default.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else None
)
CELERY_TIMEZONE = TIME_ZONE
# Redis hands a task whose worker died before acknowledging it to another worker after this many seconds
# (RabbitMQ does at once). Queues, routes, limits, retries and the beat schedule: config/celery.py.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT") or 3600)}
# Business date D is closed by beat at the first CLOSE_OF_DAY_CUTOFF (HH:MM, Asia/Shanghai) after noon on D.
CLOSE_OF_DAY_CUTOFF = os.environ.get("CLOSE_OF_DAY_CUTOFF", "00:30")
try:
    cutoff_parse(CLOSE_OF_DAY_CUTOFF)
except ValueError as error:
    raise ImproperlyConfigured(f"CLOSE_OF_DAY_CUTOFF: {error}") from None
# Without a broker, close-of-day chunks can run on this many threads, each with its own database connection
# (PostgreSQL only), so that one chunk's Python overlaps another's database waits. One by default: on the
# shared 2-core benchmark machine two threads helped at 200,000 loans but not at 1,000,000 (bench/RESULTS.md).
CLOSE_CHUNK_THREADS = int(os.environ.get("CLOSE_CHUNK_THREADS") or 1)

# --- Money movement (payments/) -------------------------------------------
# Gateway adapters by code; a real provider is one more entry and one module.
PAYMENTS_GATEWAYS = {
    "simulated": "payments.gateways.simulated.SimulatedGateway",
    "partner_channel": "payments.gateways.partner_channel.PartnerChannelGateway",
}
PAYMENTS_DISBURSEMENT_GATEWAY = os.environ.get("PAYMENTS_DISBURSEMENT_GATEWAY", "simulated")
PAYMENTS_DEBIT_GATEWAY = os.environ.get("PAYMENTS_DEBIT_GATEWAY", "simulated")
PAYMENTS_REQUIRE_DISBURSEMENT_ACCOUNT = env_bool("PAYMENTS_REQUIRE_DISBURSEMENT_ACCOUNT", False)
# The embedded default confirms every instruction at once, so drawdowns end disbursed as before.
PAYMENTS_SIMULATED = {
    "seed": os.environ.get("PAYMENTS_SIMULATED_SEED", "demo"),
    "failure_rate": float(os.environ.get("PAYMENTS_SIMULATED_FAILURE_RATE") or 0),
    "delay_rate": float(os.environ.get("PAYMENTS_SIMULATED_DELAY_RATE") or 0),
    "secret": os.environ.get("PAYMENTS_SIMULATED_SECRET")
    or hashlib.sha256(f"payments-simulated:{SECRET_KEY}".encode()).hexdigest(),
}
PAYMENTS_CHASE_AFTER_SECONDS = int(os.environ.get("PAYMENTS_CHASE_AFTER_SECONDS") or 600)
PAYMENTS_MAX_ATTEMPTS = int(os.environ.get("PAYMENTS_MAX_ATTEMPTS") or 3)
PAYMENTS_DEBIT_ROUNDS_PER_DAY = int(os.environ.get("PAYMENTS_DEBIT_ROUNDS_PER_DAY") or 3)
PAYMENTS_DEBIT_RETRY_DAYS = int(os.environ.get("PAYMENTS_DEBIT_RETRY_DAYS") or 3)
PAYMENTS_SETTLEMENT_DIR = os.environ.get("PAYMENTS_SETTLEMENT_DIR") or str(BASE_DIR / "var" / "settlement")

# --- Business date --------------------------------------------------------
# The first business date of a new installation; afterwards the stored date rules.
BUSINESS_DATE_START = os.environ.get("BUSINESS_DATE_START", "")

# JSON lines in production (one object per line with request id and partner), readable text in development;
# personal data is masked by a filter on the handler either way (core/log_format.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT") or ("text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'text', got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "pii_mask": {"()": "core.log_format.PiiMaskFilter"},
        "request_context": {"()": "core.log_format.RequestContextFilter"},
    },
    "formatters": {
        "json": {"()": "core.log_format.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(partner)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context", "pii_mask"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
