#!/usr/bin/env bash
# Drafting quality on IU X-Ray dev (issue P8): template drafts from each report's own labels, and leave-one-out
# retrieval drafts (the most similar other dev report), both scored against the true reports with `cxr score`.
# No peer: these are quality numbers, not timings.
set -euo pipefail
cd "$(dirname "$0")/.."
INPUT=crates/cxr-report/tests/data/iu-xray-dev.csv
OUT=bench/out/draft
mkdir -p "$OUT"
cargo build --release -q
CXR=target/release/cxr
$CXR label "$INPUT" -o "$OUT/labels.csv" --quiet
$CXR draft --labels "$OUT/labels.csv" -o "$OUT/template.csv"
$CXR draft --labels "$OUT/labels.csv" --retrieve "$INPUT" --exclude-self --neighbours 3 -o "$OUT/retrieved.csv"
$CXR score --refs "$INPUT" --hyps "$OUT/template.csv" --hyps "$OUT/retrieved.csv" \
  --metrics bleu,rouge,cider,chrf,clinical --bootstrap 0 --trials 1000
