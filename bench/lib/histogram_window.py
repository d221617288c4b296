#!/usr/bin/env python3
"""Prometheus histograms over a window: the difference of two /metrics scrapes.

  histogram_window.py before.txt after.txt 'name{label="value"}' ['name' ...]

For each histogram (a name, optionally with the labels its series must have), prints one
Markdown line: the observations in the window, how many fell within 10, 25, 50 and 100 ms
(bucket bounds), and the bucket that holds the 99th percentile. Standard library only.
"""
import re
import sys

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def buckets(path, name, want):
    """{le: cumulative count} of the series of `name`_bucket that have the labels `want`."""
    out = {}
    for line in open(path, encoding="utf-8"):
        m = LINE.match(line)
        if not m or m.group(1) != name + "_bucket":
            continue
        labels = dict(LABEL.findall(m.group(2) or ""))
        if any(labels.get(k) != v for k, v in want.items()):
            continue
        le = labels.get("le")
        key = float("inf") if le == "+Inf" else float(le)
        out[key] = out.get(key, 0) + float(m.group(3))
    return out


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    before_path, after_path = sys.argv[1], sys.argv[2]
    for spec in sys.argv[3:]:
        name, _, rest = spec.partition("{")
        want = dict(LABEL.findall(rest))
        before, after = buckets(before_path, name, want), buckets(after_path, name, want)
        if not after:
            print(f"- `{spec}`: not in the scrape")
            continue
        window = {le: after[le] - before.get(le, 0) for le in after}
        total = window.get(float("inf"), 0)
        if total <= 0:
            print(f"- `{spec}`: no observations in the window")
            continue
        within = ", ".join(
            f"{int(window[le])} within {le * 1000:g} ms" for le in (0.01, 0.025, 0.05, 0.1) if le in window)
        p99 = next(le for le in sorted(window) if window[le] >= 0.99 * total)
        print(f"- `{spec}`: {int(total)} observations; {within}; p99 at most {p99 * 1000:g} ms")


if __name__ == "__main__":
    main()
