#!/usr/bin/env bash
# npm run bench:load: the seed's load test. Starts a stack of its own with scripts/stack.sh (a
# throwaway MLflow, the API and one worker from dist/, built first when stale; its own Redis prefix
# and a temporary SHARED_DIR; the rate limits as configured), runs bench/locustfile.py headless
# against it, prints P50/P95 per endpoint against the seed's targets, keeps Locust's CSVs, and
# stops and removes everything it started. Exits non-zero when the run saw failures (429s are not).
# While Locust runs, bench/reference-client.mjs (a user of its own) uploads a 1 MB and a small
# main.py in turn and prints their P50/P95 from a client that is not Locust's.
#
# Env: LOAD_USERS (100), LOAD_SPAWN_RATE (10 per s), LOAD_DURATION (180s), LOAD_RESET_STATS (1: the
#      figures start once every user is spawned, as Locust's --reset-stats; 0: from the first request),
#      LOAD_CSV (docs/load/seed: writes docs/load/seed_stats.csv and the rest),
#      REDIS_URL (redis://127.0.0.1:6379/0), RATE_LIMIT_JOBS_PER_HOUR / RATE_LIMIT_CONCURRENT_JOBS
#      (the API's defaults, 10 and 3), and anything else the API and worker read (.env.example).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

users="${LOAD_USERS:-100}"
spawn_rate="${LOAD_SPAWN_RATE:-10}"
duration="${LOAD_DURATION:-180s}"
csv="${LOAD_CSV:-docs/load/seed}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

say() { printf 'load: %s\n' "$*"; }

# Locust's -t value (90s, 2m, 1h30m, or plain seconds) in seconds.
duration_seconds() {
  local text="$1" total=0 number unit
  [[ "$text" =~ ^[0-9]+$ ]] && { echo "$text"; return; }
  while [[ "$text" =~ ^([0-9]+)([hms])(.*)$ ]]; do
    number="${BASH_REMATCH[1]}" unit="${BASH_REMATCH[2]}" text="${BASH_REMATCH[3]}"
    case "$unit" in h) total=$((total + number * 3600)) ;; m) total=$((total + number * 60)) ;; s) total=$((total + number)) ;; esac
  done
  echo "$total"
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

temp="$(mktemp -d "${TMPDIR:-/tmp}/lb-load-XXXXXX")"
# The sandboxed jobs run as another uid, which must reach SHARED_DIR inside it.
chmod 755 "$temp"
prefix="load:$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')"
stack_pid=""

cleanup() {
  if [[ -n "$stack_pid" ]] && kill -0 "$stack_pid" 2>/dev/null; then
    kill -TERM "$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
  fi
  local deleted
  deleted="$(node -e "
    const Redis=require('ioredis');const r=new Redis(process.argv[1],{maxRetriesPerRequest:2});
    (async()=>{let c='0',n=0;do{const [next,keys]=await r.scan(c,'MATCH',process.argv[2]+':*','COUNT',1000);
      if(keys.length)n+=await r.del(...keys);c=next}while(c!=='0');console.log(n);await r.quit()})()
      .catch(e=>{console.log('? ('+e.message+')');process.exit(0)})" "$REDIS_URL" "$prefix")"
  rm -rf "$temp"
  say "cleanup: stack stopped, $deleted Redis keys under $prefix:* deleted, $temp removed"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One user and token per simulated user, so each has its own rate limits.
tokens=()
for ((i = 1; i <= users; i++)); do
  tokens+=("$(printf 'load%03d' "$i"):$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')")
done
reference_token="reference:$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
api_tokens="$(IFS=,; echo "${tokens[*]},$reference_token")"

port="$(free_port)"
mlflow_port="$(free_port)"
say "$(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
say "stack: API on 127.0.0.1:$port, MLflow on 127.0.0.1:$mlflow_port, Redis prefix $prefix, SHARED_DIR $temp/shared (log: $temp/stack.log)"

PORT="$port" SHARED_DIR="$temp/shared" MLFLOW_TRACKING_URI="http://127.0.0.1:$mlflow_port" \
  REDIS_PREFIX="$prefix" API_TOKENS="$api_tokens" STACK_READY_FILE="$temp/ready" \
  bash scripts/stack.sh >"$temp/stack.log" 2>&1 &
stack_pid=$!

deadline=$((SECONDS + 600))
until [[ -s "$temp/ready" ]]; do
  if ! kill -0 "$stack_pid" 2>/dev/null; then
    tail -n 40 "$temp/stack.log" | sed 's/^/  | /' >&2
    say "the stack did not start" >&2
    exit 1
  fi
  ((SECONDS < deadline)) || { tail -n 40 "$temp/stack.log" | sed 's/^/  | /' >&2; say "the stack was not ready within 600 s" >&2; exit 1; }
  sleep 0.5
done
say "stack ready after ${SECONDS} s; Locust: $users users (spawn $spawn_rate/s) for $duration, 1-5 s think time"

mkdir -p "$(dirname "$csv")"
status=0
# Steady state by default: every user's first step is an upload, so the ramp-up puts the first 100
# uploads on a cold API at once; LOAD_RESET_STATS=0 keeps them in the figures.
reset_stats="--reset-stats"
[[ "${LOAD_RESET_STATS:-1}" == 0 ]] && reset_stats=""
# A second client (its own user, so the Locust users' limits are untouched) for the upload latency
# apart from Locust's own client; it starts once the users are spawned and stops before Locust does.
reference_seconds=$(( $(duration_seconds "$duration") - users / spawn_rate - 5 ))
if ((reference_seconds > 5)); then
  ( sleep "$(( users / spawn_rate + 2 ))"
    node bench/reference-client.mjs "http://127.0.0.1:$port" "${reference_token#*:}" "$reference_seconds" >"$temp/reference.txt" 2>&1 ) &
  reference_pid=$!
fi
LOAD_TOKENS="$api_tokens" LOAD_JOBS_PER_USER="${RATE_LIMIT_JOBS_PER_HOUR:-10}" \
  .venv/bin/locust -f bench/locustfile.py --headless -u "$users" -r "$spawn_rate" -t "$duration" \
  --host "http://127.0.0.1:$port" --csv "$csv" --only-summary --loglevel WARNING $reset_stats || status=$?
if [[ -n "${reference_pid:-}" ]]; then
  wait "$reference_pid" || status=1
  printf '\n'
  sed 's/^/- /' "$temp/reference.txt"
fi
say "CSVs: ${csv}_stats.csv, ${csv}_failures.csv, ${csv}_exceptions.csv, ${csv}_stats_history.csv"
exit "$status"
