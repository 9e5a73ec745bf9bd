#!/usr/bin/env bash
# Throughput of the hot paths on 2 sync gunicorn workers against the real PostgreSQL and Redis.
# Usage: make bench (or bash bench/run.sh). Targets 127.0.0.1 only; each run is bounded (DURATION).
# Uses its own database (bench) and Redis database (7), both emptied first.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${PORT:-8911}
DURATION=${DURATION:-10s}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }

export DJANGO_SETTINGS_MODULE=project.settings.local DEBUG=False LOG_LEVEL=ERROR
export DATABASE_URL=postgres:///bench REDIS_URL=redis://127.0.0.1:6379/7 CELERY_TASK_ALWAYS_EAGER=False
# Rates high enough never to trip, so that their Redis round trips are measured but not their 429s.
export RATE_LIMITS="signup_ip=1000000/h,signup_identifier=1000000/h,verify_ip=1000000/h,login_ip=1000000/m,login_account_failures=1000000/m,sms_daily_budget=1000000/d"
# Many wrong guesses on one code: let them all count without killing the code.
export VERIFICATION_MAX_ATTEMPTS=100000000

dropdb --if-exists bench && createdb bench
redis-cli -n 7 flushdb >/dev/null
$BIN/python manage.py migrate -v0
$BIN/python manage.py shell -c "
from users.models import User
User.objects.create_user(username='benchuser', email='bench@example.com', password='bench-pass-phrase-1')
"
$BIN/gunicorn project.wsgi:application --bind 127.0.0.1:$PORT --workers 2 --no-control-socket --log-level warning 2>/tmp/bench-gunicorn.log &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null; redis-cli -n 7 flushdb >/dev/null' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/health/live/" >/dev/null && break; sleep 0.2; done

TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/user/signup/" -H 'Content-Type: application/json' \
  -d '{"email_phone_number": "verify-bench@example.com"}' | $BIN/python -c 'import json,sys; print(json.load(sys.stdin)["access"])')
export TOKEN

run() {  # name, connections, wrk args...
  local name=$1 conns=$2; shift 2
  local out
  out=$(wrk -t2 -c"$conns" -d"$DURATION" --latency "$@" "http://127.0.0.1:$PORT$path" 2>&1)
  printf '%-34s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {print $5}' <<<"$out" | grep . || echo 0)"
}
echo "gunicorn, 2 sync workers, $(nproc) cores, $DURATION per line"
path=/health/live/ run "GET /health/live/ (no I/O)" 16
path=/user/signup/ run "POST /user/signup/ (new address)" 16 -s bench/signup.lua
path=/user/verify/ run "POST /user/verify/ (wrong code)" 16 -s bench/verify.lua
path=/user/login/ run "POST /user/login/ (Argon2id)" 4 -s bench/login.lua
echo "queued deliveries left in the broker: $(redis-cli -n 7 llen notifications)"
