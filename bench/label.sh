#!/usr/bin/env bash
# Report labeling: cxr label vs the medspaCy-ConText CheXpert-style labeler (the P1 peer), same 994 reports.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${CXR_SHARED:-../shared}
PEER_DIR="$SHARED/reference/labeler"
INPUT=crates/cxr-report/tests/data/iu-xray-dev.csv
RUNS=${RUNS:-7}
[ -d bench/.venv-label ] || python3 -m venv bench/.venv-label
bench/.venv-label/bin/python -m pip install -q -r "$PEER_DIR/requirements.txt"
cargo build --release -q
cargo build --release -q -p cxr-report --example label_throughput
mkdir -p bench/out
echo "input: $INPUT ($(($(wc -l < "$INPUT") - 1)) lines incl. multi-line fields)"
echo "peer: chexpert_context_labeler.py, $RUNS runs in one process (its own timer, labeling only)"
peer=$(bench/.venv-label/bin/python "$PEER_DIR/chexpert_context_labeler.py" "$INPUT" "$PEER_DIR/chexpert-labeler-data" bench/out/peer_labels.csv "$RUNS")
echo "  $peer"
peer_rate=$(echo "$peer" | sed -E 's/.*= ([0-9.]+) reports\/s.*/\1/')
bench/.venv-label/bin/python - "$RUNS" "$peer_rate" <<'PY'
import statistics, subprocess, sys, time
runs, peer_rate = int(sys.argv[1]), float(sys.argv[2])
n = 994
import csv
rows = list(csv.reader(open("crates/cxr-report/tests/data/iu-xray-dev.csv", newline="")))
with open("bench/out/iu-x20.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(rows[0])
    for k in range(20):
        for r in rows[1:]:
            w.writerow([f"{r[0]}_{k}"] + r[1:])
def median_time(threads, path="crates/cxr-report/tests/data/iu-xray-dev.csv"):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(["target/release/cxr", "label", path, "-q",
                        "--threads", str(threads), "-o", "bench/out/cxr_labels.csv"], check=True)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)
inproc = subprocess.run(["target/release/examples/label_throughput"], check=True, capture_output=True, text=True).stdout
rate = float(inproc.split("= ")[1].split(" reports/s")[0])
print(f"cxr labeling only (same scope as the peer's timer; 30 passes in one thread): {rate:,.0f} reports/s"
      f"  -> {rate/peer_rate:,.0f}x the peer")
t1, t2 = median_time(1), median_time(2)
print(f"cxr label, whole process (read CSV, label, write CSV), median of {runs}:")
print(f"  1 thread : {t1*1000:.1f} ms = {n/t1:,.0f} reports/s  -> {n/t1/peer_rate:,.0f}x the peer")
print(f"  2 threads: {t2*1000:.1f} ms = {n/t2:,.0f} reports/s  -> {n/t2/peer_rate:,.0f}x the peer")
b1, b2 = median_time(1, "bench/out/iu-x20.csv"), median_time(2, "bench/out/iu-x20.csv")
print(f"scaling on the same reports x20 ({20*n:,}): 1 thread {b1*1000:.0f} ms, 2 threads {b2*1000:.0f} ms"
      f" -> {b1/b2:.2f}x on 2 cores")
PY
