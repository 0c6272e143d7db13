#!/usr/bin/env bash
# Bootstrap AUROC: cxr eval classify vs scikit-learn's per-resample roc_auc_score (the common paper-code
# pattern), same 112,120 NIH rows x 14 classes, same resample indices. B resamples (default 50; sklearn's
# time is linear in B, the reference notes measured 739 s for B = 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-50}
PRED=crates/cxr-metrics/tests/data/eval/nih_synthetic_predictions.csv.gz
[ -d bench/.venv-eval ] || python3 -m venv bench/.venv-eval
bench/.venv-eval/bin/python -m pip install -q numpy pandas scikit-learn
cargo build --release -q
mkdir -p bench/out
echo "scikit-learn, B=$B:"
bench/.venv-eval/bin/python bench/eval_peer.py "$PRED" "$B" | tee bench/out/eval_peer.json
for t in 1 2; do
  /usr/bin/time -f "%e" -o bench/out/eval_cxr_$t.time env RAYON_NUM_THREADS=$t target/release/cxr eval classify --pred "$PRED" --bootstrap "$B" --json > bench/out/eval_cxr_$t.json
done
bench/.venv-eval/bin/python - <<'PY'
import json
peer = json.load(open("bench/out/eval_peer.json"))
for t in (1, 2):
    c = float(open(f"bench/out/eval_cxr_{t}.time").read())
    ours = json.load(open(f"bench/out/eval_cxr_{t}.json"))["classes"][0]["bootstrap_ci"]
    print(f"{t} thread(s): cxr whole command (read CSV, all metrics, bootstrap) {c:.2f} s vs sklearn bootstrap {peer['wall_s']:.1f} s"
          f" -> {peer['wall_s'] / c:.0f}x; first-class CI cxr [{ours['low']:.6f}, {ours['high']:.6f}] sklearn {peer['ci_first_class']}")
PY
