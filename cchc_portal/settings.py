"""One settings module, driven by the environment (see .env.example).

Unset DATABASE_URL means a SQLite file; unset REDIS_URL means Celery tasks run in
process and the cache is local memory. That is the quick start. Production and CI
set both.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A development machine's .env, written by `make install` on first run (DEBUG=1
# and a key of its own), or the one docker-compose reads beside its file. The
# environment wins over it; without one, nothing is read and production's
# rules below apply: DEBUG off, and no start without a SECRET_KEY.
ENV_FILE = BASE_DIR / ".env"
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (see .env.example)."
        )
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # intcomma: counts with the language's thousands separator ("16.788").
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_celery_beat",
    "axes",
    "simple_history",
    "commitments",
    "procedures",
    "scoring",
    # seed_demo and the demo province it writes through the apps' services.
    "demo",
    # The portal's own: tasks on their way to the broker (cchc_portal.queue).
    "cchc_portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header (SECURE_CSP) on every answer.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cchc_portal.middleware.VietnameseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Records the request's user on every history row (the audit trail).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into its own response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cchc_portal.urls"
WSGI_APPLICATION = "cchc_portal.wsgi.application"

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
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "commitments.organisation.context_processors.navigation",
                "scoring.context_processors.notices",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Measured: reusing connections is about 4x the requests per second of a new
    # connection per request on a small JSON view.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if not env.bool("DATABASE_JIT", default=False):
        # PostgreSQL compiles a query to machine code once its estimated cost
        # passes jit_above_cost, and a page's query with an estimate far off
        # pays it on every visit: the reviewers' queue spent 42 of its 136 ms
        # compiling (issue 20). The portal's queries are short; its long
        # jobs gain little. DATABASE_JIT=1 gives the server's setting back.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    # Wait for a writer instead of failing at once when a task and a request meet.
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache ---------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache that answers as an empty cache while Redis
            # is unreachable: pages and the API go on from the database.
            "BACKEND": "cchc_portal.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="cchc"),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    # Quick start: no broker, no worker; tasks run in this process.
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Running in process, the work a page hands over (an import, a computation)
# runs on one background thread after the request's commit, not inside the
# request: the page answers at once and shows its progress (cchc_portal.queue).
# Off, it runs in the request that sends it (the tests: they read its outcome).
TASKS_IN_BACKGROUND = env.bool("TASKS_IN_BACKGROUND", default=True)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker process grown past this (KiB) is replaced once its task ends, so
# one big import does not leave a child holding its peak for good.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = (
    env.int("CELERY_WORKER_MAX_MEMORY_MB", default=1024) * 1024
)
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Synced into django-celery-beat's tables each time beat starts (the times are
# CELERY_TIMEZONE, local time); an entry disabled in the admin stays disabled.
CELERY_BEAT_SCHEDULE = {
    "scoring-deadline-reminders": {
        "task": "scoring.tasks.deadline_reminders_task",
        "schedule": crontab(hour=7, minute=0),
    },
    # The day after a deadline, before the night's computation: the
    # assessments not submitted are taken for appraisal (issue 17, item 9).
    "scoring-close-cycles": {
        "task": "scoring.tasks.cycles_close_task",
        "schedule": crontab(hour=0, minute=30),
    },
    "scoring-provisional-results": {
        "task": "scoring.tasks.provisional_results_task",
        "schedule": crontab(hour=2, minute=0),
    },
    "procedures-interrupt-stale-imports": {
        "task": "procedures.tasks.imports_interrupt_stale_task",
        "schedule": crontab(minute="*/10"),
    },
    # The 766 figures of the running month, quarter and year judged again as
    # of now for every unit, before the provisional results read them (02:00).
    "procedures-refresh-running-figures": {
        "task": "procedures.tasks.metrics_refresh_task",
        "schedule": crontab(hour=1, minute=0),
    },
    # Those of the units with a dossier fallen due since they were judged, and
    # a month just ended: the figures keep up with the late-dossier list.
    "procedures-refresh-figures-fallen-due": {
        "task": "procedures.tasks.metrics_refresh_due_task",
        "schedule": crontab(minute="5-59/10"),
    },
}
# Tasks the broker did not take when their work was committed (Redis down):
# kept in the database and sent by the beat once it is back (cchc_portal.queue).
# The windows to ask for a review that closed yesterday, before the digest.
CELERY_BEAT_SCHEDULE["scoring-review-windows-closed"] = {
    "task": "scoring.tasks.review_windows_task",
    "schedule": crontab(hour=7, minute=15),
}
# Each person's notices not yet e-mailed, in one digest a day (issue 18).
CELERY_BEAT_SCHEDULE["scoring-notice-digest"] = {
    "task": "scoring.tasks.notices_digest_task",
    "schedule": crontab(hour=7, minute=30),
}
CELERY_BEAT_SCHEDULE["cchc-portal-pending-tasks"] = {
    "task": "cchc_portal.tasks.pending_send_task",
    "schedule": 60.0,
}
# The API's idempotency keys are kept a day (cchc_portal.idempotency).
CELERY_BEAT_SCHEDULE["cchc-portal-idempotency-keys"] = {
    "task": "cchc_portal.tasks.idempotency_keys_expire_task",
    "schedule": crontab(minute=15),
}
# A publish the broker refuses fails within about a second (a connection
# refused at once; one that hangs, after the connect timeout), and the task
# waits in the database instead of the request waiting for the broker.
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# A task waits this long in the database before the beat sends it again: the
# request that wrote it is handing it to the broker meanwhile.
QUEUE_PENDING_GRACE_SECONDS = env.int("QUEUE_PENDING_GRACE_SECONDS", default=60)
# A computation run with no sign of life for this long is taken for dead (its
# worker was killed) and marked interrupted when the next run of its year starts.
SCORING_RUN_STALE_SECONDS = env.int("SCORING_RUN_STALE_SECONDS", default=600)
# Tests only: hold a run at a stage for some seconds, {"writing": 5}, to kill it there.
SCORING_COMPUTE_PAUSE = env.json("SCORING_COMPUTE_PAUSE", default={})
# With late acknowledgement Redis hands an unacknowledged task to another worker
# after the visibility timeout: keep it well above the longest a task may run.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT}
# The queue this deployment's web, beat and workers share (one Redis may serve several).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
# A worker on this machine without Redis: kombu's filesystem transport in this
# folder (the killed-worker test uses it where no REDIS_URL is set).
CELERY_BROKER_FOLDER = env.str("CELERY_BROKER_FOLDER", default="")
if CELERY_BROKER_FOLDER:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": CELERY_BROKER_FOLDER,
        "data_folder_out": CELERY_BROKER_FOLDER,
        "control_folder": CELERY_BROKER_FOLDER,
    }

# --- Authentication -------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # django-axes first, so that a locked-out login never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, the session's user read through the cache.
    "cchc_portal.accounts.CachedModelBackend",
    # Sessions opened before the cached backend name Django's: they stay valid.
    "django.contrib.auth.backends.ModelBackend",
]
# How long the cache keeps an account and a token's owner (cchc_portal.accounts);
# any change through the ORM forgets them at once.
ACCOUNT_CACHE_SECONDS = env.int("ACCOUNT_CACHE_SECONDS", default=300)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# Self-service reset (cchc_portal.passwords): the e-mailed link works once and
# for a day; an address receives at most one link every five minutes.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_HOURS", default=24) * 3600
PASSWORD_RESET_EVERY = int(timedelta(minutes=5).total_seconds())
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
# Lock the account name together with the address it is tried from, so one
# attacker cannot lock every official out by guessing their user names.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_VERBOSE = False

# --- Internationalisation -------------------------------------------------------

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
# Vietnamese officials read dd/mm/yyyy whatever the interface language.
FORMAT_MODULE_PATH = ["cchc_portal.formats"]

# --- Static and media files -----------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Development serves static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- REST API --------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first: a caller without credentials gets 401 with
    # "WWW-Authenticate: Token" (not 403, which means "not allowed").
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cchc_portal.accounts.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # ?page= an integer as the schema says (an empty or bad one is a 400).
    "DEFAULT_PAGINATION_CLASS": "cchc_portal.api_filters.PageNumberPagination",
    "PAGE_SIZE": 50,
    # drf-spectacular's, with the error answers of each operation (Error bodies).
    "DEFAULT_SCHEMA_CLASS": "cchc_portal.api_errors.AutoSchema",
    # Every error answers {"status", "code", "detail", "errors": [...]}.
    "EXCEPTION_HANDLER": "cchc_portal.api_errors.exception_handler",
}
# How long a retry with the same Idempotency-Key answers the first answer
# (cchc_portal.idempotency).
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
SPECTACULAR_SETTINGS = {
    "TITLE": "CCHC portal API",
    "DESCRIPTION": (
        "Units, case records, PAR-index results, commitments and accountability "
        "of the CCHC portal. Authenticate with a token (`Authorization: Token "
        "<key>`) or a signed-in session; every list and object is limited to "
        "the caller's units (another unit's object answers 404). Every step "
        "of the cycle has its operation, calling the same service as its page; "
        "the POSTs that create or record something take an Idempotency-Key "
        "header, so that a retry answers the first answer and writes nothing "
        "twice (the same key with another request: 422)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is for signed-in callers, as the API (cchc_portal.api_docs).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI would send the schema to swagger.io's validator for a badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Swagger UI and Redoc from static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Frameworks and assessments both have a "state": name the two sets.
    "ENUM_NAME_OVERRIDES": {
        "FrameworkStateEnum": "scoring.models.FrameworkState",
        "AssessmentStateEnum": "scoring.models.AssessmentState",
        # A framework's unit_kind and a unit's kind are the same set.
        "UnitKindEnum": "commitments.organisation.models.UnitKind",
    },
}

# --- Import / export --------------------------------------------------------------

# Largest case-record file the upload page accepts (a year of a province's
# dossiers as CSV is a few hundred MB).
CASE_IMPORT_MAX_UPLOAD_BYTES = env.int("CASE_IMPORT_MAX_UPLOAD_MB", default=200) * (
    1024 * 1024
)

# What an XLSX of case records may expand to, checked from its zip directory
# and a streamed scan before openpyxl reads it (procedures.parsing): a few
# hundred KB of zip can otherwise hold gigabytes of XML.
CASE_IMPORT_XLSX_MAX_BYTES = env.int("CASE_IMPORT_XLSX_MAX_MB", default=1024) * (
    1024 * 1024
)
# The shared-strings part is held in memory whole while the sheet is read.
CASE_IMPORT_XLSX_MAX_SHARED_BYTES = env.int(
    "CASE_IMPORT_XLSX_MAX_SHARED_MB", default=128
) * (1024 * 1024)
CASE_IMPORT_XLSX_MAX_CELLS = env.int("CASE_IMPORT_XLSX_MAX_CELLS", default=40_000_000)
# Excel's own limit for one cell; no column of the format needs more than 200.
CASE_IMPORT_MAX_CELL_CHARS = env.int("CASE_IMPORT_MAX_CELL_CHARS", default=32_767)
# An import run with no sign of life for this long lost its process (killed,
# out of memory) and is marked interrupted (procedures.importer).
IMPORT_RUN_STALE_SECONDS = env.int("IMPORT_RUN_STALE_SECONDS", default=600)

# Largest evidence document (tài liệu kiểm chứng) a unit may upload, in MB.
EVIDENCE_MAX_UPLOAD_MB = env.int("EVIDENCE_MAX_UPLOAD_MB", default=20)

# --- Digitally signed commitments (PAdES, commitments/signatures.py) -------------

# A folder of the certificates (PEM, or DER in .cer/.crt files) a signer's
# chain must lead to: the government CA's roots the deployment trusts. None
# by default: a signature is then checked for integrity, but its chain
# cannot be verified and is shown so.
SIGNATURE_TRUST_ROOTS = env.str("SIGNATURE_TRUST_ROOTS", default="") or None
# Ask the certificates' CRL and OCSP addresses whether they are revoked (the
# portal needs to reach them); off, only what the signature carries is read.
SIGNATURE_FETCH_REVOCATION = env.bool("SIGNATURE_FETCH_REVOCATION", default=False)

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Menu items of the apps above commitments, in menu order (see
# commitments.organisation.navigation): each a function user -> list[NavItem].
NAVIGATION_PROVIDERS: list[str] = [
    "procedures.navigation.items",
    "scoring.navigation.items",
]
# What waits for a user on the to-do home, each app adding its own
# (commitments.organisation.todo).
TODO_PROVIDERS: list[str] = [
    "scoring.todo.items",
    "commitments.todo.items",
    "procedures.todo.items",
]

# --- Demo data: each app adds its steps; seed_demo runs them in this order. ----

DEMO_STEPS = [
    "demo.organisation.build_organisation",
    "demo.organisation.build_accounts",
    "demo.cases.build_catalogue",
    "demo.cases.build_cases",
    "demo.frameworks.build_frameworks",
    "demo.results.build_results",
    "demo.accountability.build_accountability",
]
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="cchc-demo-2026")
# Case records of the demo province, 2022–2025 (the tests load a few thousand).
DEMO_CASES = env.int("DEMO_CASES", default=300_000)

# --- Security (production: DEBUG off) ---------------------------------------------

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from the portal's static files: no inline script,
# handler or style attribute runs. The few pages that need an inline style
# (the printed commitment, which WeasyPrint also reads; Redoc's) use the
# request's nonce, which the header carries only when a page used it.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SESSION_COOKIE_HTTPONLY = True
# Sessions are written to the database and read through the cache (Redis in
# production): every signed-in request reads its session, and a cache read is a
# fraction of a query; a session the cache has lost is read from the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# smtp+tls://user:password@mail.example.gov.vn:587 in production; the quick start
# prints e-mail on the console.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cchc@localhost")
# The portal's address as its users reach it: the links in notice e-mails.
PORTAL_URL = env.str("PORTAL_URL", default="http://localhost:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # pyHanko logs every chain it cannot build or validate with its
        # traceback; the portal keeps the reason on the commitment
        # (commitments.signatures) and logs what it refuses itself.
        "pyhanko": {"level": "ERROR"},
        "pyhanko_certvalidator": {"level": "ERROR"},
    },
}
