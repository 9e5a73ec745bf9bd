"""Settings for the test suite: real PostgreSQL and Redis by default, outboxes instead of senders.

The database and Redis can be pointed elsewhere with DATABASE_URL and REDIS_URL; tests use their
own Redis database number (15 by default) and flush it between tests.
"""

from project.settings.base import *  # noqa: F403
from project.settings.base import env

DATABASES = {"default": env.db("DATABASE_URL", default="postgres:///test")}
DATABASES["default"]["CONN_MAX_AGE"] = 0

REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 1.0,
            "SOCKET_TIMEOUT": 1.0,
        },
        "KEY_PREFIX": "test",
    }
}

# Fast hashing keeps the suite quick; production and `make run` use Argon2id.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "notifications.channels.LocmemSms"
