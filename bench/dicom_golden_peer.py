"""pydicom 3.0.2 (+ pylibjpeg) side of bench/dicom_golden.sh: one JSON line per file with the same summaries as
crates/cxr-io/examples/dicom_summary.rs (stored values frame 0, colour as ITU-R 601 luma in Pillow's fixed point; modality LUT;
display fraction from apply_voi_lut(prefer_lut=True) rescaled to [0, 1], MONOCHROME1 inverted)."""
import json, sys
import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, apply_voi_lut


def summ(a):
    f = a.reshape(-1).astype(np.float64)
    w = (np.arange(f.size) % 1009 + 1).astype(np.float64)
    return {"sum": float(f.sum()), "weighted_sum": float((f * w).sum()), "n": int(f.size)}


def voi_range(ds):
    if ds.get("ModalityLUTSequence"):
        return 0.0, float(2 ** ds.ModalityLUTSequence[0].LUTDescriptor[2] - 1)
    bs = int(ds.BitsStored)
    lo, hi = (0, 2 ** bs - 1) if ds.PixelRepresentation == 0 else (-(2 ** (bs - 1)), 2 ** (bs - 1) - 1)
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        s, i = float(ds.RescaleSlope), float(ds.RescaleIntercept)
        lo, hi = lo * s + i, hi * s + i
    return float(lo), float(hi)


for path in sys.argv[1:]:
    try:
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array
        if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
            arr = arr[0]
        out = {"file": path, "rows": int(ds.Rows), "columns": int(ds.Columns),
               "transfer_syntax": str(ds.file_meta.TransferSyntaxUID)}
        if arr.ndim == 3:
            rgb = arr.astype(np.int64)
            out["stored"] = summ((rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16)
            out["colour"] = True
        else:
            out["stored"] = summ(arr)
            mod = apply_modality_lut(arr, ds)
            out["modality"] = summ(mod)
            y = None
            if "VOILUTSequence" in ds:
                y = apply_voi_lut(mod, ds, prefer_lut=True).astype(np.float64) / (2 ** ds.VOILUTSequence[0].LUTDescriptor[2] - 1)
            elif "WindowCenter" in ds:
                lo, hi = voi_range(ds)
                y = (apply_voi_lut(mod, ds).astype(np.float64) - lo) / (hi - lo)
            if y is not None:
                if ds.PhotometricInterpretation == "MONOCHROME1":
                    y = 1.0 - y
                out["display"] = summ(y)
        print(json.dumps(out))
    except Exception as e:  # noqa: BLE001 - report and go on
        print(json.dumps({"file": path, "error": f"{type(e).__name__}: {e}"}))
