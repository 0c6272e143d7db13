#!/usr/bin/env bash
# Bulk DICOM → 512 px 8-bit PNG: cxr convert vs a pydicom 3.0.2 + Pillow script, same folder, same run.
# The folders hold copies (hard links) of the pydicom-data radiographs and CTs, cycled: N_UNC uncompressed
# images (default 2,000) and N_J2K JPEG 2000 images (default 200; decoding dominates there), reported separately. Also checks that `--pillow-exact` output
# equals the peer's PNGs pixel for pixel.
set -euo pipefail
cd "$(dirname "$0")/.."
N_UNC=${N_UNC:-2000}
N_J2K=${N_J2K:-200}
[ -d bench/.venv-convert ] || python3 -m venv bench/.venv-convert
bench/.venv-convert/bin/python -m pip install -q pydicom==3.0.2 pydicom-data==1.0.0 numpy pillow pylibjpeg pylibjpeg-openjpeg
DATA=$(bench/.venv-convert/bin/python -c 'import os,site;print(os.path.join(site.getsitepackages()[0],"data_store","data"))')
cargo build --release -q -p cxr-cli
W=bench/out/convert; rm -rf "$W"; mkdir -p "$W"
make_set() { # name, count, files…
  local name=$1 n=$2; shift 2; mkdir -p "$W/$name"; local i=0
  while [ $i -lt "$n" ]; do
    for f in "$@"; do [ $i -lt "$n" ] || break; ln "$DATA/$f.dcm" "$W/$name/$(printf %05d $i)_$f.dcm" 2>/dev/null || cp "$DATA/$f.dcm" "$W/$name/$(printf %05d $i)_$f.dcm"; i=$((i + 1)); done
  done
}
make_set uncompressed "$N_UNC" RG1_UNCR RG3_UNCR 693_UNCR
make_set j2k "$N_J2K" RG1_J2KI RG3_J2KI 693_J2KR RG1_J2KR RG3_J2KR
cat "$W"/uncompressed/* "$W"/j2k/* > /dev/null # warm the page cache for both
for set in uncompressed j2k; do
  echo "== $set: $(ls "$W/$set" | wc -l) images"
  peer=$(bench/.venv-convert/bin/python bench/convert_peer.py "$W/$set" "$W/peer_$set" 512)
  echo "pydicom+Pillow: $peer"
  for t in 1 2; do
    s=$(date +%s.%N)
    target/release/cxr convert "$W/$set" "$W/cxr_${set}_$t" --size 512 --filter lanczos --pillow-exact --threads $t --quiet 2>/dev/null
    e=$(date +%s.%N)
    echo "cxr convert, $t thread(s): $(echo "$e - $s" | bc) s"
    echo "$peer $t $(echo "$e - $s" | bc)" >> "$W/times_$set.txt"
  done
  bench/.venv-convert/bin/python - "$W" "$set" <<'PY'
import json, sys, numpy as np
from pathlib import Path
from PIL import Image
w, s = Path(sys.argv[1]), sys.argv[2]
peer = sorted((w / f"peer_{s}").glob("*.png"))
diff = sum(int(np.any(np.asarray(Image.open(p)) != np.asarray(Image.open(w / f"cxr_{s}_1" / p.name)))) for p in peer[:200])
print(f"agreement: {diff} of {min(200, len(peer))} checked PNGs differ from the peer's")
for line in open(w / f"times_{s}.txt"):
    js, t, secs = line.rsplit(" ", 2)
    p = json.loads(js)["seconds"]
    print(f"{s}: {t} thread(s): cxr {float(secs):.1f} s vs peer {p:.1f} s -> {p / float(secs):.1f}x")
PY
done
