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
cargo build --release -q -p cxr-model --features ort --example latency
LIB=$(ls "$PWD"/bench/.venv-onnx/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* | head -1)
for size in 224 512; do
  for threads in 1 2; do
    bench/.venv-onnx/bin/python bench/predict_peer.py "bench/out/models/densenet121_$size.onnx" "$size" "$threads" "$RUNS" \
      > "bench/out/predict_ort_${size}_${threads}.json"
    target/release/examples/latency "bench/out/models/densenet121_$size.onnx" "bench/out/models/input_$size.f32" \
      "$size" "$threads" "$RUNS" > "bench/out/predict_cxr_${size}_${threads}.json"
    target/release/examples/latency "bench/out/models/densenet121_$size.onnx" "bench/out/models/input_$size.f32" \
      "$size" "$threads" "$RUNS" ort "$LIB" > "bench/out/predict_cxrort_${size}_${threads}.json"
  done
done
bench/.venv-onnx/bin/python - <<'PY'
import json
print(f"{'input':<6} {'threads':>7} {'onnxruntime-py ms':>18} {'cxr built-in ms':>16} {'ratio':>6} {'rel Δ':>8} {'cxr --runtime ort ms':>21} {'ratio':>6} {'rel Δ':>8}")
rel = lambda a, b: max(abs(x - y) / max(abs(x), 1.0) for x, y in zip(a, b))
for size in (224, 512):
    for t in (1, 2):
        o = json.load(open(f"bench/out/predict_ort_{size}_{t}.json")); c = json.load(open(f"bench/out/predict_cxr_{size}_{t}.json"))
        r = json.load(open(f"bench/out/predict_cxrort_{size}_{t}.json"))
        print(f"{size}²{'':<2} {t:>7} {o['median_ms']:>18.1f} {c['median_ms']:>16.1f} {c['median_ms']/o['median_ms']:>5.2f}x {rel(o['logits'], c['logits']):>8.1e}"
              f" {r['median_ms']:>21.1f} {r['median_ms']/o['median_ms']:>5.2f}x {rel(o['logits'], r['logits']):>8.1e}")
PY
