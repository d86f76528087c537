#!/usr/bin/env bash
# The one test command (npm test, and CI): installs what is missing, starts a throwaway MLflow,
# then runs lint, typecheck, unit/contract tests and e2e tests against the real services.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n== %s\n' "$*"; }

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

if ! command -v bwrap >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    step "apt-get install bubblewrap (the sandbox)"
    apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "bubblewrap (bwrap) is missing: the worker tests need it; install the Debian package bubblewrap" >&2
    exit 1
  fi
fi

# The browser tests drive Debian's chromium through playwright-core (Playwright's own download cannot work here).
if [[ -z "${CHROMIUM_PATH:-}" ]] && ! command -v chromium >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    step "apt-get install chromium (the browser tests)"
    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
  else
    echo "chromium is missing: the browser tests need it; install the Debian package chromium or set CHROMIUM_PATH" >&2
    exit 1
  fi
fi

# The sandbox uid (65534) opens the venv itself. A clone under a private folder (such as /root)
# is out of its reach, so the venv then lives in a world-readable place instead.
if [[ -z "${VENV_DIR:-}" && $(id -u) -eq 0 ]] && ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$root"; then
  export VENV_DIR=/var/tmp/leadersboard-venv
  echo "note: uid 65534 cannot reach $root; the venv goes to VENV_DIR=$VENV_DIR"
fi

step "python venv (MLflow server and job runtime)"
bash scripts/setup-python.sh

redis_url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
if ! node -e "const R=require('ioredis');const r=new R(process.argv[1],{lazyConnect:true,maxRetriesPerRequest:0});r.connect().then(()=>r.ping()).then(()=>process.exit(0),()=>process.exit(1))" "$redis_url" 2>/dev/null; then
  echo "Redis does not answer at $redis_url; start one (redis-server) or set REDIS_URL" >&2
  exit 1
fi

pg_url="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
if ! psql "$pg_url" -Atqc 'select 1' >/dev/null 2>&1; then
  echo "PostgreSQL does not answer at $pg_url; the MLflow-on-PostgreSQL test needs it (set TEST_POSTGRES_URL)" >&2
  exit 1
fi

work="$(mktemp -d /tmp/lb-test.XXXXXX)"
mlflow_pid=""
cleanup() {
  [[ -n "$mlflow_pid" ]] && kill "$mlflow_pid" 2>/dev/null && wait "$mlflow_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

mlflow_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export MLFLOW_TRACKING_URI="http://127.0.0.1:$mlflow_port"
step "throwaway MLflow server at $MLFLOW_TRACKING_URI"
SHARED_DIR="$work/shared" bash scripts/start-mlflow.sh >"$work/mlflow.log" 2>&1 &
mlflow_pid=$!
if ! bash scripts/wait-for-http.sh "$MLFLOW_TRACKING_URI/health" 120; then
  tail -20 "$work/mlflow.log" >&2
  exit 1
fi

step "lint (eslint + layer rules)"
npm run --silent lint

step "Dockerfiles and compose file (static checks; no Docker engine here)"
bash scripts/check-docker.sh

step "typecheck"
npm run --silent typecheck

step "API document, docs/api.md and client types are current (npm run docs:api)"
bash scripts/docs-api.sh --check

step "unit and contract tests"
status=0
# Coverage: each jest run writes coverage/<run>/coverage-final.json; the worker and CLI processes the e2e
# tests start write V8 coverage to coverage/child (the harnesses pass CHILD_V8_COVERAGE on as NODE_V8_COVERAGE).
rm -rf coverage
npx jest --config jest.config.js --coverage --json --outputFile="$work/unit.json" || status=$?

step "build (the worker e2e tests run the built worker)"
npm run --silent build >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }

step "e2e tests"
CHILD_V8_COVERAGE="$root/coverage/child" npx jest --config jest.e2e.config.js --runInBand --coverage --json --outputFile="$work/e2e.json" || status=$?

step "line coverage of libs/ and apps/ (unit + e2e + worker and CLI processes; fails under COVERAGE_MIN, 80)"
npx ts-node -r tsconfig-paths/register --transpile-only scripts/coverage.ts || status=$?

node -e '
  let passed = 0, failed = 0;
  for (const file of process.argv.slice(1)) {
    try { const r = require(file); passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites; }
    catch { failed += 1; }
  }
  console.log(`\ntests: ${passed} passed, ${failed} failed`);
' "$work/unit.json" "$work/e2e.json"
exit "$status"
