# Shell helpers of the bench scripts (sourced after scripts/lib/common.sh).
#
#   now                 seconds since the epoch, with nanoseconds
#   secs A B [DIGITS]   B - A (two `now` stamps) in seconds, with DIGITS decimals (default 2)
#   topic_end TOPIC     the sum of a topic's end offsets on the Kafka that scripts/services' env
#                       points at (PINPIPE_STATE_DIR, PINPIPE_KAFKA_PORT, ...; one JVM start)
#   poll_start DB       a psql session on DB kept open as a coprocess for poll_int (polls every
#                       200 ms through a new psql process took ~8% of the 2 cores during a drain,
#                       CPU the engine under test then lacks); poll_stop ends it
#   poll_int SQL        runs SQL in that session and sets POLLED to the integer it prints (0 on an
#                       error, e.g. a table not created yet, or without a session)
#   psql_q ARGS         psql on the bench's PostgreSQL (PINPIPE_PG_PORT), unaligned, no headers
#   stop_run            stops the `scripts/run` in $run_pid as Ctrl-C would (SIGTERM: its trap
#                       stops the supervisor, which stops the workers in reverse order; SIGINT
#                       would not do, bash starts a background job with SIGINT ignored), after
#                       resuming any process in ${paused[@]} (SIGSTOPped by the bench); waits up
#                       to 120 s, says so if it is still running, and clears run_pid.

now() { date +%s.%N; }

secs() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { printf "%.*f", d, b - a }'; }

topic_end() {
  "$PINPIPE_ROOT/scripts/services" kafka tool org.apache.kafka.tools.GetOffsetShell --topic "$1" 2>/dev/null |
    awk -F: '{ s += $3 } END { print s + 0 }'
}

poll_start() { coproc POLL { psql_q "$1" 2>/dev/null; }; }
poll_stop() {
  [[ -n ${POLL_PID:-} ]] || return 0
  local pid=$POLL_PID
  eval "exec ${POLL[1]}>&-" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  POLL_PID=""
}
poll_int() {
  local line
  POLLED=0
  [[ -n ${POLL_PID:-} ]] || return 0
  printf '%s;\n\\echo __end__\n' "$1" >&"${POLL[1]}" 2>/dev/null || return 0
  while IFS= read -r -t 30 line <&"${POLL[0]}"; do
    [[ $line == __end__ ]] && break
    [[ $line =~ ^[0-9]+$ ]] && POLLED=$line
  done
  return 0
}

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
