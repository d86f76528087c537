#!/usr/bin/env bash
# The first thing to run on a fresh clone (npm run demo): starts the stack (scripts/stack.sh, data
# under ./data/demo) unless an API already answers on PORT, submits examples/anomaly-digits through
# the public API, follows the job to its end and prints its log tail and results, then stops the
# stack it started. Exit status 0 only when the job completed.
#
# Env: PORT (8010), SHARED_DIR (./data/demo, for the stack this starts), DEMO_KEEP=1 (leave the
#      stack running), DEMO_TIMEOUT_S (300, for the job), DEMO_TOKEN (token for an API that is
#      already running; default: API_TOKENS' first token, else the stack's $SHARED_DIR/stack-token),
#      DEMO_EXAMPLE (examples/anomaly-digits). Everything else goes to scripts/stack.sh unchanged.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export PORT="${PORT:-8010}"
api="http://127.0.0.1:$PORT"
example="${DEMO_EXAMPLE:-examples/anomaly-digits}"
timeout_s="${DEMO_TIMEOUT_S:-300}"
started_at=$SECONDS

say() { printf 'demo: %s\n' "$*"; }
fail() { printf 'demo: %s\n' "$*" >&2; exit 1; }
elapsed() { printf '%3ds' $((SECONDS - started_at)); }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/lb-demo.XXXXXX")"
stack_pid=""
tail_pid=""
stack_log=""

cleanup() {
  local status=$?
  trap '' INT TERM HUP PIPE
  [[ -n "$tail_pid" ]] && kill "$tail_pid" 2>/dev/null && wait "$tail_pid" 2>/dev/null
  if [[ -n "$stack_pid" ]] && kill -0 "$stack_pid" 2>/dev/null; then
    if [[ "${DEMO_KEEP:-}" == 1 && "$status" -le 128 ]]; then
      say "DEMO_KEEP=1: the stack keeps running (pid $stack_pid; stop it with: kill $stack_pid; its output: $stack_log)"
    else
      say "stopping the stack it started (pid $stack_pid)"
      kill -TERM "$stack_pid" 2>/dev/null || true
      wait "$stack_pid" 2>/dev/null || true
      tail -n 3 "$stack_log" | sed 's/^/  | /'
    fi
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# ---------------------------------------------------------------------------------------------
# The stack: reuse an API that answers on PORT, or start one.
if curl --silent --output /dev/null --max-time 2 "$api/healthz"; then
  say "an API already answers at $api; using it"
  token="${DEMO_TOKEN:-}"
  if [[ -z "$token" && -n "${API_TOKENS:-}" ]]; then
    token="${API_TOKENS%%,*}"
    token="${token#*:}"
  fi
  for file in "${SHARED_DIR:-./data}/stack-token" ./data/demo/stack-token ./data/stack-token; do
    [[ -z "$token" && -s "$file" ]] && token="$(cat "$file")"
  done
  [[ -n "$token" ]] || fail "no token for the API at $api: set DEMO_TOKEN (or API_TOKENS as the stack has it)"
else
  mkdir -p "${SHARED_DIR:-./data/demo}"
  SHARED_DIR="$(cd "${SHARED_DIR:-./data/demo}" && pwd)"
  export SHARED_DIR
  # Its own key prefix too, so demo jobs never show up in (or get run by) a stack on the same Redis db.
  export REDIS_PREFIX="${REDIS_PREFIX:-leaderboard-demo}"
  mkdir -p "$SHARED_DIR/stack-logs"
  stack_log="$SHARED_DIR/stack-logs/stack.log"
  say "starting the stack (scripts/stack.sh, data in $SHARED_DIR)"
  [[ -d node_modules && -f dist/apps/worker/main.js ]] || say "a fresh clone installs and builds first: that takes a few minutes"
  # Unless it is to outlive this script, the stack also stops when this script dies of a signal it
  # cannot trap (SIGKILL).
  keep=(setpriv --pdeathsig TERM --)
  [[ "${DEMO_KEEP:-}" == 1 ]] && keep=()
  STACK_READY_FILE="$tmp/ready" "${keep[@]}" bash scripts/stack.sh >"$stack_log" 2>&1 &
  stack_pid=$!
  # Show what the stack says while it comes up.
  tail -n +1 -f --pid="$stack_pid" "$stack_log" | sed -u 's/^/  | /' &
  tail_pid=$!
  deadline=$((SECONDS + ${DEMO_STACK_TIMEOUT_S:-1200}))
  until [[ -s "$tmp/ready" ]]; do
    kill -0 "$stack_pid" 2>/dev/null || { wait "$stack_pid" 2>/dev/null || true; sleep 0.3; fail "the stack did not start (its output is above and in $stack_log)"; }
    ((SECONDS < deadline)) || fail "the stack was not ready within ${DEMO_STACK_TIMEOUT_S:-1200}s (see $stack_log)"
    sleep 0.5
  done
  sleep 0.3 # let the tail print the stack's summary block
  kill "$tail_pid" 2>/dev/null || true
  wait "$tail_pid" 2>/dev/null || true
  tail_pid=""
  token="$(cat "$tmp/ready")"
fi

# ---------------------------------------------------------------------------------------------
# HTTP helpers: the body goes to $tmp/body; anything but 2xx fails with the API's message.
call() { # METHOD PATH [curl args...]
  local method="$1" path="$2" code
  shift 2
  code="$(curl --silent --show-error --max-time 30 -X "$method" -o "$tmp/body" -w '%{http_code}' \
    -H "Authorization: Bearer $token" "$@" "$api$path")" || fail "$method $path: no answer from $api"
  [[ "$code" == 2* ]] || fail "$method $path answered $code: $(cat "$tmp/body")"
}
# Prints fields of the JSON in $tmp/body: json a b.c -> one line per field.
json() {
  node -e '
    const body = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const path of process.argv.slice(2)) {
      const value = path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), body);
      console.log(value == null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));
    }' "$tmp/body" "$@"
}

