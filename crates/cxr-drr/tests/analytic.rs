//! Analytic checks that need no reference renders: voxel-exact phantoms whose line integrals are known in
//! closed form, orientation sanity on the real CT, and thread-count invariance.

use cxr_core::Volume;
use cxr_drr::geometry::{Detector, View};
use cxr_drr::project::{siddon_ray, ColumnSpans, Extent, Ray};
use cxr_drr::{LabelWeighting, Mode, Projector, Renderer};

fn unit_affine(spacing: [f64; 3]) -> cxr_core::Affine {
    [[spacing[0], 0.0, 0.0, 0.0], [0.0, spacing[1], 0.0, 0.0], [0.0, 0.0, spacing[2], 0.0], [0.0, 0.0, 0.0, 1.0]]
}

/// A voxelized ellipsoid (semi-axes in voxels) of value 1; a ray along axis `a` through voxel centres crosses
/// exactly the voxels with `((x−c)/r)² ≤ 1 − (other terms)`, a count known in closed form.
#[test]
fn ellipsoid_axis_rays_are_exact() {
    let dims = [41usize, 33, 25];
    let centre = [20.0, 16.0, 12.0];
    let semi = [15.5, 11.2, 9.3];
    let inside = |p: [f64; 3]| (0..3).map(|a| ((p[a] - centre[a]) / semi[a]).powi(2)).sum::<f64>() <= 1.0;
    let mut data = vec![0f32; dims[0] * dims[1] * dims[2]];
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                if inside([i as f64, j as f64, k as f64]) {
                    data[i + dims[0] * (j + dims[1] * k)] = 1.0;
                }
            }
        }
    }
    let spans = ColumnSpans::new(&data, dims);
    let spacing = [0.7, 1.3, 2.5];
    let mut checked = 0;
    for j in 0..dims[1] {
        for k in 0..dims[2] {
            // Ray along i (world x) through voxel centres (j, k), from far outside to far outside.
            let rest = 1.0 - ((j as f64 - centre[1]) / semi[1]).powi(2) - ((k as f64 - centre[2]) / semi[2]).powi(2);
            let count = if rest < 0.0 {
                0
            } else {
                let half = semi[0] * rest.sqrt();
                ((centre[0] + half).floor() - (centre[0] - half).ceil() + 1.0).max(0.0) as usize
            };
            let s = [-100.0, j as f64, k as f64];
            let t = [140.0, j as f64, k as f64];
            let r = Ray { s, d: [240.0, 0.0, 0.0], length_mm: 240.0 * spacing[0] };
            let got = siddon_ray(&r, dims, &data, &spans, Extent::WholeLine);
            let want = count as f64 * spacing[0];
            assert!((got - want).abs() <= 1e-9 * want.max(1.0), "j {j} k {k}: {got} vs {want} (t {t:?})");
            checked += usize::from(count > 0);
        }
    }
    assert!(checked > 300);
}

/// A uniform box under an oblique, anisotropic affine: any ray's integral is the world length of its chord
/// through the box, computed independently by clipping the world segment against the box's six planes.
#[test]
fn oblique_rays_through_a_rotated_anisotropic_box() {
    let dims = [30usize, 20, 10];
    let (c, s) = (0.3f64.cos(), 0.3f64.sin());
    let affine =
        [[1.2 * c, -0.8 * s, 0.0, 5.0], [1.2 * s, 0.8 * c, 0.0, -3.0], [0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 0.0, 1.0]];
    let ct = Volume { dims, data: vec![0.0f32; 6000], affine, source: None };
    // Physical mode with μ_water = 1: HU 0 → μ = 1 /mm, so the image is the chord length in mm.
    let proj = Projector::new(&ct, None, Mode::Physical { mu_water_per_mm: 1.0 }).unwrap();
    let det = Detector::square(9, 50.0, 1000.0);
    let pose = cxr_drr::geometry::Pose {
        rotation_zxy: [0.4, -0.2, 0.3],
        translation: [3.0, 500.0, -4.0],
        orientation: cxr_drr::geometry::Orientation::Ap,
    };
    let img = proj.render(&det, &pose, Renderer::Siddon, None);
    // Independent chord: in index space the box is [-0.5, N-0.5]; clip the source->pixel segment.
    let inv = cxr_core::volume::invert_affine(&affine).unwrap();
    let centre = cxr_core::volume::apply_affine(&affine, [14.5, 9.5, 4.5]);
    let to_ijk =
        |w: [f64; 3]| cxr_core::volume::apply_affine(&inv, [w[0] + centre[0], w[1] + centre[1], w[2] + centre[2]]);
    let src = pose.source();
    let mut nonzero = 0;
    for r in 0..9 {
        for col in 0..9 {
            let tgt = pose.to_world(det.pixel(r, col));
            let (a, b) = (to_ijk(src), to_ijk(tgt));
            let (mut lo, mut hi) = (0.0f64, 1.0f64);
            for ax in 0..3 {
                let d = b[ax] - a[ax];
                let (p0, p1) = ((-0.5 - a[ax]) / d, (dims[ax] as f64 - 0.5 - a[ax]) / d);
                lo = lo.max(p0.min(p1));
                hi = hi.min(p0.max(p1));
            }
            let len = ((0..3).map(|k| (tgt[k] - src[k]).powi(2)).sum::<f64>()).sqrt();
            let want = if hi > lo { (hi - lo) * len } else { 0.0 };
            let got = f64::from(img.image[r * 9 + col]);
            assert!((got - want).abs() <= 1e-6 * want.max(1.0), "pixel ({r},{col}): {got} vs {want}");
            nonzero += usize::from(want > 0.0);
        }
    }
    assert!(nonzero > 40, "the pose should hit the box with most rays ({nonzero} did)");
}

