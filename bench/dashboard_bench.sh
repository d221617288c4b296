#!/usr/bin/env bash
# Dashboard benchmark: what ten open dashboards cost the speed layer, and how fast the dashboard
# answers on the 3-day demo data plus 1,000,000 speed-layer posts, against the same questions
# asked in SQL in the same run.
#
#   bench/dashboard_bench.sh [--posts 1000000] [--rounds 2] [--clients 10] [--seconds 60]
#                            [--only all|throughput|latency] [--port-base 34000] [--no-build]
#
# 1. Runs the whole pipeline with `scripts/run --keep-services` on its own state
#    ($STATE/bench-dashboard, wiped) and ports (34xxx; --port-base B moves every port by B - 34000,
#    so two runs on one machine do not collide): the first run's 3-day history, the scheduler
#    loading those days into the batch layer, the dashboard. Waits until the batch layer has
#    loaded a day (serving.boundary is set).
# 2. Speed-layer throughput, with and without the dashboard: --posts distinct posts
#    (`pinpipe emulate --distinct-from`, 3 records each) are sent in 3 x --rounds equal bursts.
#    For each burst the speed layer is paused (SIGSTOP) while the API puts the burst into Kafka,
#    then resumed, and its throughput is the records of its batches committed in that drain over
#    the time from the resume to the last one's commit (pinpipe_stream_batches.finished_at, the
#    server's clock on this host). Not from the first batch's start: that batch was open when the
#    speed layer was paused, so its duration holds the whole pause (the burst's posting and the
#    variant's set-up, longest for "off", which waits for a moment between two statements to
#    pause the dashboard); and not past the batch that completed the burst (the emulator's
#    trickle goes on, and the variants' clean-up, longest for "off" whose dashboard then catches
#    up on the burst, took different times). Both once made "off" look 2-3x slower than "idle". Variants, in ABBA
#    order (off idle clients, clients idle off, off idle clients, ...): "off" = the dashboard
#    process paused (SIGSTOP, only between two of its statements: a dashboard stopped inside a
#    transaction would hold back PostgreSQL's xmin horizon for the whole drain, a suspect for
#    "off" once measuring slower than "idle"), "idle" = running with no browser,
#    "clients" = --clients simulated browsers refreshing every second (bench/lib/dash_clients.py:
#    every /api call the page makes per refresh). Per variant: the median records/s of its drains
#    and their spread (min..max), and the CPU seconds per million records drained of the
#    dashboard, PostgreSQL (all server processes), the Kafka broker, the speed layer and the
#    simulated browsers. The issue's figure: clients vs idle (and vs off), medians.
#    Use --posts 2000000 (or more) for bursts of >= 1 M records with the default 2 rounds.
# 3. Latency: with every post in the speed layer, --clients browsers refresh every second for
#    --seconds (a third of the refreshes with random filters on analytics and lambda, so cache
#    misses count), while the emulator keeps posting 100 records/s. Per endpoint: p50/p99/max.
#    Baseline in the same run: the 8 analytics questions asked as SQL (serving.q1..q8 functions,
#    no filter, then with a category filter), each 3 times, median; vs /api/analytics (cached, and with a
#    filter asked for the first time). With --only latency, the --posts are sent in one burst
#    (no throughput measured).
# 4. The dashboard's RSS (now and peak, /proc), its analytics engine's load, and the page's
#    JS+CSS gzipped (as served by the dashboard, gzip -9).
# --only throughput: steps 1 and 2 only; --only latency: 1, 3 and 4.
# Report: a Markdown table on stdout and in bench/results/dashboard-<timestamp>.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=lib/bench.sh
source "$ROOT/bench/lib/bench.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

POSTS=1000000 ROUNDS=2 CLIENTS=10 SECONDS_LAT=60 NO_BUILD=0 ONLY=all PORT_BASE=34000
while [[ $# -gt 0 ]]; do
  case $1 in
    --posts) POSTS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --seconds) SECONDS_LAT=$2; shift 2 ;;
    --no-build) NO_BUILD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
