"""/health/live/ and /health/ready/: liveness, and readiness of the database, Redis and the broker."""

import copy
import socket

import pytest

from tests.api.conftest import assert_error
from tests.support.processes import celery_configured

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_live_answers_without_touching_anything(client, settings, closed_port):
    settings.CACHES = _redis_at(settings.CACHES, f"redis://127.0.0.1:{closed_port}/0")

    response = client.get("/health/live/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_checks_the_database_and_redis(client):
    response = client.get("/health/ready/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}}


def test_ready_checks_the_broker_when_tasks_go_to_a_worker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    with celery_configured(broker_url=settings.CELERY_BROKER_URL):  # the test Redis database
        response = client.get("/health/ready/")

    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


def test_ready_is_503_in_the_error_shape_when_redis_is_unreachable(client, settings, closed_port):
    settings.CACHES = _redis_at(settings.CACHES, f"redis://127.0.0.1:{closed_port}/0")

    response = client.get("/health/ready/")

    body = assert_error(response, 503, "service_unavailable", fields=("redis",))
    assert body["fields"] == {"redis": ["unavailable"]}


def test_ready_is_503_when_the_broker_is_unreachable(client, settings, closed_port):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    with celery_configured(broker_url=f"redis://127.0.0.1:{closed_port}/0"):
        response = client.get("/health/ready/")

    body = assert_error(response, 503, "service_unavailable", fields=("broker",))
    assert body["fields"] == {"broker": ["unavailable"]}


def test_health_endpoints_only_answer_get(client):
    assert client.post("/health/live/").status_code == 405
    assert client.post("/health/ready/").status_code == 405


def _redis_at(caches: dict, location: str) -> dict:
    """The cache settings with the default cache moved to another Redis URL."""
    caches = copy.deepcopy(caches)
    caches["default"]["LOCATION"] = location
    return caches
