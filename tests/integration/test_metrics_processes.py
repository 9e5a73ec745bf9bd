"""Metrics across processes: gunicorn with two workers and a Celery worker with a pool, each
counting in PROMETHEUS_MULTIPROC_DIR, scraped once: the counts are those of every process."""

import secrets

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_compose import wait_for_answer
from tests.support.processes import BIN, CeleryWorker, Process, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TOKEN = secrets.token_urlsafe(48)  # checked like a key: never one written in the project
SIGNUPS = 8


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


def test_counts_of_every_web_and_worker_process_add_up(worker_env, worker_broker, smtp_server, tmp_path):
    web_dir, worker_dir = tmp_path / "prometheus-web", tmp_path / "prometheus-worker"
    web_dir.mkdir()
    worker_dir.mkdir()
    env = {**worker_env, "METRICS_TOKEN": TOKEN, "RATE_LIMITS": "signup_ip=1000/h"}
    port, worker_port = free_port(), free_port()
    argv = [str(BIN / "gunicorn"), "project.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    web = Process("web", [*argv, "--no-control-socket"], {**env, "PROMETHEUS_MULTIPROC_DIR": str(web_dir)}, tmp_path)
    worker = CeleryWorker(
        {**env, "PROMETHEUS_MULTIPROC_DIR": str(worker_dir), "WORKER_METRICS_PORT": str(worker_port)}, tmp_path
    )
    try:
        web.start()
        wait_for_answer(f"http://127.0.0.1:{port}/health/live/", web)
        worker.start()
        for n in range(SIGNUPS):  # a connection each, so both gunicorn workers take some
            response = requests.post(
                f"http://127.0.0.1:{port}/user/signup/", json={"email_phone_number": f"m{n}@example.com"}, timeout=10
            )
            assert response.status_code == 201, response.text
        smtp_server.wait_for_messages(SIGNUPS)
        wait_until(
            lambda: (
                sample(
                    requests.get(f"http://127.0.0.1:{worker_port}/metrics", timeout=5).text,
                    "auth_deliveries_total",
                    channel="email",
                    outcome="sent",
                )
                == SIGNUPS
            ),
            15,
            "the worker's count of deliveries",
        )
        scraped = requests.get(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        )
    finally:
        web.stop()
        worker.kill()

    assert scraped.status_code == 200
    assert sample(scraped.text, "auth_signups_started_total", channel="email") == SIGNUPS
    assert sample(scraped.text, "auth_codes_issued_total", channel="email", purpose="signup", country="none") == SIGNUPS
    # Both gunicorn workers counted (a file each); the scrape added them up.
    assert len(list(web_dir.glob("counter_*.db"))) == 2
