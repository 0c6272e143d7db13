//! DRR-RATE compatibility: DRRs as DRR-RATE made them, with ITK's `SiddonJacobsRayCastInterpolateImageFunction`
//! driven by `getDRRSiddonJacobsRayTracing` (midas-journal-784; DRR-RATE used `-threshold -100`, a 300 mm
//! translation and `-rz -90` for the lateral view).
//!
//! Reimplemented from the definitions of that ITK class (ITK 5, module TwoProjectionRegistration) and of the
//! tool, with their conventions kept because the published images depend on them:
//! * The volume's origin is forced to 0 and its direction is ignored: voxel `(i, j, k)` spans
//!   `[i, i+1)·sx × [j, j+1)·sy × [k, k+1)·sz` in "world" millimetres, indices in file order.
//! * The volume transform is an Euler 3-D transform (ZYX order) about the volume centre
//!   `c = spacing · size / 2`, with translation `t`. The camera sits at the origin looking down −z after the
//!   class's fixed composition (gantry rotation about `c` by −projection angle, a shift putting the focal point
//!   `scd` from `c`, a −90° rotation about x). Inverting that chain puts, for the default angle 0, the source at
//!   `Rᵀ(−t − (0, scd, 0)) + c` and a detector point `(u, v)` at `Rᵀ((u, −scd', v) …)`; we compute it
//!   numerically from the same matrices rather than by hand.
//! * Detector pixel `(col, row)` is the output point `((col − (W−1)/2)·du, (row − (H−1)/2)·dv, −scd)`.
//! * Each ray is traversed from where it enters the volume to where it leaves (not clipped at the detector);
//!   `d = Σ Δα · (value − threshold)` over voxels whose value exceeds the threshold, where `α` is the fraction of
//!   the source–detector-point vector (so `d` is not in millimetres). The class advances the voxel index at
//!   each plane crossing *before* it samples, so each segment is weighted by the voxel after it: the first
//!   segment counts zero and the last voxel along every ray is lost. Kept, since DRR-RATE's images have it. The class computes in single precision;
//!   so does this reimplementation, step for step, including where ITK mixes in double-precision coordinates.
//! * The tool's outputs: the `short` image truncates `d` toward zero; the PNG rescales that image's
//!   minimum–maximum to 0–255 (ITK's `RescaleIntensityImageFilter`: a linear map, then truncation) and flips
//!   it vertically.

use cxr_core::Volume;

/// The geometry of one DRR-RATE render (the tool's command-line parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct DrrRateGeometry {
    /// Source (focal point) to isocentre distance, mm (`-scd`, default 1000).
    pub scd: f64,
    /// Output width and height in pixels (`-size`).
    pub size: [usize; 2],
    /// Output pixel spacing in mm (`-res`).
    pub spacing: [f64; 2],
    /// Volume rotation in degrees about x, y, z (`-rx -ry -rz`; ZYX order).
    pub rotation_deg: [f64; 3],
    /// Volume translation in mm (`-t`).
    pub translation: [f64; 3],
    /// Intensities at or below this are ignored (`-threshold`).
    pub threshold: f64,
    /// Projection (gantry) angle in degrees (`-rp`).
    pub projection_angle_deg: f64,
}

impl DrrRateGeometry {
    /// DRR-RATE's frontal view: `-threshold -100 -t 0 300 0`, 512², 0.51 mm pixels.
    pub fn frontal() -> Self {
        DrrRateGeometry {
            scd: 1000.0,
            size: [512, 512],
            spacing: [0.51, 0.51],
            rotation_deg: [0.0; 3],
            translation: [0.0, 300.0, 0.0],
            threshold: -100.0,
            projection_angle_deg: 0.0,
        }
    }

    /// DRR-RATE's lateral view: the frontal one with `-rz -90`.
    pub fn lateral() -> Self {
        DrrRateGeometry { rotation_deg: [0.0, 0.0, -90.0], ..Self::frontal() }
    }
}

type M3 = [[f64; 3]; 3];

fn mul(a: &M3, b: &M3) -> M3 {
    std::array::from_fn(|r| std::array::from_fn(|c| (0..3).map(|k| a[r][k] * b[k][c]).sum()))
}

