#!/usr/bin/env bash
# Dataset harmonisation: `cxr datasets stats --txv-compat` vs torchxrayvision 1.5.7's dataset constructors
# (pandas) on the full label files of its wheel, same run: every configuration must give the same row count
# and the same positive/negative/NaN counts per pathology; prints both times and the ratio.
# torchxrayvision needs torch: this reuses bench/.venv-drr (made by drr.sh, which installs torch via DiffDRR).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
V=bench/.venv-drr
[ -x $V/bin/python ] || { python3 -m venv $V; $V/bin/pip install -q diffdrr==0.6.1; }
$V/bin/python -c 'import torchxrayvision' 2>/dev/null || $V/bin/pip install -q --no-deps torchxrayvision==1.5.7
$V/bin/pip install -q scikit-image imageio tqdm requests >/dev/null
D=$($V/bin/python -c 'import torchxrayvision,os;print(os.path.join(os.path.dirname(torchxrayvision.__file__),"data"))')
cargo build --release -q -p cxr-cli
mkdir -p bench/out
$V/bin/python bench/datasets_peer.py "$D" "$RUNS" > bench/out/datasets_peer.json
spec() {
  case $1 in
    nih) echo "nih=$D/Data_Entry_2017_v2020.csv.gz" ;;
    nih-google) echo "nih-google=$D/google2019_nih-chest-xray-labels.csv.gz" ;;
    rsna) echo "rsna=$D/kaggle_stage_2_train_labels.csv.zip,$D/kaggle_stage_2_train_images_dicom_headers.csv.gz" ;;
    padchest) echo "padchest=$D/PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv.gz" ;;
    chexpert) echo "chexpert=$D/chexpert_train.csv.gz" ;;
    openi) echo "openi=$D/NLMCXR_reports.tgz,$D/nlmcxr_dicom_metadata.csv.gz,$D/nlmcxr_tsne_pa.csv.gz" ;;
    siim) echo "siim=$D/siim-pneumothorax-train-rle.csv.gz" ;;
    vindr) echo "vindr=$D/vinbigdata-train.csv.gz" ;;
  esac
}
: > bench/out/datasets_cxr.jsonl
: > bench/out/datasets_cxr_every.jsonl
for cfg in nih/default nih/all nih-google/default nih-google/all rsna/default rsna/all padchest/default padchest/all \
           chexpert/default chexpert/all openi/default openi/all siim/default vindr/default; do
  ds=${cfg%/*}; mode=${cfg#*/}
  if [ "$mode" = default ]; then flags="--txv-defaults"; else flags="--txv-compat"; fi
  times=""
  out="bench/out/datasets_cxr_${ds}_${mode}.json"
  for r in $(seq "$RUNS"); do
    s=$(date +%s.%N); target/release/cxr datasets stats $(spec "$ds") $flags --json -q > "$out"; e=$(date +%s.%N)
    times="$times $(echo "$e - $s" | bc)"
  done
  echo "{\"config\": \"$cfg\", \"times\": \"$times\", \"file\": \"$out\"}" >> bench/out/datasets_cxr.jsonl
done
# One command over every file (datasets read in parallel), once with torchxrayvision's defaults and once with
# all images; compared with the sum of the matching torchxrayvision constructors.
all_specs=""
for ds in nih nih-google rsna padchest chexpert openi siim vindr; do all_specs="$all_specs $(spec "$ds")"; done
for mode in default all; do
  if [ "$mode" = default ]; then flags="--txv-defaults"; else flags="--txv-compat"; fi
  times=""
  for r in $(seq "$RUNS"); do
    s=$(date +%s.%N); target/release/cxr datasets stats $all_specs $flags --json -q > "bench/out/datasets_cxr_every_${mode}.json"; e=$(date +%s.%N)
    times="$times $(echo "$e - $s" | bc)"
  done
  echo "{\"mode\": \"$mode\", \"times\": \"$times\"}" >> bench/out/datasets_cxr_every.jsonl
done
$V/bin/python - <<'PY'
import json, statistics
peer = json.load(open("bench/out/datasets_peer.json"))
tp = tc = 0.0; ok = True
for line in open("bench/out/datasets_cxr.jsonl"):
    c = json.loads(line); p = peer[c["config"]]; s = json.load(open(c["file"]))[0]
    mine = {l["name"]: {"pos": l["pos"], "neg": l["neg"], "nan": l["missing"] + l["uncertain"]} for l in s["labels"]}
    same = s["images"] == p["n"] and mine == p["totals"]
    ok &= same
    t = statistics.median(float(x) for x in c["times"].split())
    tp += p["median_s"]; tc += t
    print(f"{c['config']:<20} n {s['images']:>7} vs {p['n']:>7}  counts {'equal' if same else 'DIFFER'}  "
          f"cxr {t:.3f} s vs txv {p['median_s']:.2f} s -> {p['median_s'] / t:.0f}x")
print(f"all configurations: cxr {tc:.2f} s vs torchxrayvision {tp:.1f} s -> {tp / tc:.1f}x; counts {'all equal' if ok else 'SOME DIFFER'}")
for line in open("bench/out/datasets_cxr_every.jsonl"):
    c = json.loads(line)
    names = [k for k in peer if k.endswith("/" + c["mode"])] + (["siim/default", "vindr/default"] if c["mode"] == "all" else [])
    stats = {s["dataset"]: s for s in json.load(open(f"bench/out/datasets_cxr_every_{c['mode']}.json"))}
    same = all(stats[k.split("/")[0]]["images"] == peer[k]["n"] for k in names)
    tp = sum(peer[k]["median_s"] for k in names)
    t = statistics.median(float(x) for x in c["times"].split())
    print(f"one command, every file, {c['mode']:<7}: cxr {t:.3f} s vs txv {tp:.2f} s ({len(names)} constructors) -> {tp / t:.1f}x; rows {'equal' if same else 'DIFFER'}")
PY
