#!/usr/bin/env bash
# Soak benchmark: the whole pipeline as `scripts/run` runs it, under a steady load from the
# emulator, with one worker killed (SIGKILL) at random every few minutes; at the end each
# process's resident memory over time, the restarts, and an exact accounting of every record.
#
#   bench/soak.sh [--minutes 30] [--rate 3000] [--kill-every 180] [--warmup 300]
#                 [--concurrency 16] [--seed N] [--drain-timeout 600] [--no-build]
#
# 1. Own state ($STATE/bench-soak, wiped at start) and ports (Kafka 26092/26093, PostgreSQL
#    26432, API 26080, metrics 26191-26194: speed layer, archiver, scheduler, supervisor).
#    Runs `scripts/run --keep-services` with PINPIPE_RUN_BIN (the release binary), the emulator
#    in load mode through its environment: PINPIPE_EMULATE_RATE, PINPIPE_EMULATE_CONCURRENCY and
#    PINPIPE_EMULATE_DISTINCT_FROM (every record is a new post, so nothing is de-duplicated and
#    every record can be accounted for). PINPIPE_* settings of the calling shell are ignored.
# 2. For --minutes: every --kill-every seconds, kill -9 one of the ingest API, the speed layer,
#    the archiver and the scheduler (chosen at random with --seed; never the emulator, whose
#    summary is the acknowledged count; no kill in the last 30 s), from the pids in
#    $STATE/bench-soak/run/status.json, and wait for the supervisor to start it again (new pid).
#    Every 10 s: VmRSS and CPU of every process (workers, supervisor, Kafka; PostgreSQL's
#    processes summed as RssAnon) and the emulator's progress line, into CSVs.
# 3. End: SIGINT to the emulator (it prints its summary), wait until the speed layer's offsets in
#    PostgreSQL and the archiver's position reach Kafka's high watermarks (--drain-timeout),
#    SIGTERM to `scripts/run` (the same stop as Ctrl-C: the archiver writes its open segments),
#    then, with Kafka and PostgreSQL still up: the high watermarks, every record in the lake
#    (`zstd -dc`), the speed layer's bookkeeping (pinpipe_stream_batches), its tables' rows and
#    keys, and `pinpipe batch --no-pg` over the lake. Checks (PASS/FAIL): lake records = Kafka
#    messages; speed records = Kafka messages; rows + dropped + dead + duplicates = records;
#    distinct keys in PostgreSQL = rows; distinct keys in Kafka = acknowledged; duplicates in
#    Kafka (a retried request the API had stored before it was killed) = the speed layer's
#    duplicates; keys in Kafka but not in PostgreSQL = dropped + dead; the batch job keeps
#    exactly PostgreSQL's keys; every kill followed by a restart, and no other restart.
# Memory: per pid (a restarted worker starts over), flat when no sample after the warm-up
# (--warmup seconds from the load's start or the pid's) plus 2 minutes exceeds the highest of
# those 2 minutes by more than max(10%, 4 MiB). --seed replays the same choice of victims;
# --drain-timeout bounds the wait for the consumers at the end; --no-build soaks the existing
# build/release/apps/pinpipe (else scripts/build release --target pinpipe first).
# Report: bench/results/soak-<timestamp>.md (stdout too), memory samples beside it
# (soak-<timestamp>.csv, soak-<timestamp>-load.csv). Exit status 1 when a check fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=lib/bench.sh
source "$ROOT/bench/lib/bench.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

MINUTES=30 RATE=3000 KILL_EVERY=180 WARMUP=300 CONCURRENCY=16 SEED="" DRAIN_TIMEOUT=600 NO_BUILD=0
INTERVAL=10 DISTINCT_FROM=100000000 VICTIMS="api,stream,archive,scheduler"
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case $1 in
    --minutes) MINUTES=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --kill-every) KILL_EVERY=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --drain-timeout) DRAIN_TIMEOUT=$2; shift 2 ;;
    --no-build) NO_BUILD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
[[ $SEED =~ ^[0-9]+$ ]] || SEED=$((RANDOM * 32768 + RANDOM))
DURATION=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')
((DURATION >= 60)) || die "--minutes: at least 1"

"$ROOT/scripts/setup"
BIN="$ROOT/build/release/apps/pinpipe"
BUILD_NOTE=""
# Other work in the tree may not compile at every moment: then soak the last good binary, and say so.
if ((NO_BUILD)); then
  [[ -x $BIN ]] || die "--no-build: there is no $BIN"
elif ! "$ROOT/scripts/build" release --target pinpipe; then
  [[ -x $BIN ]] || die "scripts/build release failed and there is no $BIN"
  BUILD_NOTE="scripts/build release FAILED; soaked the existing binary ($(date -u -r "$BIN" +%FT%TZ))"
  warn "$BUILD_NOTE"
fi

