#!/usr/bin/env bash
# The batch job on Spark: the PySpark job that `pinpipe export-spark` generates from the
# transform vs `pinpipe batch`, next to the seed's own PySpark batch job
# (bench/baselines/spark_batch.py), on the same archived pin records; ratios in the same report.
#
#   bench/spark_batch_bench.sh [--gib 0.25] [--posts 100000] [--threads N] [--build-dir DIR]
#                              [--work DIR] [--keep]
#
# 1. batch_lake_gen writes --gib GiB of pin records (one day, the archiver's layout: zstd JSONL
#    under pinterest/dt=/hr=/, sealed), posts drawn with replacement from --posts source rows.
# 2. pinpipe batch --no-pg (clean, de-duplicate, write the cleaned CSV/JSONL parts, dead letters
#    and quality report to the lake) and --dry-run, --threads workers, under /usr/bin/time.
# 3. The generated job (local[*]) on the same lake: reads the .jsonl.zst objects (binaryFile +
#    zstandard), validates and cleans every record with the transform's rules, de-duplicates by
#    key and writes the tables' rows (COPY text) and the dead letters. CPU and peak RSS of the
#    whole process session (driver, JVM, Python workers; bench/lib/proctree.py).
# 4. The seed's job on the same records decompressed to .jsonl (it cannot read zstd; see its
#    docstring), --sink csv: schema inference, four regexp_replace, one cast, no validation, no
#    de-duplication, no dead letters.
# Records/s are of the job's own time (the Spark session up; JVM start-up is in "process s").
# Results: Markdown on stdout and in bench/results/spark-batch-<timestamp>.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

GIB=0.25 POSTS=100000 THREADS=$(nproc) BUILD_DIR="" WORK="" KEEP=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --gib) GIB=$2; shift 2 ;;
    --posts) POSTS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) die "unknown option $1 (see the comment at the top of $0)" ;;
  esac
done

if [[ -z $BUILD_DIR ]]; then
  "$ROOT/scripts/setup" --spark
  BUILD_DIR="$ROOT/build/release"
  "$ROOT/scripts/build" release --target pinpipe batch_lake_gen
fi
BIN="$BUILD_DIR/apps/pinpipe"
GEN="$BUILD_DIR/bench/batch_lake_gen"
[[ -x $BIN && -x $GEN ]] || die "$BIN and $GEN are needed (scripts/build release --target pinpipe batch_lake_gen)"
PY="${PINPIPE_SPARK_PYTHON:-$STATE/venv/bin/python}"
"$PY" -c 'import pyspark, zstandard' || die "$PY needs pyspark and zstandard (scripts/setup --spark)"
WORK="${WORK:-$STATE/bench-spark-batch}"
mkdir -p "$WORK" "$ROOT/bench/results"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
report="$ROOT/bench/results/spark-batch-$STAMP.md"
DAY=2024-01-01
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

