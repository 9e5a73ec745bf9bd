"""Several hosts: the scale recipe (docker-compose.scale.yml) run here as processes. Two gunicorn
servers (the recipe's web command) on two ports behind nginx (its deploy/nginx.conf), two Celery
workers (the worker command), one PostgreSQL and one Redis, driven in parallel: limits are global,
every code is delivered exactly once, and killing a web server and a worker mid-run loses nothing
that was accepted."""

import re
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import yaml

from notifications.models import Delivery
from tests.integration.test_compose import SERVICES, stack_env, wait_for_answer  # noqa: F401 - a fixture
from tests.support.parallel import clear_of_window_end
from tests.support.processes import ROOT, Process, free_port, wait_until
from users.models import User

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class ComposeLoader(yaml.SafeLoader):
    """YAML as compose reads it: ``!reset`` empties what the base file set."""


ComposeLoader.add_constructor("!reset", lambda loader, node: ("reset", loader.construct_sequence(node)))
SCALE = yaml.load((ROOT / "docker-compose.scale.yml").read_text(), Loader=ComposeLoader)["services"]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def test_the_recipe_runs_two_web_replicas_behind_the_proxy_and_two_workers_after_one_migration():
    assert SCALE["web"]["deploy"]["replicas"] == 2
    assert SCALE["worker"]["deploy"]["replicas"] == 2
    assert "migrate" not in SCALE["web"]["command"]
    assert SCALE["migrate"]["command"] == "python manage.py migrate --noinput"
    assert SCALE["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SCALE["web"]["environment"]["TRUSTED_PROXY_COUNT"] == "1"
    assert SCALE["proxy"]["ports"] == ["127.0.0.1:8000:8080"]
    assert SCALE["web"]["ports"] == ("reset", [])  # only the proxy publishes a port
    # The replicas' gunicorn is the stack's, without the migration step.
    assert SCALE["web"]["command"] in SERVICES["web"]["command"]


class Stack:
    """The recipe's processes on this machine, each in its own process group."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = {**env, "TRUSTED_PROXY_COUNT": "1", "SECURE_SSL_REDIRECT": "False"}
        self.log_dir = log_dir
        self.webs: list[Process] = []
        self.workers: list[Process] = []
        self.proxy: Process | None = None
        self.url = ""

    def start(self, rate_limits: str) -> "Stack":
        env = {**self.env, "RATE_LIMITS": rate_limits}
        ports = [free_port(), free_port()]
        for number, port in enumerate(ports, 1):
            command = SCALE["web"]["command"].replace("0.0.0.0:8000", f"127.0.0.1:{port}")
            argv = [*command.split(), "--no-control-socket"]
            web = Process(f"web-{number}", argv, env, self.log_dir).start()
            self.webs.append(web)
            wait_for_answer(f"http://127.0.0.1:{port}/health/live/", web)
        for number in (1, 2):
            command = SERVICES["worker"]["command"] + f" -n w{number}@%h"
            worker = Process(f"worker-{number}", command.split(), env, self.log_dir).start()
            self.workers.append(worker)
        for worker in self.workers:
            worker.wait_for_output(" ready.", 30)
        self.proxy = self._proxy(ports)
        return self

    def _proxy(self, ports: list[int]) -> Process:
        conf = (ROOT / "deploy" / "nginx.conf").read_text()
        port = free_port()
        conf = conf.replace("server web:8000;", " ".join(f"server 127.0.0.1:{p};" for p in ports))
        conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
        conf = re.sub(r"/tmp/nginx", str(self.log_dir / "nginx"), conf)
        path = self.log_dir / "nginx.conf"
        path.write_text(conf)
        check = subprocess.run(
            [NGINX, "-t", "-c", str(path), "-e", "stderr"], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stderr
        argv = [NGINX, "-c", str(path), "-e", "stderr", "-g", "daemon off;"]
        proxy = Process("proxy", argv, self.env, self.log_dir).start()
        self.url = f"http://127.0.0.1:{port}"
        wait_for_answer(f"{self.url}/health/live/", proxy)
        return proxy

    def stop(self) -> None:
        for process in [*self.webs, *self.workers, *([self.proxy] if self.proxy else [])]:
            process.stop(timeout=3)


@pytest.fixture
def stack(stack_env, smtp_server, tmp_path):  # noqa: F811 - the fixture imported above
    stack = Stack(stack_env, tmp_path)
    yield stack
    stack.stop()


def sign_up(url: str, address: str) -> int:
    try:
        return requests.post(f"{url}/user/signup/", json={"email_phone_number": address}, timeout=20).status_code
    except requests.RequestException:  # cut off with its server: the client sees no answer
        return 0


def in_parallel(url: str, addresses: list[str], workers: int = 8) -> dict[str, int]:
    with ThreadPoolExecutor(workers) as pool:
        return dict(zip(addresses, pool.map(lambda address: sign_up(url, address), addresses), strict=True))


def delivered_to(smtp_server) -> list[str]:
    return [recipient for message in smtp_server.messages for recipient in message.rcpt_tos]


def test_limits_are_global_and_each_code_is_delivered_once_across_two_servers_and_two_workers(stack, smtp_server):
    stack.start(rate_limits="signup_ip=6/h")
    addresses = [f"person{n}@example.com" for n in range(14)]

    clear_of_window_end(3600)
    statuses = in_parallel(stack.url, addresses)

    accepted = sorted(address for address, status in statuses.items() if status == 201)
    assert sorted(statuses.values()) == [201] * 6 + [429] * 8, statuses
    # Both servers took requests: the limit held across them, not inside one.
    assert all("POST /user/signup/" in web.output for web in stack.webs), "the proxy used one server only"
    wait_until(lambda: len(delivered_to(smtp_server)) >= 6, 30, "six deliveries")
    assert sorted(delivered_to(smtp_server)) == accepted
    served = [worker for worker in stack.workers if "deliver[" in worker.output and "succeeded" in worker.output]
    assert served, "no worker delivered"


def unfinished(worker: Process) -> int:
    """Deliveries the worker took and has not finished."""
    return worker.output.count("] received") - worker.output.count("] succeeded")


def test_killing_a_web_server_and_a_worker_mid_run_loses_no_accepted_sign_up(stack, smtp_server, worker_broker):
    stack.start(rate_limits="signup_ip=1000/h,signup_identifier=1000/h")
    smtp_server.handler.delay = 0.3  # a slow mail server: the workers hold deliveries when one dies
    addresses = [f"crowd{n}@example.com" for n in range(48)]
    statuses: dict[str, int] = {}
    done = threading.Event()

    def run() -> None:
        statuses.update(in_parallel(stack.url, addresses, workers=6))
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    wait_until(lambda: len(delivered_to(smtp_server)) >= 4, 30, "the run under way")
    stack.webs[0].kill()  # mid-run: requests in flight on it are cut off
    thread.join(timeout=120)
    assert done.is_set()
    # The worker dies holding deliveries (sending one, the next ones fetched ahead): once the
    # broker has handed every task out, so that none is on its way to it (see README, "Several
    # hosts", for that window).
    wait_until(lambda: worker_broker.llen("notifications") == 0, 30, "every task handed out")
    assert unfinished(stack.workers[0]) > 0, stack.workers[0].output
    stack.workers[0].kill()

    accepted = {address for address, status in statuses.items() if status == 201}
    refused = {address: status for address, status in statuses.items() if status != 201}
    # A request cut off with its server is an error the client sees (and may retry), never a 201.
    assert set(refused.values()) <= {0, 502, 503, 504}, refused
    assert len(accepted) >= len(addresses) // 2, statuses
    # Every accepted sign-up is delivered, the dead worker's by the other one (its unacknowledged
    # tasks come back after the visibility timeout), and once, but for a send the dead worker had
    # in flight: if the mail server took it just before the kill, the copy cannot know and sends
    # the same code again (at most one per child process; its record shows the second attempt).
    try:
        wait_until(lambda: accepted <= set(delivered_to(smtp_server)), 60, "every accepted sign-up delivered")
    except AssertionError:
        missing = accepted - set(delivered_to(smtp_server))
        records = Delivery.objects.filter(subject__in=User.objects.filter(email__in=missing).values("id"))
        raise AssertionError(list(records.values("status", "attempts", "last_error", "created_at"))) from None
    received = delivered_to(smtp_server)
    twice = {address for address in received if received.count(address) > 1}
    assert all(received.count(address) == 2 for address in twice), received
    assert len(twice) <= 2, twice
    for address in twice:
        user = User.objects.get(email=address)
        assert Delivery.objects.get(subject=user.id).attempts == 2
    # The ones cut off succeed on a retry through the proxy, now on the surviving server.
    retried = in_parallel(stack.url, sorted(refused), workers=4)
    assert set(retried.values()) <= {201}, retried
