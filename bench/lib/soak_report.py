#!/usr/bin/env python3
"""bench/soak.sh's end: the accounting of every record and the Markdown report.

With Kafka and PostgreSQL still up and the pipeline stopped: Kafka's high watermarks
(GetOffsetShell), every record in the lake (the archiver's `<topic>/dt=*/hr=*/*.jsonl.zst`, read
with `zstd -dc`; docs/design.md, "Archiver"), the speed layer's bookkeeping
(pinpipe_stream_batches, pinpipe_dead_letters, pinpipe_stream_offsets) and its tables' keys, and
`pinpipe batch --no-pg` over the lake (its `clean/<table>/dt=*/part-*.csv` and quality report;
docs/design.md, "Batch job"). Every record of the run is distinct (`pinpipe emulate
--distinct-from`), so the counts and key sets must agree exactly. Then the report: load per
minute, kills and restarts, resident memory per pid (the CSV of soak_watch.py sample), the
accounting table and its checks. Exit status 1 when a check fails.

Only the standard library; PostgreSQL through psql.
"""
import argparse
import csv
import glob
import json
import os
import re
import statistics
import subprocess
import sys
from datetime import datetime, timezone

from soak_watch import read_status

KINDS = ("pin", "geo", "user")
# The transform's output tables and dedup keys (transforms/pinterest.toml).
TABLES = {"pin": ("experimental_data", "unique_id"),
          "geo": ("geolocation_data_clean", "ind"),
          "user": ("user_data_clean", "ind")}
# The same key read from a raw record (the Kafka value, as the API received it).
RAW_KEY = {"pin": re.compile(rb'"unique_id"\s*:\s*"([^"]*)"'),
           "geo": re.compile(rb'"ind"\s*:\s*(-?\d+)'),
           "user": re.compile(rb'"ind"\s*:\s*(-?\d+)')}
# The emulator's summary in load mode (src/emulate/emulator.cc, FormatSummary).
SUMMARY_RE = re.compile(
    r"sent (\d+) records in ([\d.]+) s \(([\d.]+) rec/s, (\d+) requests\): accepted (\d+), "
    r"rejected (\d+), failed (\d+) \(gave up (\d+)\); retried (\d+); latency p50 ([\d.]+) ms, "
    r"p99 ([\d.]+) ms")
MIB = 1024.0


def psql(args, db, sql):
    return subprocess.run(["psql", "-X", "-qAt", "-F", "\t", "-h", "127.0.0.1", "-p",
                           str(args.pg_port), "-U", "pinpipe", db, "-c", sql],
                          capture_output=True, text=True, check=True).stdout


def psql_lines(args, db, sql):
    """Yields the lines of a COPY ... TO STDOUT, streamed."""
    p = subprocess.Popen(["psql", "-X", "-qAt", "-h", "127.0.0.1", "-p", str(args.pg_port), "-U",
                          "pinpipe", db, "-c", sql], stdout=subprocess.PIPE)
    for line in p.stdout:
        yield line.rstrip(b"\n")
    if p.wait() != 0:
        raise RuntimeError(f"psql failed: {sql}")


def high_watermarks(args):
    """{topic: {partition: high watermark}} from Kafka's GetOffsetShell."""
    out = subprocess.run([os.path.join(args.root, "scripts/services"), "kafka", "tool",
                          "org.apache.kafka.tools.GetOffsetShell", "--exclude-internal-topics"],
                         capture_output=True, text=True, check=True).stdout
    hw = {}
    for line in out.splitlines():
        parts = line.strip().rsplit(":", 2)
        if len(parts) == 3 and parts[1].isdigit():
            hw.setdefault(parts[0], {})[int(parts[1])] = int(parts[2])
    return hw


def lake_objects(lake, topic):
    return sorted(glob.glob(os.path.join(lake, topic, "dt=*", "hr=*", "*.jsonl.zst")))


def lake_keys(lake, topic, kind):
    """(records, set of dedup keys, the keys of the records whose key came earlier too, records
    without a key, days) of a topic's archived objects."""
    records = keyless = 0
    keys = set()
    again = []
    days = set()
    pattern = RAW_KEY[kind]
    for path in lake_objects(lake, topic):
        days.add(path.split(os.sep)[-3][3:])
        data = subprocess.run(["zstd", "-dcq", path], capture_output=True, check=True).stdout
        for line in data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"):
            records += 1
            m = pattern.search(line)
            if not m:
                try:
                    value = json.loads(line).get("unique_id" if kind == "pin" else "ind")
                except (ValueError, AttributeError):
                    value = None
                if value is None:
                    keyless += 1
                    continue
                key = str(value).encode()
            else:
                key = m.group(1)
            key = key.lower() if kind == "pin" else key
            if key in keys:
                again.append(key)
            else:
                keys.add(key)
    return records, keys, again, keyless, days