fn apply(m: &M3, v: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|r| (0..3).map(|k| m[r][k] * v[k]).sum())
}

fn transpose(m: &M3) -> M3 {
    std::array::from_fn(|r| std::array::from_fn(|c| m[c][r]))
}

/// ITK's Euler 3-D rotation matrix with `ComputeZYX` on: `Rz · Ry · Rx` (angles in radians).
fn euler_zyx(ax: f64, ay: f64, az: f64) -> M3 {
    let (sx, cx) = ax.sin_cos();
    let (sy, cy) = ay.sin_cos();
    let (sz, cz) = az.sin_cos();
    let rx = [[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]];
    let ry = [[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]];
    let rz = [[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]];
    mul(&rz, &mul(&ry, &rx))
}

/// An affine map `p ↦ M p + o`.
#[derive(Debug, Clone, Copy)]
struct Affine3 {
    m: M3,
    o: [f64; 3],
}

impl Affine3 {
    /// A rotation `r` about `centre` followed by a translation `t`: `p ↦ r (p − centre) + centre + t`.
    fn euler(r: M3, centre: [f64; 3], t: [f64; 3]) -> Self {
        let rc = apply(&r, centre);
        Affine3 { m: r, o: std::array::from_fn(|i| centre[i] - rc[i] + t[i]) }
    }

    /// `other ∘ self` (self first).
    fn then(&self, other: &Affine3) -> Affine3 {
        let o = apply(&other.m, self.o);
        Affine3 { m: mul(&other.m, &self.m), o: std::array::from_fn(|i| o[i] + other.o[i]) }
    }

    /// The inverse of a rigid map.
    fn inverse(&self) -> Affine3 {
        let mt = transpose(&self.m);
        let o = apply(&mt, self.o);
        Affine3 { m: mt, o: [-o[0], -o[1], -o[2]] }
    }

    fn map(&self, p: [f64; 3]) -> [f64; 3] {
        let q = apply(&self.m, p);
        std::array::from_fn(|i| q[i] + self.o[i])
    }
}

/// Renders the raw DRR (ITK's floating-point output; row-major `[row][col]` as ITK stores it, i.e. before the
/// tool's vertical flip). `ct` holds the intensities ITK would read (for the `short` pipeline, the file's
/// values cast to 16-bit integers).
pub fn render(ct: &Volume<f32>, g: &DrrRateGeometry) -> Vec<f32> {
    let dims = ct.dims;
    let sp = ct.spacing();
    let centre: [f64; 3] = std::array::from_fn(|i| sp[i] * dims[i] as f64 / 2.0);
    let rad = std::f64::consts::PI / 180.0;
    // The class's chain: volume transform, gantry rotation about the centre, focal-point shift, camera rotation.
    let volume = Affine3::euler(
        euler_zyx(g.rotation_deg[0] * rad, g.rotation_deg[1] * rad, g.rotation_deg[2] * rad),
        centre,
        g.translation,
    );
    let gantry = Affine3::euler(euler_zyx(0.0, 0.0, -g.projection_angle_deg * rad), centre, [0.0; 3]);
    let shift = Affine3 { m: euler_zyx(0.0, 0.0, 0.0), o: [-centre[0], g.scd - centre[1], -centre[2]] };
    // The class converts its fixed −90° with a single-precision degrees-to-radians factor.
    let dtr_f32 = (std::f64::consts::PI / 180.0) as f32 as f64;
    let camera = Affine3 { m: euler_zyx(dtr_f32 * -90.0, 0.0, 0.0), o: [0.0; 3] };
    let inverse = volume.then(&gantry).then(&shift).then(&camera).inverse();
    let source = inverse.map([0.0; 3]);
    let [w, h] = g.size;
    let mut out = vec![0f32; w * h];
    // Rays are independent, so rows in parallel give the serial result exactly.
    use rayon::prelude::*;
    out.par_chunks_mut(w.max(1)).enumerate().for_each(|(row, line)| {
        for (col, px) in line.iter_mut().enumerate() {
            let u = -(g.spacing[0] * ((w as f64 - 1.0) / 2.0)) + g.spacing[0] * col as f64;
            let v = -(g.spacing[1] * ((h as f64 - 1.0) / 2.0)) + g.spacing[1] * row as f64;
            let pixel = inverse.map([u, v, -g.scd]);
            *px = ray(ct, dims, sp, source, pixel, g.threshold);
        }
    });
    out
}

