#!/usr/bin/env bash
# Runs the MLflow tracking server in the foreground (exec), so a caller can background and kill it.
# Env: MLFLOW_TRACKING_URI (host and port to serve, default http://127.0.0.1:5010),
#      MLFLOW_BIND_HOST (interface to bind instead of the URI's host, e.g. 0.0.0.0 in a container),
#      SHARED_DIR (default ./data; artifacts, and the SQLite database, live under $SHARED_DIR/mlflow),
#      MLFLOW_BACKEND_STORE_URI (default the SQLite file $SHARED_DIR/mlflow/mlflow.db; production:
#        postgresql://USER:PASSWORD@HOST:5432/DB, created empty, MLflow makes its tables on start),
#      MLFLOW_WORKERS (server processes: 1 on SQLite, which takes no more; 4 on another database),
#      VENV_DIR (default <repo>/.venv, made by scripts/setup-python.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VENV_DIR:-$root/.venv}"
uri="${MLFLOW_TRACKING_URI:-http://127.0.0.1:5010}"

fail() { echo "start-mlflow: $*" >&2; exit 1; }

[[ -x "$venv/bin/mlflow" ]] || fail "$venv/bin/mlflow not found; run scripts/setup-python.sh first"

# http://HOST:PORT[/...] -> HOST, PORT
if [[ ! "$uri" =~ ^https?://([^/:]+):([0-9]+)/?$ ]]; then
  fail "MLFLOW_TRACKING_URI must look like http://HOST:PORT, got '$uri'"
fi
host="${BASH_REMATCH[1]}"
port="${BASH_REMATCH[2]}"

shared="${SHARED_DIR:-./data}"
mkdir -p "$shared/mlflow/artifacts"
shared="$(cd "$shared" && pwd)"

store="${MLFLOW_BACKEND_STORE_URI:-sqlite:///$shared/mlflow/mlflow.db}"
# SQLite takes one writer at a time: a second process would meet "database is locked" under load.
if [[ "$store" == sqlite:* ]]; then
  workers="${MLFLOW_WORKERS:-1}"
  [[ "$workers" == 1 ]] || fail "MLFLOW_WORKERS=$workers needs a database server; SQLite runs with 1 (set MLFLOW_BACKEND_STORE_URI)"
else
  workers="${MLFLOW_WORKERS:-4}"
fi
[[ "$workers" =~ ^[1-9][0-9]*$ ]] || fail "MLFLOW_WORKERS must be a positive integer, got '$workers'"

# Host headers we answer to: local callers, the compose service name, and the URI's own host.
allowed="127.0.0.1:$port,localhost:$port,mlflow:$port"
[[ ",$allowed," == *",$host:$port,"* ]] || allowed="$allowed,$host:$port"

# The job runner serves GenAI features (judges, trace rollups) we do not use; it costs ~230 MB.
export MLFLOW_DISABLE_TELEMETRY=true
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"

exec "$venv/bin/mlflow" server \
  --backend-store-uri "$store" \
  --serve-artifacts \
  --artifacts-destination "$shared/mlflow/artifacts" \
  --host "${MLFLOW_BIND_HOST:-$host}" \
  --port "$port" \
  --workers "$workers" \
  --allowed-hosts "$allowed"
