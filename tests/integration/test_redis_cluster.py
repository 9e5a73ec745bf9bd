"""Redis Cluster: the cache, the code store and the limits on a real three-master cluster (three
masters and a replica of each, redis-server on loopback ports of 7000-7999, made a cluster by
redis-cli), through the settings of REDIS_CLUSTER_NODES. Every key carries one hash tag, so every
script touches one slot; the seed flow, the code store's atomicity and the global limits hold there.
When the master that holds the tag's slot dies, requests answer 503 with Retry-After (never a 500,
never a false success) until its replica has taken over, and then the flow works again."""

import shutil
import subprocess
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from project.settings.base import cluster_cache
from tests.api.conftest import EMAIL, assert_error
from tests.factories import PASSWORD
from tests.support.parallel import in_parallel
from tests.support.redis_server import RedisServer, free_port_in
from tests.support.redis_setups import parallel_sign_ups, signed_up_after_the_failover
from users.codes import CheckResult, code_check, code_issue

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("redis-server") is None or shutil.which("redis-cli") is None, reason="Redis is not installed"
    ),
]

PORTS = range(7000, 8000)
CLUSTER_OPTIONS = (
    *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000"),
    *("--repl-diskless-sync-delay", "0"),  # replicas in sync at once: one that never synced cannot take over
)
PREFIX = "cluster-test"  # the cache's key prefix: the hash tag of every key


class Cluster:
    """Three masters and one replica of each, quick to notice a dead master (node timeout 1 s)."""

    def __init__(self, directory) -> None:
        self.servers: list[RedisServer] = []
        port = PORTS.start
        for index in range(6):
            (directory / str(index)).mkdir()
            port = free_port_in(range(port, PORTS.stop))
            server = RedisServer(
                directory / str(index),
                port=port,
                extra=CLUSTER_OPTIONS,
            )  # fmt: skip
            server.start()
            self.servers.append(server)
            port += 1
        addresses = [f"127.0.0.1:{server.port}" for server in self.servers]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.wait(self.healthy, "the cluster to settle")

    @property
    def nodes(self) -> list[str]:
        return [f"127.0.0.1:{server.port}" for server in self.servers[:3]]

    def client(self) -> RedisCluster:
        return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", s.port) for s in self.live()], socket_timeout=1)

    def live(self) -> list[RedisServer]:
        return [server for server in self.servers if server.process is not None]

    def healthy(self) -> bool:
        """Every node sees the cluster ok, and every replica is in sync with its master."""
        for server in self.live():
            client = redis.Redis(port=server.port)
            if client.cluster("info")["cluster_state"] != "ok":
                return False
            replication = client.info("replication")
            if replication["role"] == "slave" and replication["master_link_status"] != "up":
                return False
        return True

    def owner_of(self, key: str) -> RedisServer:
        """The server that is master of the slot of ``key`` now."""
        node = self.client().get_node_from_key(key)
        return next(server for server in self.servers if server.port == node.port)

    def replica_of(self, master: RedisServer) -> RedisServer:
        for server in self.live():
            info = redis.Redis(port=server.port).info("replication")
            if info["role"] == "slave" and int(info["master_port"]) == master.port:
                return server
        raise AssertionError(f"no replica of {master.port}")

    def flush(self) -> None:
        for server in self.live():
            try:
                redis.Redis(port=server.port).flushall()
            except redis.ResponseError:
                pass  # a replica refuses writes

    @staticmethod
    def wait(predicate, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (redis.RedisError, KeyError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self) -> None:
        for server in self.servers:
            server.kill()


def use(settings, cluster: Cluster) -> None:
    cache = cluster_cache(cluster.nodes)
    cache["OPTIONS"].update({"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5})
    settings.CACHES = {"default": {**cache, "KEY_PREFIX": PREFIX}}


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory):
    setup = Cluster(tmp_path_factory.mktemp("cluster"))
    yield setup
    setup.stop()


@pytest.fixture
def cluster(shared_cluster, settings):
    use(settings, shared_cluster)
    yield shared_cluster
    shared_cluster.flush()


def our_keys(cluster: Cluster) -> dict[int, list[bytes]]:
    """Every key on the cluster, by the port of the master that holds it."""
    keys = {}
    for server in cluster.servers[:3]:
        if redis.Redis(port=server.port).info("replication")["role"] == "master":
            keys[server.port] = redis.Redis(port=server.port).keys("*")
    return keys


def test_every_key_lands_in_the_one_slot_of_the_hash_tag(cluster):
    from django.core.cache import cache

    cache.set("probe", "here", 30)
    code_issue(purpose="test", subject="cluster-subject")

    keys = {port: found for port, found in our_keys(cluster).items() if found}
    assert list(keys) == [cluster.owner_of(f"{{{PREFIX}}}").port]
    client = cluster.client()
    assert {client.keyslot(key) for key in next(iter(keys.values()))} == {client.keyslot(f"{{{PREFIX}}}")}
    assert cache.get("probe") == "here"


@pytest.mark.django_db
def test_the_seed_flow_works_on_the_cluster(api, cluster, email_code):
    response = api.bearer(None).post("/user/signup/", {"email_phone_number": EMAIL})
    assert response.status_code == 201, response.content
    response = api.bearer(response.json()["access"]).post("/user/verify/", {"code": email_code()})
    assert response.status_code == 200, response.content
    profile = {"username": "jane", "password": PASSWORD, "confirm_password": PASSWORD}
    assert api.bearer(response.json()["access"]).patch("/user/change-user-info/", profile).status_code == 200
    tokens = api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD}).json()
    assert api.bearer(None).post("/user/login-refresh/", {"refresh": tokens["refresh"]}).status_code == 200
    assert any(our_keys(cluster).values())  # the limits and codes went to the cluster


