"""REDIS_SENTINELS turns the cache (with the code store and limits) and the broker to Sentinel."""

import pytest
from django.core.exceptions import ImproperlyConfigured


def test_the_cache_and_the_broker_follow_the_sentinels(reloaded):
    settings = reloaded(REDIS_SENTINELS="10.0.0.1:26379,10.0.0.2:26379", REDIS_SENTINEL_SERVICE="prod")

    cache = settings.CACHES["default"]
    assert cache["LOCATION"] == "redis://prod/0"
    # The default client: reads go to the master, like writes (SentinelClient reads from replicas).
    assert cache["OPTIONS"]["CLIENT_CLASS"] == "django_redis.client.DefaultClient"
    assert cache["OPTIONS"]["CONNECTION_POOL_CLASS"] == "redis.sentinel.SentinelConnectionPool"
    assert cache["OPTIONS"]["SENTINELS"] == [("10.0.0.1", 26379), ("10.0.0.2", 26379)]
    assert settings.CELERY_BROKER_URL == "sentinel://10.0.0.1:26379/0;sentinel://10.0.0.2:26379/0"
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] == "prod"


def test_a_sentinel_that_is_not_host_and_port_stops_the_start(reloaded):
    with pytest.raises(ImproperlyConfigured, match="REDIS_SENTINELS"):
        reloaded(REDIS_SENTINELS="10.0.0.1")


def test_without_sentinels_nothing_changes(reloaded):
    settings = reloaded(REDIS_URL="redis://127.0.0.1:6379/3")

    assert settings.CACHES["default"]["LOCATION"] == "redis://127.0.0.1:6379/3"
    assert "master_name" not in settings.CELERY_BROKER_TRANSPORT_OPTIONS
