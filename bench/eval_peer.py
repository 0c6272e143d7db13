"""Bootstrap AUROC the way most papers' code does it: materialise each resample (fancy indexing) and call
scikit-learn's roc_auc_score per class. Same rows, same counter-mode SplitMix64 indices as cxr (seed 42).
Prints JSON with the wall time. Usage: python eval_peer.py PRED_CSV_GZ B"""
import json, sys, time
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score

M = (1 << 64) - 1
def splitmix64(seed, k):
    z = (seed + k * 0x9E3779B97F4A7C15) & M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)

d = pd.read_csv(sys.argv[1]); B = int(sys.argv[2]); N = len(d)
ycols = [c for c in d.columns if c.startswith("y_")]; pcols = ["p_" + c[2:] for c in ycols]
Y, P = d[ycols].values, d[pcols].values
t0 = time.perf_counter()
# Index generation in numpy uint64 arithmetic (vectorised splitmix64), then per-resample sklearn calls.
seed = np.uint64(42)
cis = []
aucs = np.zeros((B, len(ycols)))
with np.errstate(over="ignore"):
    for b in range(B):
        k = np.arange(b * N + 1, b * N + N + 1, dtype=np.uint64)
        z = seed + k * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        idx = ((z ^ (z >> np.uint64(31))) % np.uint64(N)).astype(np.int64)
        for c in range(len(ycols)):
            aucs[b, c] = roc_auc_score(Y[idx, c], P[idx, c])
wall = time.perf_counter() - t0
assert splitmix64(0, 1) == 0xE220A8397B1DCDAF
print(json.dumps({"B": B, "classes": len(ycols), "rows": N, "wall_s": wall,
                  "ci_first_class": list(np.quantile(aucs[:, 0], [0.025, 0.975]))}))
