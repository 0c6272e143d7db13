#!/usr/bin/env bash
# Saliency vs gaze: all metrics (NSS x2, CC, KLD, SIM x2, AUC-Judd, AUC-Borji 100 splits, EMD 32x block means)
# on N seeded 224x224 map pairs, numpy (+ POT for EMD) vs cxr, same maps, same run; checks the metric sums agree.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}; REPEAT=${REPEAT:-10}
[ -d bench/.venv-eval ] || python3 -m venv bench/.venv-eval
bench/.venv-eval/bin/python -m pip install -q numpy scipy pot
cargo build --release -q -p cxr-metrics --example saliency_throughput
mkdir -p bench/out/saliency
peer=$(bench/.venv-eval/bin/python bench/saliency_peer.py bench/out/saliency "$N" "$REPEAT")
echo "numpy: $peer"
for t in 1; do
  ours=$(target/release/examples/saliency_throughput bench/out/saliency "$N" 224 224 "$REPEAT")
  echo "cxr:   $ours"
done
bench/.venv-eval/bin/python - "$peer" "$ours" <<'PY'
import json, sys
p, c = json.loads(sys.argv[1]), json.loads(sys.argv[2])
worst = max(abs(p[k] - c[k]) / max(abs(p[k]), 1e-12) for k in p if k not in ("pairs", "seconds"))
print(f"{p['pairs']} pairs: numpy {p['seconds']:.2f} s vs cxr {c['seconds']:.3f} s -> {p['seconds'] / c['seconds']:.0f}x; "
      f"largest relative difference of the metric sums {worst:.1e}")
PY
