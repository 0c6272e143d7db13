"""The pydicom + Pillow peer of `cxr convert`: every DICOM under IN to an 8-bit PNG under OUT, longer side
512 (Lanczos), the way people write it: pixel_array, apply_modality_lut, apply_voi_lut (VOI LUT, else the
first window, else min-max), MONOCHROME1 inverted, Image.resize, save. Single process, like the usual script.
Usage: convert_peer.py IN OUT SIZE
"""
import sys, time
from pathlib import Path
import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from PIL import Image

src, dst, size = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])


def voi_range(ds):
    bs = int(ds.BitsStored)
    lo, hi = (0, 2 ** bs - 1) if ds.PixelRepresentation == 0 else (-(2 ** (bs - 1)), 2 ** (bs - 1) - 1)
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        s, i = float(ds.RescaleSlope), float(ds.RescaleIntercept)
        lo, hi = lo * s + i, hi * s + i
    return float(lo), float(hi)


t0 = time.perf_counter()
n = 0
for f in sorted(src.rglob("*.dcm")):
    ds = pydicom.dcmread(f)
    arr = ds.pixel_array
    if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
        arr = arr[0]
    mod = apply_modality_lut(arr, ds)
    if "VOILUTSequence" in ds:
        y = apply_voi_lut(mod, ds, prefer_lut=True).astype(np.float64) / (2 ** ds.VOILUTSequence[0].LUTDescriptor[2] - 1)
    elif "WindowCenter" in ds:
        lo, hi = voi_range(ds)
        y = (apply_voi_lut(mod, ds).astype(np.float64) - lo) / (hi - lo)
    else:
        m = mod.astype(np.float64)
        span = m.max() - m.min()
        y = (m - m.min()) / span if span > 0 else m * 0
    if ds.PhotometricInterpretation == "MONOCHROME1":
        y = 1.0 - y
    img = Image.fromarray(np.round(np.clip(y, 0, 1) * 255).astype(np.uint8))
    w, h = img.size
    img = img.resize((max(1, round(w * size / max(w, h))), max(1, round(h * size / max(w, h)))), Image.LANCZOS)
    out = dst / f.relative_to(src).with_suffix(".png")
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out)
    n += 1
print(f'{{"images": {n}, "seconds": {time.perf_counter() - t0:.3f}}}')
