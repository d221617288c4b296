#!/usr/bin/env python3
"""bench/soak.sh's watchers while the pipeline runs, one subcommand each:

  sample       every --interval seconds, the resident memory and CPU time of each process of the
               run (the supervisor and its workers from the status file, Kafka, PostgreSQL) into a
               CSV, and the emulator's last progress line into a second CSV, until SIGTERM
  kill-loop    every --every seconds kill -9 one worker chosen at random (--seed), then wait for
               the supervisor to start it again (a new pid, state running); one TSV line per kill
  state NAME   "<state> <pid>" of one worker in the status file ("none 0" when absent)
  all-running  exit status 0 when every worker in the status file is running

The status file is `pinpipe supervise --status-file` (docs/design.md, "Supervisor"). Only the
standard library. bench/lib/soak_report.py does the accounting and the report afterwards.
"""
import argparse
import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

# The emulator's live progress line in load mode (src/emulate/emulator.cc, ProgressLine).
PROGRESS_RE = re.compile(
    r"^sent (\d+)\s+accepted (\d+)\s+rejected (\d+)\s+failed (\d+)\s+retried (\d+)\s+"
    r"gave up (\d+)\s+(\d+) rec/s")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------------
# /proc and the status file

def read_status(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def worker(status, name):
    for w in (status or {}).get("workers", []):
        if w.get("name") == name:
            return w
    return None


def iso_epoch(text):
    """The status file's UTC timestamps (2026-12-06T05:57:18.123Z) as Unix time."""
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def proc_mem(pid):
    """(VmRSS KiB, RssAnon KiB) of a live process, or None."""
    rss = anon = None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("RssAnon:"):
                    anon = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None if rss is None else (rss, anon or 0)


def proc_stat(pid):
    """(ppid, cpu seconds of itself, cpu seconds of its reaped children) or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # fields[0] = state (field 3)
    return (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK,
            (int(fields[13]) + int(fields[14])) / CLK_TCK)


def listening_pid(port):
    """The pid of the process listening on 127.0.0.1:port (ss -ltnp), or None."""
    try:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True,
                             check=False).stdout
    except OSError:
        return None
    m = re.search(r"pid=(\d+)", out)
    return int(m.group(1)) if m else None


# ------------------------------------------------------------------------------------------------
# sample

def cmd_sample(args):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    new = not os.path.exists(args.out)
    out = open(args.out, "a", newline="")
    rows = csv.writer(out)
    if new:
        rows.writerow(["epoch_s", "process", "pid", "vmrss_kib", "rssanon_kib", "cpu_s"])
    load_new = not os.path.exists(args.load_out)
    load = open(args.load_out, "a", newline="")
    load_rows = csv.writer(load)
    if load_new:
        load_rows.writerow(["epoch_s", "sent", "accepted", "rejected", "failed", "retried",
                            "gave_up"])
    pg_pid = kafka_pid = None
    while not stop:
        now = time.time()
        procs = []
        status = read_status(args.status)
        if status:
            procs.append(("supervisor", status.get("pid", 0)))
            for w in status.get("workers", []):
                if w.get("pid", 0) > 0:
                    procs.append((w["name"], w["pid"]))
        kafka_pid = kafka_pid if kafka_pid and proc_mem(kafka_pid) else listening_pid(args.kafka_port)
        if kafka_pid:
            procs.append(("kafka", kafka_pid))
        for name, pid in procs:
            mem, st = proc_mem(pid), proc_stat(pid)
            if mem and st:
                # Own CPU only: the supervisor's children's time includes every killed worker's.
                rows.writerow([f"{now:.1f}", name, pid, mem[0], mem[1], f"{st[1]:.2f}"])
        # PostgreSQL: the postmaster and all its children (backends come and go as workers
        # reconnect), summed; RssAnon is their private memory (VmRSS counts the shared buffers
        # each backend has touched, again for every backend).
        pg_pid = pg_pid if pg_pid and proc_mem(pg_pid) else listening_pid(args.pg_port)
        if pg_pid:
            rss = anon = 0
            cpu = 0.0
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                pid = int(entry)
                st = proc_stat(pid)
                if not st or (pid != pg_pid and st[0] != pg_pid):
                    continue
                mem = proc_mem(pid)
                if mem:
                    rss += mem[0]
                    anon += mem[1]
                # The postmaster's reaped children's CPU counts through it.
                cpu += st[1] + (st[2] if pid == pg_pid else 0)
            rows.writerow([f"{now:.1f}", "postgres", pg_pid, rss, anon, f"{cpu:.2f}"])
        out.flush()
        line = last_progress_line(args.emulate_log)
        if line:
            load_rows.writerow([f"{now:.1f}", *line])
            load.flush()
        deadline = now + args.interval
        while not stop and time.time() < deadline:
            time.sleep(0.2)
    out.close()
    load.close()


def last_progress_line(path):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 8192))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        m = PROGRESS_RE.match(line.strip())
        if m:
            return [int(x) for x in m.groups()[:6]]
    return None


# ------------------------------------------------------------------------------------------------
# kill-loop

def cmd_kill_loop(args):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    rng = random.Random(args.seed)
    victims = args.victims.split(",")
    k = 1
    with open(args.log, "a") as log:
        while not stop:
            due = args.t0 + k * args.every
            if due > args.until:
                break
            while not stop and time.time() < due:
                time.sleep(0.2)
            if stop:
                break
            name = rng.choice(victims)
            k += 1
            w = worker(read_status(args.status), name)
            if not w or w.get("state") != "running" or w.get("pid", 0) <= 0:
                print(f"soak: {name} is not running ({w and w.get('state')}); no kill this time",
                      file=sys.stderr, flush=True)
                log.write(f"{time.time():.3f}\t{name}\t0\t0\t\t\t{w and w.get('restarts')}\tskipped\n")
                log.flush()
                continue
            old = w["pid"]
            t_kill = time.time()
            try:
                os.kill(old, signal.SIGKILL)
            except ProcessLookupError:
                pass
            new = started = restarts = None
            while time.time() < t_kill + args.restart_timeout:
                w = worker(read_status(args.status), name)
                if w and w.get("pid", 0) > 0 and w["pid"] != old and w.get("state") == "running":
                    new, started, restarts = w["pid"], iso_epoch(w.get("started_at")), w.get("restarts")
                    break
                time.sleep(0.1)
            gap = f"{started - t_kill:.3f}" if started else ""
            outcome = "restarted" if new else f"not back after {args.restart_timeout:.0f}s"
            print(f"soak: kill -9 {name} (pid {old}) at +{t_kill - args.t0:.0f}s: "
                  + (f"back as pid {new} after {gap} s" if new else outcome),
                  file=sys.stderr, flush=True)
            log.write(f"{t_kill:.3f}\t{name}\t{old}\t{new or 0}\t{started or ''}\t{gap}\t"
                      f"{restarts if restarts is not None else ''}\t{outcome}\n")
            log.flush()


def cmd_state(args):
    w = worker(read_status(args.status), args.name)
    print(f"{w.get('state')} {w.get('pid', 0)}" if w else "none 0")


def cmd_all_running(args):
    workers = (read_status(args.status) or {}).get("workers", [])
    ok = workers and all(w.get("state") == "running" and w.get("pid", 0) > 0 for w in workers)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--status", required=True)
    s.add_argument("--kafka-port", type=int, required=True)
    s.add_argument("--pg-port", type=int, required=True)
    s.add_argument("--emulate-log", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--load-out", required=True)
    s.add_argument("--interval", type=float, default=10)
    k = sub.add_parser("kill-loop")
    k.add_argument("--status", required=True)
    k.add_argument("--t0", type=float, required=True)
    k.add_argument("--every", type=float, required=True)
    k.add_argument("--until", type=float, required=True, help="no kill after this Unix time")
    k.add_argument("--seed", type=int, required=True)
    k.add_argument("--victims", default="api,stream,archive,scheduler")
    k.add_argument("--restart-timeout", type=float, default=90)
    k.add_argument("--log", required=True)
    q = sub.add_parser("state")
    q.add_argument("--status", required=True)
    q.add_argument("name")
    r = sub.add_parser("all-running")
    r.add_argument("--status", required=True)
    args = p.parse_args()
    if args.cmd == "sample":
        cmd_sample(args)
    elif args.cmd == "kill-loop":
        cmd_kill_loop(args)
    elif args.cmd == "state":
        cmd_state(args)
    else:
        sys.exit(cmd_all_running(args))


if __name__ == "__main__":
    main()
