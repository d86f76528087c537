#!/usr/bin/env bash
# Keeps one service of `npm run stack` running (concurrently runs one of these per service):
# restarts it when it exits, after 1, 2, 4, 8... s (at most 30 s), logging each exit with its
# status; gives up after STACK_MAX_CRASHES (5) exits within STACK_CRASH_WINDOW_S (60) s and exits 1,
# which makes concurrently (--kill-others-on-fail) stop the rest. SIGTERM/SIGINT stop the service
# (TERM to its process group, KILL after STACK_STOP_TIMEOUT_S) and exit 0: no restart.
#
# Usage: keep-alive.sh NAME RUN_DIR LOG_FILE COMMAND...
#   RUN_DIR/NAME.pid: the running service's pid; RUN_DIR/NAME.keeper: this wrapper's (stack.sh
#   stops the worker and the API through it first, then the rest).
set -uo pipefail
name="$1" run_dir="$2" log="$3"
shift 3
pid_file="$run_dir/$name.pid"
printf '%s\n' "$$" >"$run_dir/$name.keeper"
max_crashes="${STACK_MAX_CRASHES:-5}"
window="${STACK_CRASH_WINDOW_S:-60}"
stop_timeout="${STACK_STOP_TIMEOUT_S:-30}"
# bash reports a killed job on stderr ("Killed"): into the log, not the terminal.
exec 2>>"$log"
say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$log"; }

child=""
stopping=""
stop() {
  trap '' TERM INT HUP
  stopping=1
  [[ -n "$child" ]] || { rm -f "$run_dir/$name.keeper"; exit 0; }
  kill -TERM -- "-$child" 2>/dev/null
  local deadline=$((SECONDS + stop_timeout))
  while kill -0 -- "-$child" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 -- "-$child" 2>/dev/null; then
    say "$name did not stop within ${stop_timeout}s; killing it"
    kill -KILL -- "-$child" 2>/dev/null
  fi
  wait "$child" 2>/dev/null
  rm -f "$pid_file" "$run_dir/$name.keeper"
  exit 0
}
trap stop TERM INT HUP

crashes=()
while true; do
  # Its own process group (stopping it takes its children along); TERM when this wrapper dies.
  setpriv --pdeathsig TERM -- setsid "$@" >>"$log" 2>&1 </dev/null &
  child=$!
  printf '%s\n' "$child" >"$pid_file"
  status=0
  # `wait` returns early when a trapped signal arrives; the trap then stops the service.
  wait "$child" || status=$?
  [[ -n "$stopping" ]] && stop
  ((status > 128)) && status="$status ($(kill -l "$status" 2>/dev/null || echo signal))"
  now=$SECONDS
  recent=()
  for t in "${crashes[@]}"; do ((now - t < window)) && recent+=("$t"); done
  crashes=("${recent[@]}" "$now")
  if ((${#crashes[@]} >= max_crashes)); then
    say "$name exited with status $status, ${#crashes[@]} exits within ${window}s; giving up: stopping the stack (log: $log)"
    tail -n 20 "$log" | sed 's/^/  | /'
    rm -f "$pid_file" "$run_dir/$name.keeper"
    exit 1
  fi
  delay=$((2 ** (${#crashes[@]} - 1)))
  ((delay > 30)) && delay=30
  say "$name exited with status $status; restarting it in ${delay}s (exit ${#crashes[@]} of $max_crashes allowed within ${window}s)"
  sleep "$delay" &
  wait $! || true
  [[ -n "$stopping" ]] && stop
done
