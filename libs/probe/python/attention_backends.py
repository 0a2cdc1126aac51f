#!/usr/bin/env python3
# Diagnostic (run once on the H200 for issue 16; not part of kvbench probe): python3 attention_backends.py with $OUT set.
# Which attention kernel PyTorch's SDPA picks on this GPU, and how fast each is, for causal GQA
# self-attention (Llama-3.1-8B head layout); and whether cuDNN takes a lower-right causal mask.
import json, math, os, torch
from torch.nn.attention import sdpa_kernel, SDPBackend
from torch.nn.attention.bias import causal_lower_right
F = torch.nn.functional
out = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0), "rows": []}

def bench(fn, reps=5):
    fn(); torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); b.synchronize(); ts.append(a.elapsed_time(b) / 1e3)
    ts.sort(); return ts[len(ts) // 2]

def kernels(fn):
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        fn(); torch.cuda.synchronize()
    return sorted({e.key[:120] for e in prof.key_averages() if e.device_type == torch.autograd.DeviceType.CUDA})[:6]

def mk(T, H):
    return torch.randn(1, T, H, 128, device="cuda", dtype=torch.bfloat16).transpose(1, 2)

for T in (8192, 32768, 65536):
    q, k, v = mk(T, 32), mk(T, 8), mk(T, 8)
    r = {"tokens": T}
    r["aten_flash_s"] = bench(lambda: torch.ops.aten._scaled_dot_product_flash_attention(q, k, v, 0.0, True, False))
    r["sdpa_default_s"] = bench(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True))
    r["sdpa_default_kernels"] = kernels(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True))
    for name, be in (("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION), ("efficient", SDPBackend.EFFICIENT_ATTENTION)):
        try:
            with sdpa_kernel([be]):
                r["sdpa_%s_s" % name] = bench(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True))
        except Exception as e:
            r["sdpa_%s_s" % name] = "error: " + str(e).splitlines()[0][:200]
    out["rows"].append(r); print(json.dumps(r), flush=True)
    del q, k, v; torch.cuda.empty_cache()

# cuDNN with a lower-right causal mask (cached prefix): correct?
g = torch.Generator(device="cuda"); g.manual_seed(3)
c, n = 160, 40; T = c + n
q = torch.randn(1, n, 32, 128, generator=g, device="cuda", dtype=torch.bfloat16).transpose(1, 2)
k = torch.randn(1, T, 8, 128, generator=g, device="cuda", dtype=torch.bfloat16).transpose(1, 2)
v = torch.randn(1, T, 8, 128, generator=g, device="cuda", dtype=torch.bfloat16).transpose(1, 2)
kr, vr = k.float().repeat_interleave(4, 1), v.float().repeat_interleave(4, 1)
s = (q.float() @ kr.transpose(-1, -2)) / math.sqrt(128)
i = torch.arange(n, device="cuda")[:, None]; j = torch.arange(T, device="cuda")[None, :]
ref = torch.softmax(s.masked_fill(j > i + c, float("-inf")), -1) @ vr
for name, be in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("any", None)):
    try:
        if be is None:
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(n, T), enable_gqa=True)
        else:
            with sdpa_kernel([be]):
                o = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(n, T), enable_gqa=True)
        out["lower_right_" + name] = float((o.float() - ref).norm() / ref.norm())
    except Exception as e:
        out["lower_right_" + name] = "error: " + str(e).splitlines()[0][:200]
print(json.dumps({k2: v2 for k2, v2 in out.items() if k2 != "rows"}))
json.dump(out, open(os.path.join(os.environ["OUT"], "attn_diag.json"), "w"), indent=1)
