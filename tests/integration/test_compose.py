"""docker-compose.yml starts entry points that exist, and the same commands run here as processes.

This machine has no Docker engine, so the file is checked piece by piece (each service's command
names a real settings module, WSGI application, Celery app, queue, management command or beat
task) and then each app service's command is run as a local process against the test database
and Redis, with only its listening address changed.
"""

import base64
import importlib
import os
import re
import secrets
import shlex
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from celery.bin.celery import celery as celery_cli
from django.conf import settings
from django.core.management import get_commands
from django.urls import resolve

from notifications.models import Channel
from notifications.services import TEMPLATE_VERIFICATION_CODE, delivery_enqueue
from project.celery import app as celery_app
from tests.support.processes import BIN, ROOT, Process, free_port, wait_until

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("web", "worker", "beat", "flower")  # the services built from our Dockerfile


def commands(service: str) -> list[list[str]]:
    """A service's command as argv lists: ``sh -c "a && b"`` gives two, compose's ``$$`` is ``$``."""
    command = SERVICES[service]["command"]
    argv = shlex.split(command.replace("$$", "$")) if isinstance(command, str) else list(command)
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in argv[2].split("&&")]
    return [argv]


def option(argv: list[str], *names: str) -> str | None:
    """The value of a command-line option given as ``-Q value``, ``--queues value`` or ``--queues=value``."""
    for index, arg in enumerate(argv):
        for name in names:
            if arg == name and index + 1 < len(argv):
                return argv[index + 1]
            if arg.startswith(f"{name}="):
                return arg.split("=", 1)[1]
    return None


def celery_command(service: str) -> list[str]:
    argv = commands(service)[-1]  # after any guard of the shell command
    assert argv[0] == "celery", argv
    return argv


def routed_queues() -> set[str]:
    """Every queue a task can be routed to: the routes' queues and the default queue."""
    routes = settings.CELERY_TASK_ROUTES
    return {route["queue"] for route in routes.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}


def worker_queues() -> set[str]:
    return set(option(celery_command("worker"), "-Q", "--queues").split(","))


def registered_tasks() -> set[str]:
    celery_app.loader.import_default_modules()
    return set(celery_app.tasks)


# --- The file, read -------------------------------------------------------------------------


def test_the_stack_has_web_worker_beat_flower_redis_postgres_and_a_mail_catcher():
    assert set(SERVICES) == {"web", "worker", "beat", "flower", "redis", "postgres", "mailpit"}


def env_example() -> dict[str, str]:
    """.env.example as compose reads it into the app services (``cp .env.example .env.docker``)."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def test_app_services_run_the_production_settings():
    dockerfile = (ROOT / "Dockerfile").read_text()
    modules = set(re.findall(r"DJANGO_SETTINGS_MODULE=([\w.]+)", dockerfile))
    modules.add(env_example()["DJANGO_SETTINGS_MODULE"])
    assert modules == {"project.settings.production"}
    for name in APP_SERVICES:
        assert SERVICES[name].get("env_file") == ".env.docker"
    assert (ROOT / ".env.example").exists()  # the file `cp .env.example .env.docker` starts from


def test_web_migrates_then_serves_the_wsgi_application_with_gunicorn():
    migrate, gunicorn = commands("web")
    assert migrate[:3] == ["python", "manage.py", "migrate"]
    assert migrate[2] in get_commands()
    assert gunicorn[0] == "gunicorn"
    module, _, attribute = gunicorn[1].partition(":")
    assert (module, attribute) == ("project.wsgi", "application")
    assert callable(getattr(importlib.import_module(module), attribute))


@pytest.mark.parametrize("service", ["worker", "beat", "flower"])
def test_celery_services_load_the_project_app(service):
    argv = celery_command(service)
    assert option(argv, "-A", "--app") == "project"
    assert importlib.import_module("project").celery_app is celery_app
    assert celery_app.main == "project"
    subcommand = next(arg for arg in argv[3:] if not arg.startswith("-"))
    assert subcommand == service
    assert subcommand in celery_cli.commands


def test_the_worker_consumes_every_queue_a_task_is_routed_to_and_no_other():
    assert celery_app.amqp.router.route({}, "notifications.tasks.deliver")["queue"].name == "notifications"
    assert worker_queues() == routed_queues()


def test_beat_schedules_registered_tasks_that_the_worker_consumes():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} == {
        "users.tasks.prune_sessions",
        "users.tasks.remove_abandoned_signups",
        "notifications.tasks.prune_deliveries",
        "notifications.tasks.settle_unsent_deliveries",
    }
    tasks = registered_tasks()
    for entry in schedule.values():
        assert entry["task"] in tasks
        assert celery_app.amqp.router.route({}, entry["task"])["queue"].name in worker_queues()
    assert option(celery_command("beat"), "--schedule", "-s")  # a writable schedule file


def test_flower_is_installed_and_asks_for_basic_auth():
    importlib.import_module("flower")
    argv = celery_command("flower")
    assert option(argv, "--basic-auth") == "$FLOWER_BASIC_AUTH"
    # From the env_file, like every other setting of the stack.
    assert "FLOWER_BASIC_AUTH=" in (ROOT / ".env.example").read_text()


def test_published_ports_are_bound_to_loopback():
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_redis_never_evicts_and_keeps_an_append_only_file():
    argv = shlex.split(SERVICES["redis"]["command"])
    assert argv[0] == "redis-server"
    assert option(argv, "--maxmemory-policy") == "noeviction"
    assert option(argv, "--appendonly") == "yes"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_long_running_service_has_a_healthcheck(service):
    healthcheck = SERVICES[service].get("healthcheck")
    assert healthcheck, f"{service} has no healthcheck"
    assert healthcheck.get("test"), f"{service} has an empty healthcheck"


def test_app_services_wait_for_healthy_postgres_and_redis():
    for name in APP_SERVICES:
        depends_on = SERVICES[name]["depends_on"]
        assert depends_on == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }


def web_health_url() -> str:
    probe = " ".join(SERVICES["web"]["healthcheck"]["test"])
    [url] = re.findall(r"http://[^'\"\s)]+", probe)
    return url


@pytest.mark.django_db
def test_the_web_healthcheck_url_exists_and_answers(client):
    path = re.sub(r"^http://[^/]+", "", web_health_url())
    resolve(path)
    assert client.get(path).status_code == 200


# --- The commands, run ----------------------------------------------------------------------


def shell_command(service: str, **replacements: str) -> list[str]:
    """The service's command for ``sh``, with the given text replaced (addresses, paths)."""
    command = SERVICES[service]["command"].replace("$$", "$")
    for old, new in replacements.items():
        assert old in command, (service, old)
        command = command.replace(old, new)
    argv = shlex.split(command)
    return argv if argv[:2] == ["sh", "-c"] else ["sh", "-c", command]


