#!/usr/bin/env bash
# Speed-layer benchmark: pinpipe's `pinpipe stream` against the original's Spark Structured
# Streaming job (bench/baselines/spark_streaming.py = the seed's StreamingLayer.stream()), on the
# same Kafka topic and the same PostgreSQL, one engine after the other.
#
#   bench/stream_bench.sh [--records N] [--rate R] [--duration S] [--engines "pinpipe spark"]
#                         [--drain-timeout S]
#
# 1. Starts its own Kafka + PostgreSQL (state $STATE/bench-stream, wiped at start; ports
#    29092/29093 and 25432, below the ephemeral range), the ingest API (port 28000), seeds N distinct posts into the database
#    `pinterest` and pre-fills the pin topic with each of them exactly once, through the API's
#    /batch/pin endpoint (NDJSON batches of 1000, 4 connections). Distinct posts, so pinpipe's
#    de-duplication by unique_id keeps every row and both engines must store the same rows.
# 2. Drain, per engine: a fresh database pinterest_streaming, start the engine, poll the rows
#    committed every 200 ms (pinpipe: sum of pinpipe_stream_batches.rows, its per-transaction
#    bookkeeping, then one count(*) to check; Spark: SELECT count(*) FROM experimental_data, as it
#    keeps no such table) until it equals the expected count (the
#    posts whose follower_count survives cleaning). Reports time to first row, time to all rows,
#    rows/s, CPU seconds and peak RSS (sum of VmHWM over the engine's process session).
# 3. Latency, per engine (still running): `pinpipe emulate --rate R --duration S` through the API
#    from a second source database (other seed, so the posts are new); per row
#    loaded_at - Kafka timestamp (the producer's CreateTime, stamped just before the API's
#    acknowledgement), p50/p99 over the rows ingested in that window. pinpipe: columns kafka_ts
#    and loaded_at (DEFAULT now(), the start of the loading transaction); Spark (--measure):
#    ingested_at and loaded_at (current_timestamp() of the micro-batch). Both stamps are taken
#    when the write starts, not at commit, so both figures are slightly optimistic.
# pinpipe reads only the pin topic here (its geo/user topics point at empty topics), like Spark.
# Results: a Markdown table on stdout and in bench/results/stream-<timestamp>.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=lib/bench.sh
source "$ROOT/bench/lib/bench.sh"

RECORDS=500000 RATE=5000 DURATION=30 ENGINES="pinpipe spark" DRAIN_TIMEOUT=600
while [[ $# -gt 0 ]]; do
  case $1 in
    --records) RECORDS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --drain-timeout) DRAIN_TIMEOUT=$2; shift 2 ;;
    --no-build) NO_BUILD=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done

"$ROOT/scripts/setup" --bench
BIN="$ROOT/build/release/apps/pinpipe"
BUILD_NOTE=""
# Other work in the tree may not compile at every moment: then bench the last good binary, and say so.
if [[ ${NO_BUILD:-0} == 1 ]]; then
  [[ -x $BIN ]] || die "--no-build: there is no $BIN"
  BUILD_NOTE="--no-build: benchmarked the existing binary ($(date -u -r "$BIN" +%FT%TZ))"
elif ! "$ROOT/scripts/build" release; then
  [[ -x $BIN ]] || die "scripts/build release failed and there is no $BIN"
  BUILD_NOTE="scripts/build release FAILED; benchmarked the existing binary ($(date -u -r "$BIN" +%FT%TZ))"
  log "warning: $BUILD_NOTE"
fi
VENV="$STATE/venv"
IVY="$STATE/ivy"   # Spark's --packages cache, kept between runs

export PINPIPE_KAFKA_LIBS="$KAFKA_LIBS"
export PINPIPE_STATE_DIR="$STATE/bench-stream"
export PINPIPE_KAFKA_PORT=29092 PINPIPE_KAFKA_CONTROLLER_PORT=29093 PINPIPE_PG_PORT=25432
BROKERS="127.0.0.1:$PINPIPE_KAFKA_PORT"
API_PORT=28000 METRICS_PORT=28091
S="$PINPIPE_STATE_DIR"
PG="host=127.0.0.1 port=$PINPIPE_PG_PORT user=pinpipe"
SRC_DSN="$PG dbname=pinterest" LAT_DSN="$PG dbname=pinterest_latency" OUT_DSN="$PG dbname=pinterest_streaming"
JDBC_URL="jdbc:postgresql://127.0.0.1:$PINPIPE_PG_PORT/pinterest_streaming"
TOPIC=pinterest IDLE_GEO=bench_idle_geo IDLE_USER=bench_idle_user
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
report="$ROOT/bench/results/stream-$STAMP.md"
mkdir -p "$ROOT/bench/results"

