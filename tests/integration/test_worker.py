"""A real Celery worker process against real Redis delivers the codes of sign-ups made over HTTP.

The API runs in this process (pytest-django's live server) and publishes to the worker's Redis
database; the worker (``celery -A project worker -Q notifications``, a subprocess) sends by SMTP to
an aiosmtpd server and through the twilio client to a fake Twilio, both on loopback. The database
is committed for real, so both processes see the same rows.
"""

import base64
import json
import logging
import os
import re
import signal
import subprocess
import time

import pytest
import requests

from notifications.models import Delivery
from notifications.services import unseal
from tests.factories import PASSWORD
from tests.support.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CODE = "480913"
EMAIL = "jane.doe@example.com"
NUMBER = "+12025550143"
RECEIVED = re.compile(r"Task notifications\.tasks\.deliver\[([0-9a-f-]+)\] received")


class Client:
    """The API over HTTP, as a front end calls it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {**kwargs.pop("headers", {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        return self.session.request(method, f"{self.base_url}{path}", headers=headers, timeout=10, **kwargs)

    def signup(self, identifier: str) -> str:
        response = self.call("POST", "/user/signup/", json={"email_phone_number": identifier})
        assert response.status_code == 201, response.text
        return response.json()["access"]

    def delivery_status(self, token: str) -> dict:
        response = self.call("GET", "/user/delivery-status/", token)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def client(live_server):
    return Client(live_server.url)


@pytest.fixture
def logs(caplog, celery_worker):
    """Every log line of the run: this process (API, at DEBUG) and the worker's output."""
    caplog.set_level(logging.DEBUG)
    return lambda: caplog.text + celery_worker.output


def assert_not_logged(logs: str, **secrets: str) -> None:
    leaked = [name for name, value in secrets.items() if value in logs]
    assert leaked == [], f"found in the logs: {leaked}"


