//! Streaming passes over saliency maps: four-lane sums, one-pass summaries and a branch-free logarithm.
//!
//! Every metric is a few passes over the maps, with no per-map buffers: a 224² map is 400 kB, and allocating a
//! normalised copy per metric made the kernel's page clearing a fifth of the time. Sums run in four
//! interleaved lanes so that they vectorise; the lane order is fixed, so results do not depend on the machine.

/// `Σ f(x)` over `v` in four fixed lanes.
pub(super) fn sum_by(v: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = v.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            acc[k] += f(c[k]);
        }
    }
    rest.iter().fold((acc[0] + acc[1]) + (acc[2] + acc[3]), |s, &x| s + f(x))
}

/// One pass over a map: extremes (NaN ignored, as `f64::min`/`max` do; (∞, −∞) for an empty map) and sum.
#[derive(Debug, Clone, Copy)]
pub(super) struct Extremes {
    pub lo: f64,
    pub hi: f64,
    pub sum: f64,
    pub len: usize,
}

impl Extremes {
    pub fn mean(&self) -> f64 {
        self.sum / self.len as f64
    }
}

pub(super) fn extremes(v: &[f64]) -> Extremes {
    let (mut lo, mut hi, mut acc) = ([f64::INFINITY; 4], [f64::NEG_INFINITY; 4], [0.0f64; 4]);
    let chunks = v.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            lo[k] = if c[k] < lo[k] { c[k] } else { lo[k] };
            hi[k] = if c[k] > hi[k] { c[k] } else { hi[k] };
            acc[k] += c[k];
        }
    }
    let (mut l, mut h) = (lo[0].min(lo[1]).min(lo[2].min(lo[3])), hi[0].max(hi[1]).max(hi[2].max(hi[3])));
    let mut sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for &x in rest {
        l = l.min(x);
        h = h.max(x);
        sum += x;
    }
    Extremes { lo: l, hi: h, sum, len: v.len() }
}

/// `Σ (x − mean)²` (in the same lanes as [`pair_sums`] computes it, so both give the same number).
pub(super) fn centred_squares(v: &[f64], e: &Extremes) -> f64 {
    let mean = e.mean();
    sum_by(v, |x| (x - mean) * (x - mean))
}

/// The second pass over a pair of maps `s`, `g`: everything CC, SIM and KLD need once the extremes and sums
/// are known.
#[derive(Debug, Clone, Copy)]
pub(super) struct PairSums {
    /// `Σ (s − s̄)²`, `Σ (g − ḡ)²`, `Σ (s − s̄)(g − ḡ)`.
    pub squares_s: f64,
    pub squares_g: f64,
    pub cross: f64,
    /// `Σ (s − min s)`, `Σ (g − min g)`.
    pub above_min_s: f64,
    pub above_min_g: f64,
    /// `Σ G' ln(ε + G'/(S' + ε))` with both maps divided by their sums (only when `KLD`; 0 otherwise).
    pub kld: f64,
}

pub(super) fn pair_sums<const KLD: bool>(s: &[f64], g: &[f64], es: &Extremes, eg: &Extremes) -> PairSums {
    use super::EPS;
    let n = s.len().min(g.len());
    let (s, g) = (&s[..n], &g[..n]);
    let (ms, mg, ls, lg) = (es.mean(), eg.mean(), es.lo, eg.lo);
    let (rs, rg) = (1.0 / es.sum, 1.0 / eg.sum);
    let mut acc = [[0.0f64; 4]; 6];
    for (cs, cg) in s.chunks_exact(4).zip(g.chunks_exact(4)) {
        let (mut weight, mut ratio) = ([0.0; 4], [1.0; 4]);
        for k in 0..4 {
            let (x, y) = (cs[k] - ms, cg[k] - mg);
            acc[0][k] += x * x;
            acc[1][k] += y * y;
            acc[2][k] += x * y;
            acc[3][k] += cs[k] - ls;
            acc[4][k] += cg[k] - lg;
            if KLD {
                weight[k] = cg[k] * rg;
                ratio[k] = EPS + weight[k] / (cs[k] * rs + EPS);
            }
        }
        if KLD {
            let logs = ln4(ratio);
            for k in 0..4 {
                acc[5][k] += weight[k] * logs[k];
            }
        }
    }
    let mut out = acc.map(|l| (l[0] + l[1]) + (l[2] + l[3]));
    let tail = n - n % 4;
    for (&a, &b) in s[tail..].iter().zip(&g[tail..]) {
        let (x, y) = (a - ms, b - mg);
        out[0] += x * x;
        out[1] += y * y;
        out[2] += x * y;
        out[3] += a - ls;
        out[4] += b - lg;
        if KLD {
            let weight = b * rg;
            out[5] += weight * ln4([EPS + weight / (a * rs + EPS); 4])[0];
        }
    }
    PairSums {
        squares_s: out[0],
        squares_g: out[1],
        cross: out[2],
        above_min_s: out[3],
        above_min_g: out[4],
        kld: out[5],
    }
}

