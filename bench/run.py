"""`make bench`: the hot paths side by side with a bare DRF floor, then the worker's throughput.

One run, on this machine, against the real PostgreSQL (its own `bench` database, emptied first)
and Redis (database 5, flushed): the product and the floor (bench/floor.py) are each served by
gunicorn with the same configuration (2 sync workers), and wrk drives each endpoint for DURATION
on 127.0.0.1 with 2 threads and 16 connections (login: 4). Rate limits are raised so that their
Redis round trips are measured but never trip. Every line reports req/s, p50, p99, its ratio to
the floor (measured at the start and at the end; their mean is the reference) and its non-2xx
answers; a line whose non-2xx answers are not the ones it expects is marked FAILED. Then one
Celery worker process (concurrency 2) delivers 5,000 e-mails to a local SMTP sink and 5,000 SMS to
the fake Twilio server. The table goes to docs/benchmarks.md with the machine and the commit.

    make bench                          # or: .venv/bin/python bench/run.py
    make bench-scale                    # the same with 10^6 users and 10^6 live refresh tokens
    DURATION=5s .venv/bin/python bench/run.py --lines floor,me
"""

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0:0] = [str(ROOT)]  # run as a script from anywhere: the project's packages come first
BIN = ROOT / ".venv" / "bin"
PORT, FLOOR_PORT = 8911, 8912
THREADS, CONNECTIONS = 2, 16
DURATION = os.environ.get("DURATION", "10s")
BENCH_DATABASE = "bench"
BENCH_REDIS_URL = "redis://127.0.0.1:6379/5"
PASSWORD = "bench-pass-phrase-1"
# Enough single-use tokens for a line at several thousand requests a second.
SINGLE_USE = int(os.environ.get("BENCH_TOKENS", "40000"))


def product_env() -> dict[str, str]:
    """The product's environment: the local settings on the bench database and Redis, with every
    rate limit raised out of reach (their round trips stay in the measure)."""
    rules = subprocess.run(
        [str(BIN / "python"), "-c", "from project.settings import base; print(' '.join(base.RATE_LIMITS))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    limits = ",".join(f"{rule}=1000000000/m" for rule in rules)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "EMAIL_", "SMS_"))},
        "DJANGO_SETTINGS_MODULE": "project.settings.local",
        "DEBUG": "False",
        "LOG_LEVEL": "ERROR",
        "DATABASE_URL": f"postgres:///{BENCH_DATABASE}",
        "REDIS_URL": BENCH_REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "RATE_LIMITS": limits,
        "VERIFICATION_MAX_ATTEMPTS": "1000000000",  # wrong guesses all count, the code never dies
    }


@dataclass
class Line:
    name: str
    method: str
    path: str
    requests: list[tuple[str, str]]  # (authorization or "-", body or "-"), one per request
    expect: str = "2xx"  # or a status every answer must have (a wrong code: "400")
    connections: int = CONNECTIONS
    port: int = PORT
    target: float | None = None  # the ratio to the floor this line should reach
    result: dict | None = None


def probe_status(line: Line) -> int:
    """The status of the line's first request, sent once before the run."""
    import requests

    auth, body = line.requests[0]
    headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth != "-" else {})}
    data = None if body == "-" else body.replace("{n}", "0").replace("{t}", "0")
    url = f"http://127.0.0.1:{line.port}{line.path}"
    return requests.request(line.method, url, data=data, headers=headers, timeout=30).status_code


