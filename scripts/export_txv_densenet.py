"""Export torchxrayvision's DenseNet-121 to ONNX with a cxrkit model card.

    python scripts/export_txv_densenet.py OUT_DIR [--weights densenet121-res224-all] [--check IMAGE.png]

Needs torch, torchxrayvision and onnx (PyPI). With --weights, torchxrayvision loads those pretrained weights from
its cache (~/.torchxrayvision; it downloads them from GitHub when missing); without, the architecture gets
random weights (what the test in scripts/test_export_txv.sh uses, offline).

torchxrayvision's models end in `op_norm`, a piecewise-linear map of each sigmoid output that sends the
label's operating threshold t to 0.5 (p < t: p / 2t; else 1 − (1 − p) / 2(1 − t)). Its boolean-mask indexing
does not export well, and it is exactly a monotone piecewise-linear calibration through (0, 0), (t, 0.5),
(1, 1): so the ONNX graph ends at the sigmoid and the card carries op_norm as `isotonic` calibration, with
threshold 0.5 — `cxr predict` then returns torchxrayvision's calibrated outputs.

Preprocessing matches torchxrayvision's: the display image in [0, 1] → (2y − 1)·1024 (`xrv.datasets.normalize`),
centre crop (`XRayCenterCrop`), resize to 224 (`XRayResizer`, area averaging).
"""
import argparse, json, os
import torch
import torchxrayvision as xrv

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--weights", default=None)
ap.add_argument("--size", type=int, default=224)
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)

torch.manual_seed(0)
model = xrv.models.DenseNet(weights=args.weights) if args.weights else xrv.models.DenseNet(apply_sigmoid=True)
if not args.weights:
    # Random weights saturate the sigmoid (every output 0 or 1); a small classifier keeps outputs informative.
    torch.nn.init.normal_(model.classifier.weight, std=2e-5)
    torch.save(model.state_dict(), os.path.join(args.out, "densenet121_random.pt"))
model.eval()
labels = list(model.pathologies if hasattr(model, "pathologies") else xrv.datasets.default_pathologies)
op_threshs = model.op_threshs.tolist() if getattr(model, "op_threshs", None) is not None else None
# Export the graph up to the sigmoid (see above); op_norm becomes the card's calibration.
model.op_threshs = None
model.apply_sigmoid = True
if hasattr(model, "input_resolution"):
    del model.input_resolution  # the resolution check is Python-side; the card fixes the size instead

dummy = torch.zeros(1, 1, args.size, args.size)
onnx_path = os.path.join(args.out, "densenet121.onnx")
torch.onnx.export(model, dummy, onnx_path, input_names=["image"], output_names=["probs"], opset_version=17,
                  dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}}, dynamo=False)

# Labels that are empty strings in torchxrayvision are outputs the weights were not trained for.
card = {
    "name": f"torchxrayvision-{args.weights or 'densenet121-random-weights'}",
    "onnx": "densenet121.onnx",
    "demonstration_only": args.weights is None,
    "input": {"size": args.size, "channels": 1},
    "preprocess": {"fit": "crop", "normalize": "txv"},
    "output": {"name": "probs", "kind": "sigmoid"},
    "labels": [l if l else f"unused_{i}" for i, l in enumerate(labels)],
    "findings": {"Effusion": "Pleural Effusion"} if "Effusion" in labels else {},
    "thresholds": {},
    "calibration": {},
    "provenance": {
        "source": f"torchxrayvision {xrv.__version__} DenseNet-121 ({args.weights or 'random weights'}), exported by scripts/export_txv_densenet.py",
        "licence": "torchxrayvision: Apache-2.0; check the licence of the training datasets",
        "training_data": args.weights or "none (random weights)",
    },
}
if op_threshs is not None:
    for l, t in zip(card["labels"], op_threshs):
        if t == t and not l.startswith("unused_"):  # NaN thresholds: outputs without a threshold
            card["calibration"][l] = {"isotonic": {"x": [0.0, t, 1.0], "y": [0.0, 0.5, 1.0]}}
json.dump(card, open(os.path.join(args.out, "densenet121.card.json"), "w"), indent=2)
print("wrote", onnx_path, "and densenet121.card.json")
