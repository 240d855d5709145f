#!/usr/bin/env bash
# One prepared run on a CUDA machine (issue 17): versions, the Triton kernel's tile sweep with
# a correctness check, `rnnlab bench --device cuda` (full), the kernel's tests compiled on the
# GPU, the CLI's quick GPU bench, and the nccl/DDP path under torchrun. Every step has its own
# timeout and the script goes on after a failure; the whole run stays under ~4 minutes.
#
#   bash scripts/gpu_check.sh          # outputs under $OUT (default /tmp/out)
#
# Uses the checkout's sources (PYTHONPATH=src), installs nothing and needs no network (the
# embedded datasets' bokeh_sampledata package is not needed: the DDP check writes its own CSV).
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
PY=python3
DEADLINE=300 # seconds from the start; each step's timeout is cut to what is left
declare -a SUMMARY=()

step() { # step NAME MAX_SECONDS CMD... : run with a timeout, log to $OUT/NAME.log
    local name=$1 max=$2
    shift 2
    local left=$((DEADLINE - SECONDS))
    if ((left < 20)); then
        SUMMARY+=("$name: skipped (time budget spent)")
        echo "== $name: skipped (time budget spent)"
        return
    fi
    ((max > left)) && max=$left
    echo "== $name (timeout ${max}s) at ${SECONDS}s"
    timeout -k 10 "$max" "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    tail -n "${TAIL:-15}" "$OUT/$name.log"
    SUMMARY+=("$name: rc=$rc ($((SECONDS))s elapsed)")
}

