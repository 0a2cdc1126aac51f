#!/bin/bash
# The telemetry capture (issue 23) in one device call: environment, then phases of pinned 1 GiB copies
# each way with the NVML sidecar (PCIe counters read every 10 ms, its default), nvidia-smi and dmon
# running; everything raw comes back as $OUT/cap.tar.gz (analysis: libs/telemetry/scripts/analyze-capture.mjs).
#   bash libs/telemetry/capture/device-run.sh [copies per phase, default 48]
set -u
D=$(dirname "$0")
C=$OUT/cap
mkdir -p $C
{ nvidia-smi; nvidia-smi -q -d PERFORMANCE,POWER,CLOCK | head -80; nvidia-smi --version; uname -r; which node; python3 -m pip show nvidia-ml-py 2>/dev/null | head -3; } > $C/env.txt 2>&1
nvidia-smi --help-query-gpu > $C/nvidia-smi-help-query-gpu.txt 2>&1
nvidia-smi dmon --help > $C/nvidia-smi-dmon-help.txt 2>&1
# The GPU's PCI config space as the host sees it (root reads all of it; others get 64 bytes): its Device
# Control register holds the Max Payload Size that frames every TLP the counters count (src/pcie-config.ts
# parses it). lspci's decoding beside it, where pciutils is installed, as an independent reading.
BDF=$(nvidia-smi --query-gpu=pci.bus_id --format=csv,noheader | head -1 | sed 's/^0000//' | tr 'A-F' 'a-f')
{ echo "uid $(id -u)"; echo "bdf $BDF"; ls -l /sys/bus/pci/devices/$BDF/config; readlink -f /sys/bus/pci/devices/$BDF; } > $C/pcie-config.txt 2>&1
cp /sys/bus/pci/devices/$BDF/config $C/pcie-config.bin 2>>$C/pcie-config.txt
{ command -v lspci && lspci -vvv -s $BDF; } >> $C/pcie-config.txt 2>&1
PYTHONUNBUFFERED=1 python3 $D/h2d_d2h_capture.py --out $C --sidecar $D/../python/nvml_sidecar.py --period-ms 100 --copies "${1:-48}" 2>&1 | tee $C/capture.log
head -c 600 $C/nvidia-smi-query.csv; echo; head -20 $C/nvidia-smi-dmon.txt
cd $OUT && tar czf cap.tar.gz cap && rm -rf cap && ls -la $OUT
