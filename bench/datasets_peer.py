"""torchxrayvision 1.5.7's dataset constructors on the label files of its wheel: per configuration, the time
to construct and the row count and per-pathology positive/negative/NaN counts. Prints JSON.
Usage: datasets_peer.py DATA_DIR RUNS
"""
import json, sys, tempfile, time
import numpy as np
import torchxrayvision as xrv

D, RUNS = sys.argv[1], int(sys.argv[2])
img = tempfile.mkdtemp()
j = lambda f: f"{D}/{f}"
CONFIGS = {
    "nih/default": lambda: xrv.datasets.NIH_Dataset(img),
    "nih/all": lambda: xrv.datasets.NIH_Dataset(img, views=["*"], unique_patients=False),
    "nih-google/default": lambda: xrv.datasets.NIH_Google_Dataset(img),
    "nih-google/all": lambda: xrv.datasets.NIH_Google_Dataset(img, views=["*"], unique_patients=False),
    "rsna/default": lambda: xrv.datasets.RSNA_Pneumonia_Dataset(img),
    "rsna/all": lambda: xrv.datasets.RSNA_Pneumonia_Dataset(img, views=["*"]),
    "padchest/default": lambda: xrv.datasets.PC_Dataset(img),
    "padchest/all": lambda: xrv.datasets.PC_Dataset(img, views=["*"], unique_patients=False),
    "chexpert/default": lambda: xrv.datasets.CheX_Dataset(img, csvpath=j("chexpert_train.csv.gz")),
    "chexpert/all": lambda: xrv.datasets.CheX_Dataset(img, csvpath=j("chexpert_train.csv.gz"), views=["*"], unique_patients=False),
    "openi/default": lambda: xrv.datasets.Openi_Dataset(img),
    "openi/all": lambda: xrv.datasets.Openi_Dataset(img, views=["*"], unique_patients=False),
    "siim/default": lambda: xrv.datasets.SIIM_Pneumothorax_Dataset(img),
    "vindr/default": lambda: xrv.datasets.VinDr_Dataset(img),
}
out = {}
for name, make in CONFIGS.items():
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter(); ds = make(); times.append(time.perf_counter() - t0)
    tot = {p: {"pos": int(np.sum(ds.labels[:, k] == 1)), "neg": int(np.sum(ds.labels[:, k] == 0)),
               "nan": int(np.sum(np.isnan(ds.labels[:, k])))} for k, p in enumerate(ds.pathologies)}
    out[name] = {"n": len(ds), "totals": tot, "median_s": float(np.median(times))}
    print(name, out[name]["n"], f"{out[name]['median_s']:.2f}s", file=sys.stderr)
print(json.dumps(out))
