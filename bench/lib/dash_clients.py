#!/usr/bin/env python3
"""Dashboard clients for bench/dashboard_bench.sh: N simulated browsers, each refreshing the
page's API calls every --interval seconds, each call timed.

  dash_clients.py --url http://127.0.0.1:8080 --clients 10 --interval 1 --seconds 60 \
      [--random-filters FRACTION] [--filters-from /api/filters] --out result.json
  dash_clients.py --url ... --until-file F ...   (run until F exists instead of --seconds)

One refresh = the GETs the page makes per refresh (REFRESH below), one after the other on one
keep-alive connection, like a browser with one connection per origin (a browser would send some
in parallel: sequential is the harsher case for latency). With --random-filters f, that
fraction of the refreshes asks /api/analytics with random filters (and /api/lambda with the same dates) (from the
lists /api/filters answers), so the server's cache misses are measured too. Output: JSON with
per-endpoint count, errors (non-200), p50/p99/max in ms, and the refreshes done.
Standard library only.
"""
import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse

REFRESH = [
    "/api/overview?window=5m",
    "/api/throughput?window=5m",
    "/api/kafka?window=5m",
    "/api/kafka/messages?topic=pinterest&limit=20",
    "/api/freshness?window=5m",
    "/api/lambda",
    "/api/analytics",
    "/api/filters",
    "/api/quality?window=5m",
    "/api/scheduler",
]


def percentile(sorted_values, q):
    """Nearest-rank percentile (q in 0..100) of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, int(-(-q * len(sorted_values) // 100)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def endpoint_name(path):
    return path.split("?", 1)[0]


class Client(threading.Thread):
    def __init__(self, args, filters, seed, stop):
        super().__init__(daemon=True)
        self.args, self.filters, self.stop = args, filters, stop
        self.rng = random.Random(seed)
        self.samples = {}  # endpoint -> [ms]
        self.errors = {}  # endpoint -> [status or exception text]
        self.refreshes = 0
        u = urllib.parse.urlsplit(args.url)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = None

    def random_filter_query(self):
        f, q = self.filters, {}
        days = f.get("days") or []
        if days and self.rng.random() < 0.5:
            a, b = sorted(self.rng.sample(days, 2) if len(days) > 1 else [days[0], days[0]])
            q["from"], q["to"] = a, b
        for key, name in (("categories", "category"), ("countries", "country"), ("age_groups", "age_group")):
            values = f.get(key) or []
            if values and self.rng.random() < 0.4:
                q[name] = self.rng.choice(values)
        return urllib.parse.urlencode(q)

    def get(self, path):
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                t = time.perf_counter()
                self.conn.request("GET", path, headers=self.args.headers)
                r = self.conn.getresponse()
                r.read()
                ms = (time.perf_counter() - t) * 1000
                return r.status, ms
            except (OSError, http.client.HTTPException) as e:
                self.conn = None
                if attempt == 2:
                    return repr(e), None
        return "unreachable", None

    def run(self):
        next_at = time.monotonic()
        while not self.stop.is_set():
            randomize = self.rng.random() < self.args.random_filters
            query = self.random_filter_query() if randomize else ""
            for path in REFRESH:
                name = endpoint_name(path)
                if query and name == "/api/analytics":
                    path = name + "?" + query
                elif query and name == "/api/lambda":  # dates only: it takes no other filter
                    dates = "&".join(p for p in query.split("&") if p.startswith(("from=", "to=")))
                    path = name + ("?" + dates if dates else "")
                status, ms = self.get(path)
                if status == 200:
                    self.samples.setdefault(name, []).append(ms)
                else:
                    self.errors.setdefault(name, []).append(str(status))
            self.refreshes += 1
            next_at += self.args.interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
            else:
                next_at = time.monotonic()  # late: no catch-up burst


def load_filters(args):
    """Values for random filters from /api/filters (empty lists when it is unavailable)."""
    try:
        u = urllib.parse.urlsplit(args.url)
        c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
        c.request("GET", "/api/filters", headers=args.headers)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            return {}
        f = json.loads(body)
    except (OSError, ValueError, http.client.HTTPException):
        return {}
    days = []
    span = f.get("days") or {}
    lo, hi = span.get("min"), span.get("max")
    if lo and hi:
        import datetime as dt
        d0, d1 = dt.date.fromisoformat(lo), dt.date.fromisoformat(hi)
        days = [(d0 + dt.timedelta(days=i)).isoformat() for i in range((d1 - d0).days + 1)]
    return {
        "categories": f.get("categories") or [],
        "countries": f.get("countries") or [],
        "age_groups": f.get("age_groups") or [],
        "days": days,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--until-file", default="")
    p.add_argument("--random-filters", type=float, default=0.0)
    p.add_argument("--token", default="")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    args.headers = {"Authorization": "Bearer " + args.token} if args.token else {}
    filters = load_filters(args) if args.random_filters > 0 else {}
    stop = threading.Event()
    clients = [Client(args, filters, seed=i + 1, stop=stop) for i in range(args.clients)]
    t0 = time.monotonic()
    for i, c in enumerate(clients):
        c.start()
        time.sleep(args.interval / max(1, args.clients))  # spread the refreshes over the interval
    while True:
        time.sleep(0.1)
        if args.until_file and os.path.exists(args.until_file):
            break
        if not args.until_file and time.monotonic() - t0 >= args.seconds:
            break
    stop.set()
    for c in clients:
        c.join(timeout=60)
    elapsed = time.monotonic() - t0
    result = {"clients": args.clients, "interval_s": args.interval, "seconds": round(elapsed, 1),
              "random_filters": args.random_filters,
              "refreshes": sum(c.refreshes for c in clients), "endpoints": {}}
    names = sorted({n for c in clients for n in list(c.samples) + list(c.errors)})
    for n in names:
        ms = sorted(x for c in clients for x in c.samples.get(n, []))
        errs = [e for c in clients for e in c.errors.get(n, [])]
        result["endpoints"][n] = {
            "count": len(ms), "errors": len(errs), "error_examples": sorted(set(errs))[:3],
            "p50_ms": round(percentile(ms, 50), 2) if ms else None,
            "p99_ms": round(percentile(ms, 99), 2) if ms else None,
            "max_ms": round(ms[-1], 2) if ms else None,
        }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
