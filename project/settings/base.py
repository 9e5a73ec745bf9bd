"""Settings shared by every environment.

Only this package reads the environment (django-environ); the rest of the code reads
``django.conf.settings``. Every variable read here is listed with its default in the README and
in ``.env.example``. With nothing set, the project runs on the embedded default: SQLite, a
local-memory cache, Celery tasks executed in-process, e-mail and SMS printed to the console.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from project.logs import logging_config
from project.settings.keys import checked_key, signing_keys

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -----------------------------------------------------------------------------------
# No default key is committed: local.py and test.py generate keys on first use (project/settings/
# keys.py); production.py requires them. Either way a key found in the project's files is refused.
SECRET_KEY = env("SECRET_KEY", default="")
# The embedded default and the tests keep their generated keys here (git-ignored).
LOCAL_KEYS_FILE = (BASE_DIR / env("LOCAL_KEYS_FILE", default=".local-keys.json")).resolve()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
PRODUCT_NAME = env("PRODUCT_NAME", default="DRF Custom Authentication")
SUPPORT_EMAIL = env("SUPPORT_EMAIL", default="support@example.com")


def sms_name(name: str, limit: int = 11) -> str:
    """``name`` cut at a word boundary to ``limit`` characters: what an SMS calls the product, so
    that every SMS fits one segment in every language (notifications/sms_text.py checks it)."""
    cut = ""
    for word in name.split():
        if len(f"{cut} {word}".strip()) > limit:
            break
        cut = f"{cut} {word}".strip()
    return cut or name[:limit]


SMS_PRODUCT_NAME = env("SMS_PRODUCT_NAME", default=sms_name(PRODUCT_NAME))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc files, served from here instead of a CDN
    "django_ratelimit",
    "users",
    "notifications",
    "web",
]

MIDDLEWARE = [
    # Outermost: every answer, error answers included, carries the request's X-Request-ID.
    "project.logs.RequestIdMiddleware",
    # Next, so that every error answer, Django's own included, has the one JSON error shape.
    "project.middleware.ErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the pages' CSS and JS under gunicorn too (compressed, cache-busted after collectstatic).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the answer: the pages' switcher (its cookie), else Accept-Language, else
    # English; sets Content-Language on every answer.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
AUTH_USER_MODEL = "users.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections: a new PostgreSQL connection per request costs more than the query.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A health check would cost each request a "SELECT 1" round trip before its first query; without
# it, a connection the database dropped fails one request (a 503) and is then replaced.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves many threads from one file. A writer takes the lock when its
    # transaction begins (no "database is locked" from upgrading a read lock) and waits up to 20 s
    # for it; WAL lets readers go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

# --- Cache and Redis ------------------------------------------------------------------------
# Codes, attempt counters and rate-limit buckets live in the default cache. With REDIS_URL set it
# is Redis through django-redis (shared by every process, atomic); without it, local memory.
REDIS_URL = env("REDIS_URL", default="")


def redis_cache(location: str) -> dict:
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
            "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=1.0),
        },
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="auth"),
    }


# Redis Sentinel (README, "Redis Sentinel"): with REDIS_SENTINELS (host:port,...) the cache, the
# code store, the limits and the broker find the current master of REDIS_SENTINEL_SERVICE through
# the sentinels, and follow it when they promote a replica. REDIS_URL is then not used.
REDIS_SENTINELS = env.list("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_SERVICE = env("REDIS_SENTINEL_SERVICE", default="auth")
REDIS_SENTINEL_DB = env.int("REDIS_SENTINEL_DB", default=0)


def sentinel_addresses(sentinels: list[str], setting: str = "REDIS_SENTINELS") -> list[tuple[str, int]]:
    addresses = []
    for sentinel in sentinels:
        host, _, port = sentinel.rpartition(":")
        if not host or not port.isdigit():
            raise ImproperlyConfigured(f"{setting}: {sentinel!r} is not host:port")
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def sentinel_cache(sentinels: list[str], service: str, db: int) -> dict:
    """The default cache on the master that the sentinels name, for reads as well as writes.

    django-redis's own SentinelClient would send reads to a replica, which lags the master: a
    count or a claim just written could read as missing. The default client with the Sentinel
    connection pool reads what it wrote; the replica is there to take over.
    """
    cache = redis_cache(f"redis://{service}/{db}")
    cache["OPTIONS"].update(
        {
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
            "CONNECTION_POOL_CLASS": "redis.sentinel.SentinelConnectionPool",
            "SENTINELS": sentinel_addresses(sentinels),
            "SENTINEL_KWARGS": {"socket_timeout": cache["OPTIONS"]["SOCKET_TIMEOUT"]},
        }
    )
    return cache


# Redis Cluster (README, "Redis Cluster"): with REDIS_CLUSTER_NODES (host:port,... of some of its
# masters) the cache, the code store and the limits use the cluster (project/redis_cluster.py), all
# their keys under one hash tag. Celery cannot: kombu has no cluster transport, so REDIS_URL or
# REDIS_SENTINELS (or CELERY_BROKER_URL) then name only the broker, a Redis of its own.
REDIS_CLUSTER_NODES = env.list("REDIS_CLUSTER_NODES", default=[])
REDIS_CLUSTER_PASSWORD = env("REDIS_CLUSTER_PASSWORD", default="")


def cluster_cache(nodes: list[str], password: str = "") -> dict:
    """The default cache on a Redis Cluster, every key tagged with the prefix (one slot)."""
    addresses = sentinel_addresses(nodes, setting="REDIS_CLUSTER_NODES")
    cache = redis_cache(f"redis://{addresses[0][0]}:{addresses[0][1]}/0")
    cache["KEY_FUNCTION"] = "project.redis_cluster.tagged_key"
    cache["OPTIONS"].update(
        {
            "CONNECTION_FACTORY": "project.redis_cluster.ClusterConnectionFactory",
            "STARTUP_NODES": addresses,
            **({"PASSWORD": password} if password else {}),
        }
    )
    return cache


if REDIS_CLUSTER_NODES:
    CACHES = {"default": cluster_cache(REDIS_CLUSTER_NODES, REDIS_CLUSTER_PASSWORD)}
elif REDIS_SENTINELS:
    CACHES = {"default": sentinel_cache(REDIS_SENTINELS, REDIS_SENTINEL_SERVICE, REDIS_SENTINEL_DB)}
elif REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    # One process (make run serves with threads), so its memory is shared by all its requests; no
    # live entry is ever evicted, so flooding it cannot reset counters (project/cache.py).
    CACHES = {"default": {"BACKEND": "project.cache.MemoryCache", "LOCATION": "embedded"}}
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]  # "not officially supported": ours

# --- Auth -----------------------------------------------------------------------------------
# Argon2id first; the others stay so that hashes made by them can still be checked and upgraded.
PASSWORD_HASHERS = [
    "users.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# The cost of one Argon2id hash (users/hashers.py): passes, memory in KiB, lanes. On the 2-core
# development machine one hash with these defaults takes about 150 ms of one core (`make bench`
# measures it); a login costs exactly one.
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=2)
ARGON2_MEMORY_COST = env.int("ARGON2_MEMORY_COST", default=102400)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=1)
PASSWORD_MAX_LENGTH = env.int("PASSWORD_MAX_LENGTH", default=128)
# Logins by username, e-mail or phone (users/backends.py); the admin's log-in uses Django's own.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "users.backends.LoginNameBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Verification codes (users/codes.py).
VERIFICATION_CODE_LENGTH = env.int("VERIFICATION_CODE_LENGTH", default=6)
VERIFICATION_CODE_TTL = env.int("VERIFICATION_CODE_TTL", default=600)  # seconds
VERIFICATION_MAX_ATTEMPTS = env.int("VERIFICATION_MAX_ATTEMPTS", default=5)
VERIFICATION_RESEND_COOLDOWN = env.int("VERIFICATION_RESEND_COOLDOWN", default=60)  # seconds
# Rate limits (users/ratelimits.py), "count/period" with s, m, h or d and an optional multiplier
# ("5/10m"). Windows are fixed: a limited client waits until its window ends (Retry-After).
# RATE_LIMITS="login_ip=50/m,sms_daily_budget=5000/d" in the environment overrides single rules;
# an empty rate turns a rule off.
RATE_LIMITS = {
    "signup_ip": "20/h",  # sign-ups from one client address
    "signup_identifier": "5/h",  # sign-ups for one e-mail address or phone number
    "resend_account": "5/h",  # new codes for one sign-up, on top of the per-code cooldown
    "verify_ip": "30/10m",  # code guesses of every flow from one client address (each code also dies after 5)
    "login_ip": "30/m",  # login attempts from one client address
    "login_account_failures": "10/15m",  # failed logins for one name from one address; slows, never locks
    "profile_account": "30/h",  # profile changes of one account (bounds old-password guessing)
    "admin_login_ip": "10/15m",  # admin log-in attempts from one client address
    "password_reset_ip": "10/h",  # password-reset requests from one client address
    "password_reset_network": "30/h",  # the same from one network (IPv4 /24, IPv6 /48)
    "password_reset_identifier": "5/h",  # password-reset requests for one e-mail address or phone number
    "login_code_ip": "20/h",  # login-code requests from one client address
    "login_code_identifier": "5/h",  # login-code requests for one name (username, address or number)
    "change_identifier_account": "10/h",  # changes of address or number (and their confirms) of one account
    # SMS pumping (users/sms_guard.py). These rules are counted together, in this order, in clock-
    # aligned windows (a "d" window is a UTC day): a request one rule refuses is counted by none, so
    # the budget is only spent by SMS that every other rule let through.
    "sms_network_hour": "10/h",  # SMS for clients of one network (IPv4 /24, IPv6 /48) in an hour
    "sms_network_day": "40/d",  # the same in a day: 5 networks spend at most 200 of the daily budget
    "sms_prefix": "10/h",  # SMS to numbers equal but for their last three digits
    "sms_country_day": "500/d",  # SMS to one destination country (ISO region) in a day: half the budget
    "sms_daily_budget": "1000/d",  # all SMS in a day: the breaker, last; refuses new SMS until the day ends
}
RATE_LIMITS.update(env.dict("RATE_LIMITS", default={}))
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "users.ratelimits.client_ip"
# Number of reverse proxies in front of the app that append to X-Forwarded-For; 0 trusts none.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# SMS pumping guard: countries (ISO codes) that may receive SMS; empty allows every country.
SMS_ALLOWED_COUNTRIES = env.list("SMS_ALLOWED_COUNTRIES", default=["US", "CA", "GB"])
# Optional challenge before an SMS (users/challenges.py): the class that checks it, by dotted path
# ("users.challenges.Turnstile" or "users.challenges.Hcaptcha"); empty: off. Once the day's SMS
# reach SMS_CHALLENGE_AFTER_SHARE of sms_daily_budget (0: always), an SMS sign-up or resend must
# carry a challenge response, checked with the provider's siteverify (SMS_CHALLENGE_VERIFY_URL
# replaces the provider's URL, for tests). An unreachable siteverify fails closed (503).
SMS_CHALLENGE_BACKEND = env("SMS_CHALLENGE_BACKEND", default="")
SMS_CHALLENGE_SECRET = env("SMS_CHALLENGE_SECRET", default="")
SMS_CHALLENGE_VERIFY_URL = env("SMS_CHALLENGE_VERIFY_URL", default="")
SMS_CHALLENGE_TIMEOUT = env.float("SMS_CHALLENGE_TIMEOUT", default=5.0)  # seconds
SMS_CHALLENGE_AFTER_SHARE = env.float("SMS_CHALLENGE_AFTER_SHARE", default=0.5)
if not 0 <= SMS_CHALLENGE_AFTER_SHARE <= 1:
    raise ImproperlyConfigured("SMS_CHALLENGE_AFTER_SHARE must be between 0 and 1.")

# Region used to read phone numbers written without a leading "+" (ISO 3166 code).
DEFAULT_PHONE_REGION = env("DEFAULT_PHONE_REGION", default="US")

# --- REST framework and JWT -----------------------------------------------------------------
REST_FRAMEWORK = {
    # An access token of a live session (users/tokens.py).
    "DEFAULT_AUTHENTICATION_CLASSES": ["users.tokens.AccessTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["project.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "project.exceptions.exception_handler",
    # ASCII-only JSON: input echoed in an error message (a lone surrogate, say) can always be encoded.
    "UNICODE_JSON": False,
    "UNAUTHENTICATED_USER": None,
}
# Request bodies larger than this are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    # Tokens are signed with their own key, so rotating it logs everybody out without touching
    # SECRET_KEY (sessions, password reset links, code HMACs).
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=""),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Checks every claim's type before use: a malformed claim is a refused token, never a 500.
    "AUTH_TOKEN_CLASSES": ("users.tokens.AccessToken",),
    # Revocation is the session's (users/services/sessions.py): a password change ends every
    # session, and with it every access and refresh token issued before.
    "CHECK_REVOKE_TOKEN": False,
    "CHECK_USER_IS_ACTIVE": True,
}
# A rotated refresh token used again within this many seconds is refused without revoking the
# user's other tokens (a retried or concurrent refresh); after it, reuse revokes them all.
REFRESH_REUSE_GRACE_SECONDS = env.int("REFRESH_REUSE_GRACE_SECONDS", default=10)

# Key rotation (README, "Rotating the keys"): the previous keys, still accepted for what was made
# with them (code HMACs and sealed payloads: SECRET_KEY_FALLBACKS; tokens: JWT_SIGNING_KEY_FALLBACKS)
# while everything new is made with the current key. Each is checked like the current keys.
SECRET_KEY_FALLBACKS = [
    checked_key("SECRET_KEY_FALLBACKS", key, source_root=BASE_DIR, skipped_file=LOCAL_KEYS_FILE)
    for key in env.list("SECRET_KEY_FALLBACKS", default=[])
]
# A bearer token for GET /metrics (project/metrics.py); empty: no metrics page. Checked like a key.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
if METRICS_TOKEN:
    checked_key("METRICS_TOKEN", METRICS_TOKEN, source_root=BASE_DIR, skipped_file=LOCAL_KEYS_FILE)
# The worker's own metrics page (0: none), on an internal address.
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
WORKER_METRICS_ADDRESS = env("WORKER_METRICS_ADDRESS", default="127.0.0.1")
JWT_SIGNING_KEY_FALLBACKS = [
    checked_key("JWT_SIGNING_KEY_FALLBACKS", key, source_root=BASE_DIR, skipped_file=LOCAL_KEYS_FILE)
    for key in env.list("JWT_SIGNING_KEY_FALLBACKS", default=[])
]


def signing_keys_settled(*, generate: bool) -> str:
    """Check SECRET_KEY and JWT_SIGNING_KEY from the environment, fill any missing one from
    LOCAL_KEYS_FILE if ``generate`` (else refuse to start), put the JWT key in SIMPLE_JWT and
    return SECRET_KEY. Each settings module calls it once."""
    keys = signing_keys(
        given={"SECRET_KEY": SECRET_KEY, "JWT_SIGNING_KEY": SIMPLE_JWT["SIGNING_KEY"]},
        source_root=BASE_DIR,
        key_file=LOCAL_KEYS_FILE,
        generate=generate,
    )
    SIMPLE_JWT["SIGNING_KEY"] = keys["JWT_SIGNING_KEY"]
    return keys["SECRET_KEY"]


# Lifetime of the token returned by sign-up and verify; it only opens the sign-up steps.
SIGNUP_TOKEN_LIFETIME = timedelta(minutes=env.int("SIGNUP_TOKEN_MINUTES", default=30))
# Lifetime of the tokens of the password-reset and login-code flows (each opens only its flow).
FLOW_TOKEN_LIFETIME = timedelta(minutes=env.int("FLOW_TOKEN_MINUTES", default=15))
# Test identifiers (app-store reviewers, the CI of the teams who use us): "address=code,..." (an
# e-mail address or a phone number, and its fixed code). No message is ever sent to them.
# Production refuses them unless ALLOW_TEST_IDENTIFIERS is also set, and warns at start-up.
TEST_IDENTIFIERS = env.dict("TEST_IDENTIFIERS", default={})
ALLOW_TEST_IDENTIFIERS = env.bool("ALLOW_TEST_IDENTIFIERS", default=False)

SPECTACULAR_SETTINGS = {
    "TITLE": "DRF Custom Authentication API",
    "DESCRIPTION": "Sign-up with an e-mail address or a phone number, one-time code verification, "
    "profile completion, JWT login, refresh and logout.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages load Swagger UI and ReDoc from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ---------------------------------------------------------------------------------
# With sentinels, the broker follows the same master (kombu's sentinel transport). A Redis Cluster
# is never the broker: REDIS_URL or REDIS_SENTINELS name it then.
_SENTINEL_BROKER = ";".join(f"sentinel://{sentinel}/{REDIS_SENTINEL_DB}" for sentinel in REDIS_SENTINELS)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=_SENTINEL_BROKER or REDIS_URL)
# Without a broker the tasks run in-process, so `make run` needs nothing but Python.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ROUTES = {"notifications.tasks.*": {"queue": "notifications"}}
CELERY_TASK_DEFAULT_QUEUE = "default"
# A send never runs away: soft limit raises inside the task, hard limit kills it. The hard limit
# is also the lease of a delivery claim, so it must stay below the visibility timeout.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=30)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=45)
# Retries of transient delivery failures: exponential backoff with jitter from this base (retry n,
# counted from 0, waits at most base * 2**n), and never past the code's expiry.
DELIVERY_MAX_RETRIES = env.int("DELIVERY_MAX_RETRIES", default=5)
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", default=2.0)
# Reliability. A task is acknowledged only after it ran, so a worker killed mid-task leaves it in
# the broker for redelivery; the delivery claim (notifications/services.py) keeps that from
# sending a code twice. A lost child process is requeued at once (reject on worker lost); a whole
# worker killed leaves its tasks unacknowledged until the visibility timeout. A live worker keeps
# a task unacknowledged at most for the longest retry countdown plus one attempt (the hard time
# limit), so the timeout is that plus a minute (169 s by default): any shorter and a retry waiting
# in a worker would be handed out twice.
#
# The timeout alone hands nothing back: kombu's Redis transport returns the tasks whose timeout
# has passed by scanning its index of unacknowledged tasks, once when a worker starts and then from
# each running worker's event loop. Left to kombu (a call every 10 s, a real scan on one call in
# 10, under a lock that a worker dying while scanning holds for 5 minutes), a task could come back
# up to 100 s after its timeout. Here every call scans (throttle 1), every
# CELERY_UNACKED_RESTORE_INTERVAL seconds (5), and the lock expires after as long. So a task of a
# worker killed outright is handed out again at most timeout + interval after the dead worker took
# it (174 s by default; another interval if a worker died while holding the lock), or as soon as a
# worker starts if none was running then. That bound stays below VERIFICATION_CODE_TTL, with
# which its code was sealed at sign-up, so the code still works when it arrives.
# Celery's Django fix-up closes the worker's database connection before and after every task
# unless told to reuse it: a new PostgreSQL connection per delivery would cost more than the
# delivery's own queries. Reused across tasks (closed, and opened again, every twice this many).
CELERY_DB_REUSE_MAX = 500
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Each worker process holds up to 4 deliveries ahead, so that it never idles while the next one is
# fetched; a whole worker killed gives them back after the visibility timeout, like the one it was
# sending.
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
_unacked_restore_interval = env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=5)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int(
        "CELERY_VISIBILITY_TIMEOUT",
        default=int(DELIVERY_RETRY_BASE_SECONDS * 2**DELIVERY_MAX_RETRIES) + CELERY_TASK_TIME_LIMIT + 60,
    ),
    "unacked_restore_interval": _unacked_restore_interval,
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": _unacked_restore_interval,
    **({"master_name": REDIS_SENTINEL_SERVICE} if REDIS_SENTINELS else {}),
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a web request gives up fast when the broker is down: the API answers 503.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Task events (received, started, succeeded...) are for Flower: the workers of the stack send them
# (`-E` in `make worker` and docker-compose.yml), and Flower turns them on every 5 s on any worker it
# watches; a worker started without -E and without Flower spends no broker round trips on them.
# The web process sends none: a "task-sent" event would be a second broker round trip on every
# sign-up.
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_BEAT_SCHEDULE = {
    "prune-sessions": {
        "task": "users.tasks.prune_sessions",
        "schedule": 3600,
    },
    "prune-deliveries": {
        "task": "notifications.tasks.prune_deliveries",
        "schedule": 24 * 3600,
    },
    "settle-unsent-deliveries": {
        "task": "notifications.tasks.settle_unsent_deliveries",
        "schedule": 300,
    },
    "remove-abandoned-signups": {
        "task": "users.tasks.remove_abandoned_signups",
        "schedule": 3600,
    },
}
# Delivery records (masked recipient, status) are kept this many days.
DELIVERY_RETENTION_DAYS = env.int("DELIVERY_RETENTION_DAYS", default=30)
# Sign-ups never completed are removed after this many hours.
SIGNUP_ABANDON_HOURS = env.int("SIGNUP_ABANDON_HOURS", default=72)

# --- Notifications --------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="no-reply@example.com")

SMS_BACKEND = env("SMS_BACKEND", default="notifications.channels.ConsoleSms")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_TIMEOUT = env.float("TWILIO_TIMEOUT", default=10.0)
# Only for tests and sandboxes: sends Twilio API calls to another base URL (a fake server).
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="")
# Twilio calls this URL with delivery status updates (the status-callback endpoint); empty: off.
TWILIO_STATUS_CALLBACK_URL = env("TWILIO_STATUS_CALLBACK_URL", default="")
# Domain bound to the code by the WebOTP line at the end of each SMS ("@domain #123456").
WEBOTP_DOMAIN = env("WEBOTP_DOMAIN", default="localhost")

# --- Static files, i18n ---------------------------------------------------------------------
STATIC_URL = "static/"
# WhiteNoise serves the apps' static files straight from their folders, so gunicorn serves the
# pages' CSS and JS, and the docs' Swagger UI and ReDoc, without a collectstatic step or a separate
# web server.
WHITENOISE_USE_FINDERS = True
# Everything a person reads is translated (locale/<language>/LC_MESSAGES, built by `make install`
# with compilemessages); an account keeps the language it signed up in for the messages it gets.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
# plain: "time LEVEL logger [request id] message"; json: one object a line (project/logs.py).
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
