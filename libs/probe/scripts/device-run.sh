#!/bin/bash
# One device call (the device tool, $OUT comes back): which GPU this is, then the probe sections the
# simulator's profile takes from a card: batched passes, cached-prefix prefill (attention kernel chosen
# and the kernels it launched recorded) and offload vs recompute, for Llama-3.1-8B.
#   bash libs/probe/scripts/device-run.sh [extra probe args...]
set -u
D=$(cd "$(dirname "$0")/.." && pwd)
nvidia-smi --query-gpu=name,pci.bus_id,driver_version,pcie.link.gen.current,pcie.link.width.current,memory.total --format=csv > "$OUT/gpu.csv" 2>&1
cat "$OUT/gpu.csv"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
nvidia-smi -q > "$OUT/nvidia-smi-q.txt" 2>&1
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version())"
PYTHONUNBUFFERED=1 python3 "$D/python/kvbench_probe.py" --model_shape llama-3.1-8b \
  --sections batched,cached_prefill,offload_vs_recompute --cached_budget_s 130 --ovr_budget_s 150 \
  --out "$OUT/probe.raw.json" "$@" 2>&1 | grep -v -E 'UserWarning|return F\.scaled|^\s*$' > "$OUT/probe.log"
echo "probe exit ${PIPESTATUS[0]}"
tail -30 "$OUT/probe.log"
