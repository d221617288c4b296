#!/usr/bin/env bash
# Ingestion benchmark: pinpipe's `POST /pin/` (answered only after Kafka acks=all) against the
# original FastAPI app (shared/baselines/seed_pin_api.py, which validates and echoes but does not
# even produce to Kafka), same machine, same invocation, same wrk load; then pinpipe's batch
# endpoint in records/s acknowledged by Kafka. Reports requests/s, p50/p99 latency, peak RSS.
#
#   bench/ingest_bench.sh [--duration S] [--rounds N] [--connections "32 64"] [--batch-size N]
#
# Starts its own Kafka (state under $STATE/bench, ports 49092/49093) and stops it afterwards.
# Results: a Markdown table on stdout and in bench/results/ingest-<timestamp>.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

DURATION=10 ROUNDS=2 CONNECTIONS="32 64" BATCH_SIZE=1000 BATCH_CONNECTIONS=4
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --batch-size) BATCH_SIZE=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done

SHARED="${PINPIPE_SHARED_DIR:-$ROOT/../shared}"
BASELINE_DIR="$SHARED/baselines"
[[ -f $BASELINE_DIR/seed_pin_api.py && -f $BASELINE_DIR/post.lua ]] ||
  die "baseline not found in $BASELINE_DIR (set PINPIPE_SHARED_DIR)"

"$ROOT/scripts/setup" --bench
"$ROOT/scripts/build" release
BIN="$ROOT/build/release/apps/pinpipe"
VENV="$STATE/venv"

export PINPIPE_KAFKA_LIBS="$KAFKA_LIBS"
export PINPIPE_STATE_DIR="$STATE/bench"
export PINPIPE_KAFKA_PORT=49092 PINPIPE_KAFKA_CONTROLLER_PORT=49093
BROKERS="127.0.0.1:$PINPIPE_KAFKA_PORT"
BASE_PORT=48000 PIN_PORT=48001
mkdir -p "$PINPIPE_STATE_DIR" "$ROOT/bench/results"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$ROOT/scripts/services" kafka stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$ROOT/scripts/services" kafka start
"$BIN" topics ensure --kafka-brokers "$BROKERS" >/dev/null

(cd "$BASELINE_DIR" && exec "$VENV/bin/uvicorn" seed_pin_api:app --host 127.0.0.1 --port "$BASE_PORT" \
  --log-level warning --no-access-log) >"$PINPIPE_STATE_DIR/baseline.log" 2>&1 &
pids+=($!); BASE_PID=$!
"$BIN" serve --port "$PIN_PORT" --kafka-brokers "$BROKERS" >"$PINPIPE_STATE_DIR/serve.log" 2>&1 &
pids+=($!); PIN_PID=$!
for port in $BASE_PORT $PIN_PORT; do
  for _ in $(seq 100); do port_open "$port" && break; sleep 0.2; done
  port_open "$port" || die "server on port $port did not start (logs in $PINPIPE_STATE_DIR)"
done
# Warm up both (connections, the producer's PID from the broker, the broker's JIT, Python's
# caches): a fresh broker is markedly slower for its first few seconds of load.
wrk -t2 -c64 -d5s -s "$BASELINE_DIR/post.lua" "http://127.0.0.1:$BASE_PORT/pin/" >/dev/null
wrk -t2 -c64 -d10s -s "$BASELINE_DIR/post.lua" "http://127.0.0.1:$PIN_PORT/pin/" >/dev/null
BATCH_SIZE=$BATCH_SIZE wrk -t2 -c4 -d3s -s "$ROOT/bench/batch.lua" "http://127.0.0.1:$PIN_PORT/batch/pin" >/dev/null

to_ms() {  # wrk latency "1.23ms" / "850.00us" / "1.02s" -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
# Runs wrk; prints "rps p50_ms p99_ms non2xx".
run_wrk() {
  local url=$1 conns=$2 script=$3 out
  out=$(wrk -t2 -c"$conns" -d"${DURATION}s" --latency -s "$script" "$url")
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  non2xx=$(awk '/Non-2xx/ { print $4 }' <<<"$out"); non2xx=${non2xx:-0}
  echo "$rps $p50 $p99 $non2xx"
}
rss_mib() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

report="$ROOT/bench/results/ingest-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "# Ingestion benchmark ($(date -u +%FT%TZ), $(nproc) cores, ${DURATION}s x ${ROUNDS} rounds per cell)"
  echo
  echo "Command: bench/ingest_bench.sh --duration $DURATION --rounds $ROUNDS --connections \"$CONNECTIONS\" --batch-size $BATCH_SIZE"
  echo
  echo "| connections | round | FastAPI req/s | FastAPI p50 / p99 ms | pinpipe req/s (Kafka-acked) | pinpipe p50 / p99 ms | pinpipe non-2xx | ratio |"
  echo "|---|---|---|---|---|---|---|---|"
} | tee "$report"
for conns in $CONNECTIONS; do
  for round in $(seq "$ROUNDS"); do
    read -r b_rps b_p50 b_p99 _ < <(run_wrk "http://127.0.0.1:$BASE_PORT/pin/" "$conns" "$BASELINE_DIR/post.lua")
    read -r p_rps p_p50 p_p99 p_bad < <(run_wrk "http://127.0.0.1:$PIN_PORT/pin/" "$conns" "$BASELINE_DIR/post.lua")
    ratio=$(awk -v a="$p_rps" -v b="$b_rps" 'BEGIN { printf "%.1fx", a / b }')
    echo "| $conns | $round | $b_rps | $b_p50 / $b_p99 | $p_rps | $p_p50 / $p_p99 | $p_bad | $ratio |" | tee -a "$report"
  done
done

accepted() {
  curl -s "http://127.0.0.1:$PIN_PORT/metrics" |
    awk '/^pinpipe_ingest_records_total\{kind="pin",outcome="accepted"\}/ { print $2 }'
}
failed() {
  curl -s "http://127.0.0.1:$PIN_PORT/metrics" |
    awk '/^pinpipe_ingest_records_total\{kind="pin",outcome="failed"\}/ { print $2 }'
}
before=$(accepted); before_failed=$(failed)
t0=$(date +%s.%N)
BATCH_SIZE=$BATCH_SIZE read -r bt_rps bt_p50 bt_p99 bt_bad < <(BATCH_SIZE=$BATCH_SIZE run_wrk "http://127.0.0.1:$PIN_PORT/batch/pin" "$BATCH_CONNECTIONS" "$ROOT/bench/batch.lua")
t1=$(date +%s.%N)
after=$(accepted); after_failed=$(failed)
records_per_s=$(awk -v a="$after" -v b="$before" -v t0="$t0" -v t1="$t1" -v d="$DURATION" 'BEGIN { printf "%.0f", (a - b) / d }')
{
  echo
  echo "Batch endpoint: $BATCH_CONNECTIONS connections x NDJSON batches of $BATCH_SIZE pins: $bt_rps batches/s (p50 $bt_p50 ms, p99 $bt_p99 ms, non-2xx $bt_bad),"
  echo "**$records_per_s records/s acknowledged by Kafka** (accepted counter delta $((${after%.*} - ${before%.*})) over ${DURATION}s; failed delta $((${after_failed:-0} - ${before_failed:-0})))."
  echo
  echo "Peak resident memory (VmHWM): pinpipe serve $(rss_mib "$PIN_PID") MiB; FastAPI baseline $(rss_mib "$BASE_PID") MiB."
} | tee -a "$report"
echo "report: $report" >&2