cleanup() {
  if [[ $KEEP -eq 0 ]]; then
    rm -rf -- "$WORK/lake" "$WORK/seed-in" "$WORK/seed-out" "$WORK/gen-out"
  fi
}
trap cleanup EXIT
field() { sed -n "s/.*[ :]$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }

rm -rf -- "$WORK/lake"
log "generating $GIB GiB of pin records"
GEN_LINE=$("$GEN" --lake "$WORK/lake" --from $DAY --days 1 --gib "$GIB" --posts "$POSTS" \
  --kinds pin --threads "$THREADS")
echo "$GEN_LINE" >&2
RECORDS=$(field pin_records "$GEN_LINE")

# run_pinpipe LABEL ARGS...: fills P[LABEL,*].
declare -A P
run_pinpipe() {
  local label=$1; shift
  local out="$WORK/pinpipe-$label.log" summary t
  log "pinpipe batch $label"
  /usr/bin/time -f "time: wall=%e user=%U sys=%S maxrss_kb=%M" \
    "$BIN" batch --progress never --date $DAY --lake "file://$WORK/lake" --threads "$THREADS" \
    "$@" >"$out" 2>&1 || { cat "$out" >&2; die "pinpipe batch $label failed"; }
  summary=$(grep 'summary:' "$out")
  t=$(grep '^time:' "$out")
  P[$label,seconds]=$(field seconds "$summary")
  P[$label,rows]=$(field rows "$summary")
  P[$label,wall]=$(field wall "$t")
  P[$label,cpu]=$(awk -v u="$(field user "$t")" -v s="$(field sys "$t")" 'BEGIN{printf "%.2f", u+s}')
  P[$label,rss]=$(awk -v k="$(field maxrss_kb "$t")" 'BEGIN{printf "%.0f", k/1024}')
}

# run_session LABEL COMMAND...: a Spark process session; fills S[LABEL,*] (job_seconds from its
# JSON line, process wall, CPU and peak RSS of the session).
declare -A S
run_session() {
  local label=$1; shift
  local out="$WORK/$label.log" t0 t1 pid cpu=0 rss=0 c r
  log "$label: $*"
  t0=$(date +%s.%N)
  setsid "$@" >"$out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    read -r c r _ < <(python3 "$ROOT/bench/lib/proctree.py" "$pid")
    awk -v a="$c" -v b="$cpu" 'BEGIN{exit !(a>b)}' && cpu=$c
    awk -v a="$r" -v b="$rss" 'BEGIN{exit !(a>b)}' && rss=$r
    sleep 0.5
  done
  wait "$pid" || { tail -30 "$out" >&2; die "$label failed"; }
  t1=$(date +%s.%N)
  S[$label,wall]=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  S[$label,job]=$(sed -n 's/.*"job_seconds": \([0-9.]*\).*/\1/p' "$out" | tail -1)
  S[$label,cpu]=$cpu
  S[$label,rss]=$rss
}

run_pinpipe dry --dry-run
run_pinpipe lake --no-pg

"$BIN" export-spark --out "$WORK/pinpipe_spark_job.py"
rm -rf -- "$WORK/gen-out"
run_session generated "$PY" "$WORK/pinpipe_spark_job.py" --lake "file://$WORK/lake" \
  --date $DAY --out "file://$WORK/gen-out"
GEN_ROWS=$(sed -n "s/^$DAY pin records=[0-9]* rows=\([0-9]*\).*/\1/p" "$WORK/generated.log")

rm -rf -- "$WORK/seed-in" "$WORK/seed-out"
mkdir -p "$WORK/seed-in"
n=0
while IFS= read -r -d '' f; do
  zstd -q -d -c "$f" >"$WORK/seed-in/part-$(printf '%05d' $n).jsonl"
  n=$((n + 1))
done < <(find "$WORK/lake/pinterest/dt=$DAY" -name '*.jsonl.zst' -print0 | sort -z)
run_session seed "$PY" "$ROOT/bench/baselines/spark_batch.py" "file://$WORK/seed-in/*.jsonl" \
  --sink csv --out "file://$WORK/seed-out"

rate() { awk -v n="$RECORDS" -v s="$1" 'BEGIN{ if (s > 0) printf "%.0f", n/s; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1fx", a/b; else print "-" }'; }
{
  echo "# Spark batch benchmark $STAMP"
  echo
  echo "Machine: $(nproc) cores, shared; load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Lake: $RECORDS pin records ($GIB GiB of JSON, one day, $(field pin_compressed_bytes "$GEN_LINE") bytes zstd); PySpark $("$PY" -c 'import pyspark; print(pyspark.__version__)'), local[*]; pinpipe --threads $THREADS."
  echo
  echo "| engine | rows out | job s | records/s (job) | process s | CPU s | records per CPU-s | peak RSS MiB |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "| pinpipe batch --dry-run (clean, dedup; no output) | ${P[dry,rows]} | ${P[dry,seconds]} | $(rate "${P[dry,seconds]}") | ${P[dry,wall]} | ${P[dry,cpu]} | $(rate "${P[dry,cpu]}") | ${P[dry,rss]} |"
  echo "| pinpipe batch --no-pg (+ CSV/JSONL, dead letters, quality) | ${P[lake,rows]} | ${P[lake,seconds]} | $(rate "${P[lake,seconds]}") | ${P[lake,wall]} | ${P[lake,cpu]} | $(rate "${P[lake,cpu]}") | ${P[lake,rss]} |"
  echo "| generated Spark job (export-spark: validate, clean, dedup, rows + dead letters) | $GEN_ROWS | ${S[generated,job]} | $(rate "${S[generated,job]}") | ${S[generated,wall]} | ${S[generated,cpu]} | $(rate "${S[generated,cpu]}") | ${S[generated,rss]} |"
  echo "| seed's Spark job (--sink csv: 4 regexp_replace + cast, no validation/dedup) | - | ${S[seed,job]} | $(rate "${S[seed,job]}") | ${S[seed,wall]} | ${S[seed,cpu]} | $(rate "${S[seed,cpu]}") | ${S[seed,rss]} |"
  echo
  echo "Ratios (same $RECORDS records):"
  echo "- pinpipe --no-pg vs the generated job: $(ratio "${S[generated,job]}" "${P[lake,seconds]}") faster (job time), $(ratio "${S[generated,cpu]}" "${P[lake,cpu]}") less CPU; vs its process: $(ratio "${S[generated,wall]}" "${P[lake,wall]}")"
  echo "- pinpipe --no-pg vs the seed's job: $(ratio "${S[seed,job]}" "${P[lake,seconds]}") faster (job time), $(ratio "${S[seed,cpu]}" "${P[lake,cpu]}") less CPU"
  echo "- generated job vs the seed's job: $(ratio "${S[generated,job]}" "${S[seed,job]}") the seed's job time, $(ratio "${S[generated,cpu]}" "${S[seed,cpu]}") its CPU (it does the whole transform in Python: validation, every rule, dedup, dead letters)"
  echo "- rows: pinpipe ${P[lake,rows]}, generated job $GEN_ROWS (must be equal)"
} | tee "$report"
log "report: $report"