def profiled(pid: int, output: Path) -> subprocess.Popen:
    """py-spy sampling gunicorn's workers (children of ``pid``) for one line, into a flame graph."""
    output.parent.mkdir(parents=True, exist_ok=True)
    seconds = int(re.sub(r"\D", "", DURATION) or 10)
    argv = [
        str(BIN / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--nonblocking",
        "--rate",
        "250",
        "--duration",
        str(seconds),
        "--format",
        "flamegraph",
        "--output",
        str(output),
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wrk(line: Line, workdir: Path, profile: Path | None = None, server_pid: int = 0) -> dict:
    probed = probe_status(line) if line.expect != "2xx" else None
    spy = profiled(server_pid, profile) if profile is not None else None
    requests_file = workdir / f"{re.sub(r'[^a-z0-9]+', '-', line.name.lower())}.tsv"
    requests_file.write_text("".join(f"{line.method}\t{line.path}\t{auth}\t{body}\n" for auth, body in line.requests))
    argv = [
        "wrk",
        f"-t{THREADS}",
        f"-c{line.connections}",
        f"-d{DURATION}",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "request.lua"),
        f"http://127.0.0.1:{line.port}",
        "--",
        str(requests_file),
        str(THREADS),
    ]
    output = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=True).stdout
    if spy is not None:
        spy.wait(timeout=120)
    stats = json.loads(output.strip().splitlines()[-1])
    seconds = stats["duration_us"] / 1e6
    stats["rps"] = stats["requests"] / seconds if seconds else 0.0
    errors = stats["connect_errors"] + stats["read_errors"] + stats["write_errors"] + stats["timeouts"]
    if line.expect == "2xx":
        stats["ok"] = stats["status_errors"] == 0
    else:  # every answer is an error, and the one probed before had the expected status
        stats["ok"] = stats["status_errors"] == stats["requests"] and str(probed) == line.expect
    stats["ok"] = stats["ok"] and errors == 0 and stats["requests"] > 0
    return stats


def http(method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    import requests

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.request(method, f"http://127.0.0.1:{PORT}{path}", json=body, headers=headers, timeout=30)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {}


def wait_for(url: str, process: subprocess.Popen) -> None:
    import requests

    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited")
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"{url} does not answer")