def batch_output(args, kind, days):
    """(set of dedup keys, rows, {records, rows, dropped, dead, duplicates}) of `pinpipe batch`'s
    lake output for the kind over `days`."""
    table, key = TABLES[kind]
    keys = set()
    rows = 0
    for day in days:
        for part in sorted(glob.glob(os.path.join(args.lake, "clean", table, f"dt={day}",
                                                  "part-*.csv"))):
            with open(part, newline="") as f:
                reader = csv.reader(f)
                header = next(reader)
                col = header.index(key)
                for row in reader:
                    rows += 1
                    keys.add(row[col].lower().encode() if kind == "pin" else row[col].encode())
    counts = {"records": 0, "rows": 0, "dropped": 0, "dead": 0, "duplicates": 0}
    for day in days:
        path = os.path.join(args.lake, "clean", "_quality", f"dt={day}.json")
        try:
            with open(path) as f:
                report = json.load(f)
        except (OSError, ValueError):
            continue
        for k in find_kind_reports(report):
            if k.get("kind") == kind:
                for c in counts:
                    counts[c] += int(k.get(c, 0))
    return keys, rows, counts


def find_kind_reports(node):
    if isinstance(node, dict):
        if "kind" in node and "records" in node:
            yield node
        for v in node.values():
            yield from find_kind_reports(v)
    elif isinstance(node, list):
        for v in node:
            yield from find_kind_reports(v)


def parse_summary(path):
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    found = SUMMARY_RE.findall(text)
    if not found:
        return None
    g = found[-1]
    names = ["sent", "seconds", "rate", "requests", "accepted", "rejected", "failed", "gave_up",
             "retried", "p50_ms", "p99_ms"]
    return {n: (float(v) if n in ("seconds", "rate", "p50_ms", "p99_ms") else int(v))
            for n, v in zip(names, g)}


class Checks:
    def __init__(self):
        self.items = []

    def add(self, what, ok, detail=""):
        self.items.append((what, bool(ok), detail))

    def failed(self):
        return [c for c in self.items if not c[1]]