/// The tool's parameters, for a sidecar.
pub fn describe(g: &DrrRateGeometry) -> serde_json::Value {
    serde_json::json!({
        "convention": "DRR-RATE: ITK SiddonJacobsRayCastInterpolateImageFunction via getDRRSiddonJacobsRayTracing (midas-journal-784)",
        "scd_mm": g.scd, "size": g.size, "pixel_spacing_mm": g.spacing, "rotation_deg_xyz_zyx_order": g.rotation_deg,
        "translation_mm": g.translation, "threshold": g.threshold, "projection_angle_deg": g.projection_angle_deg,
        "raw_units": "sum of alpha steps x (intensity - threshold); alpha = fraction of the source-to-detector-point vector",
        "raw_layout": "rows as ITK stores them (before the tool's vertical flip)",
        "png": "the tool's output: short (truncated) image rescaled min-max to 0-255 (truncated), flipped vertically",
    })
}

/// One ray, in the class's arithmetic: `f32` locals, `f64` coordinates and spacings where ITK has them.
fn ray(ct: &Volume<f32>, dims: [usize; 3], sp: [f64; 3], s: [f64; 3], p: [f64; 3], threshold: f64) -> f32 {
    let ray: [f32; 3] = std::array::from_fn(|i| (p[i] - s[i]) as f32);
    let mut amin = [0f32; 3];
    let mut amax = [0f32; 3];
    for i in 0..3 {
        if ray[i] != 0.0 {
            let a1 = ((0.0 - s[i]) / ray[i] as f64) as f32;
            let an = ((dims[i] as f64 * sp[i] - s[i]) / ray[i] as f64) as f32;
            amin[i] = a1.min(an);
            amax[i] = a1.max(an);
        } else {
            amin[i] = -2.0;
            amax[i] = 2.0;
        }
    }
    let alpha_min = amin[0].max(amin[1]).max(amin[2]);
    let alpha_max = amax[0].min(amax[1]).min(amax[2]);
    // `alphaMin * rayVector` is a float product in ITK, added to a double coordinate.
    let first: [f32; 3] = std::array::from_fn(|i| (s[i] + (alpha_min * ray[i]) as f64) as f32);
    let first_index: [f32; 3] = std::array::from_fn(|i| (first[i] as f64 / sp[i]) as f32);
    let up: [i64; 3] = std::array::from_fn(|i| first_index[i].ceil() as i64);
    let down: [i64; 3] = std::array::from_fn(|i| first_index[i].floor() as i64);
    let mut next = [2f32; 3];
    let mut step = [999f32; 3];
    let mut dir = [0i64; 3];
    for i in 0..3 {
        if ray[i] != 0.0 {
            let a_up = ((up[i] as f64 * sp[i] - s[i]) / ray[i] as f64) as f32;
            let a_down = ((down[i] as f64 * sp[i] - s[i]) / ray[i] as f64) as f32;
            next[i] = a_up.max(a_down);
            step[i] = (sp[i] / (ray[i] as f64).abs()) as f32;
        }
        dir[i] = if s[i] < p[i] { 1 } else { -1 };
    }
    let mut d12 = 0f32;
    let mut alpha = next[0].min(next[1]).min(next[2]);
    let mut idx = down;
    while alpha < alpha_max {
        let prev = alpha;
        let axis = if next[0] <= next[1] && next[0] <= next[2] {
            0
        } else if next[1] <= next[0] && next[1] <= next[2] {
            1
        } else {
            2
        };
        alpha = next[axis];
        idx[axis] += dir[axis];
        next[axis] += step[axis];
        if (0..3).all(|i| idx[i] >= 0 && (idx[i] as usize) < dims[i]) {
            let value = ct.get(idx[0] as usize, idx[1] as usize, idx[2] as usize);
            if value as f64 > threshold {
                d12 = (d12 as f64 + ((alpha - prev) as f64) * (value as f64 - threshold)) as f32;
            }
        }
    }
    d12
}

