#!/usr/bin/env bash
# Drafting quality on IU X-Ray dev (issue P8): template drafts from each report's own labels, leave-one-out
# retrieval drafts (the most similar other dev report), and retrieval drafts edited by the templates, all scored
# against the true reports with `cxr score`. No peer: these are quality numbers, not timings.
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
$CXR draft --labels "$OUT/labels.csv" --retrieve "$INPUT" --exclude-self --edit -o "$OUT/edited.csv"
SCORE=(--refs "$INPUT" --metrics bleu,rouge,cider,chrf,clinical --bootstrap 0 --trials 1000)
echo "== A: template, B: retrieval"
$CXR score "${SCORE[@]}" --hyps "$OUT/template.csv" --hyps "$OUT/retrieved.csv"
echo "== A: retrieval, B: retrieval edited by the templates"
$CXR score "${SCORE[@]}" --hyps "$OUT/retrieved.csv" --hyps "$OUT/edited.csv"