pids=() engine_sid=""
stop_engine() {
  [[ -n $engine_sid ]] || return 0
  kill -TERM -- "-$engine_sid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 -- "-$engine_sid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$engine_sid" 2>/dev/null || true
  engine_sid=""
}
cleanup() {
  stop_engine
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$ROOT/scripts/services" all stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

count_rows() { psql_q pinterest_streaming -c "SELECT count(*) FROM experimental_data" 2>/dev/null || echo 0; }
# Rows committed so far, cheaply. pinpipe: its own bookkeeping, written in each batch's
# transaction (the sum of pinpipe_stream_batches.rows equals count(*) here, as every post is
# distinct; the end is checked with count(*)). A count(*) every 200 ms of a table growing to
# hundreds of MB is itself a parallel sequential scan that takes CPU from the engine under test;
# Spark has no such table, so for it count(*) it is (its figures are slightly pessimistic).
# (Polled through one psql session: poll_start, bench/lib/bench.sh.)
committed_rows() {  # ENGINE -> sets ROWS
  local sql
  sql=$([[ $1 == pinpipe ]] && echo "SELECT coalesce(sum(rows), 0) FROM pinpipe_stream_batches" ||
    echo "SELECT count(*) FROM experimental_data")
  poll_int "$sql"
  ROWS=$POLLED
}

# ---- services, topics, source data ----------------------------------------------------------
"$ROOT/scripts/services" reset --yes >/dev/null 2>&1 || true
mkdir -p "$S"
"$ROOT/scripts/services" kafka start
"$ROOT/scripts/services" pg start
"$BIN" topics ensure --kafka-brokers "$BROKERS" >/dev/null
"$BIN" topics ensure --kafka-brokers "$BROKERS" --topic-pin "$TOPIC" --topic-geo "$IDLE_GEO" --topic-user "$IDLE_USER" >/dev/null
log "seeding $RECORDS distinct posts into pinterest, 200000 other ones into pinterest_latency"
"$BIN" seed --pg-dsn "$SRC_DSN" --rows "$RECORDS" --seed 42 >/dev/null
"$BIN" seed --pg-dsn "$LAT_DSN" --rows 200000 --seed 4242 >/dev/null

"$BIN" serve --port "$API_PORT" --kafka-brokers "$BROKERS" >"$S/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do port_open "$API_PORT" && break; sleep 0.2; done
port_open "$API_PORT" || die "pinpipe serve did not start (log: $S/serve.log)"

log "pre-filling topic $TOPIC with $RECORDS pins through POST /batch/pin"
rm -rf "$S/prefill" && mkdir -p "$S/prefill"
psql_q pinterest -c "SELECT row_to_json(p) FROM pinterest_data p ORDER BY index" >"$S/prefill/pins.ndjson"
(cd "$S/prefill" && split -l 1000 -a 5 pins.ndjson chunk.)
t=$(now)
find "$S/prefill" -name 'chunk.*' -print0 | xargs -0 -P4 -I{} curl -sS -o /dev/null -w '%{http_code}\n' \
  -H 'Content-Type: application/x-ndjson' --data-binary @{} "http://127.0.0.1:$API_PORT/batch/pin" |
  sort | uniq -c >"$S/prefill/status.txt"
prefill_s=$(secs "$t" "$(now)")
in_topic=$(topic_end "$TOPIC")
((in_topic == RECORDS)) || die "pin topic holds $in_topic records, expected $RECORDS (answers: $(tr '\n' ' ' <"$S/prefill/status.txt"))"
rm -rf "$S/prefill"
# Rows that survive both engines' cleaning: follower_count is digits with an optional k/M suffix
# ("User Info Error" is dropped by both).
EXPECTED=$(psql_q pinterest -c "SELECT count(*) FROM pinterest_data WHERE follower_count ~ '^[0-9]+[kM]?\$'")
log "topic $TOPIC: $in_topic records (pre-filled in ${prefill_s}s); expected rows after cleaning: $EXPECTED"

# ---- engines ---------------------------------------------------------------------------------
declare -A R
pinpipe_available() { "$BIN" stream --help >/dev/null 2>&1; }

start_engine() {  # engine -> sets engine_sid
  case $1 in
    pinpipe)
      setsid "$BIN" stream --kafka-brokers "$BROKERS" --pg-dsn "$OUT_DSN" --group "bench-$STAMP" \
        --topic-pin "$TOPIC" --topic-geo "$IDLE_GEO" --topic-user "$IDLE_USER" \
        --metrics-port "$METRICS_PORT" >"$S/pinpipe-stream.log" 2>&1 &
      engine_sid=$! ;;
    spark)
      rm -rf "$S/spark-checkpoint"
      setsid "$VENV/bin/python" "$ROOT/bench/baselines/spark_streaming.py" --brokers "$BROKERS" \
        --topic "$TOPIC" --jdbc-url "$JDBC_URL" --user pinpipe --checkpoint "$S/spark-checkpoint" \
        --ivy "$IVY" --measure >"$S/spark.log" 2>&1 &
      engine_sid=$! ;;
  esac
}

