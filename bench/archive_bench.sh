#!/usr/bin/env bash
# Archiver benchmark: `pinpipe archive` draining pre-filled topics into the local store.
#
#   bench/archive_bench.sh [--records N] [--original-records M] [--bin PATH]
#                          [--zstd-level L (default: the archiver's)] [--drain-timeout S]
#                          [--s3 [--s3-records N] [--s3-original-records M]]
#
# 1. Starts its own Kafka (state $STATE/bench-archive, wiped at every start; ports 47092/47093,
#    apart from scripts/run, scripts/test and the other benchmarks) and creates the three topics
#    (3 partitions each).
# 2. Pre-fills them with N records in all (a third per topic) with Kafka's own
#    ProducerPerformance from payload files of realistic records (10,000 distinct pins, geo and
#    user records shaped like ../shared/DATA_FACTS.md; geo timestamps of today, so geo records are
#    filed by their own event time, users by Kafka time), lz4 like the ingest API's producer.
# 3. Drain: starts `pinpipe archive` (default settings: 100k records / 64 MiB segments, zstd
#    level 1, one compression thread; but --rotate-idle 1s instead of 30 s, so that the last,
#    partial segment of each partition is not timed as 30 s of waiting) on an empty lake and polls
#    its /metrics until pinpipe_archive_records_total (records durable in the lake) reaches N.
#    "From process start" includes the fresh broker creating __consumer_offsets for the first
#    group (seconds, once per broker), so the headline is measured from the partition assignment. Reports records/s from the partition assignment to the last record durable (and
#    from process start), MB/s of raw JSON, CPU seconds and peak RSS of the archiver, objects
#    written and the compression ratio.
# 4. The original layout (--layout original: one object per record, the seed's
#    pinterest_data_<unique_id>.json) on M pins of a separate topic, same local store, for the
#    ratio. 0 skips it.
# 5. With --s3: the same two layouts against a real S3 server on loopback (MinIO, as built by
#    `scripts/setup --s3`; port 47000, bucket pinpipe): the hourly layout on the first --s3-records
#    records of each topic (default: all), the original layout on --s3-original-records pins
#    (default: --original-records). Reports records/s and the HTTP requests pinpipe sent
#    (pinpipe_archive_store_requests_total, retries included) and the ratios.
# The pinpipe binary: --bin, else build/release/apps/pinpipe after `scripts/build release`.
# Results: a Markdown table on stdout and in bench/results/archive-<timestamp>.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=lib/bench.sh
source "$ROOT/bench/lib/bench.sh"

RECORDS=3000000 ORIGINAL_RECORDS=20000 BIN="" ZSTD_LEVEL="" DRAIN_TIMEOUT=600
S3=0 S3_RECORDS="" S3_ORIGINAL_RECORDS=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --records) RECORDS=$2; shift 2 ;;
    --original-records) ORIGINAL_RECORDS=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --zstd-level) ZSTD_LEVEL=$2; shift 2 ;;
    --drain-timeout) DRAIN_TIMEOUT=$2; shift 2 ;;
    --s3) S3=1; shift ;;
    --s3-records) S3_RECORDS=$2; shift 2 ;;
    --s3-original-records) S3_ORIGINAL_RECORDS=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done

BUILD_NOTE=""
if [[ -z $BIN ]]; then
  [[ -f $KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar ]] || "$ROOT/scripts/setup"
  BIN="$ROOT/build/release/apps/pinpipe"
  if ! "$ROOT/scripts/build" release; then
    [[ -x $BIN ]] || die "scripts/build release failed and there is no $BIN"
    BUILD_NOTE="scripts/build release FAILED; benchmarked the existing binary ($(date -u -r "$BIN" +%FT%TZ))"
    warn "$BUILD_NOTE"
  fi
fi
"$BIN" archive --help >/dev/null 2>&1 || die "$BIN has no archive command"

export PINPIPE_KAFKA_LIBS="$KAFKA_LIBS"
export PINPIPE_STATE_DIR="$STATE/bench-archive"
export PINPIPE_KAFKA_PORT=47092 PINPIPE_KAFKA_CONTROLLER_PORT=47093 PINPIPE_PG_PORT=47432
export PINPIPE_S3_PORT=47000 PINPIPE_S3_BIN="${PINPIPE_S3_BIN:-$STATE/opt/minio/minio}"
BROKERS="127.0.0.1:$PINPIPE_KAFKA_PORT"
METRICS_PORT=47091
S="$PINPIPE_STATE_DIR"
TOPIC_PIN=bench_pin TOPIC_GEO=bench_geo TOPIC_USER=bench_user TOPIC_ORIG=bench_orig_pin
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
report="$ROOT/bench/results/archive-$STAMP.md"
mkdir -p "$ROOT/bench/results"