def gunicorn(app: str, port: int, env: dict[str, str], log: Path, probe: str = "/") -> subprocess.Popen:
    argv = [
        str(BIN / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}{probe}", process)
    except BaseException:
        process.terminate()
        process.wait(timeout=30)
        raise
    return process


# --- data ----------------------------------------------------------------------------------------


def database_fresh(env: dict[str, str]) -> None:
    subprocess.run(["dropdb", "--if-exists", "--force", BENCH_DATABASE], check=True, capture_output=True)
    subprocess.run(["createdb", BENCH_DATABASE], check=True)
    subprocess.run(["redis-cli", "-n", "5", "flushdb"], check=True, capture_output=True)
    subprocess.run([str(BIN / "python"), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


@dataclass
class Seeds:
    user_id: uuid.UUID
    me: dict[str, str]
    refresh: list[str]
    logout: list[dict[str, str]]
    pending_tokens: list[str]


def seed(count: int) -> Seeds:
    """The bench's account (one session: its own list stays short), and tokens minted directly:
    sessions for refresh and logout (one per request: they are single use), four to a user as a
    real service has them, and pending sign-ups for resends outside the cooldown."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from rest_framework_simplejwt.settings import api_settings

    from users.models import AuthStatus, Session, User
    from users.tokens import STAGE_NEW, SignupToken, token_pair

    user = User.objects.create_user(username="benchuser", email="bench@example.com", password=PASSWORD)
    password = make_password(PASSWORD)
    owners = [
        User(email=f"owner-{n}@bench.example.com", password=password, auth_status=AuthStatus.DONE)
        for n in range(count // 2 + 1)
    ]
    User.objects.bulk_create(owners, batch_size=5000)
    expires = timezone.now() + api_settings.REFRESH_TOKEN_LIFETIME
    me = Session(user=user, method="password", expires_at=expires)
    sessions = [Session(user=owners[n // 4], method="password", expires_at=expires) for n in range(2 * count)]
    Session.objects.bulk_create([me, *sessions], batch_size=5000)
    pairs = [token_pair(user_id=s.user_id, session_id=s.id, generation=1) for s in sessions]
    pending = [
        User(email=f"pending-{n}@bench.example.com", auth_status=AuthStatus.NEW, password="!") for n in range(count)
    ]
    User.objects.bulk_create(pending, batch_size=5000)
    tokens = [str(SignupToken.for_subject(p.pk, stage=STAGE_NEW)) for p in pending]
    me_pair = token_pair(user_id=user.pk, session_id=me.id, generation=1)
    return Seeds(user.pk, me_pair, [p["refresh"] for p in pairs[:count]], pairs[count:], tokens)


# --- the lines -----------------------------------------------------------------------------------


def lines_for(seeds: Seeds) -> list[Line]:
    run = secrets.token_hex(3)
    status, body = http("POST", "/user/signup/", {"email_phone_number": f"verify-{run}@bench.example.com"})
    assert status == 201, body
    signup_token = body["access"]
    me = f"Bearer {seeds.me['access']}"
    return [
        Line("floor (start)", "GET", "/", [("-", "-")], port=FLOOR_PORT),
        Line("health", "GET", "/health/live/", [("-", "-")]),
        Line(
            "sign-up (new address, code queued)",
            "POST",
            "/user/signup/",
            [("-", '{"email_phone_number": "s-' + run + '-{t}-{n}@bench.example.com"}')],
            target=0.25,
        ),
        Line(
            "verify (wrong code)",
            "POST",
            "/user/verify/",
            [(f"Bearer {signup_token}", '{"code": "000000"}')],
            expect="400",
            target=0.35,
        ),
        Line("new-verify (in cooldown)", "GET", "/user/new-verify/", [(f"Bearer {signup_token}", "-")], expect="429"),
        Line(
            "new-verify (code sent)", "GET", "/user/new-verify/", [(f"Bearer {t}", "-") for t in seeds.pending_tokens]
        ),
        Line("me", "GET", "/user/me/", [(me, "-")], target=0.45),
        Line(
            "refresh (rotation)",
            "POST",
            "/user/login-refresh/",
            [("-", json.dumps({"refresh": r})) for r in seeds.refresh],
            target=0.30,
        ),
        Line(
            "logout",
            "POST",
            "/user/logout/",
            [(f"Bearer {p['access']}", json.dumps({"refresh": p["refresh"]})) for p in seeds.logout],
            target=0.30,
        ),
        Line("sessions (list)", "GET", "/user/sessions/", [(me, "-")]),
        Line("profile change (PATCH me)", "PATCH", "/user/me/", [(me, '{"bio": "bench {n}"}')]),
        Line(
            "password-reset (request)",
            "POST",
            "/user/password-reset/",
            [("-", '{"email_phone_number": "r-' + run + '-{t}-{n}@bench.example.com"}')],
        ),
        Line(
            "login-code (request)",
            "POST",
            "/user/login-code/",
            [("-", '{"user_input": "c-' + run + '-{t}-{n}@bench.example.com"}')],
        ),
        Line(
            "login (Argon2id)",
            "POST",
            "/user/login/",
            [("-", json.dumps({"user_input": "benchuser", "password": PASSWORD}))],
            connections=2,
        ),
        Line("floor (end)", "GET", "/", [("-", "-")], port=FLOOR_PORT),
    ]


def one_hash_ms(env: dict[str, str]) -> float:
    """The median time of one password check with the configured hasher, alone, in a fresh process."""
    script = (
        "import django, statistics, time\ndjango.setup()\n"
        "from django.contrib.auth.hashers import check_password, make_password\n"
        f"encoded = make_password({PASSWORD!r})\ntimes = []\n"
        f"for _ in range(20):\n    start = time.perf_counter(); check_password({PASSWORD!r}, encoded)\n"
        "    times.append(time.perf_counter() - start)\nprint(statistics.median(times) * 1000)\n"
    )
    output = subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    return float(output.stdout.strip().splitlines()[-1])


# --- the worker ----------------------------------------------------------------------------------

DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "5000"))
PROFILED = ("sign-up", "refresh")  # the lines --profile records


def worker_throughput(env: dict[str, str], workdir: Path) -> dict[str, dict]:
    """One worker process, concurrency 2, delivering DELIVERIES e-mails to a local SMTP sink, then
    DELIVERIES SMS to the fake Twilio server; each channel's queue is filled first, so the rate is
    the worker's own."""
    from notifications.models import Channel
    from notifications.services import TEMPLATE_VERIFICATION_CODE, delivery_enqueue
    from tests.support import fake_twilio
    from tests.support.smtp_server import SmtpServer

    smtp = SmtpServer().start()
    twilio = fake_twilio.FakeTwilio().start()
    worker_env = {
        **env,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp.host,
        "EMAIL_PORT": str(smtp.port),
        "SMS_BACKEND": "notifications.channels.TwilioSms",
        "TWILIO_ACCOUNT_SID": fake_twilio.ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": fake_twilio.AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": fake_twilio.FROM_NUMBER,
        "TWILIO_API_BASE_URL": twilio.url,
    }
    results = {}
    try:
        for channel, recipient, arrived in (
            (Channel.EMAIL, lambda n: f"w{n}@bench.example.com", lambda: len(smtp.messages)),
            (Channel.SMS, lambda n: f"+1202555{n % 10000:04d}", lambda: len(twilio.messages)),
        ):
            subprocess.run(["redis-cli", "-n", "5", "del", "notifications"], check=True, capture_output=True)
            for n in range(DELIVERIES):
                delivery_enqueue(
                    subject=uuid.uuid4(),
                    channel=channel,
                    recipient=recipient(n),
                    purpose="signup",
                    template=TEMPLATE_VERIFICATION_CODE,
                    language="en",
                    code=f"{n % 1000000:06d}",
                )
            worker = subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "project",
                    "worker",
                    "-Q",
                    "notifications",
                    "-P",
                    "prefork",
                    "-c",
                    "2",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                    "-l",
                    "WARNING",
                ],
                cwd=ROOT,
                env=worker_env,
                stdout=(workdir / f"worker-{channel}.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            try:
                first = last = None
                deadline = time.monotonic() + 300
                while arrived() < DELIVERIES and time.monotonic() < deadline:
                    if first is None and arrived():
                        first = time.monotonic()
                    time.sleep(0.01)
                last = time.monotonic()
                time.sleep(1.0)  # anything more would be a duplicate
            finally:
                worker.terminate()
                worker.wait(timeout=30)
            count = arrived()
            seconds = (last - first) if first else float("inf")
            results[channel] = {"arrived": count, "seconds": seconds, "rate": DELIVERIES / seconds}
    finally:
        smtp.stop()
        twilio.stop()
    return results


# --- report --------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = names[0].strip() if names else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo.read_text())[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}"


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    return head.strip() + (" (with uncommitted changes)" if dirty.strip() else "")


def housekeeping() -> list[str]:
    """The beat jobs on the seeded data, timed: each deletes in batches of 1,000 (short statements,
    no long lock), however much there is."""
    from notifications.services import delivery_prune
    from project.batches import BATCH_SIZE
    from users.services.sessions import sessions_prune
    from users.services.signup import signups_remove_abandoned

    rows = ["", f"| housekeeping job (batches of {BATCH_SIZE:,}) | rows deleted | seconds |", "|---|---|---|"]
    for name, job in (
        ("expired sessions (prune_sessions)", sessions_prune),
        ("abandoned sign-ups (remove_abandoned_signups)", signups_remove_abandoned),
        ("old delivery records (prune_deliveries)", delivery_prune),
    ):
        started = time.monotonic()
        deleted = job()
        rows.append(f"| {name} | {deleted:,} | {time.monotonic() - started:.1f} |")
    return rows


def report(
    lines: list[Line], hash_ms: float, workers: dict, scale: int, seeded_s: float | None, jobs: list[str]
) -> str:
    floors = [line.result["rps"] for line in lines if line.name.startswith("floor")]
    floor = statistics.mean(floors)
    rows = ["| line | req/s | p50 | p99 | ratio to floor | target | non-2xx | |", "|---|---|---|---|---|---|---|---|"]
    for line in lines:
        r = line.result
        ratio = r["rps"] / floor
        verdict = "ok" if r["ok"] else "FAILED"
        if r["ok"] and line.target is not None and ratio < line.target:
            verdict = "below target"
        target = f"≥ {line.target:.2f}" if line.target else ""
        non_2xx = f"{r['status_errors']} (expected {line.expect})" if line.expect != "2xx" else str(r["status_errors"])
        rows.append(
            f"| {line.name} | {r['rps']:,.0f} | {r['p50_us'] / 1000:.1f} ms | {r['p99_us'] / 1000:.1f} ms "
            f"| {ratio:.3f} | {target} | {non_2xx} | {verdict} |"
        )
    extra = [
        "",
        f"Floor: {floors[0]:,.0f} req/s at the start, {floors[-1]:,.0f} at the end; ratios use their mean, "
        f"{floor:,.0f}.",
    ]
    login = next((line for line in lines if line.name.startswith("login (")), None)
    if login is not None:
        p50 = login.result["p50_us"] / 1000
        extra.append(
            f"Login: p50 {p50:.1f} ms against one password check alone {hash_ms:.1f} ms (median of 20): "
            f"{p50 - hash_ms:+.1f} ms."
        )
    if workers:
        extra.append("")
        extra.append("| worker (1 process, concurrency 2) | delivered | seconds | per second | target |")
        extra.append("|---|---|---|---|---|")
        for channel, w in workers.items():
            extra.append(
                f"| {channel} | {w['arrived']:,} of {DELIVERIES:,} | {w['seconds']:.1f} | {w['rate']:,.0f} | ≥ 200 |"
            )
    header = [
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit()}.",
        f"Machine: {machine()}.",
        f"gunicorn 2 sync workers for the product and for the floor; wrk -t{THREADS} -c{CONNECTIONS} "
        f"(login -c2: one hash per worker at a time), {DURATION} per line; PostgreSQL and Redis on this machine.",
    ]
    if scale:
        header.append(f"Data: {scale:,} users and {scale:,} live refresh tokens (seeded in {seeded_s:.0f} s).")
    return "\n".join([*header, "", *rows, *extra, *jobs]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=0, help="seed this many users and refresh tokens first")
    parser.add_argument("--lines", default="", help="comma-separated line name prefixes to run (default: all)")
    parser.add_argument("--no-worker", action="store_true", help="skip the worker throughput")
    parser.add_argument("--worker-only", action="store_true", help="only the worker throughput (no wrk lines)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument(
        "--profile",
        default="",
        metavar="LABEL",
        help="also record py-spy flame graphs of sign-up and refresh into docs/profiles/<line>-LABEL.svg "
        "(sampling costs those lines some throughput: take the table from a run without it)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2

    env = product_env()
    database_fresh(env)
    django_setup(env)
    if args.worker_only:
        workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        for channel, w in worker_throughput(env, workdir).items():
            print(f"{channel}: {w['arrived']:,} of {DELIVERIES:,} in {w['seconds']:.1f} s, {w['rate']:,.0f}/s")
        return 0
    seeded_s = None
    if args.scale:
        from bench.scale import seed_scale

        started = time.monotonic()
        seed_scale(args.scale)
        seeded_s = time.monotonic() - started
        print(f"seeded {args.scale:,} users and {args.scale:,} refresh tokens in {seeded_s:.0f} s", flush=True)
    seeds = seed(SINGLE_USE)
    # Settle the tables now, so that autovacuum does not start on them in the middle of a line.
    subprocess.run(["vacuumdb", "--analyze", "--quiet", BENCH_DATABASE], check=True)
    # And write the seeding's WAL out now: a checkpoint running through the lines would slow every
    # commit of the ones that write.
    subprocess.run(["psql", "--quiet", "--dbname", BENCH_DATABASE, "--command", "CHECKPOINT"], check=True)

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    floor_env = {"PATH": env["PATH"], "HOME": env.get("HOME", "/tmp")}
    servers: list[subprocess.Popen] = []
    try:
        servers.append(gunicorn("bench.floor:application", FLOOR_PORT, floor_env, workdir / "floor.log"))
        servers.append(gunicorn("project.wsgi:application", PORT, env, workdir / "product.log", probe="/health/live/"))
        lines = lines_for(seeds)
        wanted = [p.strip() for p in args.lines.split(",") if p.strip()]
        if wanted:
            lines = [line for line in lines if line.name.startswith("floor") or line.name.startswith(tuple(wanted))]
        print(f"{'line':<36} {'req/s':>9} {'p50':>9} {'p99':>9}  non-2xx", flush=True)
        for line in lines:
            profile = None
            if args.profile and line.name.startswith(PROFILED):
                name = line.name.split(" ")[0]
                profile = ROOT / "docs" / "profiles" / f"{name}-{args.profile}.svg"
            line.result = wrk(line, workdir, profile, servers[1].pid)
            r = line.result
            print(
                f"{line.name:<36} {r['rps']:>9,.0f} {r['p50_us'] / 1000:>7.1f}ms {r['p99_us'] / 1000:>7.1f}ms  "
                f"{r['status_errors']}{'' if r['ok'] else '  FAILED'}",
                flush=True,
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    hash_ms = one_hash_ms(env)
    workers = {} if args.no_worker or args.lines else worker_throughput(env, workdir)
    jobs = housekeeping() if args.scale else []
    text = report(lines, hash_ms, workers, args.scale, seeded_s, jobs)
    print()
    print(text)
    if not args.lines:
        Path(args.output).write_text(f"# Benchmarks\n\n{text}")
    subprocess.run(["redis-cli", "-n", "5", "flushdb"], capture_output=True)
    return 0 if all(line.result["ok"] for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