/// The tool's `short` output: ITK casts the interpolated value to the pixel type (truncation toward zero,
/// clamped to the 16-bit range).
pub fn to_short(raw: &[f32]) -> Vec<i16> {
    raw.iter().map(|&v| v.clamp(i16::MIN as f32, i16::MAX as f32) as i16).collect()
}

/// The tool's PNG: minimum–maximum rescale of the `short` image to 0–255 as ITK's `RescaleIntensityImageFilter`
/// does it (`v · factor + offset` in double precision, then a truncating cast), then a vertical flip. `size` is
/// `[width, height]`.
pub fn to_png_u8(short: &[i16], size: [usize; 2]) -> Vec<u8> {
    let (lo, hi) = short.iter().fold((i16::MAX, i16::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    let factor = if hi > lo { 255.0 / (hi as f64 - lo as f64) } else { 0.0 };
    let offset = -(lo as f64) * factor;
    let [w, h] = size;
    let mut out = vec![0u8; w * h];
    for row in 0..h {
        for col in 0..w {
            let v = short[row * w + col];
            let y = (v as f64 * factor + offset).clamp(0.0, 255.0) as u8;
            out[(h - 1 - row) * w + col] = y;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube(n: usize, spacing: f64, value: f32) -> Volume<f32> {
        let mut affine = [[0.0; 4]; 4];
        for (i, row) in affine.iter_mut().enumerate() {
            row[i] = if i < 3 { spacing } else { 1.0 };
        }
        Volume { dims: [n; 3], data: vec![value; n * n * n], affine, source: None }
    }

    #[test]
    fn central_ray_of_a_uniform_cube_is_its_chord_over_the_ray_length() {
        // 100 mm cube (50 voxels of 2 mm) of value 400: threshold −100 → 500 per unit α. The central ray runs
        // along y through the centre (|ray| = scd = 1000 mm). It enters on a plane, so its first step has zero
        // length and already advances the index; each later 2 mm segment is weighted by the voxel after its
        // crossing, and the exit segment samples outside: 48 segments count, 96 mm.
        let ct = cube(50, 2.0, 400.0);
        let g =
            DrrRateGeometry { size: [3, 3], spacing: [1.0, 1.0], translation: [0.0; 3], ..DrrRateGeometry::frontal() };
        let img = render(&ct, &g);
        let expected = 96.0 / 1000.0 * 500.0;
        assert!((img[4] - expected).abs() < 1e-3, "{} vs {expected}", img[4]);
        // Below the threshold nothing counts.
        let air = cube(50, 2.0, -500.0);
        assert_eq!(render(&air, &g)[4], 0.0);
    }

    #[test]
    fn lateral_view_turns_the_volume_about_z() {
        // A bar along x, 12 mm square in y and z (rays along voxel boundaries may flip an index by rounding, as
        // in ITK): seen frontally (ray along y) the path through it is short; laterally (along x), long.
        let mut ct = cube(40, 2.0, -1000.0);
        for i in 0..40 {
            for j in 17..23 {
                for k in 17..23 {
                    let at = ct.index(i, j, k);
                    ct.data[at] = 900.0;
                }
            }
        }
        let small =
            |g: DrrRateGeometry| DrrRateGeometry { size: [5, 5], spacing: [0.1, 0.1], translation: [0.0; 3], ..g };
        let front = render(&ct, &small(DrrRateGeometry::frontal()))[12];
        let side = render(&ct, &small(DrrRateGeometry::lateral()))[12];
        // d is in mm here (900 − (−100) = 1000 per unit α, |ray| = 1000 mm): 12 mm less ITK's lost voxel vs 80 mm.
        assert!((front - 10.0).abs() < 2.1 && (side - 76.0).abs() < 2.1, "frontal {front}, lateral {side}");
    }

    #[test]
    fn short_and_png_outputs_truncate_rescale_and_flip() {
        assert_eq!(to_short(&[1.9, -1.9, 40000.0]), [1, -1, i16::MAX]);
        // 2 × 2: rows [0, 10] and [20, 40] → rescaled (truncating: 10 · 255/40 = 63.75 → 63) and flipped.
        assert_eq!(to_png_u8(&[0, 10, 20, 40], [2, 2]), [127, 255, 0, 63]);
    }
}
