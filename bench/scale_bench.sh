#!/usr/bin/env bash
# Scale-out benchmark (issue 13), on this one machine: one vs two `pinpipe stream` workers in one
# consumer group, and one Kafka broker vs a 3-broker cluster (replication factor 3,
# min.insync.replicas=2), in the same invocation, the compared configurations alternating (pairs,
# the order swapped every round: AB BA AB ...) so that the load of other work on the machine
# falls on both alike.
#
#   bench/scale_bench.sh [--records N] [--rounds R] [--partitions P] [--port-base B] [--no-build]
#                        [--bin PATH]   (--bin: bench that pinpipe binary, without building)
#
# 1. Own state ($STATE/bench-scale, wiped at start) and ports (27xxx; --port-base B moves every
#    port by B - 27000): a 1-node Kafka (B+92/93), a 3-node KRaft cluster (B+192..197, node i on
#    B+192+2(i-1); topics with replication factor 3, the cluster's default min.insync.replicas=2,
#    checked), both running for the whole bench, and PostgreSQL (B+432); one consumer group on
#    each Kafka first, so that creating __consumer_offsets (50 partitions, on the cluster 3
#    replicas each) falls on no measured run. Seeds N distinct posts (`pinpipe seed`) and cuts
#    them into NDJSON batches of 1,000.
# 2. Workers (on the 1-node Kafka): one topic of P partitions (default 6, so two workers get 3
#    each) pre-filled once with the N posts; per round and worker count (1, 2): a fresh database,
#    a new consumer group, the workers started together (each `setsid`), the rows committed polled
#    every 200 ms (sum of pinpipe_stream_batches.rows) until all expected rows are in. Reports
#    rows/s from the start (the group's join included) and after the first row, the partitions
#    each worker ended with, CPU seconds of the workers (utime+stime of their sessions; each
#    one's in parentheses), of the broker and of PostgreSQL (the postmaster and its children)
#    during the drain.
# 3. Brokers: per round and cluster (1, 3 nodes): a new topic of P partitions, `pinpipe serve`
#    (acks=all) on it, the N posts posted to /batch/pin by 4 curl connections: ingest records/s,
#    CPU of the brokers and of the API; then one stream worker drains that topic into a fresh
#    database: rows/s, CPU of the worker, of the brokers and of PostgreSQL.
# Every run is checked: the topic holds exactly N records, every batch was answered 200, and the
# table holds each expected row once (count(*) = count(DISTINCT unique_id) = the posts whose
# follower_count survives cleaning); a run that fails a check is marked in the report. Each
# figure comes with the 1-minute load average at its end (/proc/loadavg; the machine is shared).
# Results: a Markdown table (per run, then medians and ratios) on stdout and in
# bench/results/scale-<timestamp>.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=lib/bench.sh
source "$ROOT/bench/lib/bench.sh"

RECORDS=500000 ROUNDS=3 PARTITIONS=6 PORT_BASE=27000 NO_BUILD=0
BIN="$ROOT/build/release/apps/pinpipe"
while [[ $# -gt 0 ]]; do
  case $1 in
    --records) RECORDS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --partitions) PARTITIONS=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --no-build) NO_BUILD=1; shift ;;
    --bin) BIN=$2; NO_BUILD=1; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done

BUILD_NOTE=""
if ((NO_BUILD)); then
  [[ -x $BIN ]] || die "--no-build: there is no $BIN"
  BUILD_NOTE="--no-build: benchmarked the existing binary ($(date -u -r "$BIN" +%FT%TZ))"
else
  "$ROOT/scripts/setup" --bench
  "$ROOT/scripts/build" release --target pinpipe
fi

S="$STATE/bench-scale"
export PINPIPE_KAFKA_LIBS="$KAFKA_LIBS"
export PINPIPE_PG_PORT=$((PORT_BASE + 432))
K1_PORT=$((PORT_BASE + 92)) K3_PORT=$((PORT_BASE + 192)) API_PORT=$((PORT_BASE + 80))
PG="host=127.0.0.1 port=$PINPIPE_PG_PORT user=pinpipe"
SRC_DSN="$PG dbname=pinterest" OUT_DB=scale_out
OUT_DSN="$PG dbname=$OUT_DB"
IDLE_GEO=bench_idle_geo IDLE_USER=bench_idle_user
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
report="$ROOT/bench/results/scale-$STAMP.md"
mkdir -p "$ROOT/bench/results"