# The run must see only this benchmark's settings: no brokers, DSNs, topics or emulator limits
# from the calling shell.
for v in $(compgen -e); do
  [[ $v == PINPIPE_* ]] && unset "$v"
done
export PINPIPE_KAFKA_LIBS="$KAFKA_LIBS"
export PINPIPE_STATE_DIR="$STATE/bench-soak"
export PINPIPE_KAFKA_PORT=26092 PINPIPE_KAFKA_CONTROLLER_PORT=26093 PINPIPE_PG_PORT=26432
export PINPIPE_API_PORT=26080 PINPIPE_STREAM_METRICS_PORT=26191 PINPIPE_ARCHIVE_METRICS_PORT=26192
export PINPIPE_SCHEDULER_METRICS_PORT=26193 PINPIPE_SUPERVISOR_METRICS_PORT=26194
export PINPIPE_DASHBOARD_PORT=26081
export PINPIPE_RUN_BIN="$BIN"
# No first-run history: the accounting compares what Kafka holds with what the emulator's API
# acknowledged, and the history goes into Kafka without the API (`emulate --history`).
export PINPIPE_RUN_HISTORY=none
export PINPIPE_EMULATE_RATE="$RATE" PINPIPE_EMULATE_CONCURRENCY="$CONCURRENCY"
export PINPIPE_EMULATE_DISTINCT_FROM="$DISTINCT_FROM"
S="$PINPIPE_STATE_DIR"
STATUS="$S/run/status.json"
LAKE="$S/lake"
TOPICS=pinterest,pinterest_geo,pinterest_user
WATCH=(python3 "$ROOT/bench/lib/soak_watch.py")
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS="$ROOT/bench/results"
report="$RESULTS/soak-$STAMP.md"
mkdir -p "$RESULTS"

