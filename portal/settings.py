"""Gantry settings: everything comes from the environment (see README)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .env import (
    check_redis_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_str,
    parse_database_url,
    prepared_statements,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (set DEBUG=1 for development)")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mozilla_django_oidc",  # after auth, as its installation guide says
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "audit",
    "teams",
    "catalog",
    "clusters",
    "notifications",
    "spend",
    "deployments",
]

MIDDLEWARE = [
    "portal.logs.RequestContextMiddleware",  # first: its request id is on every later log line
    "portal.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

_DATABASE = parse_database_url("DATABASE_URL", env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gantry"))
DATABASES = {
    "default": {
        **_DATABASE,
        # Persistent connections (Django 6.1, ref/databases "Persistent connections"): a request reuses the
        # connection for up to CONN_MAX_AGE seconds instead of opening one (~6 ms here); the health check
        # tests a reused one first. Served by WSGI (gunicorn): Django advises against them under ASGI. Celery
        # 5.6's Django fixup still closes the worker's connection around each task (celery PR #9824).
        "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 60, minimum=0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**prepared_statements("DB_PREPARE_THRESHOLD", 1), **_DATABASE["OPTIONS"]},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = check_redis_url("REDIS_URL", env_str("REDIS_URL", "redis://127.0.0.1:6379/0"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
# One date-time format with its time zone, "5 Mar 2025, 14:03 UTC", in the admin and on every page (formats/moments.py).
FORMAT_MODULE_PATH = ["portal.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Outside development the files are served hashed and compressed (the image runs collectstatic:
# whitenoise's CompressedManifestStaticFilesStorage); DEBUG (make run, make test) serves them as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
STATICFILES_DIRS = [BASE_DIR / "static"]
_NODE_MODULES = BASE_DIR / "node_modules"
if _NODE_MODULES.is_dir():
    # Third-party browser assets come from npm packages, never a CDN.
    STATICFILES_DIRS.append(("vendor", _NODE_MODULES))

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024, minimum=1024)

# Security: strict defaults; HTTPS-only cookies unless explicitly turned off for local http.
SECURE_HTTPS = env_bool("SECURE_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Celery: Redis broker; results are not needed (state lives in PostgreSQL).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when Redis is down: the reconcile task pushes later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300, minimum=5),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
}
CELERY_TASK_PUBLISH_RETRY = False
# Workers log through LOGGING below (JSON with the task id), not Celery's own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
SYNC_INTERVAL_SECONDS = env_float("SYNC_INTERVAL_SECONDS", 5.0, minimum=0.5)
# How Gantry learns what the clusters do: "watch" (the watch_clusters process hears changes as they
# happen) or "list" (the fallback: celery beat lists every namespace every SYNC_INTERVAL_SECONDS).
STATUS_SYNC = env_str("STATUS_SYNC", "watch")
if STATUS_SYNC not in ("watch", "list"):
    raise ImproperlyConfigured(f"STATUS_SYNC is {STATUS_SYNC!r}: set it to watch (the default) or list.")
# The watcher lists everything again this often, a safety net under the watches.
WATCH_RESYNC_SECONDS = env_float("WATCH_RESYNC_SECONDS", 600.0, minimum=5.0)
# ... and decides every live deployment from what its watches hold this often, a safety net under the
# per-change writes (the spend heartbeat samples have their own, cheaper pace).
WATCH_SWEEP_SECONDS = env_float("WATCH_SWEEP_SECONDS", 300.0, minimum=1.0)
# The watcher touches this file every few seconds while its loop runs: the liveness probe of k8s/ and
# docker-compose reads its age.
WATCHER_HEARTBEAT_FILE = env_str("WATCHER_HEARTBEAT_FILE", "/tmp/gantry-watcher-heartbeat")
RECONCILE_INTERVAL_SECONDS = env_float("RECONCILE_INTERVAL_SECONDS", 15.0, minimum=1.0)
ROLLUP_INTERVAL_SECONDS = env_float("ROLLUP_INTERVAL_SECONDS", 60.0, minimum=1.0)
# Free GPUs per cluster, region and class are read from the clusters' nodes and pods this often.
CAPACITY_REFRESH_SECONDS = env_float("CAPACITY_REFRESH_SECONDS", 60.0, minimum=5.0)
PUSH_MAX_RETRIES = env_int("PUSH_MAX_RETRIES", 6, minimum=0)
PUSH_RETRY_BASE_SECONDS = env_float("PUSH_RETRY_BASE_SECONDS", 1.0, minimum=0.0)
# A status sample is written on every change and at least this often; keep it below 120 s,
# the longest gap spend metering bridges between two samples.
SAMPLE_HEARTBEAT_SECONDS = env_float("SAMPLE_HEARTBEAT_SECONDS", 60.0, minimum=1.0)
if SAMPLE_HEARTBEAT_SECONDS >= max(4 * SYNC_INTERVAL_SECONDS, 120):
    raise ImproperlyConfigured("SAMPLE_HEARTBEAT_SECONDS must be below 120 s and 4 sync intervals")
# The cluster's Knative stable window (config-autoscaler `stable-window`; stock 60s, CoreWeave 180s).
KNATIVE_STABLE_WINDOW_SECONDS = env_float("KNATIVE_STABLE_WINDOW_SECONDS", 60.0, minimum=0.0)
STUCK_AFTER_SECONDS = env_float("STUCK_AFTER_SECONDS", 60.0, minimum=1.0)
# Periodic work (celery beat). A run that could not start within its interval is dropped:
# the next one does the same job, so they never pile up while a worker is down.
CELERY_BEAT_SCHEDULE = {
    "sync-status": {
        "task": "deployments.tasks.sync_status",
        "schedule": SYNC_INTERVAL_SECONDS,
        "options": {"expires": SYNC_INTERVAL_SECONDS},
    },
    "reconcile": {
        "task": "deployments.tasks.reconcile",
        "schedule": RECONCILE_INTERVAL_SECONDS,
        "options": {"expires": RECONCILE_INTERVAL_SECONDS},
    },
    "rollup-spend": {
        "task": "deployments.tasks.rollup_spend",
        "schedule": ROLLUP_INTERVAL_SECONDS,
        "options": {"expires": ROLLUP_INTERVAL_SECONDS},
    },
    "refresh-capacity": {
        "task": "deployments.tasks.refresh_capacity",
        "schedule": CAPACITY_REFRESH_SECONDS,
        "options": {"expires": CAPACITY_REFRESH_SECONDS},
    },
}
if STATUS_SYNC == "watch":
    del CELERY_BEAT_SCHEDULE["sync-status"]  # the watch_clusters process keeps the status instead

# Kubernetes: a kubeconfig path, the in-cluster service account, or nothing (cluster "down").
KUBECONFIG = env_str("KUBECONFIG", "")
KUBE_CONTEXT = env_str("KUBE_CONTEXT", "")
KUBE_REQUEST_TIMEOUT = env_float("KUBE_REQUEST_TIMEOUT", 10.0, minimum=0.1)
# The reachability probe of /healthz and the fleet page: one /version call per cluster, in parallel.
KUBE_PROBE_TIMEOUT = env_float("KUBE_PROBE_TIMEOUT", 2.0, minimum=0.1)

# Request metrics on the deployment page (Prometheus HTTP API, e.g. http://127.0.0.1:9090); empty: off.
PROMETHEUS_URL = env_str("PROMETHEUS_URL", "").rstrip("/")
# Its scrape interval: rate() windows span at least four scrapes (the current values use exactly four).
PROMETHEUS_SCRAPE_SECONDS = env_float("PROMETHEUS_SCRAPE_SECONDS", 15.0, minimum=0.1)

# Requests per token (or per browser session): "<n>/<sec|min|hour|day>"; read on every request.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "teams.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["apibase.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "apibase.parsers.JSONParser", "apibase.yaml_parser.YAMLParser", "apibase.yaml_parser.XYAMLParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "apibase.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "portal.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["teams.auth.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": API_THROTTLE_RATE},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gantry API",
    "DESCRIPTION": "Deploy ML inference services on a Kubernetes GPU cloud.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI's configuration (swagger.io/docs/open-source-tools/swagger-ui/usage/configuration/):
    # `defaultModelsExpandDepth` -1 hides the list of every schema below the operations (each operation still
    # shows its own); `tryItOutEnabled` opens "Try it out" at once, its body filled from the first example.
    "SWAGGER_UI_SETTINGS": {"defaultModelsExpandDepth": -1, "tryItOutEnabled": True},
    "COMPONENT_SPLIT_REQUEST": True,
    # The defaults' enum hook, then request examples that pass validation and summaries without backticks.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "deployments.api.examples.request_examples_add",
        "portal.api_docs.summaries_plain",
    ],
}

CACHES = {
    "default": {
        "BACKEND": "portal.cache.RedisCache",  # one redis-py client per pool (portal/cache.py)
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

# One JSON object per line in production (LOG_FORMAT=json), readable lines with DEBUG; both carry the
# request, user, deployment and task ids that portal/logs.py keeps in context.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "portal.logs.ContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(task_id)s] %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "timestamp": True,
                 "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s %(user)s %(deployment_id)s %(task_id)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"kubernetes": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}

# Development serves static files straight from the finders; production runs collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Login throttling: failed attempts per username and per client address.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
# Single sign-on with OpenID Connect (mozilla-django-oidc 5; teams/sso.py): on when OIDC_ISSUER is set. The
# provider's endpoints come from its discovery document at login. Register https://<gantry>/oidc/callback/ as
# the redirect URI. Users are created at their first login; teams/services_sso.py maps groups to team roles.
OIDC_ISSUER = env_str("OIDC_ISSUER", "").strip().rstrip("/")
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "")  # or a file: OIDC_CLIENT_SECRET_FILE
OIDC_RP_SIGN_ALGO = env_str("OIDC_SIGN_ALGO", "RS256")  # the ID token's signature, checked with the issuer's JWKS
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile groups")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_STAFF_GROUP = env_str("OIDC_STAFF_GROUP", "")  # members are platform staff; unset: staff is set by hand
OIDC_TIMEOUT = env_float("OIDC_TIMEOUT", 10.0, minimum=0.5)  # each call to the provider (the library waits forever)
OIDC_USE_PKCE = True
OIDC_TOKEN_USE_BASIC_AUTH = True  # client_secret_basic: the client authentication every provider must accept
LOCAL_LOGIN = env_bool("LOCAL_LOGIN", True)
if OIDC_ISSUER:
    if not OIDC_ISSUER.startswith("https://") and not (DEBUG and OIDC_ISSUER.startswith("http://")):
        raise ImproperlyConfigured(f"OIDC_ISSUER={OIDC_ISSUER!r} must be an https:// URL (http only with DEBUG=1, "
                                   "for a local test provider)")
    for _name, _value in (("OIDC_CLIENT_ID", OIDC_RP_CLIENT_ID), ("OIDC_CLIENT_SECRET", OIDC_RP_CLIENT_SECRET)):
        if not _value:
            raise ImproperlyConfigured(f"{_name} is required with OIDC_ISSUER: copy it from the client registered "
                                       "at the identity provider (the secret may come from OIDC_CLIENT_SECRET_FILE)")
    if OIDC_RP_SIGN_ALGO not in {f"{family}{bits}" for family in ("RS", "ES", "HS") for bits in (256, 384, 512)}:
        raise ImproperlyConfigured(f"OIDC_SIGN_ALGO={OIDC_RP_SIGN_ALGO!r}: use RS256 (most providers), another "
                                   "RS/ES size, or HS256 for tokens signed with the client secret")
elif not LOCAL_LOGIN:
    raise ImproperlyConfigured("LOCAL_LOGIN=0 leaves no way to log in: set OIDC_ISSUER, OIDC_CLIENT_ID and "
                               "OIDC_CLIENT_SECRET for single sign-on, or keep LOCAL_LOGIN=1")
AUTHENTICATION_BACKENDS = (["django.contrib.auth.backends.ModelBackend"] if LOCAL_LOGIN else []) + (
    ["teams.sso.SsoBackend"] if OIDC_ISSUER else [])

# The ingress or load balancer in front of Gantry: the client address is then taken from
# X-Forwarded-For (the right-most entry that is not one of these), never from the proxy itself.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", [])

# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is 404 (see portal/metrics.py).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# Notifications: email through Django's backend (SMTP in production); webhooks are signed POSTs.
# Django 6.1's MAILERS (the EMAIL_* settings are deprecated); the password may come from EMAIL_PASSWORD_FILE.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
    "host": env_str("EMAIL_HOST", "localhost"), "port": env_int("EMAIL_PORT", 25, minimum=1),
    "username": env_str("EMAIL_USER", ""), "password": env_str("EMAIL_PASSWORD", ""),
    "use_tls": env_bool("EMAIL_USE_TLS", False), "timeout": env_int("EMAIL_TIMEOUT", 10, minimum=1),
}}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "gantry@localhost")
# The portal's address as users reach it, for links in messages (e.g. https://gantry.example.com).
PORTAL_URL = env_str("PORTAL_URL", "")
NOTIFICATIONS_WEBHOOK_TIMEOUT = env_float("NOTIFICATIONS_WEBHOOK_TIMEOUT", 5.0, minimum=0.5)
# Webhooks into private networks (the cluster's API, cloud metadata) are refused unless this is on.
NOTIFICATIONS_ALLOW_PRIVATE_WEBHOOKS = env_bool("NOTIFICATIONS_ALLOW_PRIVATE_WEBHOOKS", DEBUG)