call GET /healthz
workers="$(node -e 'console.log((JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).workers||[]).length)' "$tmp/body")"
[[ "$workers" -gt 0 ]] || say "warning: /healthz lists no live worker; the job will wait until one starts"

# ---------------------------------------------------------------------------------------------
say "submitting $example (POST /submissions)"
[[ -f "$example/main.py" && -f "$example/config.yaml" ]] || fail "$example needs main.py and config.yaml"
call POST /submissions -F "files=@$example/main.py" -F "files=@$example/config.yaml" \
  -F entrypoint=main.py -F config_file=config.yaml
submission_id="$(json submission_id)"
say "submission $submission_id"

call POST /jobs -H 'Content-Type: application/json' -d "{\"submission_id\":\"$submission_id\"}"
job_id="$(json job_id)"
say "job $job_id queued (POST /jobs)"

job_started=$SECONDS
last=""
status=""
while true; do
  call GET "/jobs/$job_id/status"
  status="$(json status)"
  if [[ "$status" != "$last" ]]; then
    say "[$(printf '%3ds' $((SECONDS - job_started)))] status: $status"
    last="$status"
  fi
  case "$status" in completed | failed | cancelled) break ;; esac
  ((SECONDS - job_started < timeout_s)) || fail "job $job_id is still $status after ${timeout_s}s (GET $api/jobs/$job_id/logs)"
  sleep 1
done
error_message="$(json error_message)"
job_seconds=$((SECONDS - job_started))

call GET "/jobs/$job_id/logs"
echo
echo "----- job log (last 25 lines of GET /jobs/{id}/logs) -----"
tail -n 25 "$tmp/body"
echo "-----------------------------------------------------------"

if [[ "$status" != completed ]]; then
  fail "job $job_id ended $status${error_message:+: $error_message}"
fi

call GET "/jobs/$job_id/results"
echo
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const lines = [
    "Results (GET /jobs/{id}/results)",
    `  job          ${r.job_id}`,
    `  MLflow run   ${r.run_id}`,
    `  MLflow UI    ${r.mlflow_ui_link}`,
    "  metrics",
  ];
  const metrics = r.metrics || {};
  const width = Math.max(0, ...Object.keys(metrics).map((k) => k.length));
  for (const key of Object.keys(metrics).sort()) {
    const value = metrics[key];
    lines.push(`    ${key.padEnd(width)}  ${typeof value === "number" ? Number(value.toPrecision(6)) : value}`);
  }
  const rule = "=".repeat(Math.max(...lines.map((l) => l.length)));
  console.log([rule, ...lines, rule].join("\n"));
' "$tmp/body"
echo
say "job completed in ${job_seconds}s; demo took $(elapsed | tr -d ' ')"
say "next: open the API docs at $api/docs, or submit your own code like $example/README.md shows"