#[test]
fn a_pose_that_misses_gives_an_empty_image() {
    let ct = Volume { dims: [4, 4, 4], data: vec![100.0f32; 64], affine: unit_affine([1.0; 3]), source: None };
    let proj = Projector::new(&ct, None, Mode::physical()).unwrap();
    let mut pose = View::Pa.pose(1800.0);
    pose.translation[0] = 5000.0;
    let img = proj.render(&Detector::square(4, 10.0, 1800.0), &pose, Renderer::Siddon, None);
    assert!(!img.hit);
    assert!(img.image.iter().all(|&v| v == 0.0));
}

#[test]
fn data_that_does_not_fill_the_grid_is_an_error() {
    let ct =
        |n: usize| Volume { dims: [4, 4, 4], data: vec![100.0f32; n], affine: unit_affine([1.0; 3]), source: None };
    for n in [63, 65] {
        let err = Projector::new(&ct(n), None, Mode::physical()).unwrap_err().to_string();
        assert!(err.contains(&format!("holds {n} values")) && err.contains("needs 64"), "{err}");
    }
    let labels = ct(60);
    let err = Projector::new(&ct(64), Some(&labels), Mode::physical()).unwrap_err().to_string();
    assert!(err.starts_with("the label volume holds 60 values"), "{err}");
}

#[test]
fn orientation_sanity_on_the_real_ct() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let (ct, _) = cxr_io::nifti::read_nifti(&data.join("small_ct.nii.gz")).unwrap();
    let (labels, _) = cxr_io::nifti::read_nifti(&data.join("small_mask.nii.gz")).unwrap();
    let proj = Projector::new(&ct, Some(&labels), Mode::physical()).unwrap();
    let det = Detector::square(64, 430.0, 1800.0);
    let centroid = |view: View, label: usize| -> (f64, f64) {
        let p = proj.render(&det, &view.pose(1800.0), Renderer::Siddon, Some(LabelWeighting::PathLengthMm));
        let (_, ch) = p.channels.unwrap();
        let img = &ch[label * 4096..(label + 1) * 4096];
        let total: f64 = img.iter().map(|&v| f64::from(v)).sum();
        let row = img.iter().enumerate().map(|(i, &v)| (i / 64) as f64 * f64::from(v)).sum::<f64>() / total;
        let col = img.iter().enumerate().map(|(i, &v)| (i % 64) as f64 * f64::from(v)).sum::<f64>() / total;
        (row, col)
    };
    // PA, radiological convention: the heart (label 51) sits on the image right (patient left).
    let heart = centroid(View::Pa, 51);
    assert!(heart.1 > 32.0, "heart column {}", heart.1);
    // Lateral left: the spine (T5, label 39) is posterior, on the image left.
    let t5 = centroid(View::LateralLeft, 39);
    assert!(t5.1 < 32.0, "T5 column {}", t5.1);
    // Row 0 is superior: T5 lies above the heart's centre.
    assert!(t5.0 < heart.0 + 10.0);
}

#[test]
fn thread_count_does_not_change_the_image() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let (ct, _) = cxr_io::nifti::read_nifti(&data.join("small_ct.nii.gz")).unwrap();
    let proj = Projector::new(&ct, None, Mode::diffdrr()).unwrap();
    let det = Detector::square(48, 430.0, 1800.0);
    let render = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| proj.render(&det, &View::LateralLeft.pose(1800.0), Renderer::Siddon, None).image)
    };
    assert_eq!(render(1), render(3));
}
