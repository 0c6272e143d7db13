#!/usr/bin/env bash
# Every DICOM image among the test files of PyPI pydicom 3.0.2 and pydicom-data 1.0.0, decoded by cxrkit and by
# pydicom (+ pylibjpeg): stored values, Modality LUT and displayed fraction compared as sums and weighted sums.
# Prints one line per file (equal / differs / which side failed) and a tally. Not a speed benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d bench/.venv-convert ] || python3 -m venv bench/.venv-convert
bench/.venv-convert/bin/python -m pip install -q pydicom==3.0.2 pydicom-data==1.0.0 numpy pillow pylibjpeg pylibjpeg-openjpeg pylibjpeg-libjpeg
SP=$(bench/.venv-convert/bin/python -c 'import site;print(site.getsitepackages()[0])')
FILES=$(ls "$SP"/data_store/data/*.dcm "$SP"/pydicom/data/test_files/*.dcm)
cargo build --release -q -p cxr-io --example dicom_summary
mkdir -p bench/out
target/release/examples/dicom_summary $FILES > bench/out/dicom_cxr.jsonl
bench/.venv-convert/bin/python bench/dicom_golden_peer.py $FILES > bench/out/dicom_peer.jsonl 2>/dev/null
bench/.venv-convert/bin/python - <<'PY'
import json, os
cxr = {j["file"]: j for j in map(json.loads, open("bench/out/dicom_cxr.jsonl"))}
peer = {j["file"]: j for j in map(json.loads, open("bench/out/dicom_peer.jsonl"))}
tally = {}
def close(a, b, tol):
    return abs(a["sum"] - b["sum"]) <= tol * a["n"] and abs(a["weighted_sum"] - b["weighted_sum"]) <= tol * a["n"] * 1009
for f in sorted(cxr):
    c, p = cxr[f], peer.get(f, {"error": "missing"})
    name = os.path.basename(f)
    if "error" in c and "error" in p:
        verdict = "neither decodes"
    elif "error" in c:
        verdict = "cxr fails: " + c["error"].split(": ", 1)[-1][:90]
    elif "error" in p:
        verdict = "pydicom fails: " + p["error"][:60]
    else:
        parts = []
        # Lossy syntaxes (JPEG baseline/extended, JPEG 2000 lossy, JPEG-LS near-lossless) may differ by a grey
        # level between decoders; the sums then allow a mean difference of 1 per pixel.
        lossy = p.get("transfer_syntax") in ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.81")
        for k, tol in (("stored", 1.0 if lossy else 0.0), ("modality", 1.0 if lossy else 1e-4), ("display", 1 / 255 if lossy else 2e-6)):
            if k in p and p[k] is not None and c.get(k) is not None:
                parts.append(f"{k} {'=' if close(c[k], p[k], tol) else 'DIFFERS'}")
        verdict = ("equal" if all(" =" in x for x in parts) else "differs") + " (" + ", ".join(parts) + ")"
    tally[verdict.split(" (")[0].split(":")[0]] = tally.get(verdict.split(" (")[0].split(":")[0], 0) + 1
    print(f"{name:<48} {verdict}")
print("tally:", tally)
PY
