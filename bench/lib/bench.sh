# Shell helpers of the bench scripts (sourced after scripts/lib/common.sh).
#
#   now                 seconds since the epoch, with nanoseconds
#   psql_q ARGS         psql on the bench's PostgreSQL (PINPIPE_PG_PORT), unaligned, no headers
#   stop_run            stops the `scripts/run` in $run_pid as Ctrl-C would (SIGTERM: its trap
#                       stops the supervisor, which stops the workers in reverse order; SIGINT
#                       would not do, bash starts a background job with SIGINT ignored), after
#                       resuming any process in ${paused[@]} (SIGSTOPped by the bench); waits up
#                       to 120 s, says so if it is still running, and clears run_pid.

now() { date +%s.%N; }

psql_q() { psql -X -qAt -h 127.0.0.1 -p "$PINPIPE_PG_PORT" -U pinpipe "$@"; }

stop_run() {
  [[ -n ${run_pid:-} ]] || return 0
  local p i
  for p in ${paused[@]+"${paused[@]}"}; do kill -CONT "$p" 2>/dev/null || true; done
  kill -TERM "$run_pid" 2>/dev/null || true
  for ((i = 0; i < 1200; i++)); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$run_pid" 2>/dev/null && warn "scripts/run (pid $run_pid) still running after 120 s"
  wait "$run_pid" 2>/dev/null || true
  run_pid=""
}
