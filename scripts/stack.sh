#!/usr/bin/env bash
# Runs the whole stack natively in the foreground (npm run stack): Redis and MLflow when they are
# local and not running yet, then the API and the worker. MLflow, the API and the worker run under
# concurrently, each through scripts/keep-alive.sh: a service that dies is restarted with backoff
# (1, 2, 4... s), each exit logged with its status; after STACK_MAX_CRASHES (5) exits within
# STACK_CRASH_WINDOW_S (60) s it gives up, everything is stopped, the reason printed and the exit
# code is 1. Ctrl-C or SIGTERM stops everything it started: the worker and the API first (the
# worker puts running jobs back to pending), then MLflow and Redis.
#
# Installs what is missing first: node_modules (npm ci), the Python venv (scripts/setup-python.sh),
# bubblewrap (apt-get, as root), and dist/ (npm run build) when it is missing or older than the code.
#
# Env (see .env.example for the rest, which the API and worker read themselves):
#   PORT (8010), REDIS_URL (redis://127.0.0.1:6379/0), SHARED_DIR (./data),
#   MLFLOW_TRACKING_URI (http://127.0.0.1:5010), API_TOKENS (default: a random token for user
#   `demo`, kept in $SHARED_DIR/stack-token and reused), ADMIN_USERS (default: demo with that token),
#   SKIP_BUILD=1 (run dist/ as it is), STACK_READY_FILE (path: written with the token once healthy),
#   STACK_MAX_CRASHES (5), STACK_CRASH_WINDOW_S (60), STACK_STOP_TIMEOUT_S (30: then SIGKILL), STACK_BACKGROUND_NICE (5: MLflow and the worker).
# Two stacks run side by side with different PORT, REDIS_URL (another port or db index), SHARED_DIR
# and MLFLOW_TRACKING_URI port: nothing here uses a fixed path or port.
set -euo pipefail
umask 022

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf 'stack: %s\n' "$*"; }
fail() { printf 'stack: %s\n' "$*" >&2; shutdown_all; exit 1; }

for setting in STACK_MAX_CRASHES STACK_CRASH_WINDOW_S STACK_STOP_TIMEOUT_S; do
  [[ -z "${!setting:-}" || "${!setting}" =~ ^[1-9][0-9]*$ ]] \
    || { printf 'stack: %s must be a whole number >= 1, got "%s"\n' "$setting" "${!setting}" >&2; exit 1; }
