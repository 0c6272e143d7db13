//! A 3-D scalar volume with its geometry.

/// A 4×4 affine: world millimetres from voxel indices `(i, j, k, 1)`.
pub type Affine = [[f64; 4]; 4];

/// A volume of voxels in i-fastest order (`index = i + nx·(j + ny·k)`), with the affine that places voxel
/// centres (integer `ijk`) in world millimetres, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume<T> {
    pub dims: [usize; 3],
    pub data: Vec<T>,
    pub affine: Affine,
    /// The file it was read from, for provenance.
    pub source: Option<String>,
}

impl<T: Copy> Volume<T> {
    /// Linear index of voxel `(i, j, k)`.
    #[inline]
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.dims[0] * (j + self.dims[1] * k)
    }

    /// The voxel at `(i, j, k)`.
    #[inline]
    pub fn get(&self, i: usize, j: usize, k: usize) -> T {
        self.data[self.index(i, j, k)]
    }

    /// Voxel spacing (mm): the lengths of the affine's columns.
    pub fn spacing(&self) -> [f64; 3] {
        std::array::from_fn(|c| (0..3).map(|r| self.affine[r][c].powi(2)).sum::<f64>().sqrt())
    }

    /// The same geometry with other voxel values.
    pub fn map<U>(&self, f: impl FnMut(&T) -> U) -> Volume<U> {
        Volume {
            dims: self.dims,
            data: self.data.iter().map(f).collect(),
            affine: self.affine,
            source: self.source.clone(),
        }
    }

    /// Whether `other` lies on the same voxel grid (dimensions and affine within 1e-4 mm).
    pub fn same_grid<U>(&self, other: &Volume<U>) -> bool {
        self.dims == other.dims
            && self.affine.iter().flatten().zip(other.affine.iter().flatten()).all(|(a, b)| (a - b).abs() <= 1e-4)
    }
}

/// Inverse of an affine (rotation/scale/shear part inverted, translation accordingly); `None` if singular.
pub fn invert_affine(a: &Affine) -> Option<Affine> {
    let m = [[a[0][0], a[0][1], a[0][2]], [a[1][0], a[1][1], a[1][2]], [a[2][0], a[2][1], a[2][2]]];
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if det.abs() < 1e-12 || !det.is_finite() {
        return None;
    }
    let c = |r: usize, col: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (c1, c2) = ((col + 1) % 3, (col + 2) % 3);
        m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]
    };
    let mut inv = [[0.0; 4]; 4];
    for r in 0..3 {
        for col in 0..3 {
            inv[r][col] = c(col, r) / det;
        }
    }
    for r in 0..3 {
        inv[r][3] = -(0..3).map(|k| inv[r][k] * a[k][3]).sum::<f64>();
    }
    inv[3][3] = 1.0;
    Some(inv)
}

/// `a · (x, y, z, 1)`.
#[inline]
pub fn apply_affine(a: &Affine, p: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|r| a[r][0] * p[0] + a[r][1] * p[1] + a[r][2] * p[2] + a[r][3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_round_trips() {
        let a: Affine =
            [[-0.7, 0.1, 0.0, 166.0], [0.0, 0.7, 0.2, -187.0], [0.05, 0.0, 2.5, -340.0], [0.0, 0.0, 0.0, 1.0]];
        let inv = invert_affine(&a).unwrap();
        let p = [10.0, -3.0, 7.5];
        let q = apply_affine(&inv, apply_affine(&a, p));
        for k in 0..3 {
            assert!((p[k] - q[k]).abs() < 1e-9);
        }
        let singular: Affine = [[1.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
        assert!(invert_affine(&singular).is_none());
    }

    #[test]
    fn indexing_and_spacing() {
        let v = Volume {
            dims: [2, 3, 4],
            data: (0..24).collect::<Vec<i32>>(),
            affine: [[-2.0, 0.0, 0.0, 0.0], [0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 5.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
            source: None,
        };
        assert_eq!(v.get(1, 2, 3), 1 + 2 * 2 + 6 * 3);
        assert_eq!(v.spacing(), [2.0, 3.0, 5.0]);
        assert!(v.same_grid(&v.map(|x| *x as f32)));
    }
}