def account(args, log):
    topics = dict(zip(KINDS, args.topics.split(",")))
    a = {"kinds": {}}
    log("accounting: Kafka high watermarks")
    hw = high_watermarks(args)
    a["hw"] = hw
    log("accounting: the speed layer's bookkeeping")
    b = psql(args, "pinterest_streaming",
             "SELECT count(*), coalesce(sum(records),0), coalesce(sum(rows),0), "
             "coalesce(sum(dropped),0), coalesce(sum(dead),0), coalesce(sum(dedup),0), "
             "coalesce(sum(rejected),0) FROM pinpipe_stream_batches").split("\t")
    a["speed"] = dict(zip(["batches", "records", "rows", "dropped", "dead", "duplicates",
                           "rejected"], (int(x) for x in b)))
    dropped_by_kind = {k: 0 for k in KINDS}
    for line in psql(args, "pinterest_streaming",
                     "SELECT key, sum(value::bigint) FROM pinpipe_stream_batches, "
                     "jsonb_each_text(quality->'dropped') GROUP BY key").splitlines():
        key, n = line.split("\t")
        dropped_by_kind[key.split(".")[0]] = dropped_by_kind.get(key.split(".")[0], 0) + int(n)
    dead_by_topic = {}
    for line in psql(args, "pinterest_streaming",
                     "SELECT topic, count(*) FROM pinpipe_dead_letters GROUP BY topic").splitlines():
        t, n = line.split("\t")
        dead_by_topic[t] = int(n)
    offsets = {}
    for line in psql(args, "pinterest_streaming",
                     "SELECT topic, partition, next_offset FROM pinpipe_stream_offsets").splitlines():
        t, p, o = line.split("\t")
        offsets[(t, int(p))] = int(o)
    behind = [f"{t}/{p}: {offsets.get((t, p), 0)} of {h}"
              for t in topics.values() for p, h in sorted(hw.get(t, {}).items())
              if offsets.get((t, p), 0) != h]

    days = set()
    for kind in KINDS:
        topic = topics[kind]
        table, key = TABLES[kind]
        k = {"topic": topic, "messages": sum(hw.get(topic, {}).values())}
        log(f"accounting: {kind}: reading the lake ({len(lake_objects(args.lake, topic))} objects)")
        k["lake_records"], lake_set, again, k["lake_keyless"], kind_days = lake_keys(
            args.lake, topic, kind)
        k["lake_keys"] = len(lake_set)
        k["duplicates"] = len(again)
        days |= kind_days
        log(f"accounting: {kind}: keys in PostgreSQL")
        pg_set = set()
        pg_rows = 0
        for line in psql_lines(args, "pinterest_streaming",
                               f"COPY (SELECT {key} FROM {table}) TO STDOUT"):
            pg_rows += 1
            pg_set.add(line.lower() if kind == "pin" else line)
        k["pg_rows"], k["pg_keys"] = pg_rows, len(pg_set)
        k["dropped"] = dropped_by_kind.get(kind, 0)
        k["dead"] = dead_by_topic.get(topic, 0)
        k["pg_not_in_lake"] = len(pg_set - lake_set)
        k["lake_not_in_pg"] = len(lake_set - pg_set)
        # A duplicate of a record the transform drops (or dead-letters) is dropped again, not
        # counted as a duplicate: the speed layer's counters count records, not keys.
        k["duplicates_not_in_pg"] = sum(1 for key in again if key not in pg_set)
        # The batch job over the same lake: the same transform decides which keys are rows.
        log(f"accounting: {kind}: the batch job's output")
        batch_set, k["batch_rows"], k["batch"] = batch_output(args, kind, sorted(kind_days))
        k["batch_keys"] = len(batch_set)
        k["pg_not_in_batch"] = len(pg_set - batch_set)
        k["batch_not_in_pg"] = len(batch_set - pg_set)
        a["kinds"][kind] = k
        del lake_set, pg_set, batch_set, again
    a["days"] = sorted(days)
    a["offsets_behind"] = behind
    return a


def run_batch(args, days, log):
    """pinpipe batch --no-pg over every archived day (its output goes to the lake's clean/)."""
    for day in days:
        log(f"accounting: pinpipe batch --date {day} --no-pg")
        p = subprocess.run([args.bin, "batch", "--date", day, "--lake", args.lake, "--no-pg",
                            "--progress", "never"], capture_output=True, text=True, check=False)
        if p.returncode != 0:
            raise RuntimeError(f"pinpipe batch --date {day} failed: {p.stderr[-2000:]}")


def archived_days(lake, topics):
    days = set()
    for topic in topics:
        for path in glob.glob(os.path.join(lake, topic, "dt=*")):
            days.add(os.path.basename(path)[3:])
    return sorted(days)


# ------------------------------------------------------------------------------------------------
# finish: the report

def fmt_n(n):
    return f"{n:,}" if isinstance(n, int) else str(n)


def mmss(seconds):
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def rss_series(path, t0, t_end):
    """{(process, pid): [(t, vmrss_kib, rssanon_kib, cpu_s)]} within [t0, t_end]."""
    series = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            t = float(row["epoch_s"])
            if t < t0 - 60 or t > t_end + 1:
                continue
            series.setdefault((row["process"], int(row["pid"])), []).append(
                (t, int(row["vmrss_kib"]), int(row["rssanon_kib"]), float(row["cpu_s"] or 0)))
    return series


PROCESS_ORDER = ["api", "stream", "archive", "scheduler", "emulator", "supervisor", "kafka",
                 "postgres"]
PROCESS_TITLE = {"api": "ingest API (pinpipe serve)", "stream": "speed layer (pinpipe stream)",
                 "archive": "archiver (pinpipe archive)",
                 "scheduler": "scheduler (pinpipe scheduler run)",
                 "emulator": "emulator (pinpipe emulate)",
                 "supervisor": "supervisor (pinpipe supervise)",
                 "kafka": "Kafka broker (JVM, -Xmx512m)",
                 "postgres": "PostgreSQL (all server processes, RssAnon)"}