echo "== machine"
{
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem \
        --format=csv 2>&1
    $PY - <<'EOF'
import sys, torch
try:
    import triton; tv = triton.__version__
except Exception as e:
    tv = f"not importable: {e}"
print("python", sys.version.split()[0], "| torch", torch.__version__, "| cuda", torch.version.cuda,
      "| cudnn", torch.backends.cudnn.version(), "| triton", tv,
      "| gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
EOF
} 2>&1 | tee "$OUT/machine.log"

# 1. Tile sweep (minGRU, float32, B=64 H=128 I=1 T=4096; both variants, the walk and the
#    chunked scan, each config checked against the float64 log-space scan; GPU and host time
#    per step), then the full GPU bench in the same process with the best variant and tiles.
TAIL=60 step bench 170 $PY - "$OUT" <<'EOF'
import json, sys, time
import torch
out = sys.argv[1]
from rnnlab.cells import make_cell
import rnnlab.kernels.triton_minimal as TM
from rnnlab.bench import BenchConfig
from rnnlab.bench.gpu import cuda_medians, run_gpu_bench, floor_bytes
from rnnlab.commands.bench import _print_gpu
from rnnlab.bench.plot import plot_time_vs_t

B, T, H, I = 64, 4096, 128, 1
torch.manual_seed(0)
x = torch.randn(B, T, I, device="cuda")
ref = make_cell("mingru", I, H, path="scan").cuda().double()
xr = x.double().requires_grad_()
h = ref(xr)[0]
g = torch.randn_like(h)
want = [h, *torch.autograd.grad((h * g).sum(), [xr, ref.weight, ref.bias])]
cell = make_cell("mingru", I, H, path="triton").cuda()
cell.load_state_dict(ref.float().state_dict())
gf = g.float()

def step():
    cell.weight.grad = cell.bias.grad = None
    cell(x)[0].sum().backward()

def check():
    xg = x.clone().requires_grad_()
    hh = cell(xg)[0]
    got = [hh, *torch.autograd.grad((hh * gf).sum(), [xg, cell.weight, cell.bias])]
    return max(float((a.detach().double() - b.detach()).abs().max() / b.detach().abs().max())
               for a, b in zip(got, want))

bw = None
try:
    src = torch.empty(2**28, device="cuda"); dst = torch.empty_like(src)
    bw = 2 * 2**30 / cuda_medians({"c": lambda: dst.copy_(src)}, 10)["c"] / 1e9
    del src, dst
except Exception as e:
    print("bandwidth failed:", e)
floor = floor_bytes(B, T, H, I, 4) / (bw * 1e9) if bw else float("nan")
print(f"copy bandwidth {bw:.0f} GB/s; floor of the T=4096 step {floor * 1e3:.3f} ms")
from rnnlab.bench.gpu import warm_up, host_seconds
print(f"warm-up {warm_up(BenchConfig()):.1f}s of matmuls", flush=True)
# (variant, tiles): the walk (one pass per direction) and the chunked three-pass scan
configs = [
    ("walk", dict(walk_block_h=32, walk_warps=1, unroll=8, walk_programs=2048)),
    ("walk", dict(walk_block_h=32, walk_warps=1, unroll=16, walk_programs=2048)),
    ("walk", dict(walk_block_h=32, walk_warps=1, unroll=8, walk_programs=4096)),
    ("walk", dict(walk_block_h=32, walk_warps=1, unroll=8, walk_programs=1024)),
    ("walk", dict(walk_block_h=64, walk_warps=2, unroll=8, walk_programs=2048)),
    ("chunked", dict(chunk=16, block_h=64, num_warps=4)),
    ("chunked", dict(chunk=32, block_h=32, num_warps=4)),
]
default = dict(TM.TUNING)
best = None
for variant, tiles in configs:
    TM.TUNING.clear(); TM.TUNING.update(default | tiles | {"variant": variant})
    label = f"{variant} " + " ".join(f"{k}={v}" for k, v in tiles.items())
    try:
        t0 = time.time(); err = check(); compile_s = time.time() - t0
        fwd = lambda: cell(x)
        sec = cuda_medians({"step": step, "fwd": fwd}, 20)
        host = host_seconds(step, 10)
        print(f"{label}: step {sec['step'] * 1e3:.3f} ms (fwd {sec['fwd'] * 1e3:.3f}, host "
              f"{host * 1e3:.3f}), x floor {sec['step'] / floor:.2f}, rel err vs float64 scan "
              f"{err:.1e}, first call {compile_s:.1f}s", flush=True)
        if err < 1e-4 and (best is None or sec["step"] < best[0]):
            best = (sec["step"], TM.TUNING | {})
    except Exception as e:
        print(f"{label}: FAILED {type(e).__name__}: {e}"[:300], flush=True)
TM.TUNING.clear()
if best:
    TM.TUNING.update(best[1])
    print("best tiles:", best[1], flush=True)
    json.dump(best[1], open(f"{out}/best_tiles.json", "w"))
else:
    TM.TUNING.update(default | {"variant": "chunked"})
del ref, want, xr, h, g
torch.cuda.empty_cache()
res = run_gpu_bench(BenchConfig(), lambda m: print("bench:", m, flush=True))
data = res.to_dict() | {"triton_tiles": dict(TM.TUNING)}
json.dump(data, open(f"{out}/bench_cuda.json", "w"), indent=1)
print("headline:", json.dumps(res.headline))
print("deer crossover:", json.dumps(res.deer.get("crossover_T")))
f2 = lambda v: "-" if v is None else f"{v:.2f}"
for c in res.cases:
    if c.impl.endswith("triton"):
        print(f"{c.impl} {c.extra['dtype']} T={c.T}: {c.seconds * 1e3:.3f} ms, x floor "
              f"{f2(c.extra['x_floor'])}, x cuDNN {f2(c.ratio)}, x scan {f2(c.extra.get('vs_scan'))}")
print("errors:", res.errors)
try:
    import contextlib, pathlib
    plot = plot_time_vs_t(res.cases, pathlib.Path(f"{out}/time_vs_T.png"))
    with open(f"{out}/bench_cuda.txt", "w") as fh, contextlib.redirect_stdout(fh):
        _print_gpu(res, plot)
except Exception as e:
    print("table/plot failed:", type(e).__name__, e)
EOF

# 2. The kernel's tests, compiled on the GPU (no interpreter). --noconftest: the shared
#    conftest imports hypothesis, absent there; this file needs none of its fixtures.
TAIL=25 step pytest 120 env -u TRITON_INTERPRET $PY -m pytest -q -rfE --noconftest \
    -p no:cacheprovider tests/test_triton_minimal.py

# 3. nccl: the DDP path under torchrun, one process (train's --device if it has one).
cat >"$OUT/series.csv" <<'EOF'
value
EOF
$PY -c "import math; print('\n'.join(f'{math.sin(i / 7) + i / 300:.5f}' for i in range(400)))" \
    >>"$OUT/series.csv"
DEV=()
$PY -m rnnlab train --help 2>/dev/null | grep -q -- '--device' && DEV=(--device cuda)
TAIL=20 step nccl 90 $PY -m torch.distributed.run --nproc_per_node=1 -m rnnlab train \
    --data "$OUT/series.csv" --column value --model gru --quick --out "$OUT/ddp_run" \
    "${DEV[@]}" --json
((${#DEV[@]} == 0)) && echo "(train has no --device yet: the run above used the default device; nccl is chosen whenever CUDA is present)"

# 4. The CLI path of the GPU bench, quick, default tiles.
TAIL=3 step bench_cli_quick 80 bash -c "$PY -m rnnlab bench --device cuda --quick --json \
    --plot '$OUT/time_vs_T_quick.png' > '$OUT/bench_cli_quick.json'"
$PY -c "import json, sys; d = json.load(open(sys.argv[1])); print('cli quick headline:',
    d['headline'], 'errors:', d['errors'])" "$OUT/bench_cli_quick.json" 2>&1 | tail -2

echo "== summary (outputs in $OUT)"
printf '%s\n' "${SUMMARY[@]}"
ls -la "$OUT"