done
export PORT="${PORT:-8010}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export MLFLOW_TRACKING_URI="${MLFLOW_TRACKING_URI:-http://127.0.0.1:5010}"
mkdir -p "${SHARED_DIR:-./data}"
SHARED_DIR="$(cd "${SHARED_DIR:-./data}" && pwd)"
export SHARED_DIR
[[ -n "${VENV_DIR:-}" ]] && export PYTHON_BIN="${PYTHON_BIN:-$VENV_DIR/bin/python}"
# Nest colours its logs unless told not to; they go to files here.
export NO_COLOR="${NO_COLOR:-1}"
logs="$SHARED_DIR/stack-logs"
# The keepers' pid files: the running service's pid and the keeper's own.
run_dir="$logs/run"
mkdir -p "$logs" "$run_dir"
rm -f "$run_dir"/*.pid "$run_dir"/*.keeper

# ---------------------------------------------------------------------------------------------
# Process bookkeeping. Each service runs in its own session (setsid), so its pid is also its
# process-group id and stopping it takes its children along; --pdeathsig makes a service stop
# even if this script is killed with SIGKILL and cannot run its trap.
declare -a pids=()
declare -A names=()
stopping=""
# concurrently (its own session): MLflow, the API and the worker, each under scripts/keep-alive.sh.
services_pid=""

start_service() { # name command...
  local name="$1"
  shift
  : >"$logs/$name.log"
  setpriv --pdeathsig TERM -- setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null &
  pids+=("$!")
  names[$!]="$name"
}

group_alive() { kill -0 -- "-$1" 2>/dev/null; }

# Runs an install/build step in its own process group and waits for it with `wait`, which a
# signal interrupts: Ctrl-C / SIGTERM stop a long step (and its children) at once.
step_pid=""
run_step() { # command... (stdout/stderr as the caller redirects them)
  local status=0
  setpriv --pdeathsig TERM -- setsid "$@" </dev/null &
  step_pid=$!
  wait "$step_pid" || status=$?
  step_pid=""
  return "$status"
}

stop_groups() { # timeout_s pid...
  local timeout="$1" pid deadline
  shift
  for pid in "$@"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  deadline=$((SECONDS + timeout))
  for pid in "$@"; do
    while group_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if group_alive "$pid"; then
      say "${names[$pid]} did not stop within ${timeout}s; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
}

shutdown_all() {
  [[ -n "$stopping" ]] && return
  stopping=1
  if [[ -n "$step_pid" ]]; then
    kill -TERM -- "-$step_pid" 2>/dev/null || true
    wait "$step_pid" 2>/dev/null || true
  fi
  ((${#pids[@]})) || [[ -n "$services_pid" ]] || return 0
  say "stopping the stack"
  if [[ -n "$services_pid" ]] && kill -0 "$services_pid" 2>/dev/null; then
    # The worker first (it puts running jobs back to pending), with the API, through their keepers
    # (which then exit 0: no restart); then concurrently stops what is left (MLflow).
    local keeper name keepers=()
    for name in worker api; do
      keeper="$(cat "$run_dir/$name.keeper" 2>/dev/null)" && kill -TERM "$keeper" 2>/dev/null && keepers+=("$keeper")
    done
    local deadline=$((SECONDS + ${STACK_STOP_TIMEOUT_S:-30} + 5))
    for keeper in "${keepers[@]}"; do
      while kill -0 "$keeper" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    done
    kill -TERM -- "-$services_pid" 2>/dev/null || true
    deadline=$((SECONDS + ${STACK_STOP_TIMEOUT_S:-30} + 10))
    while kill -0 "$services_pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -KILL -- "-$services_pid" 2>/dev/null || true
    wait "$services_pid" 2>/dev/null || true
  fi
  ((${#pids[@]})) && stop_groups 15 "${pids[@]}"
  say "stopped"
}

on_signal() {
  trap '' INT TERM HUP
  echo
  shutdown_all
  exit 0
}
trap on_signal INT TERM HUP
trap shutdown_all EXIT

died() { # pid
  local pid="$1" status=0
  wait "$pid" 2>/dev/null || status=$?
  printf 'stack: %s exited with status %s; last lines of %s:\n' "${names[$pid]}" "$status" "$logs/${names[$pid]}.log" >&2
  tail -n 30 "$logs/${names[$pid]}.log" | sed 's/^/  | /' >&2
  fail "${names[$pid]} died; stopping the rest"
}

is_local_host() { [[ "$1" == 127.0.0.1 || "$1" == localhost || "$1" == ::1 || "$1" == '[::1]' ]]; }

# ---------------------------------------------------------------------------------------------
# Install what is missing.
if [[ -L node_modules ]] && { [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; }; then
  # npm ci empties the folder a link points to (another checkout's modules) and leaves a half install.
  fail "node_modules is a link to $(readlink -f node_modules) and is missing or older than package-lock.json; run npm ci where it points, or replace the link with a folder"
elif [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing node modules (npm ci)"
  run_step npm ci --no-audit --no-fund --loglevel=error || fail "npm ci failed"
fi

run_step bash scripts/setup-python.sh || fail "scripts/setup-python.sh failed"

if ! command -v bwrap >/dev/null 2>&1 && [[ "${SANDBOX:-bwrap}" != none ]]; then
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing bubblewrap (the worker's sandbox)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap >/dev/null \
      || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap >/dev/null; } \
      || fail "apt-get could not install bubblewrap"
  else
    say "bwrap is missing and this is not root: install bubblewrap (Debian: apt-get install bubblewrap); the worker will refuse to start without it"
  fi
fi

outputs=(dist/apps/api/main.js dist/apps/worker/main.js)
needs_build=""
for output in "${outputs[@]}"; do
  if [[ ! -f "$output" ]]; then
    needs_build="$output is missing"
  elif newer="$(find apps libs tsconfig.json nest-cli.json package-lock.json \
    \( -name node_modules -o -name test -o -name '*.spec.ts' \) -prune -o -type f -newer "$output" -print -quit)" \
    && [[ -n "$newer" ]]; then
    needs_build="$newer is newer than $output"
  fi
  [[ -n "$needs_build" ]] && break
done
if [[ -n "$needs_build" ]]; then
  if [[ "${SKIP_BUILD:-}" == 1 && -f "${outputs[0]}" && -f "${outputs[1]}" ]]; then
    say "SKIP_BUILD=1: running dist/ as it is ($needs_build)"
  else
    say "building (npm run build): $needs_build"
    run_step npm run --silent build >"$logs/build.log" 2>&1 || {
      tail -n 40 "$logs/build.log" | sed 's/^/  | /' >&2
      fail "npm run build failed (full log: $logs/build.log)"
    }
    # webpack leaves an unchanged bundle untouched; mark both as built from these sources.
    touch "${outputs[@]}"
  fi
fi

# ---------------------------------------------------------------------------------------------
# Tokens: a random one for user `demo` unless API_TOKENS is set; kept so that restarts reuse it.
generated_token=""
if [[ -z "${API_TOKENS:-}" ]]; then
  token_file="$SHARED_DIR/stack-token"
  if [[ -s "$token_file" ]]; then
    generated_token="$(cat "$token_file")"
  else
    generated_token="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
    (umask 077 && printf '%s\n' "$generated_token" >"$token_file")
  fi
  export API_TOKENS="demo:$generated_token"
  export ADMIN_USERS="${ADMIN_USERS:-demo}"
fi

# ---------------------------------------------------------------------------------------------
# Redis: started only when nothing answers, the URL is local and redis-server exists.
redis_ping() {
  node -e "const R=require('ioredis');const r=new R(process.argv[1],{lazyConnect:true,maxRetriesPerRequest:0,retryStrategy:()=>null});r.on('error',()=>{});r.connect().then(()=>r.ping()).then(()=>process.exit(0),()=>process.exit(1))" "$REDIS_URL" 2>/dev/null
}
read -r redis_host redis_port < <(node -e "const u=new URL(process.argv[1]);console.log(u.hostname||'127.0.0.1',u.port||6379)" "$REDIS_URL") \
  || fail "REDIS_URL must look like redis://HOST:PORT/DB, got '$REDIS_URL'"
redis_note="already running"
if ! redis_ping; then
  is_local_host "$redis_host" || fail "Redis does not answer at $REDIS_URL and it is not on this machine; start it or set REDIS_URL"
  command -v redis-server >/dev/null 2>&1 || fail "Redis does not answer at $REDIS_URL and redis-server is not installed (Debian: apt-get install redis-server)"
  say "starting redis on port $redis_port"
  mkdir -p "$SHARED_DIR/redis"
  bind="$redis_host"
  [[ "$bind" == localhost ]] && bind=127.0.0.1
  [[ "$bind" == '[::1]' ]] && bind=::1
  start_service redis redis-server --port "$redis_port" --bind "$bind" --save '' --appendonly no \
    --daemonize no --dir "$SHARED_DIR/redis"
  redis_pid="$!"
  deadline=$((SECONDS + 20))
  until redis_ping; do
    kill -0 "$redis_pid" 2>/dev/null || died "$redis_pid"
    ((SECONDS < deadline)) || fail "redis did not answer at $REDIS_URL within 20s (log: $logs/redis.log)"
    sleep 0.2
  done
  redis_note="started by this stack"
fi

# MLflow: started only when the URI is local and nothing answers there yet.
mlflow_uri="${MLFLOW_TRACKING_URI%/}"
mlflow_note="already running"
services=()
service_names=()
# The API answers people; MLflow and the worker (and so the jobs, at 10 below it) work in the
# background. On a shared host they yield the CPU to the API: at the seed's load this took
# GET /jobs/{id}/status P95 from 15 to 8 ms (docs/benchmarks.md).
background_nice="${STACK_BACKGROUND_NICE:-5}"
[[ "$background_nice" =~ ^[0-9]+$ ]] && ((background_nice <= 19)) \
  || fail "STACK_BACKGROUND_NICE must be a niceness from 0 to 19 (got '$background_nice')"
add_service() { # name command...
  local name="$1"
  shift
  : >"$logs/$name.log"
  services+=("$(printf '%q ' bash scripts/keep-alive.sh "$name" "$run_dir" "$logs/$name.log" "$@")")
  service_names+=("$name")
}
# What the API and the worker wait for before each start: MLflow, when this stack runs it.
before=()
if ! curl --silent --fail --output /dev/null --max-time 2 "$mlflow_uri/health"; then
  [[ "$mlflow_uri" =~ ^https?://([^/:]+|\[[^]]+\]):([0-9]+)$ ]] \
    || fail "MLflow does not answer at $MLFLOW_TRACKING_URI; to start one here it must look like http://127.0.0.1:PORT"
  is_local_host "${BASH_REMATCH[1]}" || fail "MLflow does not answer at $MLFLOW_TRACKING_URI and it is not on this machine"
  say "starting MLflow at $mlflow_uri (data: $SHARED_DIR/mlflow)"
  add_service mlflow nice -n "$background_nice" bash scripts/start-mlflow.sh
  before=(bash scripts/run-after-http.sh "$mlflow_uri/health" 180)
  mlflow_note="started by this stack"
fi

say "starting api on port $PORT, and the worker"
add_service api "${before[@]}" node dist/apps/api/main.js
add_service worker "${before[@]}" nice -n "$background_nice" node dist/apps/worker/main.js
# Restarts are the keepers' (a window concurrently's --restart-tries cannot express); concurrently
# runs them, prefixes what they say, and stops the rest when one gives up (--kill-others-on-fail).
names_csv="$(IFS=,; echo "${service_names[*]}")"
setpriv --pdeathsig TERM -- setsid node node_modules/concurrently/dist/bin/concurrently.js \
  --names "$names_csv" --prefix '[{name}]' --kill-others-on-fail --restart-tries 0 \
  --kill-timeout $(((${STACK_STOP_TIMEOUT_S:-30} + 5) * 1000)) "${services[@]}" </dev/null &
services_pid=$!

services_gone() { # -> the stack stops with the reason the keepers printed
  local status=0
  wait "$services_pid" 2>/dev/null || status=$?
  services_pid=""
  fail "a service kept crashing or could not start (concurrently exited with status $status; see the lines above and $logs/*.log); stopping the rest"
}
service_pid() { cat "$run_dir/$1.pid" 2>/dev/null; }

api="http://127.0.0.1:$PORT"
deadline=$((SECONDS + 240))
until curl --silent --fail --output /dev/null --max-time 2 "$api/healthz"; do
  kill -0 "$services_pid" 2>/dev/null || services_gone
  ((SECONDS < deadline)) || fail "api did not answer at $api/healthz within 240s (log: $logs/api.log)"
  sleep 0.5
done

# The worker is ready once its heartbeat (id hostname:pid) shows up in /healthz.
deadline=$((SECONDS + 90))
until curl --silent --max-time 2 "$api/healthz" | node -e "
    let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
      try{process.exit(JSON.parse(s).workers.some(w=>String(w.id).endsWith(':'+process.argv[1]))?0:1)}catch{process.exit(1)}})" "$(service_pid worker)"; do
  kill -0 "$services_pid" 2>/dev/null || services_gone
  ((SECONDS < deadline)) || fail "the worker did not report in within 90s (log: $logs/worker.log)"
  sleep 0.5
done

# ---------------------------------------------------------------------------------------------
token="${API_TOKENS%%,*}"
token="${token#*:}"
mlflow_ui="${MLFLOW_PUBLIC_URI:-$mlflow_uri}"
cat <<EOF

================================================================================
 LeadersBoard is running  (Ctrl-C or SIGTERM stops what this script started)
   API          $api
   API docs     $api/docs
   Bull Board   $api/admin/queues   (log in as an ADMIN_USERS user with its token)
   MLflow UI    ${mlflow_ui%/}   ($mlflow_note)
   Redis        $REDIS_URL   ($redis_note)
   token        $(if [[ -n "$generated_token" ]]; then echo "user demo, token $generated_token   (kept in $SHARED_DIR/stack-token)"; else echo "from API_TOKENS (${API_TOKENS%%:*} and others)"; fi)
   try          curl -H "Authorization: Bearer ${generated_token:-<token>}" $api/jobs
   data         $SHARED_DIR
   logs         $logs/{$(list=("${service_names[@]}"); for pid in "${pids[@]}"; do list+=("${names[$pid]}"); done; IFS=,; echo "${list[*]}")}.log
================================================================================

EOF
if [[ -n "${STACK_READY_FILE:-}" ]]; then
  printf '%s\n' "$token" >"$STACK_READY_FILE.tmp" && mv "$STACK_READY_FILE.tmp" "$STACK_READY_FILE"
fi

# Wait until the services give up (-> exit 1) or a signal arrives (-> trap, exit 0). Redis, when
# this stack started it, is not restarted: it keeps nothing on disk, so a new one would be empty.
while true; do
  exited=""
  wait -n -p exited "$services_pid" "${pids[@]}" || true
  [[ -n "$stopping" ]] && break
  [[ "$exited" == "$services_pid" ]] && services_gone
  [[ -n "$exited" ]] && died "$exited"
done
