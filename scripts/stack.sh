#!/usr/bin/env bash
# Runs the whole stack natively in the foreground (npm run stack): Redis and MLflow when they are
# local and not running yet, then the API and the worker. Ctrl-C or SIGTERM stops everything it
# started; if a service dies, its log tail is printed, the rest is stopped and the exit code is 1.
#
# Installs what is missing first: node_modules (npm ci), the Python venv (scripts/setup-python.sh),
# bubblewrap (apt-get, as root), and dist/ (npm run build) when it is missing or older than the code.
#
# Env (see .env.example for the rest, which the API and worker read themselves):
#   PORT (8010), REDIS_URL (redis://127.0.0.1:6379/0), SHARED_DIR (./data),
#   MLFLOW_TRACKING_URI (http://127.0.0.1:5010), API_TOKENS (default: a random token for user
#   `demo`, kept in $SHARED_DIR/stack-token and reused), ADMIN_USERS (default: demo with that token),
#   SKIP_BUILD=1 (run dist/ as it is), STACK_READY_FILE (path: written with the token once healthy).
# Two stacks run side by side with different PORT, REDIS_URL (another port or db index), SHARED_DIR
# and MLFLOW_TRACKING_URI port: nothing here uses a fixed path or port.
set -euo pipefail
umask 022

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf 'stack: %s\n' "$*"; }
fail() { printf 'stack: %s\n' "$*" >&2; shutdown_all; exit 1; }

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
mkdir -p "$logs"

# ---------------------------------------------------------------------------------------------
# Process bookkeeping. Each service runs in its own session (setsid), so its pid is also its
# process-group id and stopping it takes its children along; --pdeathsig makes a service stop
# even if this script is killed with SIGKILL and cannot run its trap.
declare -a pids=()
declare -A names=()
stopping=""

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
  ((${#pids[@]})) || return 0
  local list=() pid
  for pid in "${pids[@]}"; do list+=("${names[$pid]}"); done
  say "stopping ${list[*]}"
  # The worker first (it puts running jobs back to pending), with the API; then what they use.
  local front=() back=()
  for pid in "${pids[@]}"; do
    case "${names[$pid]}" in worker | api) front+=("$pid") ;; *) back+=("$pid") ;; esac
  done
  ((${#front[@]})) && stop_groups 30 "${front[@]}"
  ((${#back[@]})) && stop_groups 15 "${back[@]}"
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

# Polls URL until it answers 2xx (like scripts/wait-for-http.sh), but gives up at once when the
# service's process is gone, and stays responsive to Ctrl-C / SIGTERM.
wait_http() { # name pid url timeout_s
  local name="$1" pid="$2" url="$3" deadline=$((SECONDS + $4))
  until curl --silent --fail --output /dev/null --max-time 2 "$url"; do
    [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null && died "$pid"
    ((SECONDS < deadline)) || fail "$name did not answer at $url within $4s (log: $logs/$name.log)"
    sleep 0.5
  done
}

is_local_host() { [[ "$1" == 127.0.0.1 || "$1" == localhost || "$1" == ::1 || "$1" == '[::1]' ]]; }

# ---------------------------------------------------------------------------------------------
# Install what is missing.
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
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
if ! curl --silent --fail --output /dev/null --max-time 2 "$mlflow_uri/health"; then
  [[ "$mlflow_uri" =~ ^https?://([^/:]+|\[[^]]+\]):([0-9]+)$ ]] \
    || fail "MLflow does not answer at $MLFLOW_TRACKING_URI; to start one here it must look like http://127.0.0.1:PORT"
  is_local_host "${BASH_REMATCH[1]}" || fail "MLflow does not answer at $MLFLOW_TRACKING_URI and it is not on this machine"
  say "starting MLflow at $mlflow_uri (data: $SHARED_DIR/mlflow)"
  start_service mlflow bash scripts/start-mlflow.sh
  wait_http mlflow "$!" "$mlflow_uri/health" 180
  mlflow_note="started by this stack"
fi

# API and worker.
say "starting api on port $PORT"
start_service api node dist/apps/api/main.js
api_pid="$!"
say "starting worker"
start_service worker node dist/apps/worker/main.js
worker_pid="$!"
api="http://127.0.0.1:$PORT"
wait_http api "$api_pid" "$api/healthz" 60

# The worker is ready once its heartbeat (id hostname:pid) shows up in /healthz.
deadline=$((SECONDS + 90))
until curl --silent --max-time 2 "$api/healthz" | node -e "
    let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
      try{process.exit(JSON.parse(s).workers.some(w=>String(w.id).endsWith(':'+process.argv[1]))?0:1)}catch{process.exit(1)}})" "$worker_pid"; do
  kill -0 "$worker_pid" 2>/dev/null || died "$worker_pid"
  kill -0 "$api_pid" 2>/dev/null || died "$api_pid"
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
   logs         $logs/{$(list=(); for pid in "${pids[@]}"; do list+=("${names[$pid]}"); done; IFS=,; echo "${list[*]}")}.log
================================================================================

EOF
if [[ -n "${STACK_READY_FILE:-}" ]]; then
  printf '%s\n' "$token" >"$STACK_READY_FILE.tmp" && mv "$STACK_READY_FILE.tmp" "$STACK_READY_FILE"
fi

# Wait until a service dies (-> exit 1) or a signal arrives (-> trap, exit 0).
while true; do
  exited=""
  wait -n -p exited "${pids[@]}" || true
  [[ -n "$stopping" ]] && break
  [[ -n "$exited" ]] && died "$exited"
done
