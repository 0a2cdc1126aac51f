#!/usr/bin/env python3
"""kvbench telemetry sidecar: NVML readings through nvidia-ml-py (import pynvml), one JSON line each.

The Node sampler (libs/telemetry/src/sources/nvml.ts) starts this, reads stdout and turns the raw
readings into per-period records; it keeps no arithmetic here beyond reading the library, so a
recorded output replays through the same code in tests.

Lines:
  {"type":"hello", ...}    once: library/driver versions, GPUs, and per GPU which readings work
                           (a reading that does not work says why, in NVML's own words)
  {"type":"reading", ...}  every period: raw values (counters as read, GPM rates over the
                           interval since the previous reading)
  {"type":"end"}           on SIGTERM/SIGINT or when stdin closes

Field ids and calls, from nvml.h (NVML API reference) and nvidia-ml-py's pynvml.py:
  NVML_FI_DEV_PCIE_COUNT_TX_BYTES 197 / NVML_FI_DEV_PCIE_COUNT_RX_BYTES 198 ("PCIe transmit/receive
  bytes. Value can be wrapped."), nvmlDeviceGetFieldValues; GPM (Hopper+): nvmlGpmSampleGet and
  nvmlGpmMetricsGet with NVML_GPM_METRIC_PCIE_TX_PER_SEC 20 / _RX_PER_SEC 21 (MiB/s) and
  NVML_GPM_METRIC_C2C_TOTAL_TX_PER_SEC / _RX_PER_SEC (Grace Hopper/Blackwell); nvmlDeviceGetPowerUsage
  (mW), nvmlDeviceGetTotalEnergyConsumption (mJ since the driver loaded), nvmlDeviceGetUtilizationRates,
  nvmlDeviceGetClockInfo(NVML_CLOCK_SM) (MHz), nvmlDeviceGetMemoryInfo (bytes).
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

FI_PCIE_TX = 197
FI_PCIE_RX = 198
# nvmlValueType_t: DOUBLE 0, UNSIGNED_INT 1, UNSIGNED_LONG 2, UNSIGNED_LONG_LONG 3, SIGNED_LONG_LONG 4, SIGNED_INT 5
VALUE_BITS = {1: 32, 2: 64, 3: 64, 4: 64, 5: 32}
# How often the PCIe counters are read between readings (set from --counter-ms in main()).
COUNTER_PERIOD_S = 0.01


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def nvml_error(e):
    return f"{type(e).__name__}: {e}"


def field_value(v):
    t = v.valueType
    u = v.value
    if t == 0:
        return u.dVal
    if t == 1:
        return u.uiVal
    if t == 2:
        return u.ulVal
    if t == 3:
        return u.ullVal
    if t == 4:
        return u.sllVal
    if t == 5:
        return u.siVal
    return None


class CounterAccumulator:
    """Reads the PCIe byte counters (197/198) every `period_s` in a thread and keeps 64-bit totals.

    The counters are 32 bits wide on the H100 seen here (valueType unsigned int): 4.29 GB, which
    PCIe Gen5 x16 moves in about 67 ms. Read at 100 ms they wrap an unknown number of times; read
    every 10 ms each delta is under one wrap, so delta mod 2^32 is exact.
    """

    def __init__(self, nv, handle, bits, period_s):
        self.nv, self.h, self.bits, self.period_s = nv, handle, bits, period_s
        self.lock = threading.Lock()
        self.tx_total = 0
        self.rx_total = 0
        self.reads = 0
        self.max_gap_ns = 0
        self.error = None
        self.prev = self._read()
        self.prev_t = time.monotonic_ns()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _read(self):
        vals = self.nv.nvmlDeviceGetFieldValues(self.h, [FI_PCIE_TX, FI_PCIE_RX])
        if vals[0].nvmlReturn != 0 or vals[1].nvmlReturn != 0:
            raise RuntimeError(f"nvmlDeviceGetFieldValues returned {[v.nvmlReturn for v in vals]}")
        return field_value(vals[0]), field_value(vals[1])

    def sample(self):
        try:
            cur = self._read()
        except Exception as e:  # noqa: BLE001
            self.error = nvml_error(e)
            return
        t = time.monotonic_ns()
        mod = 1 << self.bits
        with self.lock:
            self.tx_total += (cur[0] - self.prev[0]) % mod
            self.rx_total += (cur[1] - self.prev[1]) % mod
            self.max_gap_ns = max(self.max_gap_ns, t - self.prev_t)
            self.reads += 1
            self.prev, self.prev_t = cur, t

    def _run(self):
        while not self.stop.wait(self.period_s):
            self.sample()

    def totals(self):
        """The totals now (one fresh read first), and the longest gap between reads since the last call."""
        self.sample()
        with self.lock:
            out = (self.tx_total, self.rx_total, self.reads, self.max_gap_ns)
            self.max_gap_ns = 0
        return out


class Gpu:
    def __init__(self, nv, index):
        self.nv = nv
        self.index = index
        self.h = nv.nvmlDeviceGetHandleByIndex(index)
        self.caps = {}
        self.gpm_ids = {}
        self.gpm_prev = None
        self.gpm_prev_t = None
        self.gpm_spare = None
        self.acc = None

    def info(self):
        nv = self.nv
        out = {"index": self.index}
        for key, fn in (("name", nv.nvmlDeviceGetName), ("uuid", nv.nvmlDeviceGetUUID)):
            try:
                v = fn(self.h)
                out[key] = v.decode() if isinstance(v, bytes) else v
            except Exception as e:  # noqa: BLE001
                out[key] = None
        try:
            pci = nv.nvmlDeviceGetPciInfo(self.h)
            b = pci.busId
            out["pci_bus_id"] = b.decode() if isinstance(b, bytes) else b
        except Exception:  # noqa: BLE001
            out["pci_bus_id"] = None
        for key, fn in (("pcie_gen", nv.nvmlDeviceGetCurrPcieLinkGeneration), ("pcie_width", nv.nvmlDeviceGetCurrPcieLinkWidth)):
            try:
                out[key] = fn(self.h)
            except Exception:  # noqa: BLE001
                out[key] = None
        return out

    def probe(self):
        nv = self.nv
        caps = self.caps
        # PCIe byte counters (field values 197/198)
        try:
            vals = nv.nvmlDeviceGetFieldValues(self.h, [FI_PCIE_TX, FI_PCIE_RX])
            rets = [v.nvmlReturn for v in vals]
            if all(r == 0 for r in rets):
                caps["pcie_counters"] = {"available": True, "how": "nvmlDeviceGetFieldValues NVML_FI_DEV_PCIE_COUNT_TX_BYTES(197)/RX_BYTES(198)",
                                         "bits": VALUE_BITS.get(vals[0].valueType, 64), "value_type": vals[0].valueType}
            else:
                caps["pcie_counters"] = {"available": False, "reason": f"nvmlDeviceGetFieldValues returned {rets} ({nv.nvmlErrorString(rets[0]) if rets[0] else 'ok'})"}
        except Exception as e:  # noqa: BLE001
            caps["pcie_counters"] = {"available": False, "reason": nvml_error(e)}
        if caps["pcie_counters"]["available"] and COUNTER_PERIOD_S > 0:
            self.acc = CounterAccumulator(nv, self.h, caps["pcie_counters"]["bits"], COUNTER_PERIOD_S)
            caps["pcie_counters"]["accumulated_every_ms"] = COUNTER_PERIOD_S * 1000
        # GPM
        try:
            sup = nv.nvmlGpmQueryDeviceSupport(self.h)
            if sup.isSupportedDevice:
                ids = {"pcie_tx": getattr(nv, "NVML_GPM_METRIC_PCIE_TX_PER_SEC", 20), "pcie_rx": getattr(nv, "NVML_GPM_METRIC_PCIE_RX_PER_SEC", 21)}
                c2c_tx = getattr(nv, "NVML_GPM_METRIC_C2C_TOTAL_TX_PER_SEC", None)
                c2c_rx = getattr(nv, "NVML_GPM_METRIC_C2C_TOTAL_RX_PER_SEC", None)
                if c2c_tx is not None and c2c_rx is not None:
                    ids["c2c_tx"] = c2c_tx
                    ids["c2c_rx"] = c2c_rx
                self.gpm_ids = ids
                self.gpm_prev = nv.nvmlGpmSampleAlloc()
                self.gpm_spare = nv.nvmlGpmSampleAlloc()
                nv.nvmlGpmSampleGet(self.h, self.gpm_prev)
                self.gpm_prev_t = time.monotonic_ns()
                caps["gpm"] = {"available": True, "how": "nvmlGpmSampleGet + nvmlGpmMetricsGet", "metrics": ids}
                if "c2c_tx" not in ids:
                    caps["gpm"]["c2c_reason"] = "this nvidia-ml-py has no NVML_GPM_METRIC_C2C_TOTAL_TX_PER_SEC"
            else:
                caps["gpm"] = {"available": False, "reason": "nvmlGpmQueryDeviceSupport: isSupportedDevice = 0"}
        except Exception as e:  # noqa: BLE001
            caps["gpm"] = {"available": False, "reason": nvml_error(e)}
        # C2C links (field NVML_FI_DEV_C2C_LINK_COUNT)
        fi_c2c = getattr(nv, "NVML_FI_DEV_C2C_LINK_COUNT", None)
        if fi_c2c is None:
            caps["c2c_links"] = {"available": False, "reason": "this nvidia-ml-py has no NVML_FI_DEV_C2C_LINK_COUNT"}
        else:
            try:
                v = nv.nvmlDeviceGetFieldValues(self.h, [fi_c2c])[0]
                caps["c2c_links"] = {"available": v.nvmlReturn == 0, "count": field_value(v) if v.nvmlReturn == 0 else None,
                                     **({} if v.nvmlReturn == 0 else {"reason": f"NVML_FI_DEV_C2C_LINK_COUNT: {nv.nvmlErrorString(v.nvmlReturn)}"})}
            except Exception as e:  # noqa: BLE001
                caps["c2c_links"] = {"available": False, "reason": nvml_error(e)}
        for key, fn in (
            ("power", lambda: nv.nvmlDeviceGetPowerUsage(self.h)),
            ("energy", lambda: nv.nvmlDeviceGetTotalEnergyConsumption(self.h)),
            ("util", lambda: nv.nvmlDeviceGetUtilizationRates(self.h).gpu),
            ("sm_clock", lambda: nv.nvmlDeviceGetClockInfo(self.h, nv.NVML_CLOCK_SM)),
            ("memory", lambda: nv.nvmlDeviceGetMemoryInfo(self.h).used),
        ):
            try:
                fn()
                caps[key] = {"available": True}
            except Exception as e:  # noqa: BLE001
                caps[key] = {"available": False, "reason": nvml_error(e)}
        # The 20 ms sampled throughput, only as a fallback where neither counters nor GPM work.
        if not caps["pcie_counters"]["available"] and not caps["gpm"]["available"]:
            try:
                nv.nvmlDeviceGetPcieThroughput(self.h, nv.NVML_PCIE_UTIL_TX_BYTES)
                caps["pcie_throughput"] = {"available": True, "how": "nvmlDeviceGetPcieThroughput (KB/s over a 20 ms window)"}
            except Exception as e:  # noqa: BLE001
                caps["pcie_throughput"] = {"available": False, "reason": nvml_error(e)}
        return caps

    def read(self):
        nv = self.nv
        caps = self.caps
        r = {"index": self.index}
        if caps["pcie_counters"]["available"]:
            try:
                vals = nv.nvmlDeviceGetFieldValues(self.h, [FI_PCIE_TX, FI_PCIE_RX])
                r["pcie_tx_count"] = field_value(vals[0]) if vals[0].nvmlReturn == 0 else None
                r["pcie_rx_count"] = field_value(vals[1]) if vals[1].nvmlReturn == 0 else None
                r["pcie_count_ts_us"] = vals[0].timestamp
            except Exception as e:  # noqa: BLE001
                r["pcie_error"] = nvml_error(e)
            if self.acc is not None:
                tx, rx, reads, gap = self.acc.totals()
                r["pcie_tx_total"] = tx
                r["pcie_rx_total"] = rx
                r["pcie_counter_reads"] = reads
                r["pcie_counter_max_gap_ms"] = gap / 1e6
                if self.acc.error:
                    r["pcie_error"] = self.acc.error
        if caps["gpm"]["available"]:
            try:
                cur = self.gpm_spare
                nv.nvmlGpmSampleGet(self.h, cur)
                t = time.monotonic_ns()
                g = nv.c_nvmlGpmMetricsGet_t()
                g.version = nv.NVML_GPM_METRICS_GET_VERSION
                names = list(self.gpm_ids.keys())
                g.numMetrics = len(names)
                g.sample1 = self.gpm_prev
                g.sample2 = cur
                for i, n in enumerate(names):
                    g.metrics[i].metricId = self.gpm_ids[n]
                nv.nvmlGpmMetricsGet(g)
                for i, n in enumerate(names):
                    m = g.metrics[i]
                    r[f"gpm_{n}_mibps"] = m.value if m.nvmlReturn == 0 else None
                    if m.nvmlReturn != 0:
                        r[f"gpm_{n}_reason"] = nv.nvmlErrorString(m.nvmlReturn)
                r["gpm_interval_s"] = (t - self.gpm_prev_t) / 1e9
                self.gpm_spare, self.gpm_prev, self.gpm_prev_t = self.gpm_prev, cur, t
            except Exception as e:  # noqa: BLE001
                r["gpm_error"] = nvml_error(e)
        if caps.get("pcie_throughput", {}).get("available"):
            try:
                r["pcie_tx_kbps"] = nv.nvmlDeviceGetPcieThroughput(self.h, nv.NVML_PCIE_UTIL_TX_BYTES)
                r["pcie_rx_kbps"] = nv.nvmlDeviceGetPcieThroughput(self.h, nv.NVML_PCIE_UTIL_RX_BYTES)
            except Exception as e:  # noqa: BLE001
                r["pcie_error"] = nvml_error(e)
        for key, cap, fn in (
            ("power_mw", "power", lambda: nv.nvmlDeviceGetPowerUsage(self.h)),
            ("energy_mj", "energy", lambda: nv.nvmlDeviceGetTotalEnergyConsumption(self.h)),
            ("util_pct", "util", lambda: nv.nvmlDeviceGetUtilizationRates(self.h).gpu),
            ("sm_clock_mhz", "sm_clock", lambda: nv.nvmlDeviceGetClockInfo(self.h, nv.NVML_CLOCK_SM)),
            ("mem_used_bytes", "memory", lambda: nv.nvmlDeviceGetMemoryInfo(self.h).used),
        ):
            if caps[cap]["available"]:
                try:
                    r[key] = fn()
                except Exception:  # noqa: BLE001
                    r[key] = None
        return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--period-ms", type=float, default=100.0)
    ap.add_argument("--gpus", default="all", help="comma-separated NVML indices, or all")
    ap.add_argument("--counter-ms", type=float, default=10.0, help="read the PCIe byte counters this often (0: only at each reading)")
    ap.add_argument("--max-seconds", type=float, default=0, help="stop after this long (0: until SIGTERM or stdin closes)")
    a = ap.parse_args()
    global COUNTER_PERIOD_S
    COUNTER_PERIOD_S = a.counter_ms / 1000.0
    try:
        import pynvml as nv  # nvidia-ml-py
    except Exception as e:  # noqa: BLE001
        emit({"type": "hello", "ok": False, "reason": f"cannot import pynvml (nvidia-ml-py): {e}"})
        return 3
    try:
        nv.nvmlInit()
    except Exception as e:  # noqa: BLE001
        emit({"type": "hello", "ok": False, "reason": f"nvmlInit failed: {nvml_error(e)}"})
        return 3
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin():
        try:
            while sys.stdin.read(4096):
                pass
        except Exception:  # noqa: BLE001
            pass
        stop.set()

    if not sys.stdin.isatty():
        threading.Thread(target=watch_stdin, daemon=True).start()
    n = nv.nvmlDeviceGetCount()
    idx = list(range(n)) if a.gpus == "all" else [int(x) for x in a.gpus.split(",") if x != ""]
    gpus = [Gpu(nv, i) for i in idx]
    ver = {}
    for key, fn in (("driver", nv.nvmlSystemGetDriverVersion), ("nvml", nv.nvmlSystemGetNVMLVersion)):
        try:
            v = fn()
            ver[key] = v.decode() if isinstance(v, bytes) else v
        except Exception:  # noqa: BLE001
            ver[key] = None
    try:
        from importlib.metadata import version
        ver["nvidia_ml_py"] = version("nvidia-ml-py")
    except Exception:  # noqa: BLE001
        ver["nvidia_ml_py"] = None
    hello = {"type": "hello", "ok": True, "source": "nvml", "period_ms": a.period_ms, "pid": os.getpid(),
             "t_ns": time.monotonic_ns(), "versions": ver, "gpus": []}
    for g in gpus:
        info = g.info()
        info["caps"] = g.probe()
        hello["gpus"].append(info)
    emit(hello)
    period_ns = int(a.period_ms * 1e6)
    start = time.monotonic_ns()
    k = 0
    while not stop.is_set():
        t0 = time.monotonic_ns()
        readings = [g.read() for g in gpus]
        t1 = time.monotonic_ns()
        emit({"type": "reading", "seq": k, "t_ns": t0, "read_ns": t1 - t0, "gpus": readings})
        k += 1
        if a.max_seconds and (t1 - start) / 1e9 >= a.max_seconds:
            break
        nxt = start + k * period_ns
        now = time.monotonic_ns()
        if nxt <= now:  # fell behind: skip the missed ticks rather than burst
            k = (now - start) // period_ns + 1
            nxt = start + k * period_ns
        stop.wait((nxt - now) / 1e9)
    # One last reading when stopped, so the series covers the run's end.
    t0 = time.monotonic_ns()
    readings = [g.read() for g in gpus]
    emit({"type": "reading", "seq": k, "t_ns": t0, "read_ns": time.monotonic_ns() - t0, "gpus": readings, "last": True})
    emit({"type": "end", "t_ns": time.monotonic_ns(), "readings": k})
    for g in gpus:
        if g.acc is not None:
            g.acc.stop.set()
    try:
        nv.nvmlShutdown()
    except Exception:  # noqa: BLE001
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