archiver_sid=""
stop_archiver() {
  [[ -n $archiver_sid ]] || return 0
  kill -TERM -- "-$archiver_sid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 -- "-$archiver_sid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$archiver_sid" 2>/dev/null || true
  archiver_sid=""
}
cleanup() {
  stop_archiver
  "$ROOT/scripts/services" kafka stop >/dev/null 2>&1 || true
  ((S3)) && { "$ROOT/scripts/services" s3 stop >/dev/null 2>&1 || true; }
}
trap cleanup EXIT

metric_sum() {  # sum of a metric family (all label sets) on the archiver's /metrics
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null |
    awk -v m="$1" '$1 ~ "^"m"({|$)" { s += $2 } END { printf "%.0f", s + 0 }'
}

# ---- Kafka, topics, pre-fill ------------------------------------------------------------------
"$ROOT/scripts/services" kafka stop >/dev/null 2>&1 || true
rm -rf "$S" && mkdir -p "$S"
"$ROOT/scripts/services" kafka start
"$BIN" topics ensure --kafka-brokers "$BROKERS" --topic-pin "$TOPIC_PIN" --topic-geo "$TOPIC_GEO" --topic-user "$TOPIC_USER" >/dev/null
"$BIN" topics ensure --kafka-brokers "$BROKERS" --topic-pin "$TOPIC_ORIG" --topic-geo bench_orig_geo --topic-user bench_orig_user >/dev/null

log "writing payload files (10,000 distinct records per kind)"
python3 - "$S" <<'PY'
import datetime, random, sys, uuid
out = sys.argv[1]
rng = random.Random(42)
cats = ["christmas", "art", "quotes", "education", "diy-and-crafts", "finance", "travel",
        "mens-fashion", "tattoos", "event-planning", "vehicles", "beauty", "home-decor"]
words = "the of and a to in is you that it he was for on are as with his they at be this have".split()
today = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
def text(n):
    return " ".join(rng.choice(words) for _ in range(n))
with open(f"{out}/pin.txt", "w") as f:
    for i in range(10000):
        c = rng.choice(cats)
        f.write('{"index":%d,"unique_id":"%s","title":"%s","description":"%s","poster_name":"%s",'
                '"follower_count":"%dk","tag_list":"%s","is_image_or_video":"image",'
                '"image_src":"https://i.pinimg.com/originals/%s.jpg","downloaded":1,'
                '"save_location":"Local save in /data/%s","category":"%s"}\n' % (
                    i, uuid.UUID(int=rng.getrandbits(128), version=4), text(8), text(40),
                    text(2), rng.randint(1, 999), ",".join(text(1) for _ in range(9)),
                    uuid.UUID(int=rng.getrandbits(128)).hex, c, c))
with open(f"{out}/geo.txt", "w") as f:
    for i in range(10000):
        ts = today - datetime.timedelta(seconds=rng.randint(0, 7200))
        f.write('{"ind":%d,"timestamp":"%s","latitude":%.5f,"longitude":%.5f,"country":"Cote d\'Ivoire"}\n'
                % (i, ts.strftime("%Y-%m-%d %H:%M:%S"), rng.uniform(-90, 90), rng.uniform(-180, 180)))
with open(f"{out}/user.txt", "w") as f:
    for i in range(10000):
        f.write('{"ind":%d,"first_name":"%s","last_name":"%s","age":%d,"date_joined":"2016-%02d-%02d 10:11:12"}\n'
                % (i, text(1).title(), text(1).title(), rng.randint(20, 60), rng.randint(1, 12), rng.randint(1, 28)))
PY