run_engine() {
  local e=$1 log_file
  log_file=$([[ $e == spark ]] && echo "$S/spark.log" || echo "$S/pinpipe-stream.log")
  psql_q postgres -c "DROP DATABASE IF EXISTS pinterest_streaming WITH (FORCE)" -c "CREATE DATABASE pinterest_streaming"
  log "$e: draining $in_topic records (expecting $EXPECTED rows)"
  local t0 t_first="" t_all="" c=0 last=-1 last_change
  t0=$(now); last_change=$t0
  start_engine "$e"
  poll_start pinterest_streaming
  while :; do
    sleep 0.2
    committed_rows "$e"; c=$ROWS
    [[ -z $t_first && $c -gt 0 ]] && t_first=$(now)
    ((c >= EXPECTED)) && { t_all=$(now); break; }
    if ((c != last)); then last=$c; last_change=$(now); fi
    if ! kill -0 "$engine_sid" 2>/dev/null; then
      R[$e,note]="exited early at $c/$EXPECTED rows (log: $log_file)"; break
    fi
    if awk -v a="$t0" -v b="$(now)" -v m="$DRAIN_TIMEOUT" 'BEGIN { exit !(b - a > m) }'; then
      R[$e,note]="timed out after ${DRAIN_TIMEOUT}s at $c/$EXPECTED rows"; break
    fi
  done
  poll_stop
  read -r R[$e,cpu] R[$e,rss] _ < <(python3 "$ROOT/bench/lib/proctree.py" "$engine_sid")
  if [[ -n $t_all ]]; then
    # What is in the table once the drain is seen as done: every expected row, once?
    local total distinct
    read -r total distinct < <(psql_q pinterest_streaming -F ' ' -c "SELECT count(*), count(DISTINCT unique_id) FROM experimental_data")
    c=$total
    if ((distinct < EXPECTED)); then
      R[$e,note]="only $distinct distinct rows of $EXPECTED when the drain looked done (count(*) $total)"; t_all=""
    elif [[ $e == pinpipe ]] && ((total > distinct)); then
      R[$e,note]="$((total - distinct)) duplicate rows (count(*) $total, distinct unique_id $distinct)"
    fi
    # (Spark does not de-duplicate by design, and when it runs after pinpipe the topic also holds
    # pinpipe's latency-phase pins, some of them repeated posts: its table may hold more rows.)
  fi
  R[$e,rows]=$c
  R[$e,first]=$([[ -n $t_first ]] && secs "$t0" "$t_first" || echo n/a)
  if [[ -n $t_all ]]; then
    R[$e,all]=$(secs "$t0" "$t_all")
    R[$e,rps]=$(awk -v n="$EXPECTED" -v d="${R[$e,all]}" 'BEGIN { printf "%.0f", n / d }')
    R[$e,rps_warm]=$(awk -v n="$EXPECTED" -v a="$t_first" -v b="$t_all" 'BEGIN { d = b - a; printf "%s", (d > 0.2 ? sprintf("%.0f", n / d) : "n/a (one batch)") }')
    log "$e: all $EXPECTED rows after ${R[$e,all]}s (first row ${R[$e,first]}s), cpu ${R[$e,cpu]}s, peak RSS ${R[$e,rss]} MiB"
  else
    R[$e,all]=n/a R[$e,rps]=n/a R[$e,rps_warm]=n/a
    log "$e: ${R[$e,note]}"; stop_engine; return 0
  fi

  # Latency: steady load through the API while the engine runs.
  local before ts_col lat0
  before=$(count_rows)
  ts_col=$([[ $e == spark ]] && echo ingested_at || echo kafka_ts)
  lat0=$(psql_q postgres -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
  log "$e: latency at $RATE records/s for ${DURATION}s"
  "$BIN" emulate --api-url "http://127.0.0.1:$API_PORT" --pg-dsn "$LAT_DSN" --rate "$RATE" \
    --duration "$DURATION" --concurrency 64 --no-progress >"$S/emulate-$e.log" 2>&1 || true
  # Wait until the pins produced are all consumed: the count stops changing for 3 s (max 60 s).
  local stable=0 prev=-1
  for _ in $(seq 300); do
    c=$(count_rows)
    if ((c == prev)); then stable=$((stable + 1)); ((stable >= 15)) && break; else stable=0; prev=$c; fi
    sleep 0.2
  done
  read -r R[$e,cpu_total] R[$e,rss_total] _ < <(python3 "$ROOT/bench/lib/proctree.py" "$engine_sid")
  local lat
  lat=$(psql_q pinterest_streaming -F ' ' -c "
    SELECT count(*),
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 1),
           round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 1),
           round(max(ms)::numeric, 1)
    FROM (SELECT extract(epoch FROM loaded_at - $ts_col) * 1000 AS ms FROM experimental_data
          WHERE $ts_col >= TIMESTAMPTZ '$lat0+00') l" 2>&1) || lat="0 n/a n/a n/a"
  read -r R[$e,lat_n] R[$e,p50] R[$e,p99] R[$e,pmax] <<<"$lat"
  R[$e,emulate]=$(tail -n 1 "$S/emulate-$e.log")
  log "$e: latency over ${R[$e,lat_n]} rows: p50 ${R[$e,p50]} ms, p99 ${R[$e,p99]} ms (max ${R[$e,pmax]})"
  stop_engine
}

