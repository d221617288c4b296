#!/usr/bin/env bash
# Batch-job benchmark: `pinpipe batch` against the original's PySpark batch job
# (bench/baselines/spark_batch.py = the seed's Batch_Layer.batch(), local[*]) on the same
# archived records, plus pinpipe's memory on a large input.
#
#   bench/batch_bench.sh [--gib 1] [--big-gib 10] [--big-days 1] [--posts 100000]
#                        [--threads N] [--engines "pinpipe spark"] [--build-dir DIR]
#                        [--work DIR] [--pg-dsn DSN] [--keep]
#
# 1. batch_lake_gen (bench/batch_lake_gen.cc) writes synthetic archives in the archiver's layout
#    (zstd JSONL objects under <topic>/dt=/hr=/, sealed), records of the emulator: posts drawn
#    with replacement from --posts synthetic source rows (so most records are replays, i.e.
#    duplicates, as with the real emulator):
#      P: --gib GiB of pin records only, one day   (the engines side by side)
#      L: --big-gib GiB of pin+geo+user records over --big-days days   (memory)
#      S: 1/10 of L                                                     (memory: does RSS grow?)
# 2. pinpipe on P: --dry-run (read, decompress, parse, validate, clean, de-duplicate; nothing
#    written) with 1 worker and with --threads workers; then --no-pg (also the cleaned CSV+JSONL,
#    dead letters and quality report in the lake); with --pg-dsn also a full load. Records/s of
#    wall time, records per CPU-second (user+sys of the process: "per core"), peak RSS.
# 3. Spark on P: the same pin records, decompressed to .jsonl first (PyPI's PySpark has no native
#    zstd codec; see the baseline's docstring), `--sink noop` (read, infer schema, clean, no
#    output) and `--sink csv` (also write CSV). Wall time of the whole process (JVM start-up
#    included) and of the job alone, CPU-seconds and peak RSS of the process session.
# 4. pinpipe --no-pg on S and on L: peak RSS, to show it does not grow with the input; and
#    --dry-run with 1 worker on S: records per CPU-second of the mixed archive (pin, geo, user).
# Results: a Markdown report on stdout and in bench/results/batch-<timestamp>.md.
# The build directory must hold apps/pinpipe and bench/batch_lake_gen (default: build/release,
# built with scripts/build release).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

GIB=1 BIG_GIB=10 BIG_DAYS=1 POSTS=100000 THREADS=$(nproc) ENGINES="pinpipe spark"
BUILD_DIR="" WORK="" PG_DSN="" KEEP=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --gib) GIB=$2; shift 2 ;;
    --big-gib) BIG_GIB=$2; shift 2 ;;
    --big-days) BIG_DAYS=$2; shift 2 ;;
    --posts) POSTS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --pg-dsn) PG_DSN=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) die "unknown option $1 (see the comment at the top of $0)" ;;
  esac
done

BUILD_NOTE=""
if [[ -z $BUILD_DIR ]]; then
  "$ROOT/scripts/setup" --bench
  BUILD_DIR="$ROOT/build/release"
  if ! "$ROOT/scripts/build" release; then
    [[ -x $BUILD_DIR/apps/pinpipe ]] || die "scripts/build release failed and there is no binary"
    BUILD_NOTE="scripts/build release FAILED; benchmarked the existing binaries"
    warn "$BUILD_NOTE"
  fi
fi
BIN="$BUILD_DIR/apps/pinpipe"
GEN="$BUILD_DIR/bench/batch_lake_gen"
[[ -x $BIN && -x $GEN ]] || die "$BIN and $GEN are needed (cmake --build $BUILD_DIR --target pinpipe batch_lake_gen)"
VENV="$STATE/venv"
WORK="${WORK:-$STATE/bench-batch}"
mkdir -p "$WORK" "$ROOT/bench/results"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
report="$ROOT/bench/results/batch-$STAMP.md"
DAY=2024-01-01

