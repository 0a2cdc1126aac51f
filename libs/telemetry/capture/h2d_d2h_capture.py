#!/usr/bin/env python3
"""Host<->device copies of known byte counts while the telemetry sources run (issue 23's capture).

Like libs/probe's copy section (kvbench_probe.py measure_copy): pinned host memory, torch
copy_(non_blocking=True), CUDA events. Phases of N copies of SIZE bytes each way, with idle gaps
so each phase's traffic is separated in the series. The copies are timed once with no sampler
running and once with the NVML sidecar (and nvidia-smi) running: the overhead on the copies.
Everything raw goes to OUTDIR; the analysis is libs/telemetry's (TypeScript), run on this output.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--size-mib", type=int, default=1024)
ap.add_argument("--copies", type=int, default=48)
ap.add_argument("--period-ms", type=float, default=100.0)
ap.add_argument("--sidecar", required=True)
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
size = a.size_mib << 20
dev = torch.device("cuda:0")
host = torch.empty(size, dtype=torch.uint8, pin_memory=True)
host.random_(0, 255)
d = torch.empty(size, dtype=torch.uint8, device=dev)
d.random_(0, 255)
torch.cuda.synchronize()


def phase(direction, copies):
    s = torch.cuda.Stream()
    ev0 = torch.cuda.Event(enable_timing=True)
    ev1 = torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    t0 = time.monotonic_ns()
    with torch.cuda.stream(s):
        ev0.record(s)
        for _ in range(copies):
            if direction == "h2d":
                d.copy_(host, non_blocking=True)
            else:
                host.copy_(d, non_blocking=True)
        ev1.record(s)
    s.synchronize()
    t1 = time.monotonic_ns()
    ms = ev0.elapsed_time(ev1)
    nbytes = copies * size
    return {"direction": direction, "copies": copies, "copy_bytes": size, "bytes": nbytes,
            "t_start_ns": t0, "t_end_ns": t1, "event_s": ms / 1e3, "gbps": nbytes / (ms / 1e3) / 1e9}


for direction in ("h2d", "d2h"):  # warm-up
    phase(direction, 2)

baseline = [phase("h2d", a.copies), phase("d2h", a.copies), phase("h2d", a.copies), phase("d2h", a.copies)]

procs = []
side_out = open(os.path.join(a.out, "nvml-sidecar.jsonl"), "w")
side = subprocess.Popen([sys.executable, a.sidecar, "--period-ms", str(a.period_ms)], stdout=side_out,
                        stderr=open(os.path.join(a.out, "nvml-sidecar.stderr"), "w"), stdin=subprocess.PIPE)
procs.append(side)
q = "timestamp,index,uuid,utilization.gpu,clocks.sm,power.draw,memory.used,memory.total,pcie.link.gen.current,pcie.link.width.current"
smi = subprocess.Popen(["nvidia-smi", f"--query-gpu={q}", "--format=csv,nounits", f"-lms={int(a.period_ms)}"],
                       stdout=open(os.path.join(a.out, "nvidia-smi-query.csv"), "w"), stderr=subprocess.STDOUT)
procs.append(smi)
dmon = subprocess.Popen(["nvidia-smi", "dmon", "-s", "put", "-d", "1", "-o", "T"],
                        stdout=open(os.path.join(a.out, "nvidia-smi-dmon.txt"), "w"), stderr=subprocess.STDOUT)
procs.append(dmon)
time.sleep(2.0)
measured = []
for direction in ("h2d", "d2h", "h2d", "d2h"):
    measured.append(phase(direction, a.copies))
    time.sleep(1.0)
time.sleep(1.0)
side.stdin.close()
side.wait(timeout=10)
for p in procs[1:]:
    p.terminate()
    p.wait(timeout=10)
side_out.close()
info = {"schema": "kvbench.telemetry-capture", "version": 1, "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__, "period_ms": a.period_ms, "baseline": baseline, "with_sampler": measured,
        "monotonic_clock": "time.monotonic_ns (same clock as the sidecar's t_ns)"}
with open(os.path.join(a.out, "phases.json"), "w") as f:
    json.dump(info, f, indent=1)

# A first look (the committed analysis is the TypeScript one): counter deltas over each phase.
lines = [json.loads(l) for l in open(os.path.join(a.out, "nvml-sidecar.jsonl")) if l.strip()]
hello = lines[0]
print("hello:", json.dumps(hello)[:1500])
reads = [l for l in lines if l.get("type") == "reading"]
print("readings:", len(reads))
if len(reads) > 2:
    ts = [r["t_ns"] for r in reads]
    gaps = [(b - c) / 1e6 for b, c in zip(ts[1:], ts[:-1])]
    gaps.sort()
    print("period ms: median %.2f p99 %.2f max %.2f" % (gaps[len(gaps) // 2], gaps[int(len(gaps) * 0.99)], gaps[-1]))
    print("read ms median %.3f" % (sorted(r["read_ns"] for r in reads)[len(reads) // 2] / 1e6))
for m in measured:
    before = [r for r in reads if r["t_ns"] <= m["t_start_ns"]]
    after = [r for r in reads if r["t_ns"] >= m["t_end_ns"]]
    if not before or not after:
        print(m["direction"], "no bracketing readings")
        continue
    r0, r1 = before[-1]["gpus"][0], after[0]["gpus"][0]
    key = "pcie_rx_count" if m["direction"] == "h2d" else "pcie_tx_count"
    c = (r1.get(key) - r0.get(key)) if r1.get(key) is not None and r0.get(key) is not None else None
    gk = "gpm_pcie_rx_mibps" if m["direction"] == "h2d" else "gpm_pcie_tx_mibps"
    inside = [r for r in reads if before[-1]["t_ns"] < r["t_ns"] <= after[0]["t_ns"]]
    g = sum((r["gpus"][0].get(gk) or 0) * (1 << 20) * (r["gpus"][0].get("gpm_interval_s") or 0) for r in inside)
    print("%s copied %d counter %s (%.4f) gpm %.0f (%.4f) gbps %.2f" % (m["direction"], m["bytes"], c, (c or 0) / m["bytes"], g, g / m["bytes"], m["gbps"]))
for b, m in zip(baseline, measured):
    print("overhead %s: baseline %.2f GB/s with sampler %.2f GB/s (%.2f%%)" % (b["direction"], b["gbps"], m["gbps"], (b["gbps"] / m["gbps"] - 1) * 100))
