//! Prints, for each DICOM file given, one JSON line summarising what cxrkit decodes: stored values, the
//! Modality LUT output and the displayed fraction (default VOI, inversion), as sums and weighted sums —
//! the same summaries `tests/data/dicom/make_expected.py` computes with pydicom. Used by
//! `bench/dicom_golden.sh` to compare every test file of pydicom and pydicom-data.

use cxr_core::image::{Voi, VoiChoice};
use cxr_io::dicom::{read_dicom, ReadOptions};

fn summary(values: impl Iterator<Item = f64>) -> serde_json::Value {
    let (mut sum, mut wsum, mut n) = (0.0, 0.0, 0usize);
    for (i, v) in values.enumerate() {
        sum += v;
        wsum += v * ((i % 1009) + 1) as f64;
        n += 1;
    }
    serde_json::json!({"sum": sum, "weighted_sum": wsum, "n": n})
}

fn main() {
    for path in std::env::args().skip(1) {
        let p = std::path::Path::new(&path);
        let line = match read_dicom(p, &ReadOptions::default()) {
            Err(e) => serde_json::json!({"file": path, "error": e.to_string()}),
            Ok(img) => {
                let stored = summary(img.stored.pixels.iter().map(|&v| v as f64));
                let modality = cxr_image::lut::modality(&img.stored, &img.transforms.modality);
                let modality = summary(modality.pixels.iter().map(|&v| v as f64));
                let shown = cxr_image::display(&img.stored, &img.transforms, &VoiChoice::Default);
                let (display, voi) = match &shown {
                    Ok(d) => (
                        summary(d.image.pixels.iter().map(|&v| v as f64)),
                        match d.voi {
                            Voi::Window(_) => "window",
                            Voi::Table(_) => "lut",
                            Voi::MinMax => "minmax",
                        },
                    ),
                    Err(_) => (serde_json::Value::Null, "error"),
                };
                serde_json::json!({"file": path, "rows": img.stored.height, "columns": img.stored.width,
                    "samples_per_pixel": img.info.samples_per_pixel, "stored": stored, "modality": modality,
                    "display": display, "voi": voi})
            }
        };
        println!("{line}");
    }
}
