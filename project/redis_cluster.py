"""Redis Cluster under django-redis, and the one hash tag that keeps our keys in one slot.

django-redis has no cluster client: its connection factory makes a ``redis.Redis`` on a pool per
URL, and redis-py's ``RedisCluster`` keeps its own pool per node. ``ClusterConnectionFactory`` is a
django-redis connection factory (its public ``CONNECTION_FACTORY`` option) that hands out one
``RedisCluster`` per set of startup nodes, shared by every thread of the process; the rest of
django-redis (``DefaultClient``, ``get_redis_connection``) works on it unchanged.

A Lua script and a multi-key command must touch keys of one slot. Every key we write carries the
cache's key prefix as a hash tag (``{auth}:...``): the cache's keys through ``tagged_key`` (Django's
``KEY_FUNCTION``), the code store's and the limits' own keys through ``users.ratelimits.store_key``.
So a request counts its limits and touches its code in one script on one master, at the price of
every key living on that master: the cluster buys failover, not room (our keys are small and short-lived).
"""

import threading
from typing import Any

from django_redis.pool import ConnectionFactory
from redis.cluster import ClusterNode, RedisCluster


def tagged_key(key: str, key_prefix: str, version: int) -> str:
    """The cache's key with its prefix as a hash tag: every key of the cache in one slot."""
    return f"{{{key_prefix}}}:{version}:{key}"


class ClusterConnectionFactory(ConnectionFactory):
    """OPTIONS: ``STARTUP_NODES`` (a list of (host, port)), and django-redis's ``PASSWORD``,
    ``USERNAME``, ``SOCKET_TIMEOUT`` and ``SOCKET_CONNECT_TIMEOUT``. The URL of LOCATION only
    names the cache; the client finds the cluster from the startup nodes."""

    _clients: dict[tuple, RedisCluster] = {}
    _lock = threading.Lock()

    def connect(self, url: str) -> RedisCluster:
        nodes = tuple((host, int(port)) for host, port in self.options["STARTUP_NODES"])
        options = self._client_options()
        key = (nodes, tuple(sorted(options.items())))
        with self._lock:
            if key not in self._clients:
                self._clients[key] = RedisCluster(
                    startup_nodes=[ClusterNode(host, port) for host, port in nodes], **options
                )
            return self._clients[key]

    def disconnect(self, connection: Any) -> None:
        connection.disconnect_connection_pools()

    def _client_options(self) -> dict[str, Any]:
        names = {
            "PASSWORD": "password",
            "USERNAME": "username",
            "SOCKET_TIMEOUT": "socket_timeout",
            "SOCKET_CONNECT_TIMEOUT": "socket_connect_timeout",
        }
        return {option: self.options[name] for name, option in names.items() if self.options.get(name)}
