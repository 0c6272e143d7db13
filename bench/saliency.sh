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
for t in 1 2; do
  # cxr: median of three runs per thread count.
  ours=$(for r in 1 2 3; do THREADS=$t target/release/examples/saliency_throughput bench/out/saliency "$N" 224 224 "$REPEAT"; done \
    | bench/.venv-eval/bin/python -c 'import json,sys; rs=sorted((json.loads(l) for l in sys.stdin), key=lambda r: r["seconds"]); print(json.dumps(rs[1]))')
  echo "cxr, $t thread(s), median of 3: $ours"
  bench/.venv-eval/bin/python - "$peer" "$ours" <<'PY'
import json, sys
p, c = json.loads(sys.argv[1]), json.loads(sys.argv[2])
worst = max(abs(p[k] - c[k]) / max(abs(p[k]), 1e-12) for k in p if k not in ("pairs", "seconds"))
print(f"{p['pairs']} pairs: numpy {p['seconds']:.2f} s vs cxr {c['seconds']:.3f} s on {c['threads']} thread(s) "
      f"-> {p['seconds'] / c['seconds']:.1f}x; largest relative difference of the metric sums {worst:.1e}")
PY
done