case $ONLY in all|throughput|latency) ;; *) die "--only: all, throughput or latency" ;; esac
((ROUNDS >= 1)) || die "--rounds: at least 1"
((PORT_BASE >= 1024 && PORT_BASE <= 64000)) || die "--port-base: 1024..64000"
BURSTS=$((3 * ROUNDS))
[[ $ONLY == latency ]] && BURSTS=1
((POSTS >= BURSTS * 1000)) || die "--posts: at least $((BURSTS * 1000))"
port() { echo $(($1 - 34000 + PORT_BASE)); }

"$ROOT/scripts/setup"
BIN="$ROOT/build/release/apps/pinpipe"
BUILD_NOTE=""
if ((NO_BUILD)); then
  [[ -x $BIN ]] || die "--no-build: there is no $BIN"
  BUILD_NOTE="--no-build: benchmarked the existing binary ($(date -u -r "$BIN" +%FT%TZ))"
elif ! "$ROOT/scripts/build" release --target pinpipe; then
  [[ -x $BIN ]] || die "scripts/build release failed and there is no $BIN"
  BUILD_NOTE="scripts/build release FAILED; benchmarked the existing binary ($(date -u -r "$BIN" +%FT%TZ))"
  warn "$BUILD_NOTE"
fi
"$BIN" dashboard --help >/dev/null 2>&1 || die "this pinpipe has no dashboard subcommand"

export PINPIPE_KAFKA_LIBS="$KAFKA_LIBS"
export PINPIPE_STATE_DIR="$STATE/bench-dashboard"
PINPIPE_KAFKA_PORT=$(port 34092) PINPIPE_KAFKA_CONTROLLER_PORT=$(port 34093) PINPIPE_PG_PORT=$(port 34432)
PINPIPE_API_PORT=$(port 34080) PINPIPE_STREAM_METRICS_PORT=$(port 34191) PINPIPE_ARCHIVE_METRICS_PORT=$(port 34192)
PINPIPE_SCHEDULER_METRICS_PORT=$(port 34193) PINPIPE_SUPERVISOR_METRICS_PORT=$(port 34194)
PINPIPE_DASHBOARD_PORT=$(port 34088) PINPIPE_S3_PORT=$(port 34900)
export PINPIPE_KAFKA_PORT PINPIPE_KAFKA_CONTROLLER_PORT PINPIPE_PG_PORT PINPIPE_API_PORT
export PINPIPE_STREAM_METRICS_PORT PINPIPE_ARCHIVE_METRICS_PORT PINPIPE_SCHEDULER_METRICS_PORT
export PINPIPE_SUPERVISOR_METRICS_PORT PINPIPE_DASHBOARD_PORT PINPIPE_S3_PORT
export PINPIPE_RUN_BIN="$BIN"
export PINPIPE_EMULATE_RATE=100 PINPIPE_EMULATE_CONCURRENCY=2 PINPIPE_EMULATE_DISTINCT_FROM=500000000
# The speed layer stays paused while a burst enters Kafka: ~8 s for 1 M records, more on a busy
# machine. With the default 10 s session timeout its consumer was fenced (static membership) and
# the stream stopped with a fatal error.
export PINPIPE_STREAM_SESSION_TIMEOUT_MS=120000
S="$PINPIPE_STATE_DIR"
STATUS="$S/run/status.json"
WATCH=(python3 "$ROOT/bench/lib/soak_watch.py")
DASH_URL="http://127.0.0.1:$PINPIPE_DASHBOARD_PORT"
API_URL="http://127.0.0.1:$PINPIPE_API_PORT"
PG="host=127.0.0.1 port=$PINPIPE_PG_PORT user=pinpipe"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS="$ROOT/bench/results"
report="$RESULTS/dashboard-$STAMP.md"
mkdir -p "$RESULTS"