cleanup() {
  if [[ $KEEP -eq 0 ]]; then
    rm -rf -- "$WORK/lake-p" "$WORK/lake-s" "$WORK/lake-l" "$WORK/spark-in" "$WORK/spark-out"
  fi
}
trap cleanup EXIT

# gen NAME GIB DAYS KINDS -> lake in $WORK/lake-NAME; sets GEN_<NAME> to the generator's line.
gen() {
  local name=$1 gib=$2 days=$3 kinds=$4
  rm -rf -- "$WORK/lake-$name"
  log "generating lake $name: $gib GiB of $kinds records over $days day(s)"
  local line
  line=$("$GEN" --lake "$WORK/lake-$name" --from $DAY --days "$days" --gib "$gib" \
    --posts "$POSTS" --kinds "$kinds" --threads "$THREADS")
  echo "$line" >&2
  printf -v "GEN_$name" '%s' "$line"
}
field() { sed -n "s/.*[ :]$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }

# run_pinpipe LABEL ARGS... : one pinpipe batch run under /usr/bin/time; fills R[LABEL,*].
declare -A R
run_pinpipe() {
  local label=$1; shift
  local out="$WORK/pinpipe-$label.log"
  log "pinpipe batch $label: $*"
  /usr/bin/time -f "time: wall=%e user=%U sys=%S maxrss_kb=%M" \
    "$BIN" batch --progress never "$@" >"$out" 2>&1 || { cat "$out" >&2; die "pinpipe batch $label failed"; }
  local summary time_line
  summary=$(grep 'summary:' "$out")
  time_line=$(grep '^time:' "$out")
  R[$label,records]=$(field records "$summary")
  R[$label,rows]=$(field rows "$summary")
  R[$label,seconds]=$(field seconds "$summary")
  R[$label,cpu]=$(awk -v u="$(field user "$time_line")" -v s="$(field sys "$time_line")" 'BEGIN{printf "%.2f", u+s}')
  R[$label,wall]=$(field wall "$time_line")
  R[$label,rss]=$(awk -v k="$(field maxrss_kb "$time_line")" 'BEGIN{printf "%.1f", k/1024}')
  R[$label,rps]=$(awk -v n="${R[$label,records]}" -v s="${R[$label,seconds]}" 'BEGIN{printf "%.0f", n/s}')
  R[$label,rpc]=$(awk -v n="${R[$label,records]}" -v c="${R[$label,cpu]}" 'BEGIN{printf "%.0f", n/c}')
  log "  ${R[$label,records]} records in ${R[$label,seconds]} s: ${R[$label,rps]} records/s, ${R[$label,rpc]} records/CPU-s, peak RSS ${R[$label,rss]} MiB"
}

# run_spark LABEL SINK: the baseline in its own session; fills S[LABEL,*].
declare -A S
run_spark() {
  local label=$1 sink=$2
  local out="$WORK/spark-$label.log" args=()
  [[ $sink == csv ]] && args=(--out "file://$WORK/spark-out")
  rm -rf -- "$WORK/spark-out"
  log "spark $label (--sink $sink)"
  local t0 t1 sid pid cpu=0 rss=0 c r
  t0=$(date +%s.%N)
  setsid "$VENV/bin/python" "$ROOT/bench/baselines/spark_batch.py" "file://$WORK/spark-in/*.jsonl" \
    --sink "$sink" "${args[@]}" >"$out" 2>&1 &
  pid=$!
  sid=$pid
  while kill -0 "$pid" 2>/dev/null; do
    read -r c r _ < <(python3 "$ROOT/bench/lib/proctree.py" "$sid")
    awk -v a="$c" -v b="$cpu" 'BEGIN{exit !(a>b)}' && cpu=$c
    awk -v a="$r" -v b="$rss" 'BEGIN{exit !(a>b)}' && rss=$r
    sleep 0.5
  done
  wait "$pid" || { tail -20 "$out" >&2; die "spark $label failed"; }
  t1=$(date +%s.%N)
  S[$label,wall]=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  S[$label,job]=$(sed -n 's/.*"job_seconds": \([0-9.]*\).*/\1/p' "$out")
  S[$label,cpu]=$cpu
  S[$label,rss]=$rss
  log "  job ${S[$label,job]} s, process ${S[$label,wall]} s, CPU ${S[$label,cpu]} s, RSS ${S[$label,rss]} MiB"
}

# --- P: the engines side by side -------------------------------------------------------------
gen p "$GIB" 1 pin
P_RECORDS=$(field pin_records "$GEN_p")
if [[ " $ENGINES " == *" pinpipe "* ]]; then
  run_pinpipe dry1 --date $DAY --lake "file://$WORK/lake-p" --dry-run --threads 1
  run_pinpipe dryN --date $DAY --lake "file://$WORK/lake-p" --dry-run --threads "$THREADS"
  run_pinpipe lakeN --date $DAY --lake "file://$WORK/lake-p" --no-pg --threads "$THREADS"
  if [[ -n $PG_DSN ]]; then
    run_pinpipe pgN --date $DAY --lake "file://$WORK/lake-p" --pg-dsn "$PG_DSN" --threads "$THREADS"
  fi
fi
if [[ " $ENGINES " == *" spark "* ]]; then
  [[ -x $VENV/bin/python ]] || die "no $VENV (scripts/setup --bench creates it)"
  rm -rf -- "$WORK/spark-in"
  mkdir -p "$WORK/spark-in"
  log "decompressing lake P for Spark"
  n=0
  while IFS= read -r -d '' f; do
    zstd -q -d -c "$f" >"$WORK/spark-in/part-$(printf '%05d' $n).jsonl"
    n=$((n + 1))
  done < <(find "$WORK/lake-p/pinterest/dt=$DAY" -name '*.jsonl.zst' -print0 | sort -z)
  run_spark noop noop
  run_spark csv csv
fi

# --- memory: S and L ---------------------------------------------------------------------------
SMALL_GIB=$(awk -v g="$BIG_GIB" 'BEGIN{printf "%g", g/10}')
LAST_DAY=$(date -u -d "$DAY + $((BIG_DAYS - 1)) days" +%F)
if [[ " $ENGINES " == *" pinpipe "* && $BIG_GIB != 0 ]]; then
  gen s "$SMALL_GIB" "$BIG_DAYS" pin,geo,user
  # Per core on the archive as the pipeline writes it (pin, geo and user records in equal
  # numbers, as every post gives one of each): --dry-run with 1 worker on S.
  run_pinpipe mixdry1 --from $DAY --to "$LAST_DAY" --lake "file://$WORK/lake-s" --dry-run --threads 1
  run_pinpipe small --from $DAY --to "$LAST_DAY" --lake "file://$WORK/lake-s" --no-pg --threads "$THREADS"
  rm -rf -- "$WORK/lake-s"
  gen l "$BIG_GIB" "$BIG_DAYS" pin,geo,user
  run_pinpipe big --from $DAY --to "$LAST_DAY" --lake "file://$WORK/lake-l" --no-pg --threads "$THREADS"
fi

# --- report ------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1fx", a/b; else print "-" }'; }
{
  echo "# Batch job benchmark $STAMP"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average at start $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "pinpipe: \`$BIN\`; Spark: PySpark $("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)' 2>/dev/null || echo '?'), local[*]. ${BUILD_NOTE}"
  echo
  echo "## Same records, both engines (lake P: $P_RECORDS pin records, $(field pin_raw_bytes "$GEN_p") bytes of JSON, $(field pin_compressed_bytes "$GEN_p") bytes zstd)"
  echo
  if [[ " $ENGINES " == *" pinpipe "* ]]; then
    echo "| pinpipe run | records/s (wall) | records per CPU-second | CPU s | wall s | peak RSS MiB |"
    echo "|---|---|---|---|---|---|"
    for l in dry1 dryN lakeN pgN; do
      [[ -n ${R[$l,records]:-} ]] || continue
      case $l in
        dry1) d="--dry-run, 1 worker (read, decompress, parse, clean, dedup)" ;;
        dryN) d="--dry-run, $THREADS workers" ;;
        lakeN) d="--no-pg, $THREADS workers (+ CSV/JSONL/quality to the lake)" ;;
        pgN) d="full load into PostgreSQL, $THREADS workers" ;;
      esac
      echo "| $d | ${R[$l,rps]} | ${R[$l,rpc]} | ${R[$l,cpu]} | ${R[$l,wall]} | ${R[$l,rss]} |"
    done
    echo
  fi
  if [[ " $ENGINES " == *" spark "* ]]; then
    echo "| Spark run | job s | records/s (job) | process s (with JVM start) | CPU s | peak RSS MiB (session sum) |"
    echo "|---|---|---|---|---|---|"
    for l in noop csv; do
      echo "| --sink $l | ${S[$l,job]} | $(awk -v n="$P_RECORDS" -v s="${S[$l,job]}" 'BEGIN{printf "%.0f", n/s}') | ${S[$l,wall]} | ${S[$l,cpu]} | ${S[$l,rss]} |"
    done
    echo
  fi
  if [[ -n ${R[dryN,wall]:-} && -n ${S[noop,job]:-} ]]; then
    echo "Ratios (pinpipe / Spark, same $P_RECORDS records):"
    echo "- clean only: pinpipe --dry-run ${R[dryN,wall]} s (process) vs Spark noop job ${S[noop,job]} s: $(ratio "${S[noop,job]}" "${R[dryN,wall]}") faster; vs the Spark process ${S[noop,wall]} s: $(ratio "${S[noop,wall]}" "${R[dryN,wall]}")"
    echo "- with output: pinpipe --no-pg ${R[lakeN,wall]} s vs Spark csv job ${S[csv,job]} s: $(ratio "${S[csv,job]}" "${R[lakeN,wall]}") faster; vs the Spark process ${S[csv,wall]} s: $(ratio "${S[csv,wall]}" "${R[lakeN,wall]}")"
    echo "- CPU: pinpipe --no-pg ${R[lakeN,cpu]} s vs Spark csv ${S[csv,cpu]} s: $(ratio "${S[csv,cpu]}" "${R[lakeN,cpu]}") less; peak RSS ${R[lakeN,rss]} vs ${S[csv,rss]} MiB"
    echo
  fi
  if [[ -n ${R[big,records]:-} ]]; then
    echo "## Memory: pin+geo+user records, --no-pg, $THREADS workers"
    echo
    echo "| input | records | JSON bytes | zstd bytes | wall s | records/s | records per CPU-second | peak RSS MiB |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "| S ($SMALL_GIB GiB, $BIG_DAYS day(s)) | ${R[small,records]} | $(field raw_bytes "$GEN_s") | $(field compressed_bytes "$GEN_s") | ${R[small,wall]} | ${R[small,rps]} | ${R[small,rpc]} | ${R[small,rss]} |"
    echo "| L ($BIG_GIB GiB, $BIG_DAYS day(s)) | ${R[big,records]} | $(field raw_bytes "$GEN_l") | $(field compressed_bytes "$GEN_l") | ${R[big,wall]} | ${R[big,rps]} | ${R[big,rpc]} | ${R[big,rss]} |"
    echo
    echo "Per core on the mixed archive (S, --dry-run, 1 worker): ${R[mixdry1,rpc]} records per CPU-second (${R[mixdry1,records]} records, ${R[mixdry1,cpu]} CPU s, peak RSS ${R[mixdry1,rss]} MiB); pins alone (P, above): ${R[dry1,rpc]:-not run}."
    echo
  fi
  echo "Synthetic source rows: $POSTS (every record is a draw with replacement, so most are duplicates)."
} | tee "$report"
log "report: $report"
