"""Regenerates expected.json: what pydicom 3.0.2 (+ pylibjpeg decoders) reads from each fixture.

Run: python -m venv v && v/bin/pip install pydicom==3.0.2 pydicom-data==1.0.0 numpy pylibjpeg \
     pylibjpeg-openjpeg pylibjpeg-libjpeg && v/bin/python make_expected.py
For each file: stored values (`ds.pixel_array`, frame 0, colour → luma as cxrkit does), the Modality LUT
(`apply_modality_lut`) and the displayed fraction (`apply_voi_lut(prefer_lut=True)` rescaled from pydicom's
[ymin, ymax] to [0, 1], then MONOCHROME1 inverted), as exact checksums plus ≤1,024 evenly strided samples.
"""
import json, sys
from pathlib import Path
import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, apply_voi_lut

HERE = Path(__file__).parent
FILES = ["RG1_J2KI", "RG3_J2KI", "693_J2KR", "mlut_18", "vlut_04", "JPEG-LL", "CT_small", "MR_small_RLE",
         "MR_small_bigendian", "image_dfl", "SC_rgb", "SC_rgb_jpeg_dcmtk"]


def summary(a):
    flat = a.reshape(-1).astype(np.float64)
    step = max(1, flat.size // 1024)
    idx = np.arange(0, flat.size, step)
    w = (np.arange(flat.size) % 1009 + 1).astype(np.float64)
    return {"sum": float(flat.sum()), "weighted_sum": float((flat * w).sum()), "min": float(flat.min()),
            "max": float(flat.max()), "step": int(step), "samples": [round(float(v), 7) for v in flat[idx]]}


def voi_range(ds):
    if ds.get("ModalityLUTSequence"):
        return 0.0, float(2 ** ds.ModalityLUTSequence[0].LUTDescriptor[2] - 1)
    bs = int(ds.BitsStored)
    lo, hi = (0, 2 ** bs - 1) if ds.PixelRepresentation == 0 else (-(2 ** (bs - 1)), 2 ** (bs - 1) - 1)
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        s, i = float(ds.RescaleSlope), float(ds.RescaleIntercept)
        lo, hi = lo * s + i, hi * s + i
    return float(lo), float(hi)


out = {}
for name in FILES:
    ds = pydicom.dcmread(HERE / f"{name}.dcm")
    arr = ds.pixel_array
    nframes = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if nframes > 1:
        arr = arr[0]
    entry = {"rows": int(ds.Rows), "columns": int(ds.Columns), "transfer_syntax": str(ds.file_meta.TransferSyntaxUID),
             "photometric": str(ds.PhotometricInterpretation)}
    if arr.ndim == 3:  # colour: pixel_array is RGB (pydicom converts YBR); reduce to luma as cxrkit and Pillow's convert('L') do
        rgb = arr.astype(np.int64)
        stored = (rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16
        entry["stored"] = summary(stored)
        out[name] = entry
        continue
    entry["stored"] = summary(arr)
    mod = apply_modality_lut(arr, ds)
    entry["modality"] = summary(mod)
    if "VOILUTSequence" in ds:
        lut = apply_voi_lut(mod, ds, index=0, prefer_lut=True)
        full = 2 ** ds.VOILUTSequence[0].LUTDescriptor[2] - 1
        y = lut.astype(np.float64) / full
        entry["voi"] = "lut"
    elif "WindowCenter" in ds:
        lo, hi = voi_range(ds)
        y = (apply_voi_lut(mod, ds, index=0).astype(np.float64) - lo) / (hi - lo)
        entry["voi"] = "window"
    else:
        y = None
    if y is not None:
        if ds.PhotometricInterpretation == "MONOCHROME1":
            y = 1.0 - y
        entry["display"] = summary(y)
    out[name] = entry

(HERE / "expected.json").write_text(json.dumps(out, indent=1) + "\n")
print({k: (v["rows"], v["columns"], v.get("voi")) for k, v in out.items()}, file=sys.stderr)

# Resampling reference: RG1's display as 8-bit, resized by Pillow to fit 256 px on the longer side.
from PIL import Image
ds = pydicom.dcmread(HERE / "RG1_J2KI.dcm")
lo, hi = voi_range(ds)
y = (apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds).astype(np.float64) - lo) / (hi - lo)
y8 = np.round((1.0 - y) * 255).astype(np.uint8)
img = Image.fromarray(y8)
h, w = y8.shape
size = (round(w * 256 / max(w, h)), round(h * 256 / max(w, h)))
for name, f in [("box", Image.BOX), ("bilinear", Image.BILINEAR), ("lanczos", Image.LANCZOS)]:
    img.resize(size, f).save(HERE / f"RG1_J2KI_pillow_{name}_256.png")

# Equalisation references (OpenCV, `pip install opencv-python-headless`), from the Lanczos resize above.
import cv2
lz = np.asarray(Image.open(HERE / "RG1_J2KI_pillow_lanczos_256.png"))
Image.fromarray(cv2.equalizeHist(lz)).save(HERE / "RG1_J2KI_pillow_lanczos_256_equalize_cv2.png")
Image.fromarray(cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lz)).save(HERE / "RG1_J2KI_pillow_lanczos_256_clahe_cv2.png")
