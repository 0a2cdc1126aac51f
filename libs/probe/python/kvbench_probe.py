#!/usr/bin/env python3
"""kvbench probe: measure a CUDA machine's KV-offload path and compute speed with PyTorch alone.

No model weights are downloaded: compute is timed on random bf16 weights of a model's *shape*.

What it measures (method of kvbench's anchors: CUDA events around the timed work, warm-up first,
median of repeats, buffers rotated through a pool larger than every cache so none flatters):

  link        one copy of N bytes, host->GPU (h2d) and GPU->host (d2h), pinned and pageable host
              memory, N = 64 KiB .. 1 GiB in powers of 4. Pinned copies are timed on the device
              only: the stream is held by a short spin kernel while the copy is enqueued, so host
              launch latency does not count. Pageable copies are staged by the driver and are timed
              with events and the wall clock around a synchronous copy.
  blocks      many separate block-sized copies issued back to back (what an engine that offloads
              block by block does), gathered from / scattered to random slots of the pools:
              a sweep of block sizes on one stream, and the sizes a model shape and tokens_per_block
              imply in both KV layouts (one block holding all layers; one block per layer) on 1, 2
              and 4 streams.
  bidir       both directions at once (two streams), one large copy each and block copies.
  d2d         one large device-to-device copy (HBM ceiling, bytes read + written).
  compute     prefill time by prompt length and decode step time for model shapes: a stack of
              transformer layers (RMSNorm, fused QKV, RoPE, PyTorch SDPA causal attention with GQA,
              SwiGLU MLP) in bf16 with random weights, batch 1 for prefill. Large shapes run a subset
              of their layers (as many as fit a weight budget) and the layer time is scaled by
              layers / layers_run; the final norm + LM head (last token only for prefill) is timed
              once and added unscaled. Decode steps are captured in CUDA graphs when possible.
  cached_prefill
              one forward pass of N new tokens over C cached ones (C 0 .. 128K, N 1 .. 8K, whole
              prompts to 128K) on a paged KV pool in TensorRT-LLM's block layout (all layers of a
              block contiguous), attention read in place by the first kernel that matches a float32
              reference; device time (stream held while Python enqueues the layers).
  offload_vs_recompute
              for prompts of 1K .. 128K (first shape, whole model): recompute the prompt; onboard
              its prefix block by block from pinned host memory in the same layout, then the new
              tokens; the new tokens alone with the prefix on the GPU.

Output: one JSON document (schema "kvbench.probe-raw", version 1) with the raw measurements and the
environment (nvidia-smi: GPU, driver, PCIe generation and width, current and max; lscpu; host
memory; PyTorch and CUDA versions). Written to --out (rewritten after every section, so a run that
is cut short keeps what it measured) or printed on stdout.

Exit codes: 0 done (non-fatal failures are listed under "errors"); 3 PyTorch is not installed;
4 no CUDA device; 2 bad arguments; 1 anything else.
"""
import argparse
import datetime
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import traceback

PROBE_VERSION = "0.1.0"
SCHEMA = "kvbench.probe-raw"

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

# Model shapes (public configs). kv bytes/token = 2 * layers * kv_heads * head_dim * dtype bytes.
SHAPES = {
    "llama-3.1-8b": dict(layers=32, hidden=4096, heads=32, kv_heads=8, head_dim=128, ffn=14336, vocab=128256),
    "llama-3-70b": dict(layers=80, hidden=8192, heads=64, kv_heads=8, head_dim=128, ffn=28672, vocab=128256),
    "qwen3-8b": dict(layers=36, hidden=4096, heads=32, kv_heads=8, head_dim=128, ffn=12288, vocab=151936),
}
SHAPE_KEYS = ("layers", "hidden", "heads", "kv_heads", "head_dim", "ffn", "vocab")

EXIT_NO_TORCH = 3
EXIT_NO_CUDA = 4
EXIT_USAGE = 2

ALL_SECTIONS = ("link", "blocks", "bidir", "d2d", "compute", "cached_prefill", "offload_vs_recompute", "batched")


def log(msg):
    print("[kvbench probe] " + msg, file=sys.stderr, flush=True)


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_shape(spec):
    """'llama-3.1-8b' or 'name:layers=32,hidden=4096,heads=32,kv_heads=8,head_dim=128,ffn=14336,vocab=128256'."""
    if spec in SHAPES:
        d = dict(SHAPES[spec])
        d["name"] = spec
        return d
    name, _, rest = spec.partition(":")
    if not rest:
        raise ValueError("unknown model shape %r: known %s, or name:layers=..,hidden=..,heads=..,kv_heads=..,head_dim=..,ffn=..,vocab=.."
                         % (spec, ", ".join(sorted(SHAPES))))
    d = dict(SHAPES.get(name, {}))
    for kv in rest.split(","):
        k, _, v = kv.partition("=")
        k = k.strip()
        if k not in SHAPE_KEYS:
            raise ValueError("model shape %r: unknown key %r (keys: %s)" % (spec, k, ", ".join(SHAPE_KEYS)))
        d[k] = int(v)
    missing = [k for k in SHAPE_KEYS if k not in d]
    if missing:
        raise ValueError("model shape %r: missing %s" % (spec, ", ".join(missing)))
    d["name"] = name
    return d


def kv_bytes_per_token(shape, dtype_bytes):
    return 2 * shape["layers"] * shape["kv_heads"] * shape["head_dim"] * dtype_bytes


def layer_weight_params(shape):
    h, d = shape["hidden"], shape["head_dim"]
    qkv = h * (shape["heads"] + 2 * shape["kv_heads"]) * d
    o = shape["heads"] * d * h
    mlp = 3 * h * shape["ffn"]
    return qkv + o + mlp + 2 * h


def head_params(shape):
    return shape["hidden"] * shape["vocab"] + shape["hidden"]


def summarize(times_s):
    xs = sorted(times_s)
    n = len(xs)
    return {
        "reps": n,
        "median_s": statistics.median(xs),
        "min_s": xs[0],
        "max_s": xs[-1],
        "p10_s": xs[int(0.1 * (n - 1))],
        "p90_s": xs[int(math.ceil(0.9 * (n - 1)))],
    }


def gbps(nbytes, seconds):
    return round(nbytes / seconds / 1e9, 3) if seconds > 0 else None


# ---------------------------------------------------------------- environment


