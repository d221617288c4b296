#!/usr/bin/env python3
"""Resource use of a process session (all processes whose session id is SID, e.g. a command started
with setsid: for Spark the python driver, the spark-submit launcher and the JVM).
Prints: "<cpu_seconds> <sum_of_VmHWM_MiB> <process_count>". CPU = utime+stime+cutime+cstime of
the live processes (so reaped helpers count through their parent). VmHWM is each process's peak
resident set; the sum over-counts shared pages and is therefore an upper bound."""
import os
import sys

sid = int(sys.argv[1])
tck = os.sysconf("SC_CLK_TCK")
cpu = 0.0
hwm_kib = 0
n = 0
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2:].split()  # fields[0] = state (field 3)
        if int(fields[3]) != sid:  # field 6: session id
            continue
        cpu += sum(int(x) for x in fields[11:15]) / tck  # fields 14-17
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm_kib += int(line.split()[1])
        n += 1
    except (OSError, ValueError):
        continue
print(f"{cpu:.1f} {hwm_kib / 1024:.1f} {n}")