run_pid="" sampler_pid="" killer_pid=""
cleanup() {
  local rc=$?
  for p in $killer_pid $sampler_pid; do kill -TERM "$p" 2>/dev/null || true; done
  stop_run
  "$ROOT/scripts/services" all stop >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
worker_state() { "${WATCH[@]}" state --status "$STATUS" "$1"; }  # NAME -> "state pid"
all_running() { "${WATCH[@]}" all-running --status "$STATUS"; }
run_alive() { [[ -n $run_pid ]] && kill -0 "$run_pid" 2>/dev/null; }
topic_ends() {  # "topic:partition:offset" lines of the three topics
  "$ROOT/scripts/services" kafka tool org.apache.kafka.tools.GetOffsetShell --exclude-internal-topics 2>/dev/null |
    grep -E "^(${TOPICS//,/|}):" || true
}

# ---- start -----------------------------------------------------------------------------------
load_start=$(loadavg)
log "soak: state $S (wiped), ${MINUTES} min at $RATE records/s, a kill every ${KILL_EVERY}s (seed $SEED)"
"$ROOT/scripts/services" reset --yes >/dev/null 2>&1 || true
rm -rf "$S"
mkdir -p "$S"
"$ROOT/scripts/run" --keep-services >"$S/run.log" 2>&1 &
run_pid=$!
t_launch=$(now)
deadline=$((SECONDS + 180))
until all_running && port_open "$PINPIPE_API_PORT"; do
  run_alive || { tail -n 40 "$S/run.log" >&2; die "scripts/run exited during start-up (log: $S/run.log)"; }
  ((SECONDS < deadline)) || { tail -n 40 "$S/run.log" >&2; die "the workers are not all running after 180 s (log: $S/run.log)"; }
  sleep 0.2
done
t0=$(now)
log "soak: pipeline up after $(secs "$t_launch" "$t0" 1)s; load runs until +${DURATION}s"
t_stop=$(awk -v a="$t0" -v d="$DURATION" 'BEGIN { printf "%.3f", a + d }')
"${WATCH[@]}" sample --status "$STATUS" --kafka-port "$PINPIPE_KAFKA_PORT" --pg-port "$PINPIPE_PG_PORT" \
  --emulate-log "$S/logs/emulate.log" --out "$S/rss.csv" --load-out "$S/load.csv" --interval "$INTERVAL" &
sampler_pid=$!
"${WATCH[@]}" kill-loop --status "$STATUS" --t0 "$t0" --every "$KILL_EVERY" --seed "$SEED" \
  --until "$(awk -v a="$t_stop" 'BEGIN { printf "%.3f", a - 30 }')" --victims "$VICTIMS" --log "$S/kills.tsv" &
killer_pid=$!

while awk -v t="$t_stop" -v n="$(now)" 'BEGIN { exit !(n < t) }'; do
  run_alive || { tail -n 40 "$S/run.log" >&2; die "scripts/run exited during the soak (log: $S/run.log)"; }
  sleep 2
done
kill -TERM "$killer_pid" 2>/dev/null || true
wait "$killer_pid" 2>/dev/null || true
killer_pid=""
kill -TERM "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
t_end=$(now)
load_end=$(loadavg)

# ---- stop the load, wait for the consumers, stop the run -------------------------------------
deadline=$((SECONDS + 60))
until all_running; do
  ((SECONDS < deadline)) || { warn "not every worker is running at the end of the soak (see $STATUS)"; break; }
  sleep 0.2
done
read -r _ emu_pid < <(worker_state emulator)
((emu_pid > 0)) || die "the emulator is not running at the end of the soak (log: $S/logs/emulate.log)"
log "soak: stopping the emulator (SIGINT to pid $emu_pid)"
kill -INT "$emu_pid"
deadline=$((SECONDS + 30))
while read -r st _ < <(worker_state emulator); [[ $st == running ]] && ((SECONDS < deadline)); do
  sleep 0.2
done
[[ $st == finished ]] || warn "the emulator's state is '$st' after SIGINT (expected finished)"
grep -E '^sent [0-9]+ records in' "$S/logs/emulate.log" | tail -n 1 >&2 || true

log "soak: waiting for the speed layer and the archiver to reach Kafka's high watermarks"
ends=$(topic_ends)
hw_total=$(awk -F: '{ s += $3 } END { print s + 0 }' <<<"$ends")
t_drain=$(now)
caught=0
while awk -v a="$t_drain" -v n="$(now)" -v m="$DRAIN_TIMEOUT" 'BEGIN { exit !(n - a < m) }'; do
  # Speed layer: its offsets in PostgreSQL equal the high watermarks on every partition.
  behind=$( {
    psql_q pinterest_streaming -F: -c "SELECT topic, partition, next_offset FROM pinpipe_stream_offsets" 2>/dev/null |
      sed 's/^/pg:/'
    echo "$ends"
  } | awk -F: '$1 == "pg" { off[$2 ":" $3] = $4; next }
               NF == 3 && off[$1 ":" $2] != $3 { n++ }
               END { print n + 0 }')
  # Archiver: its lag gauge (high watermark - next offset to archive) is 0 on all 9 partitions.
  arch=$(curl -s --max-time 5 "http://127.0.0.1:$PINPIPE_ARCHIVE_METRICS_PORT/metrics" |
    awk '/^pinpipe_archive_lag\{/ { n++; s += $2 } END { print n + 0, s + 0 }')
  if ((behind == 0)) && [[ $arch == "9 0" ]]; then caught=1; break; fi
  sleep 2
done
catchup_s=$(secs "$t_drain" "$(now)" 1)
((caught)) || warn "not caught up after ${DRAIN_TIMEOUT}s ($behind speed-layer partitions behind, archiver: $arch)"
log "soak: $hw_total messages in Kafka; caught up in ${catchup_s}s; stopping scripts/run"
cp "$STATUS" "$S/status-final.json" 2>/dev/null || true
t_s=$(now)
stop_run
stop_s=$(secs "$t_s" "$(now)" 1)

# ---- accounting and report -------------------------------------------------------------------
cp "$S/rss.csv" "$RESULTS/soak-$STAMP.csv"
cp "$S/load.csv" "$RESULTS/soak-$STAMP-load.csv"
meta=$(python3 -c 'import json, sys; print(json.dumps(dict(a.split("=", 1) for a in sys.argv[1:])))' \
  "command=bench/soak.sh ${ARGS[*]}" "bin=$BIN" "state=$S" "rate=$RATE" "concurrency=$CONCURRENCY" \
  "distinct_from=$DISTINCT_FROM" "victims=$VICTIMS" "kill_every=$KILL_EVERY" "seed=$SEED" \
  "interval=$INTERVAL" "load_start=$load_start" "load_end=$load_end" "build_note=$BUILD_NOTE" \
  "catchup_s=$catchup_s" "caught_up=$caught" "stop_s=$stop_s")
rc=0
t_acc=$(now)
python3 "$ROOT/bench/lib/soak_report.py" --root "$ROOT" --bin "$BIN" --lake "$LAKE" --pg-port "$PINPIPE_PG_PORT" \
  --topics "$TOPICS" --emulate-log "$S/logs/emulate.log" --kills "$S/kills.tsv" \
  --status-copy "$S/status-final.json" --rss-csv "$S/rss.csv" --rss-csv-copy "$RESULTS/soak-$STAMP.csv" \
  --load-csv "$S/load.csv" --report "$report" --meta "$meta" --t0 "$t0" --t-end "$t_end" \
  --warmup "$WARMUP" || rc=$?
log "soak: accounting and report took $(secs "$t_acc" "$(now)" 1)s"
# The batch job's output was only read for the check (several GB after a long soak).
rm -rf "$LAKE/clean"
echo "report: $report" >&2
exit "$rc"
