#!/usr/bin/env bash
# Creates the project virtualenv (.venv) and installs python/requirements-*.txt into it.
# Idempotent: pip runs only when the requirement files changed since the last successful install.
# The venv is built on the system interpreter (/usr/bin/python3.11): sandboxed jobs run it as an
# unprivileged uid that sees /usr and the venv only, so a base under /root (pyenv) would not start.
# Env: PYTHON (interpreter, default /usr/bin/python3.11), VENV_DIR (default <repo>/.venv).
set -euo pipefail
# Everything we create must be readable by the sandbox uid.
umask 022

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-/usr/bin/python3.11}"
venv="${VENV_DIR:-$root/.venv}"
requirements=("$root/python/requirements-server.txt" "$root/python/requirements-runtime.txt" "$root/python/requirements-dev.txt")
stamp="$venv/.requirements.sha256"

fail() { echo "setup-python: $*" >&2; exit 1; }

[[ -x "$python" ]] || fail "$python not found; install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv) or set PYTHON"
base="$(readlink -f "$python")"

# A venv whose interpreter no longer starts (moved repo, removed Python) or that was built on
# another interpreter is rebuilt from scratch.
if [[ -d "$venv" ]]; then
  if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "setup-python: $venv is broken, recreating it" >&2
    rm -rf "$venv"
  elif [[ "$(readlink -f "$venv/bin/python")" != "$base" ]]; then
    echo "setup-python: $venv is built on $(readlink -f "$venv/bin/python"), not $base; recreating it" >&2
    rm -rf "$venv"
  fi
fi

if [[ ! -x "$venv/bin/python" ]]; then
  if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    # Debian splits venv (and ensurepip) into its own package.
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      echo "setup-python: $python -m venv failed; installing python3.11-venv" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3.11-venv >/dev/null \
        || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3.11-venv >/dev/null; } \
        || fail "apt-get could not install python3.11-venv"
    fi
    "$python" -m venv "$venv" || fail "could not create a virtualenv at $venv with $python (Debian: apt-get install python3.11-venv)"
  fi
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
# Files a package installs with its own restrictive modes still have to be readable in the sandbox.
chmod -R a+rX "$venv"
echo "$wanted" >"$stamp"