produce() {  # topic records payload-file
  "$ROOT/scripts/services" kafka tool org.apache.kafka.tools.ProducerPerformance \
    --topic "$1" --num-records "$2" --throughput -1 --payload-file "$3" \
    --producer-props "bootstrap.servers=$BROKERS" acks=1 linger.ms=20 batch.size=1048576 \
    compression.type=lz4 buffer.memory=33554432 >"$S/produce-$1.log" 2>&1 ||
    die "pre-filling $1 failed (log: $S/produce-$1.log)"
}
PER=$((RECORDS / 3))
RECORDS=$((PER * 3))
log "pre-filling $RECORDS records ($PER per topic)"
t=$(now)
produce "$TOPIC_PIN" "$PER" "$S/pin.txt"
produce "$TOPIC_GEO" "$PER" "$S/geo.txt"
produce "$TOPIC_USER" "$PER" "$S/user.txt"
prefill_s=$(secs "$t" "$(now)")
in_topics=$(($(topic_end "$TOPIC_PIN") + $(topic_end "$TOPIC_GEO") + $(topic_end "$TOPIC_USER")))
((in_topics == RECORDS)) || die "topics hold $in_topics records, expected $RECORDS"
log "pre-filled in ${prefill_s}s"

# ---- drain ----------------------------------------------------------------------------------------
# run_archiver NAME EXPECTED TOPIC_PIN TOPIC_GEO TOPIC_USER [extra flags]: sets R[NAME,*].
declare -A R
run_archiver() {
  local name=$1 expected=$2 tp=$3 tg=$4 tu=$5
  shift 5
  local lake="$S/lake-$name" logf="$S/archive-$name.log"
  rm -rf "$lake"
  # LAKE_URL (s3://...) replaces the local directory for one call.
  [[ -n ${LAKE_URL:-} ]] && lake=$LAKE_URL
  log "$name: draining $expected records into $lake"
  local t0 t_assigned="" t_done="" n=0
  t0=$(now)
  setsid "$BIN" archive --kafka-brokers "$BROKERS" --topic-pin "$tp" --topic-geo "$tg" --topic-user "$tu" \
    --group "bench-$name-$STAMP" --lake "$lake" --rotate-idle 1s \
    ${ZSTD_LEVEL:+--zstd-level "$ZSTD_LEVEL"} --metrics-port "$METRICS_PORT" "$@" >"$logf" 2>&1 &
  archiver_sid=$!
  while :; do
    sleep 0.1
    [[ -z $t_assigned ]] && grep -q "assigned [1-9]" "$logf" 2>/dev/null && t_assigned=$(now)
    n=$(metric_sum pinpipe_archive_records_total)
    ((n >= expected)) && { t_done=$(now); break; }
    kill -0 "$archiver_sid" 2>/dev/null || { R[$name,note]="exited early at $n/$expected (log: $logf)"; break; }
    if awk -v a="$t0" -v b="$(now)" -v m="$DRAIN_TIMEOUT" 'BEGIN { exit !(b - a > m) }'; then
      R[$name,note]="timed out after ${DRAIN_TIMEOUT}s at $n/$expected"; break
    fi
  done
  read -r R[$name,cpu] R[$name,rss] _ < <(python3 "$ROOT/bench/lib/proctree.py" "$archiver_sid")
  R[$name,raw]=$(metric_sum 'pinpipe_archive_bytes_total{topic="[^"]*",kind="raw"}')
  R[$name,stored]=$(metric_sum 'pinpipe_archive_bytes_total{topic="[^"]*",kind="stored"}')
  R[$name,objects]=$(metric_sum 'pinpipe_archive_objects_total')
  R[$name,segments]=$(metric_sum 'pinpipe_archive_segments_total')
  R[$name,requests]=$(metric_sum 'pinpipe_archive_store_requests_total')
  stop_archiver
  R[$name,records]=$n
  if [[ -n $t_done ]]; then
    R[$name,all]=$(secs "$t0" "$t_done")
    R[$name,warm]=$(secs "${t_assigned:-$t0}" "$t_done")
    R[$name,rps]=$(awk -v n="$expected" -v d="${R[$name,all]}" 'BEGIN { printf "%.0f", n / d }')
    R[$name,rps_warm]=$(awk -v n="$expected" -v d="${R[$name,warm]}" 'BEGIN { printf "%.0f", n / d }')
    R[$name,mbps]=$(awk -v b="${R[$name,raw]}" -v d="${R[$name,warm]}" 'BEGIN { printf "%.1f", b / d / 1048576 }')
    log "$name: $expected records in ${R[$name,all]}s (${R[$name,warm]}s after assignment): ${R[$name,rps_warm]} records/s"
  else
    R[$name,all]=n/a R[$name,warm]=n/a R[$name,rps]=n/a R[$name,rps_warm]=n/a R[$name,mbps]=n/a
    log "$name: ${R[$name,note]}"
  fi
  R[$name,disk]=$(du -sm "$lake" 2>/dev/null | awk '{ print $1 }' || true)
  return 0
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
run_archiver hourly "$RECORDS" "$TOPIC_PIN" "$TOPIC_GEO" "$TOPIC_USER"
if ((ORIGINAL_RECORDS > 0)); then
  produce "$TOPIC_ORIG" "$ORIGINAL_RECORDS" "$S/pin.txt"
  # Distinct names: the payload file has 10,000 pins, so at most that many objects; the rate is
  # per record written (each one a put), which is what the original did per message.
  run_archiver original "$ORIGINAL_RECORDS" "$TOPIC_ORIG" bench_orig_geo bench_orig_user --layout original
fi

if ((S3)); then
  [[ -x $PINPIPE_S3_BIN ]] || "$ROOT/scripts/setup" --s3  # builds MinIO
  "$ROOT/scripts/services" s3 stop >/dev/null 2>&1 || true
  "$ROOT/scripts/services" s3 start
  eval "$("$ROOT/scripts/services" s3 env | grep '^export')"
  S3_FLAGS=(--s3-endpoint "$PINPIPE_S3_ENDPOINT" --s3-addressing path)
  S3_RECORDS=${S3_RECORDS:-$RECORDS}
  S3_PER=$((S3_RECORDS / 3))
  ((S3_PER <= PER)) || die "--s3-records is more than the topics hold ($RECORDS)"
  S3_RECORDS=$((S3_PER * 3))
  S3_ORIGINAL_RECORDS=${S3_ORIGINAL_RECORDS:-$ORIGINAL_RECORDS}
  ((S3_ORIGINAL_RECORDS <= ORIGINAL_RECORDS)) || die "--s3-original-records is more than --original-records"
  # The first S3_PER records of each topic: topics cut to that length are not possible, so
  # copies are made (same payload files, same order).
  if ((S3_PER < PER)); then
    "$BIN" topics ensure --kafka-brokers "$BROKERS" --topic-pin s3_pin --topic-geo s3_geo --topic-user s3_user >/dev/null
    produce s3_pin "$S3_PER" "$S/pin.txt"; produce s3_geo "$S3_PER" "$S/geo.txt"; produce s3_user "$S3_PER" "$S/user.txt"
    S3_TOPICS=(s3_pin s3_geo s3_user)
  else
    S3_TOPICS=("$TOPIC_PIN" "$TOPIC_GEO" "$TOPIC_USER")
  fi
  LAKE_URL="s3://pinpipe/bench-hourly-$STAMP" run_archiver s3_hourly "$S3_RECORDS" "${S3_TOPICS[@]}" "${S3_FLAGS[@]}"
  if ((S3_ORIGINAL_RECORDS > 0)); then
    if ((S3_ORIGINAL_RECORDS < ORIGINAL_RECORDS)); then
      "$BIN" topics ensure --kafka-brokers "$BROKERS" --topic-pin s3_orig_pin --topic-geo s3_orig_geo --topic-user s3_orig_user >/dev/null
      produce s3_orig_pin "$S3_ORIGINAL_RECORDS" "$S/pin.txt"
      ORIG_TOPICS=(s3_orig_pin s3_orig_geo s3_orig_user)
    else
      ORIG_TOPICS=("$TOPIC_ORIG" bench_orig_geo bench_orig_user)
    fi
    LAKE_URL="s3://pinpipe/bench-original-$STAMP" run_archiver s3_original "$S3_ORIGINAL_RECORDS" "${ORIG_TOPICS[@]}" --layout original "${S3_FLAGS[@]}"
  fi
fi

ratio=n/a
if [[ ${R[original,rps_warm]:-n/a} != n/a && ${R[hourly,rps_warm]} != n/a ]]; then
  ratio=$(awk -v a="${R[hourly,rps_warm]}" -v b="${R[original,rps_warm]}" 'BEGIN { printf "%.0fx", a / b }')
fi
compression=$(awk -v r="${R[hourly,raw]}" -v s="${R[hourly,stored]}" 'BEGIN { if (s > 0) printf "%.1fx", r / s; else print "n/a" }')
{
  echo "# Archiver benchmark $STAMP"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); Kafka on the same machine; local store on $(df -h "$S" | awk 'NR == 2 { print $1 }')."
  echo "Binary: $BIN. zstd level ${ZSTD_LEVEL:-default (1)}. Pre-fill: $RECORDS records in ${prefill_s}s. Load average before the drain: $load."
  [[ -n $BUILD_NOTE ]] && echo "**Warning:** $BUILD_NOTE"
  echo
  echo "| | hourly layout (default) | original layout (one object per record) |"
  echo "|---|---|---|"
  echo "| records | $RECORDS | $ORIGINAL_RECORDS |"
  echo "| records/s after assignment | **${R[hourly,rps_warm]}** | ${R[original,rps_warm]:-skipped} |"
  echo "| records/s from process start | ${R[hourly,rps]} | ${R[original,rps]:-skipped} |"
  echo "| raw JSON MB/s | ${R[hourly,mbps]} | ${R[original,mbps]:-skipped} |"
  echo "| time (from start / after assignment) | ${R[hourly,all]}s / ${R[hourly,warm]}s | ${R[original,all]:-}s / ${R[original,warm]:-}s |"
  echo "| CPU seconds (archiver) | ${R[hourly,cpu]} | ${R[original,cpu]:-} |"
  echo "| peak RSS MiB | ${R[hourly,rss]} | ${R[original,rss]:-} |"
  echo "| objects / segments | ${R[hourly,objects]} / ${R[hourly,segments]} | ${R[original,objects]:-} / ${R[original,segments]:-} |"
  echo "| lake size MiB | ${R[hourly,disk]} (compression $compression) | ${R[original,disk]:-} |"
  echo
  echo "Hourly vs original layout, records/s: **$ratio**."
  if ((S3)); then
    s3_ratio=n/a req_ratio=n/a
    if [[ ${R[s3_original,rps_warm]:-n/a} != n/a && ${R[s3_hourly,rps_warm]:-n/a} != n/a ]]; then
      s3_ratio=$(awk -v a="${R[s3_hourly,rps_warm]}" -v b="${R[s3_original,rps_warm]}" 'BEGIN { printf "%.0fx", a / b }')
    fi
    rpr() { awk -v r="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.5f", r / n; else print "n/a" }'; }
    hourly_rpr=$(rpr "${R[s3_hourly,requests]:-0}" "$S3_RECORDS")
    original_rpr=$(rpr "${R[s3_original,requests]:-0}" "$S3_ORIGINAL_RECORDS")
    req_ratio=$(awk -v a="$hourly_rpr" -v b="$original_rpr" 'BEGIN { if (a > 0) printf "%.0fx", b / a; else print "n/a" }')
    echo
    echo "## Against S3 (MinIO on loopback, $PINPIPE_S3_ENDPOINT, path-style, SigV4)"
    echo
    echo "| | hourly layout (default) | original layout (one object per record) |"
    echo "|---|---|---|"
    echo "| records | $S3_RECORDS | $S3_ORIGINAL_RECORDS |"
    echo "| records/s after assignment | **${R[s3_hourly,rps_warm]:-n/a}** | ${R[s3_original,rps_warm]:-n/a} |"
    echo "| time (from start / after assignment) | ${R[s3_hourly,all]:-}s / ${R[s3_hourly,warm]:-}s | ${R[s3_original,all]:-}s / ${R[s3_original,warm]:-}s |"
    echo "| HTTP requests sent by pinpipe | ${R[s3_hourly,requests]:-n/a} | ${R[s3_original,requests]:-n/a} |"
    echo "| requests per record | $hourly_rpr | $original_rpr |"
    echo "| CPU seconds / peak RSS MiB | ${R[s3_hourly,cpu]:-} / ${R[s3_hourly,rss]:-} | ${R[s3_original,cpu]:-} / ${R[s3_original,rss]:-} |"
    echo "| objects | ${R[s3_hourly,objects]:-} | ${R[s3_original,objects]:-} |"
    echo
    echo "On S3, hourly vs original layout: **$s3_ratio** the records/s, **$req_ratio** fewer requests per record."
    [[ -n ${R[s3_hourly,note]:-} ]] && echo "s3 hourly: ${R[s3_hourly,note]}"
    [[ -n ${R[s3_original,note]:-} ]] && echo "s3 original: ${R[s3_original,note]}"
  fi
  [[ -n ${R[hourly,note]:-} ]] && echo "hourly: ${R[hourly,note]}"
  [[ -n ${R[original,note]:-} ]] && echo "original: ${R[original,note]}"
  true
} | tee "$report"
log "report: $report"