@pytest.fixture
def stack_env(worker_env, worker_broker):
    """The environment of the stack's processes here: .env.example as the stack reads it, with the
    production settings of the image, secrets filled in as its comments ask, the services' host
    names pointed at this machine's test database, Redis, SMTP and Twilio fakes, and the venv first
    on PATH like the image."""
    example = env_example()
    assert example["SECRET_KEY"] == example["JWT_SIGNING_KEY"] == ""  # nothing usable is committed
    connections = (
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
        "TWILIO_API_BASE_URL",
        "CELERY_VISIBILITY_TIMEOUT",
        "CELERY_TASK_SOFT_TIME_LIMIT",
        "CELERY_TASK_TIME_LIMIT",
    )
    return {
        **{name: value for name, value in worker_env.items() if not name.startswith("TEST_")},
        **example,
        **{name: worker_env[name] for name in connections},
        "REDIS_URL": worker_env["TEST_REDIS_URL"],
        "DJANGO_SETTINGS_MODULE": re.search(r"DJANGO_SETTINGS_MODULE=([\w.]+)", (ROOT / "Dockerfile").read_text())[1],
        "SECRET_KEY": settings.SECRET_KEY,  # the sealed payloads this test process queues are keyed by it
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


@pytest.fixture
def processes(tmp_path):
    """Starts processes and kills them all (process groups) at teardown."""
    started: list[Process] = []

    def _start(name: str, argv: list[str], env: dict[str, str]) -> Process:
        process = Process(name, argv, env, tmp_path).start()
        started.append(process)
        return process

    yield _start
    for process in started:
        process.stop(timeout=3)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_web_command_migrates_and_serves_health_with_gunicorn(stack_env, processes):
    port = free_port()
    argv = shell_command("web", **{"0.0.0.0:8000": f"127.0.0.1:{port}"})
    web = processes("web", argv, stack_env)
    live = web_health_url().replace("127.0.0.1:8000", f"127.0.0.1:{port}")

    response = wait_for_answer(live, web)

    assert response.status_code == 200
    assert "No migrations to apply." in web.output
    ready = requests.get(f"http://127.0.0.1:{port}/health/ready/", timeout=5)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "broker": "ok"}