# scripts/services for the cluster of N nodes (1 or 3), or for PostgreSQL.
svc() {
  local n=$1 port
  shift
  port=$([[ $n == 1 ]] && echo "$K1_PORT" || echo "$K3_PORT")
  PINPIPE_STATE_DIR="$S/kafka-$n" PINPIPE_KAFKA_NODES=$n PINPIPE_KAFKA_PORT=$port \
    PINPIPE_KAFKA_CONTROLLER_PORT=$((port + 1)) "$ROOT/scripts/services" "$@"
}
svc_pg() { PINPIPE_STATE_DIR="$S/pg" "$ROOT/scripts/services" pg "$@"; }
brokers_of() { svc "$1" kafka brokers; }
end_of() {  # NODES TOPIC -> the topic's records
  PINPIPE_STATE_DIR="$S/kafka-$1" PINPIPE_KAFKA_NODES=$1 \
    PINPIPE_KAFKA_PORT=$([[ $1 == 1 ]] && echo "$K1_PORT" || echo "$K3_PORT") topic_end "$2"
}
broker_cpu() {  # NODES -> CPU seconds of its broker processes so far
  local n=$1 i f total=0 cpu
  for i in $(seq 1 "$n"); do
    f=$([[ $n == 1 ]] && echo "$S/kafka-1/kafka/kafka.pid" || echo "$S/kafka-$n/kafka/node-$i/kafka.pid")
    read -r cpu _ < <(python3 "$ROOT/bench/lib/proctree.py" "$(cat "$f")")
    total=$(awk -v a="$total" -v b="$cpu" 'BEGIN { printf "%.1f", a + b }')
  done
  echo "$total"
}
pg_cpu() {  # CPU seconds of PostgreSQL so far: the postmaster and its children (each child is a
  # session of its own; an exited backend's CPU is in the postmaster's cutime/cstime)
  python3 - "$(head -n 1 "$PG_DATA_DIR/postmaster.pid")" <<'PY'
import os, sys
root, tck, cpu = sys.argv[1], os.sysconf("SC_CLK_TCK"), 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    f = stat[stat.rindex(")") + 2:].split()
    if pid == root or f[1] == root:  # f[1]: the parent's pid
        cpu += sum(int(x) for x in f[11:15])
print(f"{cpu / tck:.1f}")
PY
}
load1() { cut -d' ' -f1 /proc/loadavg; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }

sids=()
stop_sessions() {
  local sid
  for sid in ${sids[@]+"${sids[@]}"}; do kill -TERM -- "-$sid" 2>/dev/null || true; done
  for sid in ${sids[@]+"${sids[@]}"}; do
    for _ in $(seq 100); do kill -0 -- "-$sid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$sid" 2>/dev/null || true
  done
  sids=()
}
cleanup() {
  poll_stop
  stop_sessions
  svc 1 kafka stop >/dev/null 2>&1 || true
  svc 3 kafka stop >/dev/null 2>&1 || true
  svc_pg stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# ---- services, source data ------------------------------------------------------------------
for n in 1 3; do svc "$n" reset --yes >/dev/null 2>&1 || true; done
svc_pg stop >/dev/null 2>&1 || true
rm -rf "$S"
mkdir -p "$S/batches"
svc 1 kafka start
svc 3 kafka start
svc_pg start
B1=$(brokers_of 1) B3=$(brokers_of 3)
PG_DATA_DIR=$(svc_pg status | sed -n 's/.*, data \(.*\), log .*/\1/p')
[[ -f $PG_DATA_DIR/postmaster.pid ]] || die "no postmaster.pid in '$PG_DATA_DIR' (scripts/services pg status)"

declare -A BROKERS=([1]=$B1 [3]=$B3)
for n in 1 3; do
  "$BIN" topics ensure --kafka-brokers "${BROKERS[$n]}" --partitions "$PARTITIONS" \
    --replication-factor "$n" --topic-pin bench_idle_pin --topic-geo "$IDLE_GEO" \
    --topic-user "$IDLE_USER" >/dev/null
done
min_isr=$(PINPIPE_STATE_DIR="$S/kafka-3" PINPIPE_KAFKA_NODES=3 PINPIPE_KAFKA_PORT=$K3_PORT \
  "$ROOT/scripts/services" kafka tool org.apache.kafka.tools.TopicCommand --describe --topic "$IDLE_GEO" 2>/dev/null |
  grep -o 'min.insync.replicas=[0-9]*' | head -n 1 || true)
[[ $min_isr == min.insync.replicas=2 ]] || die "3-node cluster: expected min.insync.replicas=2 on its topics, got '${min_isr:-none}'"

# The first consumer group of a cluster creates its __consumer_offsets topic (50 partitions; on
# the cluster replicated 3 times): done here, once per cluster, not in the first measured drain.
for n in 1 3; do
  psql_q postgres -c "DROP DATABASE IF EXISTS $OUT_DB WITH (FORCE)" -c "CREATE DATABASE $OUT_DB"
  setsid "$BIN" stream --kafka-brokers "${BROKERS[$n]}" --pg-dsn "$OUT_DSN" --group warm-up \
    --topic-pin bench_idle_pin --topic-geo "$IDLE_GEO" --topic-user "$IDLE_USER" >"$S/warm-up-$n.log" 2>&1 &
  sids+=($!)
  for _ in $(seq 600); do grep -q 'assigned' "$S/warm-up-$n.log" && break; sleep 0.2; done
  grep -q 'assigned' "$S/warm-up-$n.log" || die "warm-up on the $n-node Kafka: no partitions assigned within 120 s (log: $S/warm-up-$n.log)"
  stop_sessions
done

log "seeding $RECORDS distinct posts"
"$BIN" seed --pg-dsn "$SRC_DSN" --rows "$RECORDS" --seed 42 >/dev/null
psql_q pinterest -c "SELECT row_to_json(p) FROM pinterest_data p ORDER BY index" >"$S/batches/pins.ndjson"
(cd "$S/batches" && split -l 1000 -a 5 pins.ndjson chunk. && rm pins.ndjson)
# Rows that survive cleaning: follower_count is digits with an optional k/M suffix.
EXPECTED=$(psql_q pinterest -c "SELECT count(*) FROM pinterest_data WHERE follower_count ~ '^[0-9]+[kM]?\$'")
log "$RECORDS posts in $(find "$S/batches" -name 'chunk.*' | wc -l) batches; $EXPECTED rows expected after cleaning"

# Posts the batches to an API on NODES' cluster writing to TOPIC. Sets ING_S, ING_BAD (batches
# not answered 200), ING_API_CPU, ING_BROKER_CPU.
ingest() {
  local n=$1 topic=$2 b0 t sid
  "$BIN" topics ensure --kafka-brokers "${BROKERS[$n]}" --partitions "$PARTITIONS" \
    --replication-factor "$n" --topic-pin "$topic" --topic-geo "$IDLE_GEO" --topic-user "$IDLE_USER" >/dev/null
  setsid "$BIN" serve --port "$API_PORT" --kafka-brokers "${BROKERS[$n]}" --topic-pin "$topic" \
    --topic-geo "$IDLE_GEO" --topic-user "$IDLE_USER" >"$S/serve-$topic.log" 2>&1 &
  sid=$!
  sids+=("$sid")
  for _ in $(seq 100); do port_open "$API_PORT" && break; sleep 0.2; done
  port_open "$API_PORT" || die "pinpipe serve did not start (log: $S/serve-$topic.log)"
  b0=$(broker_cpu "$n")
  t=$(now)
  find "$S/batches" -name 'chunk.*' -print0 | xargs -0 -P4 -I{} curl -sS -o /dev/null -w '%{http_code}\n' \
    -H 'Content-Type: application/x-ndjson' --data-binary @{} "http://127.0.0.1:$API_PORT/batch/pin" \
    >"$S/status-$topic.txt" || true
  ING_S=$(secs "$t" "$(now)")
  ING_BROKER_CPU=$(sub "$(broker_cpu "$n")" "$b0")
  read -r ING_API_CPU _ < <(python3 "$ROOT/bench/lib/proctree.py" "$sid")
  ING_BAD=$(grep -vc '^200$' "$S/status-$topic.txt" || true)
  stop_sessions
}

# Drains TOPIC on NODES' cluster with W workers in one group into a fresh database. Sets DR_S,
# DR_WARM (rows/s after the first row), DR_WORKER_CPU (the sum), DR_SPLIT (each worker's, "a+b"),
# DR_ASSIGNED (each worker's partitions), DR_BROKER_CPU, DR_PG_CPU, DR_CHECK (empty when every expected row
# is there once).
drain() {
  local n=$1 topic=$2 w=$3 group=$4 i t t_first="" b0 p0 c=0 total distinct cpu sum=0 sid
  psql_q postgres -c "DROP DATABASE IF EXISTS $OUT_DB WITH (FORCE)" -c "CREATE DATABASE $OUT_DB"
  b0=$(broker_cpu "$n") p0=$(pg_cpu)
  t=$(now)
  for ((i = 1; i <= w; i++)); do
    setsid "$BIN" stream --kafka-brokers "${BROKERS[$n]}" --pg-dsn "$OUT_DSN" --group "$group" \
      --topic-pin "$topic" --topic-geo "$IDLE_GEO" --topic-user "$IDLE_USER" \
      >"$S/stream-$group-$i.log" 2>&1 &
    sids+=($!)
  done
  poll_start "$OUT_DB"
  DR_CHECK=""
  while :; do
    sleep 0.2
    poll_int "SELECT coalesce(sum(rows), 0) FROM pinpipe_stream_batches"
    c=$POLLED
    [[ -z $t_first && $c -gt 0 ]] && t_first=$(now)
    ((c >= EXPECTED)) && break
    if awk -v a="$t" -v b="$(now)" 'BEGIN { exit !(b - a > 600) }'; then
      DR_CHECK="timed out after 600 s at $c rows"; break
    fi
  done
  DR_S=$(secs "$t" "$(now)")
  DR_WARM=$(awk -v n="$EXPECTED" -v a="${t_first:-$t}" -v b="$(now)" 'BEGIN { printf "%.0f", n / (b - a) }')
  poll_stop
  DR_BROKER_CPU=$(sub "$(broker_cpu "$n")" "$b0")
  DR_PG_CPU=$(sub "$(pg_cpu)" "$p0")
  for sid in "${sids[@]}"; do
    read -r cpu _ < <(python3 "$ROOT/bench/lib/proctree.py" "$sid")
    sum=$(awk -v a="$sum" -v b="$cpu" 'BEGIN { printf "%.1f", a + b }')
  done
  DR_WORKER_CPU=$sum
  DR_SPLIT=""
  for sid in "${sids[@]}"; do
    read -r cpu _ < <(python3 "$ROOT/bench/lib/proctree.py" "$sid")
    DR_SPLIT+="${DR_SPLIT:++}$cpu"
  done
  stop_sessions
  # The partitions each worker ended up with (its last assignment; 3 topics of P partitions).
  DR_ASSIGNED=""
  for ((i = 1; i <= w; i++)); do
    DR_ASSIGNED+="${DR_ASSIGNED:++}$(grep -o 'assigned [0-9]* partition' "$S/stream-$group-$i.log" | tail -n 1 | grep -o '[0-9]*' || echo 0)"
  done
  read -r total distinct < <(psql_q "$OUT_DB" -F ' ' -c "SELECT count(*), count(DISTINCT unique_id) FROM experimental_data")
  if [[ -z $DR_CHECK ]] && ((total != EXPECTED || distinct != EXPECTED)); then
    DR_CHECK="$total rows, $distinct distinct, expected $EXPECTED"
  fi
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

ROWS_W=() ROWS_B=()
declare -A V  # V[config,figure,round], e.g. V[w2,rps,1], V[b3,ing,2]

# ---- workers: one pre-filled topic on the 1-node Kafka ------------------------------------------
log "workers: pre-filling scale_workers on the 1-node Kafka"
ingest 1 scale_workers
in_topic=$(end_of 1 scale_workers)
((in_topic == RECORDS && ING_BAD == 0)) || die "scale_workers holds $in_topic records (expected $RECORDS), $ING_BAD batches not answered 200"

for ((r = 1; r <= ROUNDS; r++)); do
  order=$( ((r % 2)) && echo "1 2" || echo "2 1")
  for w in $order; do
    log "round $r: $w stream worker(s) draining scale_workers"
    drain 1 scale_workers "$w" "scale-w$w-r$r"
    V[w$w,rps,$r]=$(rate "$EXPECTED" "$DR_S") V[w$w,cpu,$r]=$DR_WORKER_CPU
    V[w$w,bcpu,$r]=$DR_BROKER_CPU V[w$w,load,$r]=$(load1) V[w$w,check,$r]=${DR_CHECK:-ok}
    V[w$w,warm,$r]=$DR_WARM V[w$w,pg,$r]=$DR_PG_CPU
    ROWS_W+=("| $r | $w | $DR_ASSIGNED | ${DR_S} | ${V[w$w,rps,$r]} | $DR_WARM | $DR_WORKER_CPU ($DR_SPLIT) | $DR_BROKER_CPU | $DR_PG_CPU | ${V[w$w,load,$r]} | ${DR_CHECK:-ok} |")
    log "round $r, $w worker(s): ${DR_S}s, ${V[w$w,rps,$r]} rows/s, workers ${DR_WORKER_CPU} CPU s, load ${V[w$w,load,$r]}, ${DR_CHECK:-ok}"
  done
done

# ---- brokers: 1 vs 3 nodes ----------------------------------------------------------------------
for ((r = 1; r <= ROUNDS; r++)); do
  order=$( ((r % 2)) && echo "1 3" || echo "3 1")
  for n in $order; do
    topic="scale_b${n}_r$r"
    log "round $r: $n broker(s): ingest $RECORDS posts into $topic, then one worker drains it"
    ingest "$n" "$topic"
    in_topic=$(end_of "$n" "$topic")
    check=ok
    ((in_topic == RECORDS && ING_BAD == 0)) || check="topic holds $in_topic of $RECORDS, $ING_BAD batches not 200"
    V[b$n,ing,$r]=$(rate "$RECORDS" "$ING_S") V[b$n,ing_bcpu,$r]=$ING_BROKER_CPU
    V[b$n,ing_api,$r]=$ING_API_CPU V[b$n,ing_load,$r]=$(load1)
    drain "$n" "$topic" 1 "scale-b$n-r$r"
    [[ -n $DR_CHECK ]] && check="${check/#ok/}${check:+; }$DR_CHECK"
    V[b$n,rps,$r]=$(rate "$EXPECTED" "$DR_S") V[b$n,cpu,$r]=$DR_WORKER_CPU
    V[b$n,bcpu,$r]=$DR_BROKER_CPU V[b$n,load,$r]=$(load1) V[b$n,check,$r]=$check
    ROWS_B+=("| $r | $n | ${V[b$n,ing,$r]} | $ING_BROKER_CPU | $ING_API_CPU | ${V[b$n,ing_load,$r]} | ${V[b$n,rps,$r]} | $DR_WORKER_CPU | $DR_BROKER_CPU | $DR_PG_CPU | ${V[b$n,load,$r]} | $check |")
    log "round $r, $n broker(s): ingest ${V[b$n,ing,$r]} records/s (brokers ${ING_BROKER_CPU} CPU s), drain ${V[b$n,rps,$r]} rows/s (worker $DR_WORKER_CPU, brokers $DR_BROKER_CPU CPU s), $check"
  done
done

# ---- report ---------------------------------------------------------------------------------------
median() {  # KEY -> the median over the rounds
  local r vals=()
  for ((r = 1; r <= ROUNDS; r++)); do vals+=("${V[$1,$r]}"); done
  printf '%s\n' "${vals[@]}" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'; }
per_round() {  # KEY_A KEY_B -> "a1/b1, a2/b2, ...": each round's pair (the same load)
  local r out=""
  for ((r = 1; r <= ROUNDS; r++)); do out+="${out:+, }$(ratio "${V[$1,$r]}" "${V[$2,$r]}")"; done
  echo "$out"
}
failed=0
for key in "${!V[@]}"; do [[ $key == *,check,* && ${V[$key]} != ok ]] && failed=$((failed + 1)); done
{
  echo "# Scale-out benchmark ($(date -u +%FT%TZ), $(nproc) cores, shared machine)"
  echo
  echo "Command: bench/scale_bench.sh --records $RECORDS --rounds $ROUNDS --partitions $PARTITIONS"
  echo
  [[ -n $BUILD_NOTE ]] && echo "**Warning:** $BUILD_NOTE." && echo
  echo "$RECORDS distinct posts, $EXPECTED rows expected after cleaning; topics of $PARTITIONS partitions."
  echo "Both Kafkas (1 node; 3 nodes, replication factor 3, $min_isr) run during the whole bench."
  echo "Checks: $failed run(s) failed (topic = records, all batches 200, rows = distinct = expected)."
  echo
  echo "## One vs two stream workers (one group, 1-node Kafka, pre-filled topic)"
  echo
  echo "| round | workers | partitions (each) | drain s | rows/s | rows/s after the first row | workers CPU s (each) | broker CPU s | PostgreSQL CPU s | load (1 min) | check |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS_W[@]}"
  echo
  echo "Medians: 1 worker $(median w1,rps) rows/s ($(median w1,warm) after the first row), $(median w1,cpu) CPU s (PostgreSQL $(median w1,pg));"
  echo "2 workers $(median w2,rps) rows/s ($(median w2,warm) after the first row), $(median w2,cpu) CPU s (PostgreSQL $(median w2,pg))."
  echo "Two workers vs one: throughput $(ratio "$(median w2,rps)" "$(median w1,rps)") (after the first row $(ratio "$(median w2,warm)" "$(median w1,warm)")), workers' CPU $(ratio "$(median w2,cpu)" "$(median w1,cpu)")."
  echo "Per round (each pair ran back to back): throughput $(per_round w2,rps w1,rps); workers' CPU $(per_round w2,cpu w1,cpu)."
  echo
  echo "## One vs three brokers (ingest through the API with acks=all, then one worker drains)"
  echo
  echo "| round | brokers | ingest records/s | brokers CPU s (ingest) | API CPU s | load | drain rows/s | worker CPU s | brokers CPU s (drain) | PostgreSQL CPU s | load | check |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS_B[@]}"
  echo
  echo "Medians: 1 broker: ingest $(median b1,ing) records/s (brokers $(median b1,ing_bcpu) CPU s, API $(median b1,ing_api)), drain $(median b1,rps) rows/s (worker $(median b1,cpu), brokers $(median b1,bcpu) CPU s);"
  echo "3 brokers: ingest $(median b3,ing) records/s (brokers $(median b3,ing_bcpu) CPU s, API $(median b3,ing_api)), drain $(median b3,rps) rows/s (worker $(median b3,cpu), brokers $(median b3,bcpu) CPU s)."
  echo "Three brokers vs one: ingest $(ratio "$(median b3,ing)" "$(median b1,ing)"), brokers' CPU while ingesting $(ratio "$(median b3,ing_bcpu)" "$(median b1,ing_bcpu)"); drain $(ratio "$(median b3,rps)" "$(median b1,rps)"), brokers' CPU while draining $(ratio "$(median b3,bcpu)" "$(median b1,bcpu)")."
  echo "Per round: ingest $(per_round b3,ing b1,ing); brokers' CPU while ingesting $(per_round b3,ing_bcpu b1,ing_bcpu); drain $(per_round b3,rps b1,rps)."
  echo
  echo "rows/s = expected rows / (workers started .. all rows committed, polled every 200 ms; the"
  echo "group's join and partition assignment included; 'after the first row' leaves them out); ingest"
  echo "records/s = records / time to post all batches (4 curl connections, batches of 1,000). CPU ="
  echo "utime+stime of the processes' sessions over the phase. Load = 1-minute load average at the"
  echo "end of the phase (other builds and tests share the 2 cores)."
} | tee "$report"
echo "report: $report" >&2
((failed == 0)) || exit 1