run_pid="" paused=()
cleanup() {
  local rc=$?
  stop_run
  "$ROOT/scripts/services" all stop >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pid_of() { "${WATCH[@]}" state --status "$STATUS" "$1" | awk '$1 == "running" { print $2 }'; }
pause() { kill -STOP "$1"; paused+=("$1"); }
resume() {
  kill -CONT "$1"
  local p keep=()
  for p in "${paused[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  paused=("${keep[@]}")
}
# Records the speed layer has committed (its offsets table: sum of next offsets), and the topics'
# ends: equal when it has caught up.
committed() { psql_q pinterest_streaming -c "SELECT coalesce(sum(next_offset), 0) FROM pinpipe_stream_offsets" 2>/dev/null || echo 0; }
topic_total() {
  "$ROOT/scripts/services" kafka tool org.apache.kafka.tools.GetOffsetShell --exclude-internal-topics 2>/dev/null |
    grep -E '^(pinterest|pinterest_geo|pinterest_user):' | awk -F: '{ s += $3 } END { print s + 0 }'
}
wait_caught_up() {  # max-seconds [records: the Kafka total to reach; default: now]
  local end=$((SECONDS + $1)) want=${2:-}
  [[ -n $want ]] || want=$(topic_total)
  until (($(committed) >= want)); do
    ((SECONDS < end)) || return 1
    sleep 0.5
  done
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
wait_quiet() {  # pid max-seconds: until it uses < 5% of a core over 2 s
  local end=$((SECONDS + $2)) a b hz
  hz=$(getconf CLK_TCK)
  while ((SECONDS < end)); do
    a=$(cpu_ticks "$1"); sleep 2; b=$(cpu_ticks "$1")
    (((b - a) * 100 < 5 * 2 * hz)) && return 0
  done
  return 1
}
# CPU ticks of PostgreSQL's server processes (the postmaster's children: backends, autovacuum,
# WAL writer, ...), summed; "pid:ticks" pairs so that a difference counts only processes alive
# at both ends.
pg_ticks() {
  local pm p
  pm=$(head -n 1 "$S/pg/data/postmaster.pid" 2>/dev/null) || return 0
  for p in $(pgrep -P "$pm"); do echo "$p:$(cpu_ticks "$p" 2>/dev/null || echo 0)"; done
}
pg_ticks_diff() {  # before-list after-list -> ticks
  awk -F: 'NR == FNR { a[$1] = $2; next } ($1 in a) { s += $2 - a[$1] } END { print s + 0 }' <(echo "$1") <(echo "$2")
}
rss_of() { awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "%.1f %.1f\n", r / 1024, h / 1024 }' "/proc/$1/status"; }

# ---- 1. the pipeline -------------------------------------------------------------------------
log "dashboard bench: state $S (wiped), $POSTS posts in $BURSTS bursts, $CLIENTS clients"
"$ROOT/scripts/services" reset --yes >/dev/null 2>&1 || true
rm -rf "$S"
mkdir -p "$S"
"$ROOT/scripts/run" --keep-services >"$S/run.log" 2>&1 &
run_pid=$!
t_launch=$(now)
deadline=$((SECONDS + 600))
until port_open "$PINPIPE_DASHBOARD_PORT" && [[ -n $(pid_of stream) ]]; do
  kill -0 "$run_pid" 2>/dev/null || { tail -n 40 "$S/run.log" >&2; die "scripts/run exited during start-up (log: $S/run.log)"; }
  ((SECONDS < deadline)) || die "no dashboard after 600 s (log: $S/run.log)"
  sleep 0.5
done
t_up=$(now)
log "pipeline up after $(secs "$t_launch" "$t_up" 1)s; waiting for the batch layer's first day"
until [[ -n $(psql_q pinterest_streaming -c "SELECT boundary FROM serving.boundary" 2>/dev/null) ]]; do
  ((SECONDS < deadline)) || die "the batch layer loaded no day within 600 s (log: $S/run.log)"
  sleep 2
done
t_boundary=$(now)
boundary=$(psql_q pinterest_streaming -c "SELECT boundary FROM serving.boundary")
log "boundary $boundary after $(secs "$t_launch" "$t_boundary" 1)s from the launch"
SRC_DSN="$PG dbname=pinterest"

# ---- 2. throughput with and without the dashboard -------------------------------------------
# The dashboard's sessions: none may be inside a transaction or statement when it is paused.
dash_busy() {
  psql_q pinterest_streaming -c "SELECT count(*) FROM pg_stat_activity
    WHERE application_name = 'pinpipe-dashboard' AND (state <> 'idle' OR backend_xmin IS NOT NULL)" 2>/dev/null || echo 1
}
pause_dashboard() {  # pid: SIGSTOP between two of its statements (up to 60 s of tries)
  local end=$((SECONDS + 60))
  while :; do
    pause "$1"
    (($(dash_busy) == 0)) && return 0
    resume "$1"
    ((SECONDS < end)) || { warn "the dashboard was inside a transaction at every try for 60 s; paused anyway"; pause "$1"; return 0; }
    sleep 0.$((RANDOM % 9 + 1))
  done
}
# The dashboard's PostgreSQL sessions, "pid:ticks:class" each; class by the session's last
# statement: engine (the analytics engine's refresh transaction), views (the whole-table
# statements: serving.layer_days, serving.reconciliation, the dead letters' count) or panels
# (every other statement of a refresh cycle).
dash_pg_ticks() {
  local pid cls
  psql_q pinterest_streaming -F ' ' -c "SELECT pid, CASE
      WHEN query ~ 'layer_days|reconciliation|count\(\*\) FROM pinpipe_dead_letters' THEN 'views'
      WHEN query ~ '^(COMMIT|BEGIN|COPY|SET LOCAL)|statement_timestamp|topic IN' THEN 'engine'
      ELSE 'panels' END
    FROM pg_stat_activity WHERE application_name = 'pinpipe-dashboard'" 2>/dev/null |
    while read -r pid cls; do echo "$pid:$(cpu_ticks "$pid" 2>/dev/null || echo 0):$cls"; done
}
dash_pg_ticks_diff() {  # before-list after-list -> "engine panels views" ticks
  awk -F: 'NR == FNR { a[$1] = $2; next } ($1 in a) { s[$3] += $2 - a[$1] }
    END { printf "%d %d %d\n", s["engine"], s["panels"], s["views"] }' <(echo "$1") <(echo "$2")
}
# One burst: --posts / BURSTS posts into Kafka while the speed layer is paused, then drained with
# the dashboard in variant $2 ("" = no measurement: --only latency). Appends a line to $BURSTS_TSV:
# index variant records seconds cpu-ticks(dashboard pg kafka stream clients, and of pg the
# dashboard's sessions: engine panels views).
per_burst=$((POSTS / BURSTS))
BURSTS_TSV="$S/bursts.tsv"
: >"$BURSTS_TSV"
burst() {
  local i=$1 v=$2 stream_pid dash_pid kafka_pid clients_pid="" since pg0 dpg0 c0 c1 rec span
  stream_pid=$(pid_of stream) dash_pid=$(pid_of dashboard)
  [[ -n $stream_pid && -n $dash_pid ]] || die "stream or dashboard not running (status: $STATUS)"
  wait_caught_up 300 || die "the speed layer did not catch up before burst $i"
  pause "$stream_pid"
  "$BIN" emulate --api-url "$API_URL" --pg-dsn "$SRC_DSN" --rate 0 --bulk-size 1000 --concurrency 4 \
    --count $((per_burst * 3)) --distinct-from $((1000000000 + i * per_burst)) --no-progress \
    >"$S/burst-$i.log" 2>&1 || die "emulate failed (log: $S/burst-$i.log)"
  [[ $v == off ]] && pause_dashboard "$dash_pid"
  if [[ $v == clients ]]; then
    rm -f "$S/burst-$i.stop"
    python3 "$ROOT/bench/lib/dash_clients.py" --url "$DASH_URL" --clients "$CLIENTS" --interval 1 \
      --until-file "$S/burst-$i.stop" --out "$S/burst-$i-clients.json" &
    clients_pid=$!
    sleep 2
  fi
  since=$(psql_q pinterest_streaming -c "SELECT coalesce(max(id), 0) FROM pinpipe_stream_batches")
  kafka_pid=$(cat "$S/kafka/kafka.pid" 2>/dev/null || echo "")
  ticks() { local p; for p in "$dash_pid" "$kafka_pid" "$stream_pid" "$clients_pid"; do
    if [[ -n $p ]]; then cpu_ticks "$p" 2>/dev/null || echo 0; else echo 0; fi; done | paste -sd' '; }
  c0=$(ticks) pg0=$(pg_ticks) dpg0=$(dash_pg_ticks)
  local t_resume want last
  want=$(topic_total)  # before the resume: the tool's JVM would compete with the drain
  t_resume=$(date +%s.%N)
  resume "$stream_pid"
  # Whether the dashboard yielded to the drain (pinpipe_dashboard_yielding), sampled every
  # second: one /metrics request a second is the sampler's whole cost to it.
  local sampler=""
  rm -f "$S/burst-$i.drained"
  if [[ $v != off && -n $v ]]; then
    (while [[ ! -e $S/burst-$i.drained ]]; do
      curl -fsS --max-time 1 "$DASH_URL/metrics" 2>/dev/null | awk '$1 == "pinpipe_dashboard_yielding" { print $2 }'
      sleep 1
    done) >"$S/burst-$i-yielding.txt" &
    sampler=$!
  fi
  wait_caught_up 900 "$want" || die "the speed layer did not drain burst $i within 900 s"
  touch "$S/burst-$i.drained"
  [[ -z $sampler ]] || wait "$sampler" || true
  # The drain's batches: those committed by now. The emulator's trickle goes on after them,
  # and the variants' clean-up below takes different times: none of it counts.
  last=$(psql_q pinterest_streaming -c "SELECT coalesce(max(id), 0) FROM pinpipe_stream_batches")
  c1=$(ticks)
  local pg_d dpg_d
  pg_d=$(pg_ticks_diff "$pg0" "$(pg_ticks)") dpg_d=$(dash_pg_ticks_diff "$dpg0" "$(dash_pg_ticks)")
  if [[ -n $clients_pid ]]; then touch "$S/burst-$i.stop"; wait "$clients_pid" || true; fi
  if [[ $v == off ]]; then
    resume "$dash_pid"
    # It resumes behind the whole burst (a full reload of its analytics engine when the burst is
    # larger than its poll limit): let it finish before the next burst.
    wait_quiet "$dash_pid" 120 || warn "the dashboard is still busy 120 s after a paused burst"
    # Its full load also keeps PostgreSQL busy while the dashboard process waits for rows.
    local end=$((SECONDS + 120))
    until (($(dash_busy) == 0)) && sleep 1 && (($(dash_busy) == 0)); do
      ((SECONDS < end)) || { warn "the dashboard's statements still run 120 s after a paused burst"; break; }
      sleep 0.5
    done
  fi
  [[ -n $v ]] || return 0
  read -r rec span < <(psql_q pinterest_streaming -F ' ' -c "
    SELECT sum(records), extract(epoch FROM max(finished_at)) - $t_resume
    FROM pinpipe_stream_batches WHERE id > $since AND id <= $last")
  # dashboard kafka stream clients (from c0/c1), pg
  read -r d k st cl < <(paste <(tr ' ' '\n' <<<"$c0") <(tr ' ' '\n' <<<"$c1") | awk '{ printf "%d ", $2 - $1 } END { print "" }')
  local yielded="-"
  [[ -s $S/burst-$i-yielding.txt ]] && yielded=$(awk '{ s += $1; n++ } END { printf "%d of %d", s, n }' "$S/burst-$i-yielding.txt")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$v" "$rec" "$span" "$d" "$pg_d" "$k" "$st" "$cl" "${dpg_d// /$'\t'}" "$yielded" >>"$BURSTS_TSV"
  log "burst $((i + 1))/$BURSTS ($v): $rec records drained in ${span}s ($(awk -v r="$rec" -v s="$span" 'BEGIN { printf "%.0f", r / s }') rec/s)"
}
# ABBA: off idle clients, clients idle off, off idle clients, ...
variants=()
if [[ $ONLY != latency ]]; then
  for ((r = 0; r < ROUNDS; r++)); do
    if ((r % 2 == 0)); then variants+=(off idle clients); else variants+=(clients idle off); fi
  done
  for i in "${!variants[@]}"; do burst "$i" "${variants[$i]}"; done
else
  burst 0 ""
fi
# Per variant from $BURSTS_TSV: "median min max records seconds cpu-dash cpu-pg cpu-kafka
# cpu-stream cpu-clients pg-engine pg-panels pg-views" (rates in records/s, CPU in seconds per
# million records).
variant_stats() {
  awk -F'\t' -v v="$1" -v hz="$(getconf CLK_TCK)" '
    $2 == v { n++; r[n] = $3 / $4; rec += $3; sec += $4; d += $5; p += $6; k += $7; s += $8; c += $9
              e += $10; q += $11; w += $12 }
    END {
      if (n == 0) { print "0 0 0 0 0 0 0 0 0 0 0 0 0"; exit }
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
      med = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
      m = rec / 1e6 * hz
      printf "%.0f %.0f %.0f %d %.1f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f\n", med, r[1], r[n], rec, sec, d / m, p / m, k / m, s / m, c / m, e / m, q / m, w / m
    }' "$BURSTS_TSV"
}
median_of() { variant_stats "$1" | cut -d' ' -f1; }
delta() { awk -v a="$(median_of "$1")" -v b="$(median_of "$2")" 'BEGIN { printf (b > 0 ? "%+.1f%%" : "n/a"), (a / b - 1) * 100 }'; }

# ---- 3. latency ------------------------------------------------------------------------------
latency_part() {
wait_caught_up 600 || die "the speed layer did not catch up"
speed_pins=$(psql_q pinterest_streaming -c "SELECT count(*) FROM experimental_data")
serving_pins=$(psql_q pinterest_streaming -c "SELECT count(*) FROM serving.pins")
dash_pid=$(pid_of dashboard)
# The engine reads a burst in slices, one per refresh: measure once it holds every post.
t_engine=$(now)
until curl -fsS "$DASH_URL/metrics" | awk '$1 == "pinpipe_dashboard_engine_backlog" { b = $2 } END { exit b != "0" }'; do
  (($(secs "$t_engine" "$(now)" | cut -d. -f1) < 600)) || die "the dashboard's engine did not catch up in 600 s"
  sleep 1
done
engine_catchup=$(secs "$t_engine" "$(now)")
log "latency: $CLIENTS clients for ${SECONDS_LAT}s ($speed_pins speed-layer pins, $serving_pins merged; engine caught up ${engine_catchup}s after the speed layer)"
curl -fsS "$DASH_URL/metrics" >"$S/metrics-before.txt"
python3 "$ROOT/bench/lib/dash_clients.py" --url "$DASH_URL" --clients "$CLIENTS" --interval 1 \
  --seconds "$SECONDS_LAT" --random-filters 0.33 --out "$S/latency.json"
curl -fsS "$DASH_URL/metrics" >"$S/metrics-after.txt"
# Server side, over the clients' window: the analytics route's request histogram and the
# on-demand computations (pinpipe_dashboard_compute_seconds).
server_side=$(python3 "$ROOT/bench/lib/histogram_window.py" "$S/metrics-before.txt" "$S/metrics-after.txt" \
  'pinpipe_dashboard_request_seconds{route="/api/analytics"}' 'pinpipe_dashboard_compute_seconds')
read -r rss_now rss_peak < <(rss_of "$dash_pid")
# SQL baseline: the same 8 questions through the serving functions, as psql users ask them.
sql_ms() {  # SQL -> median ms of 3 runs (psql \timing)
  local i out times=()
  for i in 1 2 3; do
    out=$(psql -X -qAt -h 127.0.0.1 -p "$PINPIPE_PG_PORT" -U pinpipe pinterest_streaming \
      -c '\timing on' -c "$1" 2>&1 | awk '/^Time:/ { print $2 }')
    times+=("$out")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}
category=$(psql_q pinterest_streaming -c "SELECT category FROM serving.pins WHERE category IS NOT NULL LIMIT 1")
sql_all=0 sql_cat=0
for q in $(psql_q pinterest_streaming -c "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'serving' AND p.proname ~ '^q[1-8]_' ORDER BY 1"); do
  a=$(sql_ms "SELECT count(*) FROM serving.$q()")
  b=$(sql_ms "SELECT count(*) FROM serving.$q(p_category => '$category')" 2>/dev/null || echo "")
  sql_all=$(awk -v s="$sql_all" -v a="$a" 'BEGIN { printf "%.1f", s + a }')
  [[ -n $b ]] && sql_cat=$(awk -v s="$sql_cat" -v a="$b" 'BEGIN { printf "%.1f", s + a }')
  log "SQL $q: ${a} ms (category filter: ${b:-n/a} ms)"
done
api_ms() {  # path -> "first median" ms of 3 requests (curl total time): the first may be a cache miss
  local i t=()
  for i in 1 2 3; do t+=("$(curl -s -o /dev/null -w '%{time_total}' "$DASH_URL$1" | awk '{ printf "%.1f", $1 * 1000 }')"); done
  echo "${t[0]} $(printf '%s\n' "${t[@]}" | sort -n | sed -n 2p)"
}
enc_category=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$category")
read -r api_all_first api_all < <(api_ms /api/analytics)
read -r api_cat_first api_cat < <(api_ms "/api/analytics?category=$enc_category&from=2000-01-01")

# ---- 4. bundle -------------------------------------------------------------------------------
page=$(curl -s "$DASH_URL/")
bundle_raw=0 bundle_gz=0
for a in $(grep -oE '/assets/[^"]+\.(js|css)' <<<"$page" | sort -u); do
  curl -s "$DASH_URL$a" >"$S/asset"
  bundle_raw=$((bundle_raw + $(stat -c %s "$S/asset")))
  bundle_gz=$((bundle_gz + $(gzip -9 -c "$S/asset" | wc -c)))
done
}
if [[ $ONLY != throughput ]]; then latency_part; fi

# ---- report ----------------------------------------------------------------------------------
{
  echo "# Dashboard benchmark ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  echo "Command: bench/dashboard_bench.sh --posts $POSTS --rounds $ROUNDS --clients $CLIENTS --seconds $SECONDS_LAT --only $ONLY"
  [[ -n $BUILD_NOTE ]] && echo && echo "**Warning:** $BUILD_NOTE."
  echo
  echo "Pipeline (scripts/run, fresh state): up after $(secs "$t_launch" "$t_up" 1) s; batch layer's first day ($boundary) after $(secs "$t_launch" "$t_boundary" 1) s."
  echo
  if [[ $ONLY != latency ]]; then
  echo "## Speed-layer throughput with the dashboard"
  echo
  echo "Bursts of $per_burst posts ($((per_burst * 3)) records), order ${variants[*]} (ABBA, $ROUNDS rounds); the speed layer paused while each burst entered Kafka."
  echo "off = dashboard process paused (SIGSTOP between statements); idle = running, no browser; clients = $CLIENTS simulated browsers refreshing every second."
  echo
  echo "| dashboard | drains | records | seconds | records/s: median | min .. max (spread) | vs idle | vs off | CPU s per M records: dashboard / PostgreSQL / Kafka / speed layer / browsers | of PostgreSQL, the dashboard's sessions: engine / panels / views |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for v in off idle clients; do
    read -r med lo hi rec sec cd cp ck cs cc pe pq pw < <(variant_stats "$v")
    n=$(awk -F'\t' -v v="$v" '$2 == v' "$BURSTS_TSV" | wc -l)
    echo "| $v | $n | $rec | $sec | $med | $lo .. $hi ($(awk -v a="$lo" -v b="$hi" -v m="$med" 'BEGIN { printf (m > 0 ? "%.1f%%" : "n/a"), (b - a) / m * 100 }')) | $(delta "$v" idle) | $(delta "$v" off) | $cd / $cp / $ck / $cs / $cc | $pe / $pq / $pw |"
  done
  echo
  echo "**$CLIENTS clients vs idle: $(delta clients idle); vs off: $(delta clients off)** (medians; the issue allows -5%)."
  echo
  echo "PostgreSQL CPU is all its server processes (the speed layer's COPY and commits, autovacuum, the dashboard's sessions); the dashboard's sessions are told apart by their last statement (engine: the analytics engine's refresh transaction; views: serving.layer_days / serving.reconciliation / the dead letters' count, at most one a minute; panels: the rest of a refresh cycle)."
  echo
  echo "Per drain (in order):"
  echo
  echo "| # | dashboard | records | seconds | records/s | PostgreSQL CPU s (all / dashboard's sessions) | dashboard yielding (samples, 1 a second) |"
  echo "|---|---|---|---|---|---|---|"
  awk -F'\t' -v hz="$(getconf CLK_TCK)" '{ printf "| %d | %s | %d | %.1f | %.0f | %.2f / %.2f | %s |\n", $1 + 1, $2, $3, $4, $3 / $4, $6 / hz, ($10 + $11 + $12) / hz, $13 }' "$BURSTS_TSV"
  first_clients=$(awk -F'\t' '$2 == "clients" { print $1; exit }' "$BURSTS_TSV")
  if [[ -n $first_clients && -f $S/burst-$first_clients-clients.json ]]; then
    echo
    echo "Clients during drain $((first_clients + 1)): $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["refreshes"], "refreshes,", sum(e["errors"] for e in r["endpoints"].values()), "errors")' "$S/burst-$first_clients-clients.json")."
  fi
  echo
  fi
  if [[ $ONLY != throughput ]]; then
  echo "## API latency: $CLIENTS clients refreshing every second for ${SECONDS_LAT}s"
  echo
  echo "$speed_pins pins in the speed layer, $serving_pins merged pins in serving.pins (batch days up to $(psql_q pinterest_streaming -c "SELECT boundary FROM serving.boundary"))."
  echo "The dashboard's analytics engine held every post ${engine_catchup} s after the speed layer had committed the last (pinpipe_dashboard_engine_backlog 0); the clients started then."
  echo "A third of the refreshes ask /api/analytics and /api/lambda with random filters (cache misses)."
  echo
  echo "| endpoint | requests | errors | p50 ms | p99 ms | max ms |"
  echo "|---|---|---|---|---|---|"
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for name, e in sorted(r["endpoints"].items()):
    print("| %s | %d | %d | %s | %s | %s |" % (name, e["count"], e["errors"], e["p50_ms"], e["p99_ms"], e["max_ms"]))
' "$S/latency.json"
  echo
  echo "Server side over the same window (the dashboard's own histograms, from a complete request to its answer; bucket bounds):"
  echo
  echo "$server_side"
  echo
  echo "## The 8 questions: dashboard vs SQL (same run, same data)"
  echo
  echo "| | SQL: 8 serving functions (sum of medians of 3) | GET /api/analytics: first request | ratio | median of 3 (cached) | ratio |"
  echo "|---|---|---|---|---|---|"
  ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { printf (a > 0 && b > 0 ? "%.0fx" : "n/a"), a / b }'; }
  echo "| no filter | $sql_all ms | $api_all_first ms | $(ratio_of "$sql_all" "$api_all_first") | $api_all ms | $(ratio_of "$sql_all" "$api_all") |"
  echo "| category = $category (API: and from=2000-01-01, a new cache key) | $sql_cat ms | $api_cat_first ms | $(ratio_of "$sql_cat" "$api_cat_first") | $api_cat ms | $(ratio_of "$sql_cat" "$api_cat") |"
  echo
  echo "## Footprint"
  echo
  echo "- dashboard RSS: $rss_now MiB now, $rss_peak MiB peak (VmHWM) with $serving_pins merged pins"
  echo "- page JS+CSS: $bundle_raw bytes, $bundle_gz bytes gzipped (gzip -9)"
  fi
} | tee "$report"
echo "report: $report" >&2
