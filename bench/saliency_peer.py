"""numpy peer of bench/saliency.sh: makes N seeded 224x224 map triples (saliency S, fixations F, density G =
F blurred), writes them as raw float64 for cxr, and times the numpy formulas of the same metrics (NSS both
ddofs, CC, KLD, SIM both variants, AUC-Judd, AUC-Borji with the counter-mode SplitMix64 sampler, EMD on 32x32
block means with POT's exact solver), as the reference script computes them. Prints JSON with metric sums.
Usage: saliency_peer.py OUTDIR N REPEAT"""
import json, sys, time
from pathlib import Path
import numpy as np
import ot
from scipy.ndimage import gaussian_filter

out, N, REPEAT = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
H = W = 224
EPS = 2.220446049250313e-16
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(seed, k):
    z = (np.uint64(seed) + np.asarray(k, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


rng = np.random.default_rng(11)
yy, xx = np.mgrid[0:H, 0:W]
S_all, G_all, F_all = [], [], []
for k in range(N):
    cy, cx = rng.uniform(60, 160, 2)
    S = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 40.0 ** 2)) + 0.3 * rng.random((H, W))
    F = np.zeros((H, W)); idx = rng.integers(0, H * W, 40); F.ravel()[idx] = 1
    G = gaussian_filter(F, 8, mode="constant") + 1e-9
    S_all.append(S); G_all.append(G); F_all.append(F)
out.mkdir(parents=True, exist_ok=True)
for name, arr in (("S", S_all), ("G", G_all), ("F", F_all)):
    np.asarray(arr, dtype="<f8").tofile(out / f"{name}.bin")


def nss(s, f, ddof):
    z = (s - s.mean()) / s.std(ddof=ddof); return z[f > 0].mean()
def cc(a, b):
    return np.corrcoef(a.ravel(), b.ravel())[0, 1]
def kld(s, g):
    m1 = s / s.sum(); m2 = g / g.sum(); return np.sum(m2 * np.log(EPS + m2 / (m1 + EPS)))
def sim_matlab(a, b):
    a = (a - a.min()) / (a.max() - a.min()); a = a / a.sum(); b = (b - b.min()) / (b.max() - b.min()); b = b / b.sum()
    return np.minimum(a, b).sum()
def sim_pys(a, b):
    a = a - min(a.min(), 0); b = b - min(b.min(), 0); return np.minimum(a / a.sum(), b / b.sum()).sum()
def auc_judd(s, f):
    s = (s - s.min()) / (s.max() - s.min()); Sv = s.ravel(); Sth = np.sort(Sv[f.ravel() > 0])[::-1]
    nf, npx = len(Sth), len(Sv); above = npx - np.searchsorted(np.sort(Sv), Sth, side="left"); i = np.arange(1, nf + 1)
    return np.trapezoid(np.concatenate([[0], i / nf, [1]]), np.concatenate([[0], (above - i) / (npx - nf), [1]]))
def auc_borji(s, f, nsplits=100, step=0.1, seed=7):
    s = (s - s.min()) / (s.max() - s.min()); Sv = s.ravel(); Sth = Sv[f.ravel() > 0]; nf, npx = len(Sth), len(Sv)
    aucs = []
    for sp in range(nsplits):
        r = (splitmix64(seed, np.arange(sp * nf, sp * nf + nf, dtype=np.uint64) + np.uint64(1)) % np.uint64(npx)).astype(np.int64)
        cur = Sv[r]; mx = max(Sth.max(), cur.max()); thr = (np.arange(int(np.floor(mx / step + 1e-9)) + 1) * step)[::-1]
        tp = np.concatenate([[0], [(Sth >= t).sum() / nf for t in thr], [1]]); fp = np.concatenate([[0], [(cur >= t).sum() / nf for t in thr], [1]])
        aucs.append(np.trapezoid(tp, fp))
    return np.mean(aucs)
def block(x, b=32):
    h, w = x.shape; return x.reshape(h // b, b, w // b, b).mean(axis=(1, 3))
c = np.stack(np.unravel_index(np.arange(49), (7, 7)), 1).astype(float); D = np.sqrt(((c[:, None] - c[None]) ** 2).sum(-1))
def emd(s, g):
    a = block(s).ravel(); b = block(g).ravel(); return ot.emd2(a / a.sum(), b / b.sum(), D)

t0 = time.perf_counter()
sums = np.zeros(9)
for _ in range(REPEAT):
    for S, G, F in zip(S_all, G_all, F_all):
        sums += [nss(S, F, 1), nss(S, F, 0), cc(S, G), kld(S, G), sim_matlab(S, G), sim_pys(S, G), auc_judd(S, F), auc_borji(S, F), emd(S, G)]
secs = time.perf_counter() - t0
names = ["nss_matlab", "nss_pysaliency", "cc", "kld", "sim_matlab", "sim_pysaliency", "auc_judd", "auc_borji", "emd"]
print(json.dumps({"pairs": N * REPEAT, "seconds": secs, **{k: float(v / REPEAT) for k, v in zip(names, sums)}}))
