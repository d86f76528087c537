#!/usr/bin/env bash
# The first thing to run on a fresh clone (npm run demo): starts the stack (scripts/stack.sh, data
# under ./data/demo, benchmarks from ./benchmarks) unless an API already answers on PORT, submits
# examples/anomaly-digits and the deliberately weak examples/weak-digits to the digits-anomaly
# benchmark through the public API, follows both jobs to their end, prints each job's log tail and
# official scores, then the benchmark's board, and stops the stack it started. Exit status 0 only
# when every job completed.
#
# Env: PORT (8010), SHARED_DIR (./data/demo, for the stack this starts), DEMO_KEEP=1 (leave the
#      stack running), DEMO_TIMEOUT_S (300, for the jobs), DEMO_TOKEN (token for an API that is
#      already running; default: API_TOKENS' first token, else the stack's $SHARED_DIR/stack-token),
#      DEMO_EXAMPLES ("examples/anomaly-digits examples/weak-digits"), DEMO_BENCHMARK
#      (digits-anomaly). Everything else goes to scripts/stack.sh unchanged.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export PORT="${PORT:-8010}"
api="http://127.0.0.1:$PORT"
read -r -a examples <<<"${DEMO_EXAMPLES:-examples/anomaly-digits examples/weak-digits}"
benchmark="${DEMO_BENCHMARK:-digits-anomaly}"
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
  export BENCHMARKS_DIR="${BENCHMARKS_DIR:-$root/benchmarks}"
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
[[ "$workers" -gt 0 ]] || say "warning: /healthz lists no live worker; the jobs will wait until one starts"

call GET /benchmarks
problem="$(node -e '
  const { benchmarks = [] } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const found = benchmarks.find((b) => b.id === process.argv[2]);
  if (!found) console.log(`the API has no benchmark ${process.argv[2]} (it has: ${benchmarks.map((b) => b.id).join(", ") || "none"}); is BENCHMARKS_DIR set to ./benchmarks?`);
  else if (!found.available) console.log(`benchmark ${found.id} is unavailable: ${found.problem}`);
' "$tmp/body" "$benchmark")"
[[ -z "$problem" ]] || fail "$problem"

# ---------------------------------------------------------------------------------------------
# Submit every example to the benchmark.
job_ids=()
for example in "${examples[@]}"; do
  [[ -f "$example/main.py" && -f "$example/config.yaml" ]] || fail "$example needs main.py and config.yaml"
  call POST /submissions -F "files=@$example/main.py" -F "files=@$example/config.yaml" \
    -F entrypoint=main.py -F config_file=config.yaml
  submission_id="$(json submission_id)"
  call POST /jobs -H 'Content-Type: application/json' \
    -d "{\"submission_id\":\"$submission_id\",\"benchmark\":\"$benchmark\"}"
  job_ids+=("$(json job_id)")
  say "$example: submission $submission_id, job ${job_ids[-1]} queued on $benchmark"
done

# Follow them all until each has ended.
jobs_started=$SECONDS
declare -A status=() error_message=()
while true; do
  pending=0
  for i in "${!job_ids[@]}"; do
    job_id="${job_ids[$i]}"
    case "${status[$job_id]:-}" in completed | failed | cancelled) continue ;; esac
    call GET "/jobs/$job_id/status"
    now="$(json status)"
    if [[ "$now" != "${status[$job_id]:-}" ]]; then
      say "[$(printf '%3ds' $((SECONDS - jobs_started)))] ${examples[$i]}: $now"
      status[$job_id]="$now"
      error_message[$job_id]="$(json error_message)"
    fi
    case "$now" in completed | failed | cancelled) ;; *) pending=$((pending + 1)) ;; esac
  done
  ((pending > 0)) || break
  ((SECONDS - jobs_started < timeout_s)) || fail "$pending job(s) still running after ${timeout_s}s (GET $api/jobs/{id}/logs)"
  sleep 1
done
jobs_seconds=$((SECONDS - jobs_started))

# ---------------------------------------------------------------------------------------------
# Each job: its log tail, then its official scores (or why it has none).
failures=0
for i in "${!job_ids[@]}"; do
  job_id="${job_ids[$i]}"
  call GET "/jobs/$job_id/logs"
  echo
  echo "----- ${examples[$i]}: job $job_id, last 12 lines of GET /jobs/{id}/logs -----"
  tail -n 12 "$tmp/body"
  if [[ "${status[$job_id]}" != completed ]]; then
    say "job $job_id ended ${status[$job_id]}${error_message[$job_id]:+: ${error_message[$job_id]}}"
    failures=$((failures + 1))
    continue
  fi
  call GET "/jobs/$job_id/results"
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const show = (v) => (typeof v === "number" ? String(Number(v.toPrecision(6))) : String(v));
    const lines = [`Results of ${process.argv[2]} (GET /jobs/{id}/results)`, `  job           ${r.job_id}`,
      `  benchmark     ${r.benchmark ?? "(none)"}`, `  MLflow UI     ${r.mlflow_ui_link}`];
    for (const [title, metrics] of [["scores (official, from the scorer)", r.scores], ["reported_metrics (what the code logged; never ranked)", r.reported_metrics ?? r.metrics]]) {
      lines.push(`  ${title}`);
      const keys = Object.keys(metrics || {}).sort();
      if (!keys.length) lines.push("    (none)");
      const width = Math.max(0, ...keys.map((k) => k.length));
      for (const key of keys) lines.push(`    ${key.padEnd(width)}  ${show(metrics[key])}`);
    }
    const rule = "=".repeat(Math.max(...lines.map((l) => l.length)));
    console.log([rule, ...lines, rule].join("\n"));
  ' "$tmp/body" "${examples[$i]}"
done

# ---------------------------------------------------------------------------------------------
# The board: best job per user (the demo's jobs share one user, so one row), then every scored job.
board() { # title query
  call GET "/benchmarks/$benchmark/leaderboard?$2"
  node -e '
    const b = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const show = (v) => (typeof v === "number" ? v.toFixed(4) : "-");
    const secondary = b.benchmark.secondary || [];
    const header = ["rank", "user", b.benchmark.metric, ...secondary, "job"];
    const rows = b.rows.map((r) => [String(r.rank), r.user_id, show(r.score), ...secondary.map((s) => show((r.secondary || {})[s])), r.job_id]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells) => "  " + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
    console.log(`\n${process.argv[2]}`);
    console.log(`  ${b.benchmark.title}: a ${b.benchmark.order === "desc" ? "higher" : "lower"} ${b.benchmark.metric} ranks first; ${b.rows.length} of ${b.total} shown`);
    console.log(line(header));
    for (const row of rows) console.log(line(row));
    if (!rows.length) console.log("  (no scored jobs yet)");
  ' "$tmp/body" "$1"
}
board "Board (GET /benchmarks/$benchmark/leaderboard: best job per user)" "limit=10"
board "Every scored job (?all=true)" "all=true&limit=10"

echo
((failures == 0)) || fail "$failures of ${#job_ids[@]} jobs did not complete"
say "${#job_ids[@]} jobs completed in ${jobs_seconds}s; demo took $(elapsed | tr -d ' ')"
say "next: the web UI at $api/ (sign in with the token above), the API docs at $api/docs, or the CLI:"
say "  LEADERBOARD_URL=$api LEADERBOARD_TOKEN=<token> npm run --silent leaderboard -- submit ${examples[0]} --benchmark $benchmark --wait --follow"
if [[ -n "$stack_pid" && "${DEMO_KEEP:-}" != 1 ]]; then
  say "  (run the demo with DEMO_KEEP=1 to keep the stack running for them)"
fi
