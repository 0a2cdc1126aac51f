#!/bin/bash
set -u
D=$(dirname "$0")
C=$OUT/cap
mkdir -p $C
{ nvidia-smi; nvidia-smi -q -d PERFORMANCE,POWER,CLOCK | head -80; nvidia-smi --version; uname -r; which node; python3 -m pip show nvidia-ml-py 2>/dev/null | head -3; } > $C/env.txt 2>&1
nvidia-smi --help-query-gpu > $C/nvidia-smi-help-query-gpu.txt 2>&1
nvidia-smi dmon --help > $C/nvidia-smi-dmon-help.txt 2>&1
PYTHONUNBUFFERED=1 python3 $D/h2d_d2h_capture.py --out $C --sidecar $D/nvml_sidecar.py --period-ms 100 --copies 48 2>&1 | tee $C/capture.log
head -c 600 $C/nvidia-smi-query.csv; echo; head -20 $C/nvidia-smi-dmon.txt; grep -i -E 'pcie|pci|energy' $C/nvidia-smi-help-query-gpu.txt | head -40
cd $OUT && tar czf cap.tar.gz cap && rm -rf cap && ls -la $OUT