def test_email_sign_up_is_delivered_by_the_worker_sealed_in_the_broker_and_never_logged(
    client, celery_worker, smtp_server, worker_broker, next_codes, logs
):
    next_codes(CODE)
    signup_token = client.signup(EMAIL)

    # No worker yet: the task waits in the broker, where the code and the address are sealed.
    [raw] = wait_until(lambda: worker_broker.lrange("notifications", 0, -1), 5, "the task in the broker")
    message = json.loads(raw)
    body = base64.b64decode(message["body"])
    for text in (raw, body):
        assert CODE.encode() not in text
        assert EMAIL.encode() not in text
    (delivery_id, sealed), _, _ = json.loads(body)
    assert message["headers"]["task"] == "notifications.tasks.deliver"
    assert message["headers"]["argsrepr"] == f"('{delivery_id}', '<sealed>')"
    assert unseal(sealed).code == CODE  # there, but only for the key holder

    celery_worker.start()

    [received] = smtp_server.wait_for_messages(1)
    assert received.rcpt_tos == [EMAIL]
    assert CODE in received.message.get_body(("plain",)).get_content()
    assert CODE in received.message.get_body(("html",)).get_content()
    wait_until(lambda: client.delivery_status(signup_token)["status"] == "sent", 10, "status sent")
    status = client.delivery_status(signup_token)
    assert status["recipient"] == "j***@example.com"
    assert status["attempts"] == 1

    # The rest of the sign-up, so its tokens and the password go through the logs' reach too.
    response = client.call("POST", "/user/verify/", signup_token, json={"code": CODE})
    assert response.status_code == 200, response.text
    verified_token = response.json()["access"]
    profile = {"username": "jane", "first_name": "Jane", "password": PASSWORD, "confirm_password": PASSWORD}
    response = client.call("PATCH", "/user/change-user-info/", verified_token, json=profile)
    assert response.status_code == 200, response.text
    response = client.call("POST", "/user/login/", json={"user_input": "jane", "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens = response.json()

    assert f"deliver[{message['headers']['id']}] succeeded" in celery_worker.output
    assert_not_logged(
        logs(),
        code=CODE,
        sealed=sealed,
        signup_token=signup_token,
        verified_token=verified_token,
        password=PASSWORD,
        access=tokens["access"],
        refresh=tokens["refresh"],
    )


def test_phone_sign_up_is_retried_after_a_500_and_sends_exactly_one_sms(
    client, celery_worker, fake_twilio, next_codes, logs
):
    fake_twilio.script("500", "201")
    next_codes(CODE)
    celery_worker.start()

    signup_token = client.signup(NUMBER)

    [message] = fake_twilio.wait_for_messages(1)
    assert message["To"] == NUMBER
    assert message["Body"].endswith(f"#{CODE}")
    wait_until(lambda: client.delivery_status(signup_token)["status"] == "sent", 10, "status sent")
    status = client.delivery_status(signup_token)
    assert status["attempts"] == 2
    assert status["recipient"] == "+1******0143"
    assert fake_twilio.answers == ["500", "201"]
    assert Delivery.objects.get().provider_message_id == fake_twilio.sids[0]
    assert_not_logged(logs(), code=CODE, signup_token=signup_token, phone_number=NUMBER)


def test_a_permanent_refusal_is_visible_to_the_client_without_retry(client, celery_worker, fake_twilio):
    fake_twilio.script("400:21211")
    celery_worker.start()

    signup_token = client.signup(NUMBER)

    wait_until(lambda: client.delivery_status(signup_token)["status"] == "failed", 15, "status failed")
    assert client.delivery_status(signup_token)["attempts"] == 1
    time.sleep(0.5)  # a retry would have been made by now (retry base 0.2 s)
    assert fake_twilio.answers == ["400:21211"]


def test_a_worker_killed_during_the_provider_call_sends_exactly_one_sms_after_restart(
    client, celery_worker, fake_twilio, worker_broker, worker_env, next_codes, logs
):
    visibility_timeout = float(worker_env["CELERY_VISIBILITY_TIMEOUT"])
    fake_twilio.script("stall")  # then 201
    next_codes(CODE)
    celery_worker.start()

    client.signup(NUMBER)
    fake_twilio.wait_for_stall()
    celery_worker.current.kill()  # kill -9 of the worker and its pool, the call in flight

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    assert fake_twilio.messages == []
    # The task was never acknowledged: Redis hands it out again once the visibility timeout has
    # passed since it was delivered, which a starting worker checks first thing.
    [(_, delivered_at)] = worker_broker.zrange("unacked_index", 0, -1, withscores=True)
    wait_until(
        lambda: time.time() > delivered_at + visibility_timeout + 0.5,
        visibility_timeout + 5,
        "the visibility timeout",
        interval=0.1,
    )
    celery_worker.start()

    fake_twilio.wait_for_messages(1, timeout=20)
    wait_until(lambda: Delivery.objects.get().status == "sent", 10, "status sent")
    time.sleep(1.0)  # room for a duplicate to show up
    assert len(fake_twilio.messages) == 1
    assert fake_twilio.answers == ["stall", "201"]
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert worker_broker.llen("notifications") == 0
    assert worker_broker.zcard("unacked_index") == 0
    # The same task, handed out again: not a new one.
    first_run, second_run = (RECEIVED.findall(run.output) for run in celery_worker.runs)
    assert first_run == second_run
    assert len(first_run) == 1
    assert_not_logged(logs(), code=CODE)


def test_a_pool_process_killed_during_the_provider_call_sends_exactly_one_sms(
    client, celery_worker, fake_twilio, worker_env, next_codes, logs
):
    # Only the child that runs the task dies (an OOM kill, say): the worker requeues the task at
    # once, and the copy finds the dead attempt's claim. It must wait for the lease to lapse, not
    # spend its retries against it (with this retry base they would all be gone in a second).
    worker_env["DELIVERY_RETRY_BASE_SECONDS"] = "0.05"
    fake_twilio.script("stall")  # then 201
    next_codes(CODE)
    worker = celery_worker.start()

    client.signup(NUMBER)
    fake_twilio.wait_for_stall()
    children = subprocess.run(
        ["pgrep", "-P", str(worker.popen.pid)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(children) == 1  # -c 1: one pool process
    os.kill(int(children[0]), signal.SIGKILL)

    fake_twilio.wait_for_messages(1, timeout=20)
    wait_until(lambda: Delivery.objects.get().status == "sent", 10, "status sent")
    time.sleep(1.0)  # room for a duplicate to show up
    assert len(fake_twilio.messages) == 1
    assert fake_twilio.answers == ["stall", "201"]
    assert_not_logged(logs(), code=CODE)


def test_a_task_of_a_killed_worker_comes_back_within_the_visibility_timeout_and_one_restore_interval(
    client, celery_worker, fake_twilio, worker_broker, worker_env, next_codes, logs
):
    # The broker gives back the tasks of a dead worker by scanning its index of unacknowledged
    # tasks: once when a worker starts, then every CELERY_UNACKED_RESTORE_INTERVAL seconds from
    # each running worker. The replacement here starts at once, long before the visibility timeout
    # has passed, so its start-up scan finds nothing yet and only the periodic scan can give the
    # task back: within the timeout plus one interval of the dead worker taking it (README).
    worker_env["CELERY_VISIBILITY_TIMEOUT"] = "10"  # room for the new worker to boot on a busy machine
    visibility_timeout = float(worker_env["CELERY_VISIBILITY_TIMEOUT"])
    restore_interval = float(worker_env["CELERY_UNACKED_RESTORE_INTERVAL"])
    fake_twilio.script("stall")  # then 201
    next_codes(CODE)
    celery_worker.start()

    client.signup(NUMBER)
    fake_twilio.wait_for_stall()
    celery_worker.current.kill()  # kill -9 of the worker and its pool, the call in flight
    [(_, delivered_at)] = worker_broker.zrange("unacked_index", 0, -1, withscores=True)
    celery_worker.start()
    assert time.time() < delivered_at + visibility_timeout, "the new worker started after the timeout"

    bound = visibility_timeout + restore_interval
    wait_until(lambda: len(fake_twilio.requests) == 2, bound + 5, "the task handed out again", interval=0.02)
    came_back_after = time.time() - delivered_at
    print(f"redelivered {came_back_after:.2f} s after the dead worker took it")  # shown by pytest -rP

    assert visibility_timeout <= came_back_after <= bound + 1.0  # 1 s: the new copy's way to the provider
    wait_until(lambda: Delivery.objects.get().status == "sent", 10, "status sent")
    time.sleep(1.0)  # room for a duplicate to show up
    assert fake_twilio.answers == ["stall", "201"]
    assert len(fake_twilio.messages) == 1
    assert_not_logged(logs(), code=CODE)


def test_the_request_id_of_a_sign_up_is_on_the_workers_json_lines_for_its_delivery(
    client, worker_env, worker_broker, smtp_server, next_codes, tmp_path
):
    from tests.support.processes import CeleryWorker

    worker = CeleryWorker({**worker_env, "LOG_FORMAT": "json"}, tmp_path)
    try:
        worker.start()
        next_codes(CODE)
        response = client.call(
            "POST", "/user/signup/", json={"email_phone_number": EMAIL}, headers={"X-Request-ID": "edge-42"}
        )
        assert response.status_code == 201, response.text
        assert response.headers["X-Request-ID"] == "edge-42"
        smtp_server.wait_for_messages(1)
        wait_until(lambda: '"delivery ' in worker.output and " sent by " in worker.output, 10, "the sent line")
    finally:
        worker.kill()

    lines = [json.loads(line) for line in worker.output.splitlines() if line.startswith("{")]
    assert lines, worker.output
    mine = [line for line in lines if line["request_id"] == "edge-42"]
    sent = [line for line in mine if " sent by email to " in line["message"]]
    assert sent, worker.output
    assert sent[0]["subject"] == "j***@example.com"
    assert {line["request_id"] for line in lines} <= {"edge-42", "-"}
    assert_not_logged(worker.output, code=CODE, address=EMAIL)


def test_a_delivery_queued_before_a_key_rotation_is_sent_after_it_and_its_code_verifies(
    client, celery_worker, worker_env, worker_broker, smtp_server, next_codes, settings, tmp_path
):
    import secrets

    from tests.support.processes import CeleryWorker

    next_codes(CODE)
    signup_token = client.signup(EMAIL)
    wait_until(lambda: worker_broker.llen("notifications"), 5, "the task in the broker")

    # The rotation: a new SECRET_KEY everywhere, the old one kept as a fallback.
    old = settings.SECRET_KEY
    settings.SECRET_KEY = secrets.token_urlsafe(48)
    settings.SECRET_KEY_FALLBACKS = [old]
    rotated = CeleryWorker({**worker_env, "SECRET_KEY": settings.SECRET_KEY, "SECRET_KEY_FALLBACKS": old}, tmp_path)
    try:
        rotated.start()
        [received] = smtp_server.wait_for_messages(1)
    finally:
        rotated.kill()

    assert received.rcpt_tos == [EMAIL]
    assert CODE in received.message.get_body(("plain",)).get_content()
    response = client.call("POST", "/user/verify/", signup_token, json={"code": CODE})
    assert response.status_code == 200, response.text
