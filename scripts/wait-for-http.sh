#!/usr/bin/env bash
# Usage: wait-for-http.sh URL [TIMEOUT_S]
# Polls URL until it answers with a 2xx status; exits 1 with a message after TIMEOUT_S (default 60).
set -euo pipefail

url="${1:?usage: wait-for-http.sh URL [TIMEOUT_S]}"
timeout_s="${2:-60}"
deadline=$((SECONDS + timeout_s))

until curl --silent --fail --output /dev/null --max-time 2 "$url"; do
  if ((SECONDS >= deadline)); then
    echo "wait-for-http: $url did not answer within ${timeout_s}s" >&2
    exit 1
  fi
  sleep 0.5
done
