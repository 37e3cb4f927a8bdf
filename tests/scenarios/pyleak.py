#!/usr/bin/env python3
"""A leak from start in another runtime than Go (tests/scenarios/run.sh, scenario py-*): a CPython
process that keeps RATE MiB/s of 1 MiB bytearrays (zero-filled, so resident and charged), in the
Go workload's protocol: "READY pid=N mode=pyleak", then with -wait-stdin one line on stdin, then
"PHASE start/leak <ms>" and the leak until the OOM killer ends it.

usage: pyleak.py -rate MIB_PER_S [-wait-stdin]"""
import os, sys, time

def now_ms():
    return int(time.time() * 1000)

def main():
    args = sys.argv[1:]
    rate = float(args[args.index("-rate") + 1]) if "-rate" in args else 16.0
    print(f"READY pid={os.getpid()} mode=pyleak", flush=True)
    if "-wait-stdin" in args and not sys.stdin.readline():
        return
    t0 = time.time()
    print(f"PHASE start {now_ms()}", flush=True)
    print(f"PHASE leak {now_ms()}", flush=True)
    keep, n = [], 0
    while True:
        want = int((time.time() - t0) * rate)
        while n < want:
            keep.append(bytearray(1 << 20))
            n += 1
        time.sleep(0.05)

main()
