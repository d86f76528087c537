#!/usr/bin/env bash
# Usage: run-after-http.sh URL TIMEOUT_S COMMAND...
# Waits until URL answers 2xx (scripts/wait-for-http.sh), then execs COMMAND in this process (its
# pid stays the one the caller saw). The stack's API and worker start this way after MLflow.
set -euo pipefail
url="${1:?usage: run-after-http.sh URL TIMEOUT_S COMMAND...}"
timeout_s="${2:?usage: run-after-http.sh URL TIMEOUT_S COMMAND...}"
shift 2
bash "$(dirname "${BASH_SOURCE[0]}")/wait-for-http.sh" "$url" "$timeout_s"
exec "$@"
