#!/usr/bin/env bash
# `cxr predict`'s runtime vs onnxruntime (Python, PyPI) on a DenseNet-121 shaped like torchxrayvision's
# (random weights, made by scripts/make_test_models.py) at 224² and 512²: per-image latency at 1 and 2
# threads (median of RUNS after 2 warm-ups, batch 1) and the largest logit difference, in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-9}
[ -d bench/.venv-onnx ] || python3 -m venv bench/.venv-onnx
bench/.venv-onnx/bin/python -m pip install -q onnx onnxruntime numpy
mkdir -p bench/out/models
[ -f bench/out/models/densenet121_512.onnx ] || bench/.venv-onnx/bin/python scripts/make_test_models.py bench/out/models --densenet121 > /dev/null
cargo build --release -q -p cxr-model --example latency
for size in 224 512; do
  for threads in 1 2; do
    bench/.venv-onnx/bin/python bench/predict_peer.py "bench/out/models/densenet121_$size.onnx" "$size" "$threads" "$RUNS" \
      > "bench/out/predict_ort_${size}_${threads}.json"
    target/release/examples/latency "bench/out/models/densenet121_$size.onnx" "bench/out/models/input_$size.f32" \
      "$size" "$threads" "$RUNS" > "bench/out/predict_cxr_${size}_${threads}.json"
  done
done
bench/.venv-onnx/bin/python - <<'PY'
import json
print(f"{'input':<8} {'threads':>7} {'onnxruntime ms':>15} {'cxr ms':>8} {'cxr/ort':>8} {'max |Δ logit|':>14}")
for size in (224, 512):
    for t in (1, 2):
        o = json.load(open(f"bench/out/predict_ort_{size}_{t}.json")); c = json.load(open(f"bench/out/predict_cxr_{size}_{t}.json"))
        d = max(abs(a - b) for a, b in zip(o["logits"], c["logits"]))
        print(f"{size}²{'':<4} {t:>7} {o['median_ms']:>15.1f} {c['median_ms']:>8.1f} {c['median_ms']/o['median_ms']:>7.2f}x {d:>14.2e}")
PY