def run_cmd(cmd, timeout=30):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return {"cmd": " ".join(cmd), "rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr[-2000:]}
    except Exception as e:  # noqa: BLE001 - environment capture must never fail the probe
        return {"cmd": " ".join(cmd), "rc": None, "error": "%s: %s" % (type(e).__name__, e)}


NVSMI_FIELDS = [
    "index", "name", "driver_version", "pci.bus_id", "pcie.link.gen.current", "pcie.link.gen.max",
    "pcie.link.width.current", "pcie.link.width.max", "memory.total",
]
NVSMI_EXTRA_FIELDS = ["pcie.link.gen.gpucurrent", "pcie.link.gen.gpumax", "pcie.link.gen.hostmax", "power.limit", "clocks.max.sm", "clocks.max.mem"]


def nvsmi_query(fields):
    r = run_cmd(["nvidia-smi", "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"])
    rows = []
    if r.get("rc") == 0:
        for line in r["stdout"].strip().splitlines():
            vals = [v.strip() for v in line.split(",")]
            if len(vals) == len(fields):
                rows.append(dict(zip(fields, vals)))
    return r, rows


def to_int(v):
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def section(text, title):
    """Lines of an `nvidia-smi -q` section (the title line and everything indented deeper)."""
    lines = text.splitlines()
    out = []
    indent = None
    for line in lines:
        stripped = line.lstrip()
        ind = len(line) - len(stripped)
        if indent is None:
            if stripped.startswith(title) and (stripped[len(title):].strip() in ("", ":") or stripped[len(title):].lstrip().startswith(":")):
                indent = ind
                out.append(line)
        else:
            if stripped and ind <= indent:
                break
            out.append(line)
    return "\n".join(out)


def lscpu_fields(text):
    d = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            d[k.strip()] = v.strip()
    keep = ["Architecture", "Model name", "CPU(s)", "Socket(s)", "Core(s) per socket", "Thread(s) per core", "NUMA node(s)",
            "Hypervisor vendor", "L3 cache", "Vendor ID"]
    return {k: d[k] for k in keep if k in d}


def meminfo():
    out = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("MemTotal", "MemAvailable", "HugePages_Total", "Hugepagesize"):
                    parts = v.split()
                    n = int(parts[0])
                    out[k] = n * 1024 if len(parts) > 1 and parts[1] == "kB" else n
    except OSError as e:
        out["error"] = str(e)
    return out


def environment(torch, quick):
    env = {"captured_at": now_iso()}
    q, rows = nvsmi_query(NVSMI_FIELDS)
    env["nvidia_smi_query"] = q
    gpus = []
    for row in rows:
        gpus.append({
            "index": to_int(row["index"]),
            "name": row["name"],
            "driver": row["driver_version"],
            "pci_bus_id": row["pci.bus_id"],
            "pcie_gen_current": to_int(row["pcie.link.gen.current"]),
            "pcie_gen_max": to_int(row["pcie.link.gen.max"]),
            "pcie_width_current": to_int(row["pcie.link.width.current"]),
            "pcie_width_max": to_int(row["pcie.link.width.max"]),
            "memory_total_mib": to_int(row["memory.total"]),
        })
    env["gpus"] = gpus
    if not quick:
        qx, rows_x = nvsmi_query(NVSMI_EXTRA_FIELDS)
        env["nvidia_smi_extra"] = rows_x if rows_x else {"rc": qx.get("rc"), "stderr": qx.get("stderr") or qx.get("error")}
        env["nvidia_smi"] = run_cmd(["nvidia-smi"]).get("stdout")
        full_q = run_cmd(["nvidia-smi", "-q"]).get("stdout") or ""
        env["nvidia_smi_q_pci"] = section(full_q, "PCI")
        env["nvidia_smi_topo"] = run_cmd(["nvidia-smi", "topo", "-m"]).get("stdout")
    ls = run_cmd(["lscpu"])
    env["cpu"] = lscpu_fields(ls.get("stdout") or "")
    if not quick:
        env["lscpu"] = ls.get("stdout")
    env["host_memory"] = meminfo()
    env["os"] = {"platform": platform.platform(), "kernel": platform.release(), "machine": platform.machine()}
    env["python"] = sys.version.split()[0]
    env["torch"] = torch.__version__
    env["torch_cuda"] = torch.version.cuda
    dev = torch.cuda.current_device()
    p = torch.cuda.get_device_properties(dev)
    env["device"] = {
        "index": dev,
        "name": p.name,
        "capability": "%d.%d" % (p.major, p.minor),
        "multi_processor_count": p.multi_processor_count,
        "total_memory_bytes": p.total_memory,
        "device_count": torch.cuda.device_count(),
    }
    env["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")
    return env


# ---------------------------------------------------------------- timing helpers


class Timer:
    """CUDA-event timing with a spin kernel that holds the stream while work is enqueued."""

    def __init__(self, torch):
        self.torch = torch
        self.has_sleep = hasattr(torch.cuda, "_sleep")
        self.cycles_per_s = None
        if self.has_sleep:
            try:
                self.cycles_per_s = self._calibrate()
            except Exception as e:  # noqa: BLE001
                log("spin-kernel calibration failed (%s); timing without it" % e)
                self.has_sleep = False

    def _calibrate(self):
        torch = self.torch
        torch.cuda._sleep(1000)
        torch.cuda.synchronize()
        cycles = 10_000_000
        rates = []
        for _ in range(3):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            torch.cuda._sleep(cycles)
            b.record()
            b.synchronize()
            rates.append(cycles / (a.elapsed_time(b) / 1e3))
        return statistics.median(rates)

    def hold(self, seconds):
        """Enqueue a spin of about `seconds` on the current stream (no-op without _sleep)."""
        if self.has_sleep and seconds > 0:
            self.torch.cuda._sleep(max(1, int(seconds * self.cycles_per_s)))

    def event(self):
        return self.torch.cuda.Event(enable_timing=True)


class Pools:
    """One device pool and host pools (pinned, pageable) filled with random bytes; copies rotate over their slots."""

    def __init__(self, torch, nbytes, pageable):
        self.torch = torch
        self.nbytes = nbytes
        t0 = time.perf_counter()
        self.pinned = torch.empty(nbytes, dtype=torch.uint8, pin_memory=True)
        chunk = torch.randint(0, 256, (min(nbytes, 64 * MiB),), dtype=torch.uint8)
        for off in range(0, nbytes, chunk.numel()):
            n = min(chunk.numel(), nbytes - off)
            self.pinned[off:off + n].copy_(chunk[:n])
        self.pageable = None
        if pageable:
            self.pageable = torch.empty(nbytes, dtype=torch.uint8)
            self.pageable.copy_(self.pinned)  # touches every page
        self.dev = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
        self.dev.copy_(self.pinned)
        self.dev2 = torch.empty(nbytes, dtype=torch.uint8, device="cuda")  # d2d destination
        self.dev2.copy_(self.dev)
        torch.cuda.synchronize()
        log("pools of %d MiB ready in %.1f s (pageable: %s)" % (nbytes // MiB, time.perf_counter() - t0, pageable))

    def host(self, pinned):
        return self.pinned if pinned else self.pageable


# ---------------------------------------------------------------- link: single copies


def copy_reps(size, pinned, quick):
    if quick:
        return 2, 8
    if pinned:
        return (3, 50) if size <= 16 * MiB else (2, 20) if size <= 256 * MiB else (2, 10)
    return (2, 30) if size <= 16 * MiB else (1, 10) if size <= 256 * MiB else (1, 6)


def measure_copy(torch, timer, pools, size, direction, pinned, quick):
    host = pools.host(pinned)
    slots = pools.nbytes // size
    warm, reps = copy_reps(size, pinned, quick)
    stream = torch.cuda.Stream()
    ev_times, wall_times = [], []
    for i in range(warm + reps):
        hoff = (i % slots) * size
        doff = ((i + slots // 2) % slots) * size
        h = host[hoff:hoff + size]
        d = pools.dev[doff:doff + size]
        src, dst = (h, d) if direction == "h2d" else (d, h)
        a, b = timer.event(), timer.event()
        with torch.cuda.stream(stream):
            if pinned:
                timer.hold(200e-6)
            a.record(stream)
            t0 = time.perf_counter()
            dst.copy_(src, non_blocking=True)
            b.record(stream)
        if not pinned:
            b.synchronize()
            wall = time.perf_counter() - t0
        else:
            wall = None
        if i >= warm:
            ev_times.append((a, b))
            if wall is not None:
                wall_times.append(wall)
    stream.synchronize()
    times = [a.elapsed_time(b) / 1e3 for a, b in ev_times]
    s = summarize(times)
    row = {"dir": direction, "pinned": pinned, "bytes": size, "GBps": gbps(size, s["median_s"]), **s}
    if pinned:
        # The same copy issued on an idle stream (events around it, synchronized each time): launch
        # latency counts, as it does for one isolated copy issued from Python.
        unheld = []
        for i in range(min(reps, 20)):
            off = (i % slots) * size
            h, d = host[off:off + size], pools.dev[off:off + size]
            src, dst = (h, d) if direction == "h2d" else (d, h)
            a, b = timer.event(), timer.event()
            with torch.cuda.stream(stream):
                a.record(stream)
                dst.copy_(src, non_blocking=True)
                b.record(stream)
            b.synchronize()
            unheld.append(a.elapsed_time(b) / 1e3)
        row["unheld_median_s"] = statistics.median(unheld)
        row["unheld_GBps"] = gbps(size, row["unheld_median_s"])
    if wall_times:
        row["wall_median_s"] = statistics.median(wall_times)
        row["wall_GBps"] = gbps(size, row["wall_median_s"])
    row["timing"] = "events, stream held while enqueued" if (pinned and timer.has_sleep) else "events around a synchronous copy" if not pinned else "events"
    return row


# ---------------------------------------------------------------- link: block copies


def block_batch(torch, timer, pools, direction, block_bytes, n, nstreams, reps, rng):
    """n separate copies of block_bytes each, random slots on both sides, round-robin over nstreams."""
    slots = pools.nbytes // block_bytes
    n = min(n, slots)
    streams = [torch.cuda.Stream() for _ in range(nstreams)]
    main = streams[0]

    def pairs():
        hs = rng.sample(range(slots), n)
        ds = rng.sample(range(slots), n)
        out = []
        for hi, di in zip(hs, ds):
            h = pools.pinned[hi * block_bytes:(hi + 1) * block_bytes]
            d = pools.dev[di * block_bytes:(di + 1) * block_bytes]
            out.append((d, h) if direction == "h2d" else (h, d))
        return out

    def one(hold_s):
        ps = pairs()
        a, b = timer.event(), timer.event()
        main.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(main):
            timer.hold(hold_s)
            a.record(main)
        for s in streams[1:]:
            s.wait_event(a)
        t0 = time.perf_counter()
        for k, st in enumerate(streams):  # block i goes to stream i % nstreams
            with torch.cuda.stream(st):
                for dst, src in ps[k::nstreams]:
                    dst.copy_(src, non_blocking=True)
        for s in streams[1:]:
            e = torch.cuda.Event()
            e.record(s)
            main.wait_event(e)
        b.record(main)
        enqueue = time.perf_counter() - t0
        b.synchronize()
        return a.elapsed_time(b) / 1e3, enqueue

    # Warm-up without holding: measures how long enqueueing takes, to size the hold. Its time is kept
    # (one cold sample): the rate when Python issues the copies while the device runs them.
    unheld_t, enq = one(0)
    hold = min(0.5, 1.5 * enq + 1e-3) if timer.has_sleep else 0
    times, enqs = [], []
    for _ in range(reps):
        t, e = one(hold)
        times.append(t)
        enqs.append(e)
    s = summarize(times)
    enq_med = statistics.median(enqs)
    total = n * block_bytes
    return {
        "dir": direction,
        "block_bytes": block_bytes,
        "n_blocks": n,
        "streams": nstreams,
        "total_bytes": total,
        "GBps": gbps(total, s["median_s"]),
        "enqueue_median_s": enq_med,
        "hold_s": hold,
        "unheld_first_s": unheld_t,
        "unheld_first_GBps": gbps(total, unheld_t),
        # True when enqueueing took longer than the hold: then the host's issue rate, not the link, may bound it.
        "host_bound": bool(hold == 0 or enq_med > hold),
        **s,
    }


def block_count(block_bytes, quick):
    target = (64 if quick else 256) * MiB
    # At most 256 copies per batch: more than that fills the driver's launch queue while the stream is
    # held, and enqueueing then waits for the device (seen on an H100 at 1024 copies).
    return int(max(32, min(256, target // block_bytes)))


# ---------------------------------------------------------------- link: both directions


def bidir_single(torch, timer, pools, size, reps):
    half = pools.nbytes // 2
    size = min(size, half)
    sa, sb = torch.cuda.Stream(), torch.cuda.Stream()
    main = torch.cuda.current_stream()
    rows = []
    for i in range(1 + reps):
        a, ea, eb = timer.event(), timer.event(), timer.event()
        timer.hold(200e-6)
        a.record(main)
        sa.wait_event(a)
        sb.wait_event(a)
        with torch.cuda.stream(sa):
            pools.dev[0:size].copy_(pools.pinned[0:size], non_blocking=True)
            ea.record(sa)
        with torch.cuda.stream(sb):
            pools.pinned[half:half + size].copy_(pools.dev[half:half + size], non_blocking=True)
            eb.record(sb)
        torch.cuda.synchronize()
        if i >= 1:
            rows.append((a.elapsed_time(ea) / 1e3, a.elapsed_time(eb) / 1e3))
    h2d = statistics.median(r[0] for r in rows)
    d2h = statistics.median(r[1] for r in rows)
    total = statistics.median(max(r) for r in rows)
    return {
        "kind": "single",
        "bytes_each": size,
        "reps": len(rows),
        "h2d_s": h2d,
        "d2h_s": d2h,
        "total_s": total,
        "h2d_GBps": gbps(size, h2d),
        "d2h_GBps": gbps(size, d2h),
        "total_GBps": gbps(2 * size, total),
    }


def bidir_blocks(torch, timer, pools, block_bytes, n, reps, rng):
    """n blocks each way at once: h2d blocks from the pools' lower halves, d2h blocks to their upper halves."""
    half = pools.nbytes // 2
    slots = half // block_bytes
    n = min(n, slots)
    sa, sb = torch.cuda.Stream(), torch.cuda.Stream()
    main = torch.cuda.current_stream()

    def views(lo):
        hs = rng.sample(range(slots), n)
        ds = rng.sample(range(slots), n)
        return [(pools.pinned[lo + h * block_bytes: lo + (h + 1) * block_bytes], pools.dev[lo + d * block_bytes: lo + (d + 1) * block_bytes])
                for h, d in zip(hs, ds)]

    def one(hold_s):
        up = views(0)
        down = views(half)
        a, ea, eb = timer.event(), timer.event(), timer.event()
        timer.hold(hold_s)
        a.record(main)
        sa.wait_event(a)
        sb.wait_event(a)
        t0 = time.perf_counter()
        for (h1, d1), (h2, d2) in zip(up, down):
            with torch.cuda.stream(sa):
                d1.copy_(h1, non_blocking=True)
            with torch.cuda.stream(sb):
                h2.copy_(d2, non_blocking=True)
        with torch.cuda.stream(sa):
            ea.record(sa)
        with torch.cuda.stream(sb):
            eb.record(sb)
        enq = time.perf_counter() - t0
        torch.cuda.synchronize()
        return a.elapsed_time(ea) / 1e3, a.elapsed_time(eb) / 1e3, enq

    _, _, enq = one(0)
    hold = min(0.5, 1.5 * enq + 1e-3) if timer.has_sleep else 0
    rows = [one(hold) for _ in range(reps)]
    size = n * block_bytes
    h2d = statistics.median(r[0] for r in rows)
    d2h = statistics.median(r[1] for r in rows)
    total = statistics.median(max(r[0], r[1]) for r in rows)
    enq_med = statistics.median(r[2] for r in rows)
    return {
        "kind": "blocks",
        "block_bytes": block_bytes,
        "n_blocks": n,
        "bytes_each": size,
        "reps": len(rows),
        "h2d_s": h2d,
        "d2h_s": d2h,
        "total_s": total,
        "h2d_GBps": gbps(size, h2d),
        "d2h_GBps": gbps(size, d2h),
        "total_GBps": gbps(2 * size, total),
        "enqueue_median_s": enq_med,
        "host_bound": bool(hold == 0 or enq_med > hold),
    }


def measure_d2d(torch, timer, pools, reps=10):
    size = pools.nbytes
    times = []
    for i in range(2 + reps):
        a, b = timer.event(), timer.event()
        timer.hold(100e-6)
        a.record()
        pools.dev2.copy_(pools.dev)
        b.record()
        b.synchronize()
        if i >= 2:
            times.append(a.elapsed_time(b) / 1e3)
    s = summarize(times)
    return {"bytes": size, "GBps_read_plus_write": gbps(2 * size, s["median_s"]), **s}


# ---------------------------------------------------------------- compute


class Model:
    """A stack of transformer layers with random bf16 weights, and the final norm + LM head."""

    def __init__(self, torch, shape, layers_run):
        self.torch = torch
        self.F = torch.nn.functional
        self.shape = shape
        self.layers_run = layers_run
        h, d = shape["hidden"], shape["head_dim"]
        self.nq, self.nkv, self.d = shape["heads"], shape["kv_heads"], d
        dt = torch.bfloat16

        def w(*dims):
            t = torch.randn(*dims, dtype=dt, device="cuda")
            t.mul_(1.0 / math.sqrt(dims[0]))
            return t

        self.layers = []
        for _ in range(layers_run):
            self.layers.append({
                "n1": torch.ones(h, dtype=dt, device="cuda"),
                "wqkv": w(h, (self.nq + 2 * self.nkv) * d),
                "wo": w(self.nq * d, h),
                "n2": torch.ones(h, dtype=dt, device="cuda"),
                "wgu": w(h, 2 * shape["ffn"]),
                "wd": w(shape["ffn"], h),
            })
        self.norm = torch.ones(h, dtype=dt, device="cuda")
        self.lm_head = w(h, shape["vocab"])
        self.gqa = self._probe_gqa()

    def _probe_gqa(self):
        torch = self.torch
        q = torch.randn(1, 4, 8, 64, dtype=torch.bfloat16, device="cuda")
        k = torch.randn(1, 2, 8, 64, dtype=torch.bfloat16, device="cuda")
        try:
            self.F.scaled_dot_product_attention(q, k, k, is_causal=True, enable_gqa=True)
            return "enable_gqa"
        except Exception:  # noqa: BLE001 - older PyTorch
            return "repeat_interleave"

    def rms(self, x, w):
        F = self.F
        if hasattr(F, "rms_norm"):
            return F.rms_norm(x, (x.shape[-1],), w, 1e-5)
        xf = x.float()
        return (xf * self.torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5)).to(x.dtype) * w

    def rope_tables(self, positions):
        torch = self.torch
        inv = 1.0 / (500000.0 ** (torch.arange(0, self.d, 2, device="cuda", dtype=torch.float32) / self.d))
        ang = positions.float()[:, None] * inv[None, :]
        ang = torch.cat([ang, ang], dim=-1)
        return ang.cos().to(torch.bfloat16), ang.sin().to(torch.bfloat16)

    @staticmethod
    def rope(x, cos, sin):
        half = x.shape[-1] // 2
        rot = x.new_empty(x.shape)
        rot[..., :half] = -x[..., half:]
        rot[..., half:] = x[..., :half]
        return x * cos + rot * sin

    def attn(self, q, k, v, causal):
        F = self.F
        if self.gqa == "enable_gqa":
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
        rep = self.nq // self.nkv
        return F.scaled_dot_product_attention(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1), is_causal=causal)

    def layer(self, L, x, cos, sin, cache=None, pos=None):
        """x: (B, T, hidden). Prefill (cache None): causal attention over x. Decode: T == 1, write k/v at
        cache slot `pos` and attend over slots 0..pos."""
        B, T, _ = x.shape
        nq, nkv, d = self.nq, self.nkv, self.d
        h = self.rms(x, L["n1"])
        qkv = h @ L["wqkv"]
        q, k, v = qkv.split([nq * d, nkv * d, nkv * d], dim=-1)
        q = q.view(B, T, nq, d).transpose(1, 2)
        k = k.view(B, T, nkv, d).transpose(1, 2)
        v = v.view(B, T, nkv, d).transpose(1, 2)
        q = self.rope(q, cos, sin)
        k = self.rope(k, cos, sin)
        if cache is None:
            a = self.attn(q, k, v, causal=True)
        else:
            kc, vc = cache
            kc[:, :, pos:pos + 1].copy_(k)
            vc[:, :, pos:pos + 1].copy_(v)
            a = self.attn(q, kc, vc, causal=False)
        x = x + a.transpose(1, 2).reshape(B, T, nq * d) @ L["wo"]
        h = self.rms(x, L["n2"])
        g, u = (h @ L["wgu"]).chunk(2, dim=-1)
        return x + (self.F.silu(g) * u) @ L["wd"]

    def head(self, x_last):
        return self.rms(x_last, self.norm) @ self.lm_head

    def weight_bytes_full(self):
        return 2 * (self.shape["layers"] * layer_weight_params(self.shape) + head_params(self.shape))


def pick_layers(shape, weight_budget_bytes, max_layers):
    per = 2 * layer_weight_params(shape)
    n = max(1, int(weight_budget_bytes // per))
    if max_layers:
        n = min(n, max_layers)
    return min(shape["layers"], n)


def time_prefill(torch, timer, model, tokens, reps):
    pos = torch.arange(tokens, device="cuda")
    cos, sin = model.rope_tables(pos)
    x0 = torch.randn(1, tokens, model.shape["hidden"], dtype=torch.bfloat16, device="cuda")
    lay, hd = [], []
    for i in range(1 + reps):
        a, b, c = timer.event(), timer.event(), timer.event()
        a.record()
        x = x0
        for L in model.layers:
            x = model.layer(L, x, cos, sin)
        b.record()
        logits = model.head(x[:, -1:, :])
        c.record()
        c.synchronize()
        finite = bool(torch.isfinite(logits).all())
        if i >= 1:
            lay.append(a.elapsed_time(b) / 1e3)
            hd.append(b.elapsed_time(c) / 1e3)
    del x, x0, logits
    return summarize(lay), statistics.median(hd), finite


def decode_step_fn(torch, model, batch, ctx):
    """Static buffers and a step function for decode at position `ctx` with `ctx` cached tokens per sequence."""
    s = model.shape
    caches = [(torch.randn(batch, model.nkv, ctx + 1, model.d, dtype=torch.bfloat16, device="cuda"),
               torch.randn(batch, model.nkv, ctx + 1, model.d, dtype=torch.bfloat16, device="cuda"))
              for _ in model.layers]
    x_in = torch.randn(batch, 1, s["hidden"], dtype=torch.bfloat16, device="cuda")
    cos, sin = model.rope_tables(torch.tensor([ctx], device="cuda"))

    def layers():
        x = x_in
        for L, c in zip(model.layers, caches):
            x = model.layer(L, x, cos, sin, cache=c, pos=ctx)
        return x

    return caches, x_in, layers


def time_graph_or_eager(torch, timer, fn, reps):
    """Time fn (device work only) in a CUDA graph if it captures, else eagerly. Returns (summary, graphed, out)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):
            out = fn()
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graph = None
    try:
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            out = fn()
        g.replay()
        torch.cuda.synchronize()
        graph = g
    except Exception as e:  # noqa: BLE001
        log("CUDA graph capture failed (%s); timing eagerly" % str(e).splitlines()[0][:200])
        torch.cuda.synchronize()
    times = []
    for i in range(3 + reps):
        a, b = timer.event(), timer.event()
        if graph is not None:
            timer.hold(200e-6)
        a.record()
        if graph is not None:
            graph.replay()
        else:
            out = fn()
        b.record()
        b.synchronize()
        if i >= 3:
            times.append(a.elapsed_time(b) / 1e3)
    return summarize(times), graph is not None, out


def measure_compute(torch, timer, shape, args, budget_s, errors, save, sink):
    t_start = time.perf_counter()
    layers_run = pick_layers(shape, args.weight_budget_gb * 1e9, args.max_layers)
    scale = shape["layers"] / layers_run
    log("compute %s: %d of %d layers (scale %.3g)" % (shape["name"], layers_run, shape["layers"], scale))
    model = Model(torch, shape, layers_run)
    torch.cuda.synchronize()
    res = {
        "shape": shape["name"],
        "config": {k: shape[k] for k in SHAPE_KEYS},
        "dtype": "bfloat16",
        "layers_run": layers_run,
        "layer_scale": scale,
        "attention": "torch.nn.functional.scaled_dot_product_attention (%s)" % model.gqa,
        "weight_bytes_full": model.weight_bytes_full(),
        "kv_bytes_per_token": kv_bytes_per_token(shape, 2),
        "prefill": [],
        "decode": [],
    }
    sink.append(res)  # in the document from the start, so a run cut short keeps what was measured
    save_point = save
    # Prefill: grow the prompt until the time budget would be exceeded.
    last = None
    for tokens in args.prefill_tokens:
        elapsed = time.perf_counter() - t_start
        if last is not None:
            ratio = tokens / last[0]
            est = last[1] * ratio * ratio * 4  # quadratic attention, 1 warm-up + up to 3 repeats
            if elapsed + est > budget_s * 0.75:
                res["prefill_stopped_at"] = {"tokens": tokens, "reason": "time budget (%.0f s)" % budget_s}
                break
        reps = 3 if (last is None or last[1] * (tokens / last[0]) ** 2 < 3) else 1
        try:
            lay, head_s, finite = time_prefill(torch, timer, model, tokens, reps)
        except torch.cuda.OutOfMemoryError as e:
            errors.append({"section": "compute.prefill", "shape": shape["name"], "tokens": tokens, "error": "OutOfMemoryError: %s" % str(e)[:300]})
            torch.cuda.empty_cache()
            res["prefill_stopped_at"] = {"tokens": tokens, "reason": "out of GPU memory"}
            break
        full = lay["median_s"] * scale + head_s
        res["prefill"].append({
            "tokens": tokens,
            "seconds": round(full, 6),
            "layers_run_median_s": lay["median_s"],
            "layers_run_min_s": lay["min_s"],
            "layers_run_max_s": lay["max_s"],
            "head_s": head_s,
            "reps": lay["reps"],
            "finite_output": finite,
        })
        log("  prefill %6d tokens: %.4f s (full model)" % (tokens, full))
        last = (tokens, lay["median_s"] * 1.0 + head_s)
        save_point()
    torch.cuda.empty_cache()
    # Decode steps.
    for batch, ctx in args.decode_configs:
        if time.perf_counter() - t_start > budget_s:
            res["decode_stopped_at"] = {"batch": batch, "context": ctx, "reason": "time budget"}
            break
        try:
            caches, x_in, layers_fn = decode_step_fn(torch, model, batch, ctx)
            lay, graphed, out = time_graph_or_eager(torch, timer, layers_fn, reps=20)
            head_in = out[:, -1, :].contiguous()
            hsum, _, _ = time_graph_or_eager(torch, timer, lambda m=model, h=head_in: m.head(h), reps=20)
            full = lay["median_s"] * scale + hsum["median_s"]
            kv_read = batch * (ctx + 1) * res["kv_bytes_per_token"]
            res["decode"].append({
                "batch": batch,
                "context": ctx,
                "seconds": round(full, 7),
                "layers_run_median_s": lay["median_s"],
                "layers_run_min_s": lay["min_s"],
                "layers_run_max_s": lay["max_s"],
                "head_s": hsum["median_s"],
                "reps": lay["reps"],
                "cuda_graph": graphed,
                "weight_bytes": res["weight_bytes_full"],
                "kv_bytes_read": kv_read,
                "bytes_per_step": res["weight_bytes_full"] + kv_read,
                "effective_GBps": gbps(res["weight_bytes_full"] + kv_read, full),
            })
            log("  decode batch %3d ctx %6d: %.3f ms (full model)%s" % (batch, ctx, full * 1e3, "" if graphed else " eager"))
            del caches, x_in, out, head_in, layers_fn
        except torch.cuda.OutOfMemoryError as e:
            errors.append({"section": "compute.decode", "shape": shape["name"], "batch": batch, "context": ctx, "error": "OutOfMemoryError: %s" % str(e)[:300]})
        torch.cuda.empty_cache()
        save_point()
    del model
    torch.cuda.empty_cache()
    res["seconds_spent"] = round(time.perf_counter() - t_start, 1)


# ---------------------------------------------------------------- cached-prefix prefill, offload vs recompute
#
# What an engine does with a prompt whose prefix is in its KV cache: the cached tokens are not computed
# again, but the new tokens still run through every layer (reading every weight) and attend to the
# whole context. These sections time that pass on a paged KV pool and, for the offload case, the copy
# of the prefix's blocks from pinned host memory that comes before it.


class PagedKV:
    """The engine's KV pool on the GPU: blocks of tokens_per_block tokens, each block one contiguous piece
    holding every layer's K and V, as TensorRT-LLM packs a block ("multiple layers are packed within a
    single block", docs/source/features/kvcache.md), so onboarding a block is one copy straight into its
    slot. Inside a block the layout is token-major ([tokens, layers, K/V, kv_heads, head_dim]): a sequence
    on consecutive blocks is then, for one layer, a strided view the attention kernel reads in place (no
    gather). A per-layer pool (K/V of a layer contiguous) was tried too: attention was no faster and the
    onboard needed a staging copy per block (profiles/measured/h200-pcie-gen5.layer-major.raw.json)."""

    def __init__(self, torch, model, max_tokens, tpb):
        self.tpb = tpb
        self.blocks = -(-max_tokens // tpb)
        self.layers = model.layers_run
        self.pool = torch.empty(self.blocks, tpb, self.layers, 2, model.nkv, model.d, dtype=torch.bfloat16, device="cuda")
        for b in range(0, self.blocks, 64):
            self.pool[b:b + 64].normal_()  # random KV, never zeros
        self.flat = self.pool.view(self.blocks * tpb, self.layers, 2, model.nkv, model.d)
        self.block_numel = self.pool[0].numel()
        self.block_bytes = self.block_numel * self.pool.element_size()

    def kv(self, layer, tokens):
        """K and V of layer `layer` for the first `tokens` tokens: (1, kv_heads, tokens, head_dim) strided views."""
        k = self.flat[:tokens, layer, 0].unsqueeze(0).transpose(1, 2)
        v = self.flat[:tokens, layer, 1].unsqueeze(0).transpose(1, 2)
        return k, v


def attention_candidates(torch):
    """Ways to run attention of n new queries over c cached + n new keys, causal aligned to the last query.
    Every one is checked against a float32 reference and the passing ones are timed (pick_attention):
    cuDNN's fused attention and FlashAttention-3 where this PyTorch has them, PyTorch's FlashAttention-2."""
    F = torch.nn.functional
    cands = []
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: PLC0415
        from torch.nn.attention.bias import causal_lower_right  # noqa: PLC0415
    except ImportError:
        SDPBackend = sdpa_kernel = causal_lower_right = None
    try:
        import flash_attn_interface  # noqa: PLC0415 - FlashAttention-3 (hopper/), when installed

        def fa3(q, k, v):
            o = flash_attn_interface.flash_attn_func(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal=True)
            o = o[0] if isinstance(o, tuple) else o
            return o.transpose(1, 2)

        cands.append(("fa3: flash_attn_interface.flash_attn_func (FlashAttention-3, causal aligned to the last query, GQA in the kernel)", fa3))
    except ImportError:
        pass
    if sdpa_kernel is not None:
        def cudnn_lower_right(q, k, v):
            with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(q.shape[-2], k.shape[-2]), enable_gqa=True)

        cands.append(("cudnn: scaled_dot_product_attention on SDPBackend.CUDNN_ATTENTION, causal_lower_right, enable_gqa (K/V read in place)", cudnn_lower_right))

        def cudnn_causal(q, k, v):
            with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)

        cands.append(("cudnn-causal: scaled_dot_product_attention on SDPBackend.CUDNN_ATTENTION, is_causal, enable_gqa (K/V read in place)", cudnn_causal))

        def cudnn_contig(q, k, v):
            rep = q.shape[1] // k.shape[1]
            with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                return F.scaled_dot_product_attention(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1),
                                                      attn_mask=causal_lower_right(q.shape[-2], k.shape[-2]))

        cands.append(("cudnn-gathered: SDPBackend.CUDNN_ATTENTION, causal_lower_right, K/V heads repeated (one gather per layer counted)", cudnn_contig))

    def aten_flash(q, k, v):
        return torch.ops.aten._scaled_dot_product_flash_attention(q, k, v, 0.0, True, False)[0]

    cands.append(("flash: torch.ops.aten._scaled_dot_product_flash_attention (PyTorch's FlashAttention-2; causal aligned to the last query; GQA in the kernel; K/V read in place from the paged pool)", aten_flash))
    if causal_lower_right is not None:
        def sdpa_lower_right(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(q.shape[-2], k.shape[-2]), enable_gqa=True)

        cands.append(("sdpa: scaled_dot_product_attention with causal_lower_right, enable_gqa (K/V read in place)", sdpa_lower_right))

    def flash_gathered(q, k, v):
        return torch.ops.aten._scaled_dot_product_flash_attention(q, k.contiguous(), v.contiguous(), 0.0, True, False)[0]

    cands.append(("flash on contiguous copies of K/V (one gather per layer: slower than an engine's paged kernel)", flash_gathered))
    return cands


def check_attention(torch, fn, nq, nkv, d):
    """Largest relative error against a float32 reference with an explicit mask, on strided K/V like the pool's."""
    g = torch.Generator(device="cuda")
    g.manual_seed(7)
    worst = 0.0
    for c, n in ((0, 96), (160, 40), (255, 1), (1000, 24), (0, 1)):
        T = c + n
        buf = torch.randn(T, 3, 2, nkv, d, generator=g, device="cuda", dtype=torch.bfloat16)
        k = buf[:, 1, 0].unsqueeze(0).transpose(1, 2)
        v = buf[:, 1, 1].unsqueeze(0).transpose(1, 2)
        q = torch.randn(1, n, nq, d, generator=g, device="cuda", dtype=torch.bfloat16).transpose(1, 2)
        out = fn(q, k, v).float()
        rep = nq // nkv
        kr = k.float().repeat_interleave(rep, 1)
        vr = v.float().repeat_interleave(rep, 1)
        s = (q.float() @ kr.transpose(-1, -2)) / math.sqrt(d)
        i = torch.arange(n, device="cuda")[:, None]
        j = torch.arange(T, device="cuda")[None, :]
        s = s.masked_fill(j > i + c, float("-inf"))
        ref = torch.softmax(s, dim=-1) @ vr
        if tuple(out.shape) != tuple(ref.shape) or not bool(torch.isfinite(out).all()):
            return float("inf")
        worst = max(worst, float((out - ref).norm() / ref.norm()))
    return worst


# Cells the passing kernels are timed on to choose the fastest: a long prefix and a whole long prompt.
ATTENTION_BENCH_CELLS = ((16384, 2048), (0, 16384))


def attention_inputs(torch, fn, nq, nkv, d, c, n):
    """q of n queries, K/V of c + n keys (strided views, like the pool's), after one warm-up call."""
    buf = torch.randn(c + n, 2, nkv, d, device="cuda", dtype=torch.bfloat16)
    k = buf[:, 0].unsqueeze(0).transpose(1, 2)
    v = buf[:, 1].unsqueeze(0).transpose(1, 2)
    q = torch.randn(1, n, nq, d, device="cuda", dtype=torch.bfloat16).transpose(1, 2)
    fn(q, k, v)
    torch.cuda.synchronize()
    return buf, q, k, v


def time_attention(torch, fn, nq, nkv, d, c, n, reps=5):
    """Median device time of one attention call of n queries over c + n keys (strided K/V like the pool's)."""
    buf, q, k, v = attention_inputs(torch, fn, nq, nkv, d, c, n)
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn(q, k, v)
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b) / 1e3)
    del buf, q
    return statistics.median(ts)


def attention_kernels(torch, fn, nq, nkv, d, c=16384, n=2048):
    """The GPU kernels one call launches, as the profiler names them, busiest first: which backend
    PyTorch's SDPA dispatch really ran (cudnn, flash, efficient), recorded beside the timings.
    None (with the reason) where the profiler cannot see the device."""
    try:
        from torch.profiler import ProfilerActivity, profile  # noqa: PLC0415

        buf, q, k, v = attention_inputs(torch, fn, nq, nkv, d, c, n)
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn(q, k, v)
            torch.cuda.synchronize()
        rows = []
        for e in prof.key_averages():
            t = getattr(e, "self_device_time_total", None)
            if t is None:
                t = getattr(e, "self_cuda_time_total", 0)
            if t and t > 0:
                rows.append((t, e.key))
        rows.sort(reverse=True)
        del buf, q
        return {"kernels": [{"name": name[:200], "device_us": round(t, 1)} for t, name in rows[:6]]}
    except Exception as e:  # noqa: BLE001 - the record is a label; never fail the probe for it
        return {"kernels": None, "reason": "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:200] if str(e) else "")}


_PICKED = {}


def pick_attention(torch, model, log_fn=log):
    """Every candidate that matches the float32 reference is timed on ATTENTION_BENCH_CELLS; the fastest
    (smallest sum) is used. The checks and timings are recorded beside the tables."""
    key = (model.nq, model.nkv, model.d)
    if key in _PICKED:
        return _PICKED[key]
    checks, passing = [], []
    for name, fn in attention_candidates(torch):
        try:
            err = check_attention(torch, fn, model.nq, model.nkv, model.d)
        except Exception as e:  # noqa: BLE001 - a kernel this PyTorch lacks is just not a candidate
            checks.append({"attention": name, "error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:300] if str(e) else "")})
            continue
        row = {"attention": name, "max_rel_error": err}
        checks.append(row)
        if err < 2e-2:
            try:
                row["bench_s"] = {"%dx%d" % cn: time_attention(torch, fn, model.nq, model.nkv, model.d, *cn) for cn in ATTENTION_BENCH_CELLS}
                passing.append((sum(row["bench_s"].values()), name, fn))
                # Per cell: SDPA's dispatch can pick a different kernel for a whole prompt than for a
                # suffix over a cached prefix (H200, 2026-12-06: FlashAttention-2's for the suffix).
                row["launched"] = {"%dx%d" % cn: attention_kernels(torch, fn, model.nq, model.nkv, model.d, *cn) for cn in ATTENTION_BENCH_CELLS}
            except Exception as e:  # noqa: BLE001 - passes the small check, fails at length: not a candidate
                row["bench_error"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:300] if str(e) else "")
            torch.cuda.empty_cache()
    if not passing:
        raise RuntimeError("no attention kernel passed the check against the float32 reference: %s" % json.dumps(checks))
    passing.sort(key=lambda p: p[0])
    _, name, fn = passing[0]
    log_fn("attention: %s (fastest of %d that match the float32 reference: %s)" % (
        name.split(":")[0], len(passing), ", ".join("%s %.2f ms" % (p[1].split(":")[0], p[0] * 1e3) for p in passing)))
    _PICKED[key] = (name, fn, checks)
    return _PICKED[key]


def layer_paged(model, L, li, x, cos, sin, kv, c, attn):
    """One layer for x = the n new tokens at positions c..c+n-1: their K/V go into the pool, attention reads c + n."""
    _, T, _ = x.shape
    nq, nkv, d = model.nq, model.nkv, model.d
    h = model.rms(x, L["n1"])
    qkv = h @ L["wqkv"]
    q, k, v = qkv.split([nq * d, nkv * d, nkv * d], dim=-1)
    q = model.rope(q.view(1, T, nq, d).transpose(1, 2), cos, sin)
    k = model.rope(k.view(1, T, nkv, d).transpose(1, 2), cos, sin)
    K, V = kv.kv(li, c + T)
    K[:, :, c:].copy_(k)
    V[:, :, c:].copy_(v.view(1, T, nkv, d).transpose(1, 2))
    a = attn(q, K, V)
    x = x + a.transpose(1, 2).reshape(1, T, nq * d) @ L["wo"]
    h = model.rms(x, L["n2"])
    g, u = (h @ L["wgu"]).chunk(2, dim=-1)
    return x + (model.F.silu(g) * u) @ L["wd"]


def est_prefill_s(shape, layers_run, c, n):
    """Rough time of a cached prefill (FLOPs at 400 TFLOP/s), only to choose repeats and respect budgets."""
    flops = 2 * layer_weight_params(shape) * layers_run * n + 4 * n * (c + n / 2) * shape["heads"] * shape["head_dim"] * layers_run
    return flops / 4e14 + 2e-3


class CachedPrefill:
    """Times the pass of n new tokens over c cached ones on a PagedKV, device time only: the stream is
    held by a spin kernel while Python enqueues the layers, so launch latency does not count (an engine
    launches from C++ or replays graphs)."""

    def __init__(self, torch, timer, model, kv, attn):
        self.torch, self.timer, self.model, self.kv, self.attn = torch, timer, model, kv, attn
        self.enqueue_s = None

    def prepare(self, c, n):
        torch = self.torch
        cos, sin = self.model.rope_tables(torch.arange(c, c + n, device="cuda"))
        x0 = torch.randn(1, n, self.model.shape["hidden"], dtype=torch.bfloat16, device="cuda")
        return cos, sin, x0

    def enqueue(self, c, n, prepared):
        cos, sin, x0 = prepared
        x = x0
        for li, L in enumerate(self.model.layers):
            x = layer_paged(self.model, L, li, x, cos, sin, self.kv, c, self.attn)
        return x

    def hold_s(self):
        return 0 if self.enqueue_s is None else min(0.5, 2 * self.enqueue_s + 2e-3)

    def time(self, c, n, reps, warm):
        torch, timer = self.torch, self.timer
        prepared = self.prepare(c, n)
        lay, hd, enqs = [], [], []
        finite = True
        for i in range(warm + reps):
            hold = self.hold_s()
            a, b, e = timer.event(), timer.event(), timer.event()
            timer.hold(hold)
            a.record()
            t0 = time.perf_counter()
            x = self.enqueue(c, n, prepared)
            b.record()
            logits = self.model.head(x[:, -1:, :])
            e.record()
            enq = time.perf_counter() - t0
            e.synchronize()
            finite = finite and bool(torch.isfinite(logits).all())
            if self.enqueue_s is None:
                self.enqueue_s = enq  # first call: unheld warm-up, sizes the hold from now on
            if i >= warm:
                lay.append(a.elapsed_time(b) / 1e3)
                hd.append(b.elapsed_time(e) / 1e3)
                enqs.append((enq, hold))
        del x, logits, prepared
        s = summarize(lay)
        return s, statistics.median(hd), finite, {
            "enqueue_median_s": statistics.median(q for q, _ in enqs),
            "hold_s": enqs[0][1],
            "host_bound": any(hold == 0 or q > hold for q, hold in enqs),
        }


def reps_for(est):
    if est > 1.5:
        return 2, 0
    if est > 0.3:
        return 3, 1
    return 5, 1


def parse_cells(specs):
    out = []
    for spec in specs:
        c, _, n = spec.lower().partition("x")
        out.append((int(c), int(n)))
    return out


def cached_cells(args):
    cells = [(c, n) for n in args.cached_new for c in args.cached_context]
    cells += [(0, n) for n in args.whole_prompt]
    cells += parse_cells(args.cached_long)
    seen, out = set(), []
    for cell in sorted(cells, key=lambda cn: (cn[1], cn[0])):
        if cell not in seen:
            seen.add(cell)
            out.append(cell)
    return out


def measure_cached_prefill(torch, timer, shape, args, errors, save, sink):
    t_start = time.perf_counter()
    layers_run = pick_layers(shape, args.cached_weight_budget_gb * 1e9, args.max_layers)
    scale = shape["layers"] / layers_run
    model = Model(torch, shape, layers_run)
    name, attn, checks = pick_attention(torch, model)
    cells = cached_cells(args)
    max_tokens = max(c + n for c, n in cells)
    kv = PagedKV(torch, model, max_tokens, args.tokens_per_block[0])
    torch.cuda.synchronize()
    log("cached prefill %s: %d of %d layers (scale %.3g), pool of %d blocks of %d B, %d cells" % (
        shape["name"], layers_run, shape["layers"], scale, kv.blocks, kv.block_bytes, len(cells)))
    res = {
        "shape": shape["name"],
        "config": {k: shape[k] for k in SHAPE_KEYS},
        "dtype": "bfloat16",
        "layers_run": layers_run,
        "layer_scale": scale,
        "attention": name,
        "attention_checks": checks,
        "kv_layout": "paged pool, blocks of tokens_per_block tokens, all layers of a block contiguous, token-major inside ([tokens, layers, K/V, kv_heads, head_dim])",
        "tokens_per_block": kv.tpb,
        "pool_block_bytes": kv.block_bytes,
        "timing": "device time: stream held by a spin kernel while the layers are enqueued; layer time x layer_scale + norm and LM head on the last token",
        "points": [],
        "skipped": [],
    }
    sink.append(res)
    cp = CachedPrefill(torch, timer, model, kv, attn)
    for c, n in cells:
        est = est_prefill_s(shape, layers_run, c, n)
        reps, warm = reps_for(est)
        elapsed = time.perf_counter() - t_start
        if elapsed + est * (reps + warm) > args.cached_budget_s:
            res["skipped"].append({"cached": c, "new": n, "reason": "time budget (%.0f s)" % args.cached_budget_s})
            continue
        try:
            s, head_s, finite, hold = cp.time(c, n, reps, warm)
        except torch.cuda.OutOfMemoryError as e:
            torch.cuda.empty_cache()
            res["skipped"].append({"cached": c, "new": n, "reason": "out of GPU memory"})
            errors.append({"section": "cached_prefill", "shape": shape["name"], "cached": c, "new": n, "error": "OutOfMemoryError: %s" % str(e)[:300]})
            continue
        full = s["median_s"] * scale + head_s
        res["points"].append({
            "cached": c, "new": n, "seconds": round(full, 7),
            "layers_run_median_s": s["median_s"], "layers_run_min_s": s["min_s"], "layers_run_max_s": s["max_s"],
            "head_s": head_s, "reps": s["reps"], "finite_output": finite, **hold,
        })
        log("  cached %6d + new %6d: %.5f s (full model)%s" % (c, n, full, " host-bound" if hold["host_bound"] else ""))
        save()
    res["seconds_spent"] = round(time.perf_counter() - t_start, 1)
    del cp, kv, model
    torch.cuda.empty_cache()


def batched_pass(model, attn, chunks, dec, cos_c, sin_c, cos_d, sin_d):
    """One forward pass holding `chunks` (k, n, hidden): k new sequences of n tokens each (causal attention
    within each), and `dec` = (x (B, 1, hidden), per-layer (K, V) views (B, kv_heads, C, head_dim)) or None:
    B decode tokens each over C cached tokens. The linear layers run once over all k*n + B rows (an
    engine's fused batch); attention runs per kind. Returns the last hidden state of each sequence."""
    nq, nkv, d = model.nq, model.nkv, model.d
    rows = []
    if chunks is not None:
        k, n, h = chunks.shape
        rows.append(chunks.reshape(k * n, h))
    if dec is not None:
        xd, _ = dec
        B = xd.shape[0]
        rows.append(xd.reshape(B, -1))
    x = rows[0] if len(rows) == 1 else model.torch.cat(rows, 0)
    nc = 0 if chunks is None else chunks.shape[0] * chunks.shape[1]
    for li, L in enumerate(model.layers):
        hh = model.rms(x, L["n1"])
        qkv = hh @ L["wqkv"]
        outs = []
        if chunks is not None:
            q, kk, v = qkv[:nc].split([nq * d, nkv * d, nkv * d], dim=-1)
            q = model.rope(q.view(k, n, nq, d).transpose(1, 2), cos_c, sin_c)
            kk = model.rope(kk.view(k, n, nkv, d).transpose(1, 2), cos_c, sin_c)
            v = v.reshape(k, n, nkv, d).transpose(1, 2)
            outs.append(attn(q, kk, v).transpose(1, 2).reshape(nc, nq * d))
        if dec is not None:
            q = qkv[nc:, :nq * d]
            q = model.rope(q.view(B, 1, nq, d).transpose(1, 2), cos_d, sin_d)
            K, V = dec[1][li]
            outs.append(attn(q, K, V).transpose(1, 2).reshape(B, nq * d))
        a = outs[0] if len(outs) == 1 else model.torch.cat(outs, 0)
        x = x + a @ L["wo"]
        hh = model.rms(x, L["n2"])
        g, u = (hh @ L["wgu"]).chunk(2, dim=-1)
        x = x + (model.F.silu(g) * u) @ L["wd"]
    last = []
    if chunks is not None:
        last.append(x[:nc].view(k, n, -1)[:, -1])
    if dec is not None:
        last.append(x[nc:])
    return last[0] if len(last) == 1 else model.torch.cat(last, 0)


def measure_batched(torch, timer, shape, args, errors, save, doc):
    """Passes holding several requests: (a) k prefill chunks of n tokens (k new sequences) in one pass;
    (b) a chunk of n tokens with B decode tokens at context C in one pass, and each alone. Whole model on
    the GPU, device time (stream held while the layers are enqueued), median of repeats."""
    t_start = time.perf_counter()
    layers_run = pick_layers(shape, args.cached_weight_budget_gb * 1e9, args.max_layers)
    scale = shape["layers"] / layers_run
    model = Model(torch, shape, layers_run)
    name, attn, checks = pick_attention(torch, model)
    max_dec = max(b * c for b, c in args.batched_decodes)
    kvbuf = torch.empty(layers_run, 2, max_dec, model.nkv, model.d, dtype=torch.bfloat16, device="cuda")
    for li in range(layers_run):
        kvbuf[li].normal_()
    res = {
        "shape": shape["name"],
        "config": {k: shape[k] for k in SHAPE_KEYS},
        "dtype": "bfloat16",
        "layers_run": layers_run,
        "layer_scale": scale,
        "attention": name,
        "attention_checks": checks,
        "timing": "device time of one forward pass (all layers, then norm + LM head on each sequence's last token): stream held by a spin kernel while Python enqueues; median of repeats",
        "fusion": "linear layers (QKV, O, MLP) run once over every row of the pass; attention per sequence kind (chunks batched, decodes batched over their caches)",
        "chunks": [],
        "mixed": [],
    }
    doc["batched"].append(res)
    hold = [0.0]

    def timed(fn, reps=7, warm=2):
        ts = []
        for i in range(warm + reps):
            a, b = timer.event(), timer.event()
            timer.hold(hold[0])
            a.record()
            t0 = time.perf_counter()
            out = fn()
            logits = model.head(out)
            b.record()
            enq = time.perf_counter() - t0
            b.synchronize()
            if i == 0:
                hold[0] = min(0.5, 2 * enq + 2e-3)
            if i >= warm:
                ts.append(a.elapsed_time(b) / 1e3)
        ok = bool(torch.isfinite(logits).all())
        return statistics.median(ts), min(ts), max(ts), ok

    def chunk_inputs(k, n):
        cos, sin = model.rope_tables(torch.arange(n, device="cuda"))
        return torch.randn(k, n, shape["hidden"], dtype=torch.bfloat16, device="cuda"), cos, sin

    def dec_inputs(B, C):
        views = []
        for li in range(layers_run):
            K = kvbuf[li, 0, :B * C].view(B, C, model.nkv, model.d).transpose(1, 2)
            V = kvbuf[li, 1, :B * C].view(B, C, model.nkv, model.d).transpose(1, 2)
            views.append((K, V))
        cos, sin = model.rope_tables(torch.tensor([C], device="cuda"))
        return (torch.randn(B, 1, shape["hidden"], dtype=torch.bfloat16, device="cuda"), views), cos, sin

    for n in args.batched_chunk_tokens:
        for k in args.batched_k:
            if k * n > args.batched_max_tokens:
                continue
            x, cos, sin = chunk_inputs(k, n)
            med, lo, hi, ok = timed(lambda: batched_pass(model, attn, x, None, cos, sin, None, None))
            res["chunks"].append({"new": n, "k": k, "seconds": round(med, 7), "min_s": lo, "max_s": hi, "finite_output": ok})
            log("  batched: %2d chunks of %5d tokens in one pass: %.5f s" % (k, n, med))
            del x
        save()
    singles = {}
    for B, C in args.batched_decodes:
        d_in, cos_d, sin_d = dec_inputs(B, C)
        med, lo, hi, ok = timed(lambda: batched_pass(model, attn, None, d_in, None, None, cos_d, sin_d))
        res["mixed"].append({"new": 0, "decodes": B, "context": C, "seconds": round(med, 7), "min_s": lo, "max_s": hi, "finite_output": ok})
        singles[(B, C)] = med
        log("  batched: %3d decodes at context %6d alone: %.5f s" % (B, C, med))
        for n in args.batched_mixed_tokens:
            x, cos, sin = chunk_inputs(1, n)
            med, lo, hi, ok = timed(lambda: batched_pass(model, attn, x, d_in, cos, sin, cos_d, sin_d))
            alone = next((r["seconds"] for r in res["chunks"] if r["new"] == n and r["k"] == 1), None)
            ratio = None if alone is None else med / (alone + singles[(B, C)])
            res["mixed"].append({"new": n, "decodes": B, "context": C, "seconds": round(med, 7), "min_s": lo, "max_s": hi, "finite_output": ok,
                                 "ratio_to_separate": None if ratio is None else round(ratio, 4)})
            log("  batched: chunk of %5d + %3d decodes at context %6d: %.5f s (%.3f of the two apart)" % (n, B, C, med, ratio or float("nan")))
            del x
        del d_in
        save()
    res["seconds_spent"] = round(time.perf_counter() - t_start, 1)
    del kvbuf, model
    torch.cuda.empty_cache()


def measure_offload_vs_recompute(torch, timer, shape, args, errors, save, doc):
    """For each prompt length L and suffix S: (a) recompute: prefill all L tokens; (b) onboard: copy the
    blocks of the first L - S tokens from pinned host memory, block by block, then prefill the S new tokens
    over them; (c) GPU hit: the same S tokens with the prefix already on the GPU. Full model, no scaling."""
    t_start = time.perf_counter()
    layers_run = pick_layers(shape, args.cached_weight_budget_gb * 1e9, args.max_layers)
    if layers_run < shape["layers"]:
        raise RuntimeError("offload_vs_recompute needs the whole %s on the GPU (%d of %d layers fit the weight budget)" % (shape["name"], layers_run, shape["layers"]))
    tpb = args.tokens_per_block[0]
    model = Model(torch, shape, layers_run)
    name, attn, checks = pick_attention(torch, model)
    lengths = sorted(args.ovr_lengths)
    kv = PagedKV(torch, model, max(lengths), tpb)
    max_blocks = kv.blocks
    t0 = time.perf_counter()
    host = torch.empty(max_blocks * kv.block_numel, dtype=torch.bfloat16, pin_memory=True)
    dev_blocks = kv.pool.view(kv.blocks, kv.block_numel)
    host_blocks = host.view(max_blocks, kv.block_numel)
    for b in range(0, max_blocks, 256):
        host_blocks[b:b + 256].copy_(dev_blocks[b:b + 256])  # the host copy holds real (random) KV values
    torch.cuda.synchronize()
    log("offload vs recompute %s: pinned host pool of %d blocks of %d B ready in %.1f s" % (shape["name"], max_blocks, kv.block_bytes, time.perf_counter() - t0))
    res = {
        "shape": shape["name"],
        "config": {k: shape[k] for k in SHAPE_KEYS},
        "layers_run": layers_run,
        "attention": name,
        "attention_checks": checks,
        "tokens_per_block": tpb,
        "block_bytes": kv.block_bytes,
        "kv_layout": "GPU pool and pinned host pool in the same block layout (all layers of a block contiguous); onboarding copies one block per copy call, like TensorRT-LLM's onboard",
        "timing": "device time from the first copy (or the first layer) to the LM head's output; stream held by a spin kernel while the work is enqueued",
        "rows": [],
        "skipped": [],
    }
    doc["offload_vs_recompute"] = res
    cp = CachedPrefill(torch, timer, model, kv, attn)
    copy_stream = torch.cuda.Stream()

    def onboard_once(c, s, prepared, hold):
        nb = -(-c // tpb)
        a, e_copy, e_end = timer.event(), timer.event(), timer.event()
        copy_stream.wait_stream(torch.cuda.current_stream())
        t_enq = time.perf_counter()
        with torch.cuda.stream(copy_stream):
            timer.hold(hold)
            a.record(copy_stream)
            for b in range(nb):
                dev_blocks[b].copy_(host_blocks[b], non_blocking=True)
            e_copy.record(copy_stream)
        torch.cuda.current_stream().wait_event(e_copy)
        x = cp.enqueue(c, s, prepared)
        logits = model.head(x[:, -1:, :])
        e_end.record()
        enq = time.perf_counter() - t_enq
        e_end.synchronize()
        return a.elapsed_time(e_copy) / 1e3, a.elapsed_time(e_end) / 1e3, enq, bool(torch.isfinite(logits).all())

    for L in lengths:
        est = est_prefill_s(shape, layers_run, 0, L)
        reps, warm = reps_for(est)
        if time.perf_counter() - t_start + est * (reps + warm) > args.ovr_budget_s:
            res["skipped"].append({"prompt_tokens": L, "reason": "time budget (%.0f s)" % args.ovr_budget_s})
            continue
        try:
            rec, rec_head, rec_finite, _ = cp.time(0, L, reps, warm)
        except torch.cuda.OutOfMemoryError as e:
            torch.cuda.empty_cache()
            res["skipped"].append({"prompt_tokens": L, "reason": "out of GPU memory"})
            errors.append({"section": "offload_vs_recompute", "prompt_tokens": L, "error": "OutOfMemoryError: %s" % str(e)[:300]})
            continue
        recompute_s = rec["median_s"] + rec_head
        for S in args.ovr_suffix:
            if S >= L:
                continue
            c = L - S
            nb = -(-c // tpb)
            hit, hit_head, hit_finite, _ = cp.time(c, S, 5, 1)
            prepared = cp.prepare(c, S)
            _, _, enq, _ = onboard_once(c, S, prepared, 0)  # warm-up, unheld: sizes the hold
            hold = min(1.0, 1.5 * enq + 2e-3)
            runs = [onboard_once(c, S, prepared, hold) for _ in range(3)]
            copy_s = statistics.median(r[0] for r in runs)
            ttft = summarize([r[1] for r in runs])
            row = {
                "prompt_tokens": L, "suffix_tokens": S, "cached_tokens": c,
                "onboard_blocks": nb, "onboard_bytes": nb * kv.block_bytes,
                "recompute_s": round(recompute_s, 7), "recompute_reps": rec["reps"],
                "recompute_min_s": rec["min_s"] + rec_head, "recompute_max_s": rec["max_s"] + rec_head,
                "onboard_s": round(ttft["median_s"], 7), "onboard_min_s": ttft["min_s"], "onboard_max_s": ttft["max_s"], "onboard_reps": ttft["reps"],
                "onboard_copy_s": round(copy_s, 7), "onboard_copy_GBps": gbps(nb * kv.block_bytes, copy_s),
                "onboard_enqueue_median_s": statistics.median(r[2] for r in runs), "onboard_hold_s": hold,
                "onboard_host_bound": any(r[2] > hold for r in runs),
                "gpu_hit_s": round(hit["median_s"] + hit_head, 7), "gpu_hit_min_s": hit["min_s"] + hit_head, "gpu_hit_max_s": hit["max_s"] + hit_head, "gpu_hit_reps": hit["reps"],
                "finite_output": rec_finite and hit_finite and all(r[3] for r in runs),
            }
            res["rows"].append(row)
            log("  L %6d S %4d: recompute %.4f s, onboard %.4f s (copy %.4f s, %.1f GB/s), GPU hit %.4f s" % (
                L, S, recompute_s, row["onboard_s"], copy_s, row["onboard_copy_GBps"] or 0, row["gpu_hit_s"]))
            del prepared
        save()
    res["seconds_spent"] = round(time.perf_counter() - t_start, 1)
    del cp, kv, host, host_blocks, dev_blocks, model
    torch.cuda.empty_cache()


# ---------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(prog="kvbench_probe.py", description="Measure a CUDA machine's KV offload link and compute (PyTorch, random weights).")
    p.add_argument("--out", help="write the JSON here (rewritten after each section); default: print on stdout at the end")
    p.add_argument("--quick", action="store_true", help="link check only: a few pinned sizes, one block layout, one bidirectional copy (< 20 s)")
    p.add_argument("--model_shape", "--model-shape", nargs="+", default=["llama-3.1-8b", "llama-3-70b"],
                   help="shapes for block sizes and compute: %s, or name:layers=..,hidden=..,heads=..,kv_heads=..,head_dim=..,ffn=..,vocab=.." % ", ".join(sorted(SHAPES)))
    p.add_argument("--tokens_per_block", "--tokens-per-block", type=int, nargs="+", default=[64])
    p.add_argument("--kv_dtype_bytes", "--kv-dtype-bytes", type=int, default=2, help="bytes per KV element (2 = bf16/fp16, 1 = fp8)")
    p.add_argument("--streams", type=int, nargs="+", default=[1, 2, 4], help="stream counts for model-shape block copies")
    p.add_argument("--sections", default=",".join(ALL_SECTIONS), help="comma-separated subset of %s" % ",".join(ALL_SECTIONS))
    p.add_argument("--pool_mib", "--pool-mib", type=int, default=None, help="size of each buffer pool (default 2048; 512 with --quick)")
    p.add_argument("--prefill_tokens", "--prefill-tokens", type=int, nargs="+", default=[1024, 2048, 4096, 8192, 16384, 32768, 65536])
    p.add_argument("--decode", nargs="+", default=["1x4096", "8x4096", "32x4096", "1x32768", "8x16384"], help="decode configs BATCHxCONTEXT")
    p.add_argument("--compute_budget_s", "--compute-budget-s", type=float, default=90.0, help="time budget per model shape for compute")
    p.add_argument("--weight_budget_gb", "--weight-budget-gb", type=float, default=16.0, help="layer weights held at once; larger shapes run a subset of layers")
    p.add_argument("--max_layers", "--max-layers", type=int, default=None)
    p.add_argument("--cached_context", "--cached-context", type=int, nargs="+", default=[0, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072],
                   help="cached_prefill: tokens already in the KV cache")
    p.add_argument("--cached_new", "--cached-new", type=int, nargs="+", default=[1, 64, 128, 512, 2048, 8192],
                   help="cached_prefill: new tokens computed over each cached context")
    p.add_argument("--whole_prompt", "--whole-prompt", type=int, nargs="+", default=[16384, 32768, 65536, 131072],
                   help="cached_prefill: longer prompts with nothing cached")
    p.add_argument("--cached_long", "--cached-long", nargs="*", default=["16384x16384", "114688x16384", "32768x32768", "98304x32768"],
                   help="cached_prefill: more CACHEDxNEW cells")
    p.add_argument("--cached_budget_s", "--cached-budget-s", type=float, default=240.0, help="time budget per model shape for cached_prefill")
    p.add_argument("--cached_weight_budget_gb", "--cached-weight-budget-gb", type=float, default=40.0,
                   help="layer weights held at once in cached_prefill and offload_vs_recompute")
    p.add_argument("--ovr_lengths", "--ovr-lengths", type=int, nargs="+", default=[1024 * 2 ** i for i in range(8)],
                   help="offload_vs_recompute: prompt lengths (first model shape)")
    p.add_argument("--ovr_suffix", "--ovr-suffix", type=int, nargs="+", default=[1, 512],
                   help="offload_vs_recompute: new tokens after the onboarded prefix (1 = the same prompt again; the engine computes its last token)")
    p.add_argument("--ovr_budget_s", "--ovr-budget-s", type=float, default=300.0, help="time budget for offload_vs_recompute")
    p.add_argument("--batched_chunk_tokens", "--batched-chunk-tokens", type=int, nargs="+", default=[128, 512, 2048],
                   help="batched: tokens of each prefill chunk")
    p.add_argument("--batched_k", "--batched-k", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32], help="batched: chunks in one pass")
    p.add_argument("--batched_max_tokens", "--batched-max-tokens", type=int, default=16384, help="batched: most chunk tokens in one pass")
    p.add_argument("--batched_mixed_tokens", "--batched-mixed-tokens", type=int, nargs="+", default=[128, 512],
                   help="batched: chunk sizes timed together with decodes")
    p.add_argument("--batched_decode", "--batched-decode", nargs="+", default=["8x1024", "32x1024", "64x1024", "128x1024", "8x4096", "32x4096", "64x4096", "128x2048"],
                   help="batched: decode configs BATCHxCONTEXT timed alone and with a chunk")
    p.add_argument("--seed", type=int, default=1234)
    a = p.parse_args(argv)
    a.shapes = [parse_shape(s) for s in a.model_shape]
    try:
        a.decode_configs = [tuple(int(v) for v in c.lower().split("x")) for c in a.decode]
        assert all(len(c) == 2 and c[0] > 0 and c[1] > 0 for c in a.decode_configs)
    except (ValueError, AssertionError):
        p.error("--decode: configs are BATCHxCONTEXT, e.g. 8x4096")
    try:
        cells = parse_cells(a.cached_long)
        assert all(c >= 0 and n > 0 for c, n in cells)
    except (ValueError, AssertionError):
        p.error("--cached_long: cells are CACHEDxNEW, e.g. 16384x16384")
    if any(v < 0 for v in a.cached_context) or any(v <= 0 for v in a.cached_new + a.whole_prompt + a.ovr_lengths + a.ovr_suffix):
        p.error("--cached_context must be >= 0; --cached_new, --whole_prompt, --ovr_lengths and --ovr_suffix > 0")
    try:
        a.batched_decodes = [tuple(int(v) for v in c.lower().split("x")) for c in a.batched_decode]
        assert all(len(c) == 2 and c[0] > 0 and c[1] > 0 for c in a.batched_decodes)
    except (ValueError, AssertionError):
        p.error("--batched_decode: configs are BATCHxCONTEXT, e.g. 32x4096")
    a.section_set = set(s.strip() for s in a.sections.split(",") if s.strip())
    unknown = a.section_set - set(ALL_SECTIONS)
    if unknown:
        p.error("--sections: unknown %s" % ", ".join(sorted(unknown)))
    if a.quick:
        a.section_set = {"link", "blocks", "bidir"}
    if a.pool_mib is None:
        a.pool_mib = 512 if a.quick else 2048
    return a


def write_json(doc, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main(argv=None):
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except ValueError as e:
        print("kvbench probe: %s" % e, file=sys.stderr)
        return EXIT_USAGE
    try:
        import torch  # noqa: PLC0415 - imported late so that the no-torch path gives a clear message
    except ImportError as e:
        print("kvbench probe: PyTorch is not installed (import torch failed: %s). The probe needs PyTorch with CUDA "
              "and an NVIDIA GPU; nothing was measured." % e, file=sys.stderr)
        return EXIT_NO_TORCH
    if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
        print("kvbench probe: no CUDA device (torch %s, built for CUDA %s, torch.cuda.is_available() is False). "
              "The probe measures a GPU's host link and compute and needs one; nothing was measured."
              % (torch.__version__, torch.version.cuda), file=sys.stderr)
        return EXIT_NO_CUDA

    t_all = time.perf_counter()
    doc = {
        "schema": SCHEMA,
        "version": 1,
        "probe_version": PROBE_VERSION,
        "mode": "quick" if args.quick else "full",
        "started_at": now_iso(),
        "finished_at": None,
        "complete": False,
        "args": {
            "model_shape": [s["name"] for s in args.shapes],
            "shapes": {s["name"]: {k: s[k] for k in SHAPE_KEYS} for s in args.shapes},
            "tokens_per_block": args.tokens_per_block,
            "kv_dtype_bytes": args.kv_dtype_bytes,
            "streams": args.streams,
            "sections": sorted(args.section_set),
            "pool_bytes": args.pool_mib * MiB,
        },
        "method": {
            "timing": "CUDA events; warm-up before timed repeats; median reported",
            "rotation": "copies rotate over slots of %d MiB host and device pools (random bytes); block copies take random slots" % args.pool_mib,
            "GB": "1e9 bytes",
            "pinned_copies": "stream held by a spin kernel while the copy is enqueued, so the time is the device's",
            "pageable_copies": "events around a copy from/to pageable memory (the driver stages it); wall clock also recorded",
            "block_copies": "n separate copies of block_bytes, one copy call per block, round-robin over streams, enqueued behind a spin kernel; host_bound marks runs where enqueueing outlasted it",
            "compute": "random bf16 weights, PyTorch SDPA; shapes larger than the weight budget run layers_run layers and the layer time is multiplied by layers/layers_run; norm + LM head timed once (last token for prefill)",
            "cached_prefill": "n new tokens over c cached ones on a paged KV pool (all layers of a block contiguous), attention kernel checked against a float32 reference first; device time (stream held while enqueued); layer subset scaled as in compute",
            "batched": "whole model on the GPU; one pass holding k prefill chunks (k new sequences), or a chunk with B decode tokens at context C, linear layers fused over every row; device time",
            "offload_vs_recompute": "whole model on the GPU; recompute = prefill of the whole prompt; onboard = block-by-block copies of the prefix from pinned host memory in the pool's block layout, then the suffix's prefill over it; GPU hit = the suffix's prefill alone",
        },
        "environment": None,
        "copies": [],
        "block_copies": [],
        "bidirectional": [],
        "d2d": None,
        "compute": [],
        "cached_prefill": [],
        "offload_vs_recompute": None,
        "batched": [],
        "errors": [],
    }

    def save():
        if args.out:
            write_json(doc, args.out)

    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    torch.cuda.init()
    doc["environment"] = environment(torch, args.quick)
    g = doc["environment"].get("gpus") or [{}]
    log("GPU %s, driver %s, PCIe Gen%s x%s (max Gen%s x%s)" % (doc["environment"]["device"]["name"], g[0].get("driver"),
        g[0].get("pcie_gen_current"), g[0].get("pcie_width_current"), g[0].get("pcie_gen_max"), g[0].get("pcie_width_max")))
    save()
    timer = Timer(torch)
    doc["method"]["spin_kernel"] = {"available": timer.has_sleep, "cycles_per_s": timer.cycles_per_s}

    def guarded(name, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - one failing section must not lose the others
            log("section %s failed: %s" % (name, e))
            doc["errors"].append({"section": name, "error": "%s: %s" % (type(e).__name__, e), "traceback": traceback.format_exc()[-3000:]})
            try:
                torch.cuda.synchronize()
            except Exception:  # noqa: BLE001 - a sticky CUDA error: the next section reports it too
                pass
        save()

    link_sections = args.section_set & {"link", "blocks", "bidir", "d2d"}
    if link_sections:
        pools = Pools(torch, args.pool_mib * MiB, pageable=("link" in args.section_set and not args.quick))

        def link():
            sizes = [1 * MiB, 16 * MiB, 256 * MiB] if args.quick else [64 * KiB * 4 ** i for i in range(8)]  # 64 KiB .. 1 GiB
            sizes = [s for s in sizes if s <= pools.nbytes // 2]
            for pinned in ([True] if args.quick else [True, False]):
                for size in sizes:
                    for d in ("h2d", "d2h"):
                        row = measure_copy(torch, timer, pools, size, d, pinned, args.quick)
                        doc["copies"].append(row)
                        log("  copy %-3s %-8s %10d B: %7.2f GB/s" % (d, "pinned" if pinned else "pageable", size, row["GBps"]))
                save()
            _, rows = nvsmi_query(NVSMI_FIELDS)
            doc["environment"]["pcie_after_copies"] = [{k: r[k] for k in ("pcie.link.gen.current", "pcie.link.width.current")} for r in rows]

        def blocks():
            reps = 3 if args.quick else 7
            if not args.quick:
                for bb in [32 * KiB * 2 ** i for i in range(11)]:  # 32 KiB .. 32 MiB
                    for d in ("h2d", "d2h"):
                        row = block_batch(torch, timer, pools, d, bb, block_count(bb, False), 1, reps, rng)
                        row["layout"] = "sweep"
                        doc["block_copies"].append(row)
                        log("  blocks %-3s %9d B x %4d, 1 stream: %7.2f GB/s%s" % (d, bb, row["n_blocks"], row["GBps"], " (host-bound)" if row["host_bound"] else ""))
                save()
            shapes = args.shapes[:1] if args.quick else args.shapes
            tpbs = args.tokens_per_block[:1] if args.quick else args.tokens_per_block
            streams = [1] if args.quick else args.streams
            for shape in shapes:
                per_tok = kv_bytes_per_token(shape, args.kv_dtype_bytes)
                for tpb in tpbs:
                    for layout, bb in (("all_layers", tpb * per_tok), ("per_layer", tpb * per_tok // shape["layers"])):
                        for ns in streams:
                            for d in ("h2d", "d2h"):
                                row = block_batch(torch, timer, pools, d, bb, block_count(bb, args.quick), ns, reps, rng)
                                row.update({"layout": layout, "shape": shape["name"], "tokens_per_block": tpb})
                                doc["block_copies"].append(row)
                                log("  blocks %-3s %s %s tpb %d: %d B x %d, %d stream(s): %.2f GB/s%s" % (
                                    d, shape["name"], layout, tpb, bb, row["n_blocks"], ns, row["GBps"], " (host-bound)" if row["host_bound"] else ""))
                    save()

        def bidir():
            reps = 3 if args.quick else 5
            size = 256 * MiB if args.quick else 1 * GiB
            row = bidir_single(torch, timer, pools, size, reps)
            doc["bidirectional"].append(row)
            log("  both directions, %d B each: %.2f GB/s total (h2d %.2f, d2h %.2f)" % (row["bytes_each"], row["total_GBps"], row["h2d_GBps"], row["d2h_GBps"]))
            if not args.quick:
                shape = args.shapes[0]
                per_tok = kv_bytes_per_token(shape, args.kv_dtype_bytes)
                tpb = args.tokens_per_block[0]
                for layout, bb in (("all_layers", tpb * per_tok), ("per_layer", tpb * per_tok // shape["layers"])):
                    row = bidir_blocks(torch, timer, pools, bb, block_count(bb, False), reps, rng)
                    row.update({"layout": layout, "shape": shape["name"], "tokens_per_block": tpb})
                    doc["bidirectional"].append(row)
                    log("  both directions, blocks of %d B x %d: %.2f GB/s total" % (bb, row["n_blocks"], row["total_GBps"]))

        def d2d():
            doc["d2d"] = measure_d2d(torch, timer, pools)
            log("  device-to-device %d B: %.0f GB/s (read + write)" % (doc["d2d"]["bytes"], doc["d2d"]["GBps_read_plus_write"]))

        for name, fn in (("link", link), ("blocks", blocks), ("bidir", bidir), ("d2d", d2d)):
            if name in args.section_set:
                guarded(name, fn)
        del pools
        torch.cuda.synchronize()
        torch.cuda.empty_cache()

    if "compute" in args.section_set:
        for shape in args.shapes:
            def comp(shape=shape):
                measure_compute(torch, timer, shape, args, args.compute_budget_s, doc["errors"], save, doc["compute"])
            guarded("compute." + shape["name"], comp)

    if "batched" in args.section_set:
        guarded("batched", lambda: measure_batched(torch, timer, args.shapes[0], args, doc["errors"], save, doc))

    # The three cases first: they are what the simulator is checked against.
    if "offload_vs_recompute" in args.section_set:
        guarded("offload_vs_recompute", lambda: measure_offload_vs_recompute(torch, timer, args.shapes[0], args, doc["errors"], save, doc))

    if "cached_prefill" in args.section_set:
        for shape in args.shapes:
            def cached(shape=shape):
                measure_cached_prefill(torch, timer, shape, args, doc["errors"], save, doc["cached_prefill"])
            guarded("cached_prefill." + shape["name"], cached)

    doc["finished_at"] = now_iso()
    doc["duration_s"] = round(time.perf_counter() - t_all, 1)
    doc["complete"] = True
    if args.out:
        save()
        log("wrote %s (%.1f s)" % (args.out, doc["duration_s"]))
    else:
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
