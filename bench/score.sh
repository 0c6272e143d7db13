#!/usr/bin/env bash
# Report-generation metrics: cxr vs pycocoevalcap 1.2, rouge-score 0.1.2 and sacrebleu 2.6.0 on the same
# 3,425 IU X-Ray pairs (the golden pairs), side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${CXR_SHARED:-../shared}
RUNS=${RUNS:-3}
PAIRS=crates/cxr-metrics/tests/data/pairs_tokenized.csv.gz
[ -d bench/.venv-metrics ] || python3 -m venv bench/.venv-metrics
bench/.venv-metrics/bin/python -m pip install -q -r "$SHARED/reference/metrics/requirements.txt"
command -v java >/dev/null || { echo "pycocoevalcap's PTB tokenizer needs java (apt-get install default-jre-headless)"; exit 1; }
cargo build --release -q
cargo build --release -q -p cxr-metrics --example score_throughput
mkdir -p bench/out
echo "peers: median of $RUNS runs per scorer (Python, one process)"
bench/.venv-metrics/bin/python bench/score_peers.py "$PAIRS" "$RUNS" > bench/out/score_peers.json
echo "cxr: in-process, same scope per scorer, median of 7, on one thread and on two"
# METEOR's resources: the ones pycocoevalcap installed (the jar and its paraphrase table).
METEOR=$(bench/.venv-metrics/bin/python -c 'import importlib.util; print(importlib.util.find_spec("pycocoevalcap").submodule_search_locations[0] + "/meteor")')
export METEOR METEOR_CACHE=bench/.cache/meteor
RAYON_NUM_THREADS=1 RUNS=7 target/release/examples/score_throughput "$PAIRS" > bench/out/score_cxr.json
RAYON_NUM_THREADS=2 RUNS=7 target/release/examples/score_throughput "$PAIRS" > bench/out/score_cxr2.json
bench/.venv-metrics/bin/python - "$PAIRS" <<'PY'
import csv, gzip, json, statistics, subprocess, sys, time
peer = json.load(open("bench/out/score_peers.json")); cxr = json.load(open("bench/out/score_cxr.json"))
cxr2 = json.load(open("bench/out/score_cxr2.json"))
print(f"\n{'metric':<30} {'peer pairs/s':>13} {'cxr 1 thread':>13} {'ratio':>8} {'cxr 2 threads':>14} {'ratio':>8}")
for k, v in peer.items():
    if k in cxr:
        print(f"{k:<30} {v:>13,.0f} {cxr[k]:>13,.0f} {cxr[k]/v:>7,.0f}x {cxr2[k]:>14,.0f} {cxr2[k]/v:>7,.0f}x")
    else:
        print(f"{k:<30} {v:>13,.1f}   (cxr: whole process below)")
# Whole cxr score process per family (start-up, read CSVs, tokenize, score, print), 1 and 2 threads.
rows = list(csv.DictReader(gzip.open(sys.argv[1], "rt")))
for side, col in (("refs", "ref_raw"), ("hyps", "hyp_raw")):
    with open(f"bench/out/{side}.csv", "w", newline="") as f:
        w = csv.writer(f); w.writerow(["id", "report"])
        for r in rows: w.writerow([r["pair"], r[col]])
import importlib.util
METEOR = importlib.util.find_spec("pycocoevalcap").submodule_search_locations[0] + "/meteor"
CACHE = "bench/.cache/meteor"
def run(fam, threads):
    ts = []
    extra = ["--meteor-data", METEOR, "--meteor-cache", CACHE] if fam == "meteor" else []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run(["target/release/cxr", "score", "--refs", "bench/out/refs.csv", "--hyps", "bench/out/hyps.csv",
                        "--metrics", fam, "--bootstrap", "0", "--threads", str(threads), "-q"] + extra, check=True, stdout=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t0)
    return len(rows) / statistics.median(ts)
# METEOR's paraphrase index: built on the first run into a fresh cache folder (timed once), then read.
import shutil
shutil.rmtree(CACHE, ignore_errors=True)
t0 = time.perf_counter()
subprocess.run(["target/release/cxr", "score", "--refs", "bench/out/refs.csv", "--hyps", "bench/out/hyps.csv", "--metrics", "meteor",
                "--meteor-data", METEOR, "--meteor-cache", CACHE, "--bootstrap", "0", "-q"], check=True, stdout=subprocess.DEVNULL)
print(f"\nMETEOR first run, building the paraphrase index: {time.perf_counter() - t0:.2f} s (once per installation)")
print(f"\nwhole `cxr score --metrics F --bootstrap 0` process (includes PTB tokenization for bleu/rouge/cider), median of 5:")
print(f"{'family':<14} {'1 thread':>12} {'2 threads':>12}   vs peer scorer alone")
for fam, key in (("meteor", "coco_meteor_incl_load"), ("bleu", "coco_bleu4"), ("rouge", "coco_rougeL"), ("cider", "coco_ciderD"), ("sacrebleu", "sacrebleu_corpus_bleu"), ("chrf", "sacrebleu_corpus_chrf"), ("rouge-score", "rouge_score_rougeL_stem")):
    a, b = run(fam, 1), run(fam, 2)
    print(f"{fam:<14} {a:>12,.0f} {b:>12,.0f}   {a/peer[key]:,.0f}x / {b/peer[key]:,.0f}x")
# METEOR on all 3,425 pairs against the jar's per-pair values (the golden test ships a 346-case subset).
subprocess.run(["target/release/cxr", "score", "--refs", "bench/out/refs.csv", "--hyps", "bench/out/hyps.csv", "--metrics", "meteor",
                "--meteor-data", METEOR, "--meteor-cache", CACHE, "--bootstrap", "0", "-q", "--per-pair", "bench/out/meteor_pairs.csv"], check=True, stdout=subprocess.DEVNULL)
got = [float(r["meteor"]) for r in csv.DictReader(open("bench/out/meteor_pairs.csv"))]
want = [float(r["meteor"]) for r in csv.DictReader(gzip.open("crates/cxr-metrics/tests/data/per_pair_scores.csv.gz", "rt"))]
same = sum(abs(a - b) <= 1e-6 for a, b in zip(got, want))
print(f"\nMETEOR per pair within 1e-6 of the jar: {same} of {len(want)}")
PY