def test_the_code_store_stays_atomic_on_the_cluster(cluster, settings):
    settings.VERIFICATION_MAX_ATTEMPTS = 100
    issued = code_issue(purpose="test", subject="cluster-subject")

    wrong = in_parallel(20, lambda _: code_check(purpose="test", subject="cluster-subject", code="x"))
    right = in_parallel(10, lambda _: code_check(purpose="test", subject="cluster-subject", code=issued.code))

    assert wrong == [CheckResult.WRONG] * 20
    assert right.count(CheckResult.OK) == 1


def test_parallel_sign_ups_get_exactly_the_quota_on_the_cluster(cluster, live_server, rates_only):
    rates_only(signup_ip="5/h")

    statuses = parallel_sign_ups(live_server.url, 20)

    assert sorted(statuses) == [201] * 5 + [429] * 15, statuses


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_delivery_claims_on_the_cluster_and_takes_tasks_from_its_own_broker(
    api, cluster, celery_worker, smtp_server, next_codes
):
    next_codes("480913")
    celery_worker.env.update({"REDIS_CLUSTER_NODES": ",".join(cluster.nodes), "CACHE_KEY_PREFIX": PREFIX})
    celery_worker.start()

    response = api.bearer(None).post("/user/signup/", {"email_phone_number": EMAIL})
    assert response.status_code == 201, response.content
    [received] = smtp_server.wait_for_messages(1)

    assert "480913" in received.message.get_body(("plain",)).get_content()
    owner = cluster.owner_of(f"{{{PREFIX}}}").port
    claims = [key for key in our_keys(cluster)[owner] if b"delivery-claim:" in key]
    assert len(claims) == 1  # written by the worker, on the cluster, under the tag
    verify = api.bearer(response.json()["access"]).post("/user/verify/", {"code": "480913"})
    assert verify.status_code == 200, verify.content


@pytest.mark.django_db
def test_a_failover_answers_503_with_retry_after_then_the_flow_works_again(api, tmp_path, settings, email_code):
    cluster = Cluster(tmp_path)  # its own: this one loses a master
    try:
        use(settings, cluster)
        assert api.bearer(None).post("/user/signup/", {"email_phone_number": "before@example.com"}).status_code == 201
        master = cluster.owner_of(f"{{{PREFIX}}}")
        replica = cluster.replica_of(master)

        master.kill()
        promoted = redis.Redis(port=replica.port)
        answers = []
        deadline = time.monotonic() + 30
        while promoted.info("replication")["role"] != "master" and time.monotonic() < deadline:
            answers.append(api.bearer(None).post("/user/signup/", {"email_phone_number": EMAIL}))
            time.sleep(0.1)
        cluster.wait(lambda: promoted.info("replication")["role"] == "master", "the replica to take over")

        outage = [answer for answer in answers if answer.status_code != 201]
        assert outage, "no request saw the master gone"
        for answer in outage:
            assert_error(answer, 503, "service_unavailable")
            assert answer["Retry-After"]
        cluster.wait(lambda: cluster.client().ping(), "the cluster to answer")
        response = signed_up_after_the_failover(api, "after@example.com")
        assert response.status_code == 201, response.content
        verify = api.bearer(response.json()["access"]).post("/user/verify/", {"code": email_code()})
        assert verify.status_code == 200, verify.content
    finally:
        cluster.stop()
