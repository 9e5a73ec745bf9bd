"""Settings for the test suite: real PostgreSQL and Redis by default, outboxes instead of senders.

The database and Redis can be pointed elsewhere with DATABASE_URL and TEST_REDIS_URL; tests use
their own Redis database number (15 by default) and flush it between tests. The integration tests
start a real Celery worker with these settings and point its broker, e-mail and SMS senders at
their own servers through CELERY_BROKER_URL, CELERY_TASK_ALWAYS_EAGER, EMAIL_BACKEND and
SMS_BACKEND; unset, they are the in-process defaults below.
"""

from project.settings.base import *  # noqa: F403
from project.settings.base import env, redis_cache, signing_keys_settled

# The same generated keys as `make run` (or SECRET_KEY / JWT_SIGNING_KEY from the environment), so
# that every process a test starts signs and seals alike.
SECRET_KEY = signing_keys_settled(generate=True)

DATABASES = {"default": env.db("DATABASE_URL", default="postgres:///test")}
DATABASES["default"]["CONN_MAX_AGE"] = 0

REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
# A process that an integration test points at its own sentinels or cluster (REDIS_SENTINELS,
# REDIS_CLUSTER_NODES) keeps the cache that the base settings made for them.
if not (REDIS_SENTINELS or REDIS_CLUSTER_NODES):
    CACHES = {"default": {**redis_cache(REDIS_URL), "KEY_PREFIX": "test"}}

# Fast hashing keeps the suite quick; production and `make run` use Argon2id.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
SMS_BACKEND = env("SMS_BACKEND", default="notifications.channels.LocmemSms")