for e in $ENGINES; do
  if [[ $e == pinpipe ]] && ! pinpipe_available; then
    R[$e,note]="not run: \`pinpipe stream --help\` fails (speed layer not built)"
    log "pinpipe: ${R[$e,note]}"; continue
  fi
  run_engine "$e"
done

# ---- report ----------------------------------------------------------------------------------
cell() { echo "${R[$1,$2]:-n/a}"; }
ratio() {  # pinpipe value / spark value (or inverse with "inv"), as "12.3x"
  awk -v p="$(cell pinpipe "$1")" -v s="$(cell spark "$1")" -v inv="${2:-}" 'BEGIN {
    if (p + 0 <= 0 || s + 0 <= 0 || p ~ /n\/a/ || s ~ /n\/a/) { print "n/a"; exit }
    printf "%.1fx", inv ? s / p : p / s }'
}
{
  echo "# Speed-layer benchmark ($(date -u +%FT%TZ), $(nproc) cores)"
  echo
  echo "Command: bench/stream_bench.sh --records $RECORDS --rate $RATE --duration $DURATION --engines \"$ENGINES\""
  echo
  echo "Topic \`$TOPIC\`: $in_topic distinct pins (3 partitions, lz4, pre-filled through /batch/pin in ${prefill_s}s);"
  echo "$EXPECTED rows expected after cleaning (the rest have follower_count \"User Info Error\")."
  [[ -n $BUILD_NOTE ]] && echo "**Warning:** $BUILD_NOTE." && echo
  echo "Spark: PySpark $("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)' 2>/dev/null || echo '?'), local[*], Java $(java -version 2>&1 | awk -F'"' 'NR==1 { print $2 }')."
  echo
  echo "| | pinpipe stream | Spark Structured Streaming | pinpipe vs Spark |"
  echo "|---|---|---|---|"
  echo "| drain: first row visible (s) | $(cell pinpipe first) | $(cell spark first) | $(ratio first inv) faster |"
  echo "| drain: all rows visible (s) | $(cell pinpipe all) | $(cell spark all) | $(ratio all inv) faster |"
  echo "| drain: rows/s, from start | $(cell pinpipe rps) | $(cell spark rps) | $(ratio rps) |"
  echo "| drain: rows/s, after the first row | $(cell pinpipe rps_warm) | $(cell spark rps_warm) | $(ratio rps_warm) |"
  echo "| drain: CPU seconds | $(cell pinpipe cpu) | $(cell spark cpu) | $(ratio cpu inv) less |"
  echo "| drain: peak RSS (MiB, sum of VmHWM) | $(cell pinpipe rss) | $(cell spark rss) | $(ratio rss inv) less |"
  echo "| latency @ $RATE rec/s: rows measured | $(cell pinpipe lat_n) | $(cell spark lat_n) | |"
  echo "| latency p50 (ms) | $(cell pinpipe p50) | $(cell spark p50) | $(ratio p50 inv) lower |"
  echo "| latency p99 (ms) | $(cell pinpipe p99) | $(cell spark p99) | $(ratio p99 inv) lower |"
  echo "| latency max (ms) | $(cell pinpipe pmax) | $(cell spark pmax) | |"
  echo "| whole run: CPU s / peak RSS MiB | $(cell pinpipe cpu_total) / $(cell pinpipe rss_total) | $(cell spark cpu_total) / $(cell spark rss_total) | |"
  echo
  for e in $ENGINES; do
    [[ -n ${R[$e,note]:-} ]] && echo "- $e: ${R[$e,note]}"
    [[ -n ${R[$e,emulate]:-} ]] && echo "- $e latency load: ${R[$e,emulate]}"
  done
  echo
  echo "Drain = start of the engine (JVM/Ivy start-up included for Spark) until the rows committed"
  echo "equal the expected count, polled every 200 ms (pinpipe: sum of pinpipe_stream_batches.rows,"
  echo "then checked with count(*); Spark: SELECT count(*), whose scans compete with it for CPU)."
  echo "Latency = loaded_at - Kafka CreateTime per row."
} | tee "$report"
echo "report: $report" >&2