/// `Σ f(a, b)` for `K` quantities at once, in four fixed lanes each (stops at the shorter map).
pub(super) fn sums_of_pairs<const K: usize>(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> [f64; K]) -> [f64; K] {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [[0.0f64; 4]; K];
    for (ca, cb) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for k in 0..4 {
            let v = f(ca[k], cb[k]);
            for q in 0..K {
                acc[q][k] += v[q];
            }
        }
    }
    let mut out = acc.map(|l| (l[0] + l[1]) + (l[2] + l[3]));
    let tail = n - n % 4;
    for (&x, &y) in a[tail..].iter().zip(&b[tail..]) {
        let v = f(x, y);
        for q in 0..K {
            out[q] += v[q];
        }
    }
    out
}

/// Natural logarithms of four numbers with errors below one unit in the last place, by fdlibm's method
/// (`e_log.c`: reduce to `2^k·m` with `m` in [√½, √2), then `ln m = 2 atanh(f/(2+f))` by its minimax
/// polynomial in `s²`). Branch-free for positive normal finite numbers, so the four lanes vectorise; anything
/// else (zero, subnormal, negative, infinite, NaN) goes to `f64::ln`.
// The constants are written as fdlibm publishes them (more digits than a double holds).
#[allow(clippy::excessive_precision)]
#[inline(always)]
pub(super) fn ln4(x: [f64; 4]) -> [f64; 4] {
    if !x.iter().all(|&v| (f64::MIN_POSITIVE..f64::INFINITY).contains(&v)) {
        return x.map(f64::ln);
    }
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    const LG: [f64; 7] = [
        6.666_666_666_666_735_130e-01,
        3.999_999_999_940_941_908e-01,
        2.857_142_874_366_239_149e-01,
        2.222_219_843_214_978_396e-01,
        1.818_357_216_161_805_012e-01,
        1.531_383_769_920_937_332e-01,
        1.479_819_860_511_658_591e-01,
    ];
    // Shift the exponent so that mantissas from √½ (0x3fe6a09e…) upwards land in [√½, √2).
    const SQRT_HALF_HIGH: u64 = 0x3fe6_a09e_0000_0000;
    // 2^52 + e as a double, for converting the biased exponent e without an integer conversion.
    const TWO_52: u64 = 0x4330_0000_0000_0000;
    let mut out = [0.0; 4];
    for i in 0..4 {
        let shifted = x[i].to_bits() + (0x3ff0_0000_0000_0000 - SQRT_HALF_HIGH);
        let k = f64::from_bits((shifted >> 52) | TWO_52) - (4_503_599_627_370_496.0 + 1023.0);
        let m = f64::from_bits((shifted & 0x000f_ffff_ffff_ffff) + SQRT_HALF_HIGH);
        let f = m - 1.0;
        let half_f2 = 0.5 * f * f;
        let s = f / (2.0 + f);
        let z = s * s;
        let w = z * z;
        let even = w * (LG[1] + w * (LG[3] + w * LG[5]));
        let odd = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
        out[i] = s * (half_f2 + (odd + even)) + k * LN2_LO - half_f2 + f + k * LN2_HI;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logarithm_is_within_one_ulp_of_libm() {
        let ln = |x: f64| ln4([x, 1.5, 2.5, 3.5])[0];
        let ulps = |a: f64, b: f64| (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs();
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut checked = 0;
        for e in -1074..1024 {
            for _ in 0..200 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let x = 2f64.powi(e) * (1.0 + (state >> 11) as f64 / (1u64 << 53) as f64);
                if x.is_finite() && x > 0.0 {
                    assert!(ulps(ln(x), x.ln()) <= 1, "ln({x:e}) = {} vs {}", ln(x), x.ln());
                    checked += 1;
                }
            }
        }
        assert!(checked > 400_000);
        for x in [
            1.0,
            1.0 + f64::EPSILON,
            1.0 - f64::EPSILON / 2.0,
            std::f64::consts::FRAC_1_SQRT_2,
            std::f64::consts::SQRT_2,
            crate::saliency::EPS,
        ] {
            assert!(ulps(ln(x), x.ln()) <= 1, "ln({x:e})");
        }
        assert!(ln(0.0) == f64::NEG_INFINITY && ln(-1.0).is_nan() && ln(f64::NAN).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
    }
    #[test]
    fn summaries_match_plain_loops() {
        let v: Vec<f64> = (0..1003).map(|i| ((i * 37) % 101) as f64 / 7.0 - 3.0).collect();
        let g: Vec<f64> = (0..1003).map(|i| ((i * 53) % 89) as f64 / 89.0 + 0.5).collect();
        let (e, eg) = (extremes(&v), extremes(&g));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert_eq!((e.lo, e.hi, e.len), (-3.0, 100.0 / 7.0 - 3.0, 1003));
        assert!((e.mean() - mean).abs() < 1e-13);
        let ss: f64 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
        assert!((centred_squares(&v, &e) - ss).abs() < 1e-9 * ss);
        assert_eq!(extremes(&[f64::NAN, 1.0]).lo, 1.0);
        // The fused pass gives bit-identical squares, with or without the KLD term.
        let (with, without) = (pair_sums::<true>(&v, &g, &e, &eg), pair_sums::<false>(&v, &g, &e, &eg));
        assert_eq!(with.squares_s, centred_squares(&v, &e));
        assert_eq!(with.squares_g, centred_squares(&g, &eg));
        assert_eq!((with.cross, without.kld), (without.cross, 0.0));
        let above: f64 = v.iter().map(|x| x + 3.0).sum();
        assert!((with.above_min_s - above).abs() < 1e-9 * above);
    }
}
