"""Redis Sentinel: the cache, the code store and the limits on the master that a real sentinel
names (a master, a replica and a sentinel of our own, redis-server on loopback ports of 7000-7999),
through the settings of REDIS_SENTINELS. The seed flow and the code store's atomicity hold there;
when the master dies, requests answer 503 with Retry-After (never a 500, never a false success)
until the sentinel has promoted the replica, and then the flow works again."""

import shutil
import subprocess
import time
import uuid

import pytest
import redis

from project.settings.base import sentinel_cache
from tests.api.conftest import EMAIL, assert_error
from tests.factories import PASSWORD
from tests.support.parallel import in_parallel
from tests.support.processes import CeleryWorker, celery_configured
from tests.support.redis_server import RedisServer, free_port_in
from tests.support.redis_setups import parallel_sign_ups, signed_up_after_the_failover
from users.codes import CheckResult, code_check, code_issue

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
]

PORTS = range(7000, 8000)


class Sentinel:
    """A master, a replica of it and one sentinel watching them (quorum 1, quick to decide)."""

    def __init__(self, directory, service: str) -> None:
        self.service = service
        (directory / "master").mkdir()
        (directory / "replica").mkdir()
        self.master = RedisServer(directory / "master", port=free_port_in(PORTS))
        self.master.start()
        replica_of = ("--replicaof", "127.0.0.1", str(self.master.port))
        self.replica = RedisServer(directory / "replica", port=free_port_in(PORTS), extra=replica_of)
        self.replica.start()
        self.port = free_port_in(range(self.replica.port + 1, 8000))
        config = directory / "sentinel.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {directory}\n"
            f"sentinel monitor {self.service} 127.0.0.1 {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {self.service} 500\n"
            f"sentinel failover-timeout {self.service} 3000\n"
        )
        self.process = subprocess.Popen(
            ["redis-server", str(config), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        self._wait(lambda: client.sentinel_slaves(self.service), "the sentinel to see the replica")
        replica = redis.Redis(port=self.replica.port)
        self._wait(lambda: replica.info("replication")["master_link_status"] == "up", "the replica in sync")
        self.client = client

    @staticmethod
    def _wait(predicate, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (redis.ConnectionError, redis.ResponseError, KeyError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def master_port(self) -> int:
        return int(self.client.sentinel_get_master_addr_by_name(self.service)[1])

    def wait_for_promotion(self) -> None:
        """Until the sentinel names the replica and the replica has taken the role (the sentinel
        names it a moment before it takes writes: requests in that moment answer 503 too)."""
        self._wait(lambda: self.master_port() == self.replica.port, "the sentinel to promote the replica", 30)
        promoted = redis.Redis(port=self.replica.port)
        self._wait(lambda: promoted.info("replication")["role"] == "master", "the replica to take writes", 30)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self.master.kill()
        self.replica.kill()


@pytest.fixture
def sentinel(tmp_path, settings):
    # A name of its own: the client keeps a pool per name, which must not outlive this setup.
    setup = Sentinel(tmp_path, service=f"auth-{uuid.uuid4().hex[:8]}")
    cache = sentinel_cache([f"127.0.0.1:{setup.port}"], setup.service, 0)
    cache["OPTIONS"].update({"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5})
    settings.CACHES = {"default": {**cache, "KEY_PREFIX": "sentinel-test"}}
    yield setup
    setup.stop()


def test_the_settings_follow_the_sentinels(sentinel):
    from django.core.cache import cache

    cache.set("probe", "here", 30)

    assert redis.Redis(port=sentinel.master.port).dbsize() >= 1
    assert cache.get("probe") == "here"


def test_reads_go_to_the_master_not_to_the_lagging_replica(sentinel):
    from django.core.cache import cache

    replica = redis.Redis(port=sentinel.replica.port)
    replica.config_resetstat()
    for n in range(20):
        cache.set(f"probe{n}", n, 30)
        assert cache.get(f"probe{n}") == n  # read right after the write: only the master is sure to have it

    reads = replica.info("commandstats").get("cmdstat_get", {}).get("calls", 0)
    assert reads == 0, f"{reads} reads went to the replica"


@pytest.mark.django_db
def test_the_seed_flow_works_through_the_sentinel(api, sentinel, email_code):
    response = api.bearer(None).post("/user/signup/", {"email_phone_number": EMAIL})
    assert response.status_code == 201, response.content
    token = response.json()["access"]
    response = api.bearer(token).post("/user/verify/", {"code": email_code()})
    assert response.status_code == 200, response.content
    verified = response.json()["access"]
    profile = {"username": "jane", "password": PASSWORD, "confirm_password": PASSWORD}
    assert api.bearer(verified).patch("/user/change-user-info/", profile).status_code == 200
    tokens = api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD}).json()
    assert api.bearer(None).post("/user/login-refresh/", {"refresh": tokens["refresh"]}).status_code == 200
    assert redis.Redis(port=sentinel.master.port).dbsize() >= 1  # the limits and codes went to the master


def test_the_code_store_stays_atomic_through_the_sentinel(sentinel, settings):
    settings.VERIFICATION_MAX_ATTEMPTS = 100
    issued = code_issue(purpose="test", subject="sentinel-subject")

    wrong = in_parallel(20, lambda _: code_check(purpose="test", subject="sentinel-subject", code="x"))
    right = in_parallel(10, lambda _: code_check(purpose="test", subject="sentinel-subject", code=issued.code))

    assert wrong == [CheckResult.WRONG] * 20
    assert right.count(CheckResult.OK) == 1


@pytest.mark.django_db
def test_a_failover_answers_503_with_retry_after_then_the_flow_works_again(api, sentinel, email_code):
    assert api.bearer(None).post("/user/signup/", {"email_phone_number": "before@example.com"}).status_code == 201

    sentinel.master.kill()
    answers = []
    deadline = time.monotonic() + 30
    while sentinel.master_port() != sentinel.replica.port and time.monotonic() < deadline:
        answers.append(api.bearer(None).post("/user/signup/", {"email_phone_number": EMAIL}))
        time.sleep(0.2)
    sentinel.wait_for_promotion()

    outage = [answer for answer in answers if answer.status_code != 201]
    assert outage, "no request saw the master gone"
    for answer in outage:
        assert_error(answer, 503, "service_unavailable")
        assert answer["Retry-After"]
    response = signed_up_after_the_failover(api, "after@example.com")
    assert response.status_code == 201, response.content
    verify = api.bearer(response.json()["access"]).post("/user/verify/", {"code": email_code()})
    assert verify.status_code == 200, verify.content


def test_parallel_sign_ups_get_exactly_the_quota_through_the_sentinel(sentinel, live_server, rates_only):
    rates_only(signup_ip="5/h")

    statuses = parallel_sign_ups(live_server.url, 20)

    assert sorted(statuses) == [201] * 5 + [429] * 15, statuses


@pytest.mark.django_db(transaction=True)
def test_a_worker_takes_its_tasks_from_the_master_the_sentinels_name_before_and_after_a_failover(
    api, sentinel, settings, worker_env, smtp_server, tmp_path, next_codes
):
    next_codes("480913")
    broker = f"sentinel://127.0.0.1:{sentinel.port}/0"
    sentinels = {"REDIS_SENTINELS": f"127.0.0.1:{sentinel.port}", "REDIS_SENTINEL_SERVICE": sentinel.service}
    worker = CeleryWorker({**worker_env, **sentinels, "CELERY_BROKER_URL": broker}, tmp_path)
    transport = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "master_name": sentinel.service}
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = broker, False
    with celery_configured(broker_url=broker, broker_transport_options=transport, task_always_eager=False):
        try:
            worker.start()
            response = api.bearer(None).post("/user/signup/", {"email_phone_number": "before@example.com"})
            assert response.status_code == 201, response.content
            [before] = smtp_server.wait_for_messages(1)
            assert before.rcpt_tos == ["before@example.com"]

            sentinel.master.kill()
            sentinel.wait_for_promotion()
            # The first publish may still find the connection to the dead master: a 503, then it
            # reconnects to the master the sentinels name.
            response = signed_up_after_the_failover(api, "after@example.com")
            assert response.status_code == 201, response.content
            after = smtp_server.wait_for_messages(2, timeout=30)[1]
            assert after.rcpt_tos == ["after@example.com"]
            assert "480913" in after.message.get_body(("plain",)).get_content()
            verify = api.bearer(response.json()["access"]).post("/user/verify/", {"code": "480913"})
            assert verify.status_code == 200, verify.content
        finally:
            worker.kill()
