"""Settings for deployments. Refuses to start without real secrets and real services."""

from django.core.exceptions import ImproperlyConfigured

from project.settings.base import *  # noqa: F403
from project.settings.base import (
    ALLOW_TEST_IDENTIFIERS,
    CELERY_BROKER_URL,
    EMAIL_BACKEND,
    REDIS_CLUSTER_NODES,
    REDIS_SENTINELS,
    REDIS_URL,
    SMS_BACKEND,
    SMS_CHALLENGE_BACKEND,
    SMS_CHALLENGE_SECRET,
    TEST_IDENTIFIERS,
    TRUSTED_PROXY_COUNT,
    env,
    signing_keys_settled,
)

DEBUG = False

# Both keys must come from the environment: random, 50+ characters, different, and nowhere in the
# project's files.
SECRET_KEY = signing_keys_settled(generate=False)
# TRUSTED_PROXY_COUNT has a default (0), but behind a proxy that default would put every client in
# the proxy's rate-limit buckets: production must say how many proxies there are.
for _name in ("DATABASE_URL", "ALLOWED_HOSTS", "TRUSTED_PROXY_COUNT"):
    if not env(_name, default=""):
        raise ImproperlyConfigured(f"{_name} must be set in production.")
if not (REDIS_URL or REDIS_SENTINELS or REDIS_CLUSTER_NODES):
    raise ImproperlyConfigured("REDIS_URL (or REDIS_SENTINELS or REDIS_CLUSTER_NODES) must be set in production.")
if not CELERY_BROKER_URL:
    raise ImproperlyConfigured(
        "A broker must be set in production: a Redis Cluster cannot be Celery's broker; "
        "set REDIS_URL, REDIS_SENTINELS or CELERY_BROKER_URL beside REDIS_CLUSTER_NODES."
    )

# The development senders (the defaults) would print codes in clear into the logs, keep them in
# memory, write them to files or drop them.
_DEVELOPMENT_SENDERS = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "notifications.channels.ConsoleSms",
    "notifications.channels.LocmemSms",
)
for _name, _sender in (("EMAIL_BACKEND", EMAIL_BACKEND), ("SMS_BACKEND", SMS_BACKEND)):
    if not _sender or _sender in _DEVELOPMENT_SENDERS:
        raise ImproperlyConfigured(f"{_name} must be a real sender in production, not {_sender!r}.")

# A challenge checked without its secret would fail every SMS sign-up once it is due.
if SMS_CHALLENGE_BACKEND and not SMS_CHALLENGE_SECRET:
    raise ImproperlyConfigured("SMS_CHALLENGE_SECRET must be set when SMS_CHALLENGE_BACKEND is.")

CELERY_TASK_ALWAYS_EAGER = False

if TRUSTED_PROXY_COUNT > 0:
    # Only a proxy of ours may say the request came over HTTPS; without one, a client could.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health checks probe the container over plain HTTP from inside (compose, orchestrators).
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# Test identifiers get a fixed code and no message: fine for a staging stack or an app-store
# review, never by accident in production.
if TEST_IDENTIFIERS and not ALLOW_TEST_IDENTIFIERS:
    raise ImproperlyConfigured("TEST_IDENTIFIERS is set: production refuses it unless ALLOW_TEST_IDENTIFIERS=True.")