@pytest.mark.integration
def test_the_worker_command_starts_and_answers_its_healthcheck(stack_env, processes):
    worker = processes("worker", shell_command("worker"), stack_env)
    worker.wait_for_output(" ready.", 30)
    for queue in worker_queues():
        assert f".> {queue} " in worker.output

    probe = SERVICES["worker"]["healthcheck"]["test"][1:]  # after "CMD"
    result = subprocess.run(probe, cwd=ROOT, env=stack_env, capture_output=True, text=True, timeout=30, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "pong" in result.stdout


@pytest.mark.integration
def test_the_beat_command_starts_with_the_schedule(stack_env, processes, tmp_path):
    schedule = tmp_path / "celerybeat-schedule"
    beat = processes("beat", shell_command("beat", **{"/tmp/celerybeat-schedule": str(schedule)}), stack_env)

    beat.wait_for_output("beat: Starting...", 30)

    time.sleep(0.5)
    assert beat.running(), beat.output
    assert "Traceback" not in beat.output
    assert any(Path(f"{schedule}{suffix}").exists() for suffix in ("", ".db", ".dat"))


@pytest.mark.integration
def test_the_flower_command_serves_behind_basic_auth(stack_env, processes):
    port = free_port()
    argv = shell_command("flower", **{"--address=0.0.0.0": "--address=127.0.0.1", "--port=5555": f"--port={port}"})
    flower = processes("flower", argv, {**stack_env, "FLOWER_BASIC_AUTH": "ops:s3cret-pass"})
    url = f"http://127.0.0.1:{port}/"

    anonymous = wait_for_answer(url, flower)

    assert anonymous.status_code == 401
    assert requests.get(url, auth=("ops", "wrong"), timeout=5).status_code == 401
    assert requests.get(url, auth=("ops", "s3cret-pass"), timeout=5).status_code == 200
    assert flower.running()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_flower_shows_delivery_tasks_with_sealed_arguments(stack_env, processes, celery_worker, smtp_server):
    port = free_port()
    argv = shell_command("flower", **{"--address=0.0.0.0": "--address=127.0.0.1", "--port=5555": f"--port={port}"})
    flower = processes("flower", argv, {**stack_env, "FLOWER_BASIC_AUTH": "ops:s3cret-pass"})
    auth = {"Authorization": "Basic " + base64.b64encode(b"ops:s3cret-pass").decode()}
    wait_for_answer(f"http://127.0.0.1:{port}/healthcheck", flower)
    celery_worker.start()

    code = "480913"
    delivery = delivery_enqueue(  # autocommit: published at once
        subject=uuid.uuid4(),
        channel=Channel.EMAIL,
        recipient="jane.doe@example.com",
        purpose="signup",
        template=TEMPLATE_VERIFICATION_CODE,
        language="en",
        code=code,
    )
    smtp_server.wait_for_messages(1)

    def delivered_task() -> dict | None:
        response = requests.get(f"http://127.0.0.1:{port}/api/tasks", headers=auth, timeout=5)
        tasks = [task for task in response.json().values() if task["name"] == "notifications.tasks.deliver"]
        return tasks[0] if tasks and tasks[0]["state"] == "SUCCESS" else None

    task = wait_until(delivered_task, 15, "the delivery task in flower")
    assert task["args"] == f"('{delivery.id}', '<sealed>')"
    listing = requests.get(f"http://127.0.0.1:{port}/api/tasks", headers=auth, timeout=5).text
    assert code not in listing
    assert "jane.doe@example.com" not in listing


@pytest.mark.integration
def test_the_flower_command_refuses_to_start_without_basic_auth(stack_env, processes):
    port = free_port()
    argv = shell_command("flower", **{"--address=0.0.0.0": "--address=127.0.0.1", "--port=5555": f"--port={port}"})
    flower = processes("flower", argv, {**stack_env, "FLOWER_BASIC_AUTH": ""})

    wait_until(lambda: not flower.running(), 10, "flower to refuse to start")
    assert flower.popen.returncode == 2
    assert "Set FLOWER_BASIC_AUTH" in flower.output


def wait_for_answer(url: str, process: Process, timeout: float = 30.0, **kwargs) -> requests.Response:
    """GET ``url`` until the server listens (any status), failing fast if its process died."""
    answers: list[requests.Response] = []

    def answered() -> bool:
        assert process.running(), f"{process.name} exited:\n{process.output[-4000:]}"
        try:
            answers.append(requests.get(url, timeout=2, **kwargs))
        except requests.ConnectionError:
            return False
        return True

    wait_until(answered, timeout, f"{process.name} to answer {url}", interval=0.1)
    return answers[-1]


def test_the_image_never_copies_secrets_the_host_venv_or_git():
    # The Dockerfile's `COPY . .` takes everything the build context holds but .dockerignore.
    ignored = {
        line.strip().strip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert {".env", ".env.docker", ".venv", ".git"} <= ignored
    assert "COPY . ." in (ROOT / "Dockerfile").read_text()
