#!/usr/bin/env bash
# Tests scripts/export_txv_densenet.py end to end, offline: exports torchxrayvision's DenseNet-121 with random
# weights, runs it on the demo radiograph with torch (torchxrayvision's own preprocessing) and with
# `cxr predict`, and checks that the 18 outputs agree within 1e-4. Needs a venv with torch, torchxrayvision, onnx:
#   VENV=bench/.venv-drr scripts/test_export_txv.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-bench/.venv-drr}
OUT=$(mktemp -d)
"$VENV/bin/python" scripts/export_txv_densenet.py "$OUT" > /dev/null
cargo build --release -q -p cxr-cli
# A 224×224 16-bit PNG, so both sides' crop and resize are identities and the comparison is of the model.
target/release/cxr convert crates/cxr-io/tests/data/dicom/RG1_J2KI.dcm "$OUT/png" --size 224 --fit crop --bits 16 -q > /dev/null
PNG=$(find "$OUT/png" -name '*.png' | head -1)
target/release/cxr predict "$PNG" --model "$OUT/densenet121.card.json" --json -q > "$OUT/cxr.json"
"$VENV/bin/python" - "$OUT" "$PNG" <<'PY'
import json, sys
import numpy as np, skimage.io, torch, torchxrayvision as xrv
out, png = sys.argv[1], sys.argv[2]
img = skimage.io.imread(png).astype(np.float64)
img = xrv.datasets.normalize(img, 65535)[None, ...]
assert img.shape == (1, 224, 224), img.shape
x = torch.from_numpy(xrv.datasets.XRayCenterCrop()(img)).float()[None, ...]
model = xrv.models.DenseNet(apply_sigmoid=True)
model.load_state_dict(torch.load(f"{out}/densenet121_random.pt"))
model.eval()
with torch.no_grad():
    want = model(x)[0].numpy()
got = np.array([l["score"] for l in json.load(open(f"{out}/cxr.json"))["images"][0]["labels"]])
d = np.abs(got - want).max()
print(f"max |cxr predict - torchxrayvision| over 18 outputs: {d:.2e} (outputs {want.min():.3f}..{want.max():.3f})", flush=True)
assert 0.01 < want.min() and want.max() < 0.99, "outputs saturated: the comparison would be empty"
assert d < 1e-4, d
PY
rm -rf "$OUT"
