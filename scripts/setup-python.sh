#!/usr/bin/env bash
# Creates the project virtualenv (.venv) and installs python/requirements-*.txt into it.
# Idempotent: pip runs only when the requirement files changed since the last successful install.
# Env: PYTHON (interpreter, default python3.11), VENV_DIR (default <repo>/.venv).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3.11}"
venv="${VENV_DIR:-$root/.venv}"
requirements=("$root/python/requirements-server.txt" "$root/python/requirements-runtime.txt")
stamp="$venv/.requirements.sha256"

fail() { echo "setup-python: $*" >&2; exit 1; }

# A venv whose interpreter no longer starts (moved repo, removed Python) is rebuilt from scratch.
if [[ -d "$venv" ]] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  echo "setup-python: $venv is broken, recreating it" >&2
  rm -rf "$venv"
fi

if [[ ! -x "$venv/bin/python" ]]; then
  command -v "$python" >/dev/null 2>&1 || fail "$python not found; install Python 3.11 or set PYTHON=/path/to/python3.11"
  "$python" -m venv "$venv" || fail "could not create a virtualenv at $venv with $python"
fi

wanted="$(cat "${requirements[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  exit 0
fi

log="$venv/pip-install.log"
echo "setup-python: installing python requirements into $venv (log: $log)" >&2
args=()
for file in "${requirements[@]}"; do args+=(-r "$file"); done
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  fail "pip install failed (full log: $log)"
fi
echo "$wanted" >"$stamp"
