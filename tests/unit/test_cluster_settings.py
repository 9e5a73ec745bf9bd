"""REDIS_CLUSTER_NODES turns the cache (with the code store and limits) to a Redis Cluster, every key
under one hash tag; the broker stays where REDIS_URL or REDIS_SENTINELS put it."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from project.redis_cluster import tagged_key


def test_the_cache_goes_to_the_cluster_and_the_broker_stays_on_redis_url(reloaded):
    settings = reloaded(
        REDIS_CLUSTER_NODES="10.0.0.1:7000,10.0.0.2:7001",
        REDIS_CLUSTER_PASSWORD="cluster-pass",
        REDIS_URL="redis://10.0.0.9:6379/0",
    )

    cache = settings.CACHES["default"]
    assert cache["OPTIONS"]["CONNECTION_FACTORY"] == "project.redis_cluster.ClusterConnectionFactory"
    assert cache["OPTIONS"]["STARTUP_NODES"] == [("10.0.0.1", 7000), ("10.0.0.2", 7001)]
    assert cache["OPTIONS"]["PASSWORD"] == "cluster-pass"
    assert cache["KEY_FUNCTION"] == "project.redis_cluster.tagged_key"
    assert settings.CELERY_BROKER_URL == "redis://10.0.0.9:6379/0"


def test_the_broker_can_follow_sentinels_beside_a_cluster(reloaded):
    settings = reloaded(REDIS_CLUSTER_NODES="10.0.0.1:7000", REDIS_SENTINELS="10.0.0.5:26379")

    assert settings.CACHES["default"]["OPTIONS"]["CONNECTION_FACTORY"].endswith("ClusterConnectionFactory")
    assert settings.CELERY_BROKER_URL == "sentinel://10.0.0.5:26379/0"


def test_a_node_that_is_not_host_and_port_stops_the_start(reloaded):
    with pytest.raises(ImproperlyConfigured, match="REDIS_CLUSTER_NODES"):
        reloaded(REDIS_CLUSTER_NODES="10.0.0.1")


def test_the_cache_keys_carry_the_prefix_as_their_hash_tag():
    assert tagged_key("claim:1", "auth", 1) == "{auth}:1:claim:1"