def rss_table(args, series, t0):
    """Markdown lines, the processes whose RSS grew, and how many series were judged.

    Per pid: its warm-up starts with the pid (a restarted worker starts over), or with the load
    for the processes that were there before it. The baseline is the highest sample of the
    --window seconds after the warm-up, not one sample: the archiver's memory is a saw-tooth
    (segments fill for up to a minute, then are written and freed), so a single sample may be a
    trough. Growth = the highest sample after that window - the baseline."""
    lines = ["| process | pid | from | to | RSS at warm-up end (MiB) | max after (MiB) "
             "| at end (MiB) | growth | CPU s | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    grew = []
    judged = 0

    def order(key):
        name, _ = key
        return (PROCESS_ORDER.index(name) if name in PROCESS_ORDER else 99, name,
                series[key][0][0])
    for key in sorted(series, key=order):
        name, pid = key
        s = series[key]
        value = (lambda x: x[2]) if name == "postgres" else (lambda x: x[1])
        start, end = s[0][0], s[-1][0]
        warm_end = max(start, t0) + args.warmup
        first = [x for x in s if warm_end <= x[0] < warm_end + args.window]
        rest = [x for x in s if x[0] >= warm_end + args.window]
        cpu = s[-1][3] - s[0][3]
        row = [PROCESS_TITLE.get(name, name), str(pid), mmss(start - t0), mmss(end - t0)]
        if not first or len(rest) < 2 or rest[-1][0] - rest[0][0] < 50:
            row += ["-", "-", f"{value(s[-1]) / MIB:.1f}", "-", f"{cpu:.0f}",
                    f"not judged (lived {mmss(end - start)})"]
        else:
            base = max(value(x) for x in first)
            peak = max(value(x) for x in rest)
            growth = peak - base
            limit = max(args.flat_pct / 100.0 * base, args.flat_mib * MIB)
            flat = growth <= limit
            judged += 1
            if not flat:
                grew.append(f"{name} (pid {pid}) +{growth / MIB:.1f} MiB")
            row += [f"{base / MIB:.1f}", f"{peak / MIB:.1f}", f"{value(s[-1]) / MIB:.1f}",
                    f"{growth / MIB:+.1f} MiB ({100.0 * growth / base:+.1f}%)" if base else "-",
                    f"{cpu:.0f}", "flat" if flat else "**GROWS**"]
        lines.append("| " + " | ".join(row) + " |")
    return lines, grew, judged


def rss_over_time(series, t0, t_end):
    """Markdown lines: per minute of the soak and process, the highest RSS sample (MiB); a * marks
    a minute in which a new pid of that process started (a restart)."""
    names = [n for n in PROCESS_ORDER if any(k[0] == n for k in series)]
    minutes = int((t_end - t0) // 60) + (1 if (t_end - t0) % 60 > 30 else 0)
    lines = ["| minute | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for m in range(minutes):
        lo, hi = t0 + 60 * m, t0 + 60 * (m + 1)
        cells = []
        for n in names:
            peak, restarted = None, False
            for (name, _), s in series.items():
                if name != n:
                    continue
                v = [x[2] if n == "postgres" else x[1] for x in s if lo <= x[0] < hi]
                if v:
                    peak = max(v) if peak is None else max(peak, max(v))
                restarted |= lo <= s[0][0] < hi and s[0][0] > t0 + 30
            cells.append("-" if peak is None else f"{peak / MIB:.1f}{' *' if restarted else ''}")
        lines.append(f"| {m}-{m + 1} | " + " | ".join(cells) + " |")
    return lines


def per_minute(args, t0, t_end, kills, load_csv):
    """Rows per minute of the soak: records acknowledged (emulator progress), rows stored by the
    speed layer (by Kafka timestamp) and their latency (loaded_at - Kafka timestamp)."""
    acked = {}
    try:
        with open(load_csv, newline="") as f:
            samples = [(float(r["epoch_s"]), int(r["accepted"]), int(r["retried"]))
                       for r in csv.DictReader(f)]
    except OSError:
        samples = []
    # Whole minutes; a last partial one only when it lasted more than half a minute.
    minutes = int((t_end - t0) // 60) + (1 if (t_end - t0) % 60 > 30 else 0)
    for m in range(minutes):
        lo, hi = t0 + 60 * m, min(t0 + 60 * (m + 1), t_end)
        before = [s for s in samples if s[0] <= lo + 5]
        upto = [s for s in samples if s[0] <= hi + 5]
        if upto:
            a0 = before[-1] if before else (t0, 0, 0)
            a1 = upto[-1]
            acked[m] = (a1[1] - a0[1], a1[2] - a0[2], max(a1[0] - a0[0], 1))
    union = " UNION ALL ".join(f"SELECT kafka_ts, loaded_at FROM {t}" for t, _ in TABLES.values())
    stored = {}
    for line in psql(args, "pinterest_streaming", f"""
        SELECT floor((extract(epoch FROM kafka_ts) - {t0}) / 60)::int AS m, count(*),
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
               round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
               round(max(ms)::numeric, 1)
        FROM (SELECT kafka_ts, extract(epoch FROM loaded_at - kafka_ts) * 1000 AS ms
              FROM ({union}) u) l
        GROUP BY 1 ORDER BY 1""").splitlines():
        m, n, p50, p99, mx = line.split("\t")
        stored[int(m)] = (int(n), p50, p99, mx)
    lines = ["| minute | acknowledged rec/s (emulator) | retried | rows stored by the speed layer "
             "| rows/s | latency p50 / p99 / max ms | kills |", "|---|---|---|---|---|---|---|"]
    for m in sorted(set(acked) | {k for k in stored if 0 <= k < minutes}):
        a = acked.get(m)
        s = stored.get(m)
        k = [f"{x['worker']}" for x in kills if t0 + 60 * m <= x["t"] < t0 + 60 * (m + 1)]
        lines.append(f"| {m}-{m + 1} | {a[0] / a[2]:,.0f} | {a[1]:,} |" if a else f"| {m}-{m + 1} | - | - |")
        secs = min(60.0, t_end - (t0 + 60 * m))
        lines[-1] += (f" {s[0]:,} | {s[0] / secs:,.0f} | {s[1]} / {s[2]} / {s[3]} |" if s
                      else " - | - | - |") + f" {', '.join(k) or ''} |"
    after = sum(v[0] for m, v in stored.items() if m >= minutes)
    return lines, after


def read_kills(path):
    kills = []
    try:
        with open(path) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) < 8:
                    continue
                kills.append({"t": float(p[0]), "worker": p[1], "old": int(p[2]), "new": int(p[3]),
                              "gap": float(p[5]) if p[5] else None, "restarts": p[6],
                              "outcome": p[7]})
    except OSError:
        pass
    return kills


def cmd_finish(args):
    def log(msg):
        print(f"==> {msg}", file=sys.stderr, flush=True)

    checks = Checks()
    meta = json.loads(args.meta)
    t0, t_end = args.t0, args.t_end
    summary = parse_summary(args.emulate_log)
    kills = read_kills(args.kills)
    status = read_status(args.status_copy) or {}

    topics = args.topics.split(",")
    days = archived_days(args.lake, topics)
    batch_error = None
    try:
        run_batch(args, days, log)
    except RuntimeError as e:
        batch_error = str(e)
    a = account(args, log)
    K = a["kinds"]
    total = {c: sum(K[k][c] for k in KINDS) for c in
             ("messages", "lake_records", "lake_keys", "duplicates", "duplicates_not_in_pg", "pg_rows", "pg_keys", "dropped", "dead",
              "batch_rows", "batch_keys", "lake_not_in_pg", "pg_not_in_lake", "pg_not_in_batch",
              "batch_not_in_pg", "lake_keyless")}
    sp = a["speed"]

    # ---- checks ----
    kills_done = [k for k in kills if k["outcome"] != "skipped"]
    if summary is None:
        checks.add("the emulator printed its summary", False, f"no summary line in {args.emulate_log}")
    else:
        checks.add("the emulator gave up on no record", summary["gave_up"] == 0,
                   f"gave up {summary['gave_up']}")
    for kind in KINDS:
        k = K[kind]
        checks.add(f"{kind}: lake records = Kafka messages (every message archived once)",
                   k["lake_records"] == k["messages"],
                   f"{fmt_n(k['lake_records'])} vs {fmt_n(k['messages'])}")
    checks.add("speed layer: records processed = Kafka messages", sp["records"] == total["messages"],
               f"{fmt_n(sp['records'])} vs {fmt_n(total['messages'])}")
    checks.add("speed layer: its committed offsets = the high watermarks", not a["offsets_behind"],
               "; ".join(a["offsets_behind"][:5]) or "all 9 partitions")
    s = sp["rows"] + sp["dropped"] + sp["dead"] + sp["duplicates"] + sp["rejected"]
    checks.add("speed layer: rows + dropped + dead + duplicates (+ refused by PostgreSQL) = records",
               s == sp["records"], f"{fmt_n(s)} vs {fmt_n(sp['records'])}")
    checks.add("speed layer: rows in its bookkeeping = rows in the tables",
               sp["rows"] == total["pg_rows"], f"{fmt_n(sp['rows'])} vs {fmt_n(total['pg_rows'])}")
    dup_rows = total["duplicates"] - total["duplicates_not_in_pg"]
    checks.add("duplicates in Kafka (messages - distinct keys; those of dropped or dead records "
               "aside) = the speed layer's duplicates", dup_rows == sp["duplicates"],
               f"{fmt_n(dup_rows)} vs {fmt_n(sp['duplicates'])}")
    for kind in KINDS:
        k = K[kind]
        checks.add(f"{kind}: distinct keys in PostgreSQL = rows (nothing twice)",
                   k["pg_keys"] == k["pg_rows"], f"{fmt_n(k['pg_keys'])} vs {fmt_n(k['pg_rows'])}")
        missing = k["lake_not_in_pg"] + k["duplicates_not_in_pg"]
        checks.add(f"{kind}: every key in PostgreSQL is in Kafka; the records in Kafka whose key "
                   "is not in PostgreSQL = the speed layer's dropped + dead",
                   k["pg_not_in_lake"] == 0 and missing == k["dropped"] + k["dead"],
                   f"{k['pg_not_in_lake']} from nowhere; {fmt_n(missing)} records missing vs "
                   f"{fmt_n(k['dropped'])} dropped + {fmt_n(k['dead'])} dead")
        checks.add(f"{kind}: the batch job over the lake keeps exactly the keys in PostgreSQL",
                   batch_error is None and k["pg_not_in_batch"] == 0 and k["batch_not_in_pg"] == 0
                   and k["batch_keys"] == k["batch_rows"],
                   batch_error or f"{fmt_n(k['batch_keys'])} keys; {k['pg_not_in_batch']} only in "
                   f"PostgreSQL, {k['batch_not_in_pg']} only in the batch output")
    if summary is not None:
        acked = summary["accepted"]
        distinct = total["lake_keys"]
        if summary["failed"] == 0 and summary["rejected"] == 0:
            checks.add("distinct keys in Kafka = records acknowledged (nothing missing)",
                       distinct == acked, f"{fmt_n(distinct)} vs {fmt_n(acked)}")
        else:
            # Records cut off by the stop (no answer yet) may or may not have been stored.
            hi = summary["sent"] - summary["rejected"]
            checks.add("records acknowledged <= distinct keys in Kafka <= sent - rejected "
                       f"({summary['failed']} unanswered at the stop may or may not be stored)",
                       acked <= distinct <= hi, f"{fmt_n(acked)} <= {fmt_n(distinct)} <= {fmt_n(hi)}")
    by_worker = {}
    for k in kills_done:
        by_worker.setdefault(k["worker"], []).append(k)
    checks.add("every kill -9 was followed by a restart (new pid, running)",
               all(k["new"] > 0 for k in kills_done),
               f"{sum(k['new'] > 0 for k in kills_done)} of {len(kills_done)}")
    unexpected = []
    for w in status.get("workers", []):
        n = len(by_worker.get(w["name"], []))
        if w.get("restarts", 0) != n:
            unexpected.append(f"{w['name']}: {w.get('restarts')} restarts, {n} kills")
    checks.add("the supervisor restarted workers only after the kills (restarts = kills)",
               status and not unexpected, "; ".join(unexpected) or
               ("no status file" if not status else "per worker"))

    # ---- report ----
    series = rss_series(args.rss_csv, t0, t_end)
    rss_lines, grew, judged = rss_table(args, series, t0)
    minute_lines, stored_after = per_minute(args, t0, t_end, kills, args.load_csv)
    failed = checks.failed()
    out = []
    w = out.append
    w(f"# Soak benchmark ({datetime.fromtimestamp(t0, timezone.utc):%Y-%m-%dT%H:%M:%SZ}, "
      f"{os.cpu_count()} cores)")
    w("")
    w(f"Command: `{meta['command']}`")
    w("")
    w(f"`scripts/run --keep-services` (PINPIPE_RUN_BIN={meta['bin']}) in its own state "
      f"(`{meta['state']}`, wiped at start) for {mmss(t_end - t0)} of load: the emulator at "
      f"{meta['rate']} records/s (`PINPIPE_EMULATE_RATE`, {meta['concurrency']} connections, "
      f"`--distinct-from {meta['distinct_from']}`: every record distinct), one of "
      f"{meta['victims'].replace(',', ', ')} killed with SIGKILL every {meta['kill_every']} s "
      f"(seed {meta['seed']}); memory sampled every {meta['interval']} s. Load average "
      f"{meta['load_start']} at the start, {meta['load_end']} at the end.")
    if meta.get("build_note"):
        w("")
        w(f"**Warning:** {meta['build_note']}.")
    w("")
    w("**Accounting: " + ("all {} checks PASS**".format(len(checks.items)) if not failed else
                          "{} of {} checks FAIL**".format(len(failed), len(checks.items))) +
      "; **memory: " + ("grows: " + ", ".join(grew) if grew else "flat" if judged else
                        "not judged (no pid lived long enough)") +
      f"** ({judged} pid series judged, warm-up {mmss(args.warmup)}, flat = growth at most "
      f"max({args.flat_pct:g}%, {args.flat_mib:g} MiB)).")
    w("")
    w("## Load")
    w("")
    if summary:
        w(f"Emulator: sent {fmt_n(summary['sent'])} records in {summary['seconds']:.0f} s "
          f"({summary['rate']:,.0f} rec/s; target {meta['rate']}), **accepted "
          f"{fmt_n(summary['accepted'])}**, rejected {summary['rejected']}, failed "
          f"{summary['failed']} (gave up {summary['gave_up']}), retried {fmt_n(summary['retried'])} "
          f"(503s and broken connections while the API restarted); latency p50 "
          f"{summary['p50_ms']} ms, p99 {summary['p99_ms']} ms.")
    if meta.get("caught_up") == "1":
        w(f"After the emulator stopped, the speed layer and the archiver had caught up after "
          f"{meta['catchup_s']} s; `scripts/run` then stopped in {meta['stop_s']} s.")
    else:
        w(f"**After the emulator stopped, the speed layer and the archiver had NOT caught up "
          f"after {meta['catchup_s']} s** (--drain-timeout); `scripts/run` then stopped in "
          f"{meta['stop_s']} s.")
    w("")
    w("Per minute of the soak (acknowledged: the emulator's progress line, sampled every "
      f"{meta['interval']} s; rows by Kafka timestamp, all three tables; latency = loaded_at - "
      "Kafka timestamp):")
    w("")
    out.extend(minute_lines)
    if stored_after:
        w(f"\n({fmt_n(stored_after)} more rows with a Kafka timestamp after the end of the soak: "
          "records sent before the emulator stopped.)")
    w("")
    w("## Kills and restarts")
    w("")
    w("| # | at | worker | pid killed | new pid | restart gap (s) | restarts so far |")
    w("|---|---|---|---|---|---|---|")
    for i, k in enumerate(kills, 1):
        gap = f"{k['gap']:.2f}" if k["gap"] is not None else k["outcome"]
        w(f"| {i} | +{mmss(k['t'] - t0)} | {k['worker']} | {k['old'] or '-'} | "
          f"{k['new'] or '-'} | {gap} | {k['restarts']} |")
    gaps = [k["gap"] for k in kills_done if k["gap"] is not None]
    if gaps:
        w("")
        w(f"Restart gap (kill to the new process's start, from the status file): min "
          f"{min(gaps):.2f} s, median {statistics.median(gaps):.2f} s, max {max(gaps):.2f} s "
          "(the supervisor's back-off: 1 s, doubling when a worker dies again within a minute).")
    w("")
    w("| worker | kills | restarts (supervisor) |")
    w("|---|---|---|")
    for wk in status.get("workers", []):
        w(f"| {wk['name']} | {len(by_worker.get(wk['name'], []))} | {wk.get('restarts', '?')} |")
    w("")
    w("## Resident memory")
    w("")
    w(f"VmRSS per process (PostgreSQL: the sum of RssAnon over the postmaster and its children) "
      f"sampled every {meta['interval']} s, one row per pid (a restarted worker starts over). "
      f"Warm-up: the first {mmss(args.warmup)} of the load, or of a pid's life. RSS at warm-up "
      f"end: the highest sample of the {mmss(args.window)} after it (the archiver's memory is a "
      f"saw-tooth with its segments); growth: the highest sample after those "
      f"{mmss(args.window)} minus that; flat when at most max({args.flat_pct:g}% of it, "
      f"{args.flat_mib:g} MiB). A pid that did not live {mmss(args.warmup + args.window)} + 1 "
      f"min is not judged. CPU s over the pid's samples. Raw samples: "
      f"`{os.path.basename(args.rss_csv_copy)}` (VmRSS and RssAnon in KiB, cumulative CPU s).")
    w("")
    out.extend(rss_lines)
    w("")
    w("Over time: the highest sample of each minute, MiB (* a restart in that minute):")
    w("")
    out.extend(rss_over_time(series, t0, t_end))
    w("")
    w("## Accounting")
    w("")
    w("Every record is distinct (`--distinct-from`): keys are pins' `unique_id`, geo and user "
      "records' `ind`. Kafka's records are read back from the lake (`zstd -dc`), which holds "
      "each message once when the first check passes; the batch job (`pinpipe batch --no-pg`, "
      f"days {', '.join(a['days'])}) cleans the lake with the same transform.")
    w("")
    w("| | pin | geo | user | total |")
    w("|---|---|---|---|---|")

    def row(label, key, fmt=fmt_n):
        w(f"| {label} | " + " | ".join(fmt(K[k][key]) for k in KINDS) + f" | {fmt(total[key])} |")
    if summary:
        w(f"| acknowledged (emulator: accepted) | | | | {fmt_n(summary['accepted'])} |")
    row("messages in Kafka (high watermarks)", "messages")
    row("records in the lake", "lake_records")
    row("distinct keys in Kafka (in the lake)", "lake_keys")
    row("duplicates in Kafka (messages - distinct keys)", "duplicates")
    if total["duplicates_not_in_pg"]:
        row("... of them duplicates of dropped or dead records", "duplicates_not_in_pg")
    w(f"| speed layer: records / rows / dropped / dead / duplicates (pinpipe_stream_batches) | | | | "
      f"{fmt_n(sp['records'])} / {fmt_n(sp['rows'])} / {fmt_n(sp['dropped'])} / {fmt_n(sp['dead'])}"
      f" / {fmt_n(sp['duplicates'])} |")
    row("speed layer: dropped (quality counters)", "dropped")
    row("speed layer: dead letters", "dead")
    row("rows in PostgreSQL", "pg_rows")
    row("distinct keys in PostgreSQL", "pg_keys")
    row("keys in Kafka not in PostgreSQL", "lake_not_in_pg")
    row("keys in PostgreSQL not in Kafka", "pg_not_in_lake")
    row("batch job over the lake: rows", "batch_rows")
    w("| batch job: dropped / dead / duplicates | " + " | ".join(
        f"{fmt_n(K[k]['batch']['dropped'])} / {fmt_n(K[k]['batch']['dead'])} / "
        f"{fmt_n(K[k]['batch']['duplicates'])}" for k in KINDS) + " | |")
    row("keys in PostgreSQL not kept by the batch job", "pg_not_in_batch")
    row("keys kept by the batch job not in PostgreSQL", "batch_not_in_pg")
    if total["lake_keyless"]:
        row("lake records without a key", "lake_keyless")
    w("")
    w("| check | result | figures |")
    w("|---|---|---|")
    for what, ok, detail in checks.items:
        w(f"| {what} | {'PASS' if ok else '**FAIL**'} | {detail} |")
    w("")
    w(f"Logs: `{meta['state']}/logs/` (serve, stream, archive, scheduler, emulate, supervise), "
      f"`{meta['state']}/run.log`; kills: `{meta['state']}/kills.tsv`.")
    text = "\n".join(out) + "\n"
    with open(args.report, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    for a in ("--root", "--bin", "--lake", "--emulate-log", "--kills", "--status-copy",
              "--rss-csv", "--rss-csv-copy", "--load-csv", "--report", "--meta"):
        p.add_argument(a, required=True)
    p.add_argument("--pg-port", type=int, required=True)
    p.add_argument("--topics", default="pinterest,pinterest_geo,pinterest_user")
    p.add_argument("--t0", type=float, required=True)
    p.add_argument("--t-end", type=float, required=True)
    p.add_argument("--warmup", type=float, default=300)
    p.add_argument("--window", type=float, default=120)
    p.add_argument("--flat-pct", type=float, default=10)
    p.add_argument("--flat-mib", type=float, default=4)
    sys.exit(cmd_finish(p.parse_args()))


if __name__ == "__main__":
    main()
