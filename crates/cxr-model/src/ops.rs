//! The operators of the built-in runtime (ONNX operator semantics, opsets 7–21, default domain), enough for
//! the CNN classifiers and segmenters torch exports: convolutions as im2col + GEMM (`matrixmultiply` through
//! `ndarray`), pooling, normalisation, activations, broadcasting arithmetic and the shape operators that
//! `torch.onnx.export` emits around `flatten`/`view`.

use crate::onnx::{Attr, Node};
use crate::tensor::{strides, Data, Tensor};
use crate::ModelError;
use ndarray::{linalg::general_mat_mul, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

fn err(node: &Node, msg: impl std::fmt::Display) -> ModelError {
    ModelError::Op { op: node.op.clone(), node: node.name.clone(), problem: msg.to_string() }
}

fn input<'a>(node: &Node, ins: &'a [Option<&'a Tensor>], i: usize) -> Result<&'a Tensor, ModelError> {
    ins.get(i).copied().flatten().ok_or_else(|| err(node, format!("input {i} is missing")))
}

fn floats<'a>(node: &Node, t: &'a Tensor) -> Result<&'a [f32], ModelError> {
    t.as_f32().ok_or_else(|| err(node, "expected a float tensor"))
}

fn axis(node: &Node, a: i64, rank: usize) -> Result<usize, ModelError> {
    let r = rank as i64;
    let a = if a < 0 { a + r } else { a };
    if (0..r.max(1)).contains(&a) {
        Ok(a as usize)
    } else {
        Err(err(node, format!("axis {a} is out of range for rank {rank}")))
    }
}

/// `c (m×n) = a (m×k) · b (k×n)` on strided views. Large products are split across the threads along the
/// columns (or, when there are few, the rows); every output element sees the same arithmetic either way, so
/// results do not depend on the thread count.
fn matmul_into(a: ArrayView2<f32>, b: ArrayView2<f32>, mut c: ArrayViewMut2<f32>) {
    let threads = rayon::current_num_threads();
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    if threads > 1 && m * n * k >= 1 << 18 {
        if n >= 32 * threads {
            let chunk = n.div_ceil(threads).next_multiple_of(16);
            let b_chunks: Vec<ArrayView2<f32>> = b.axis_chunks_iter(Axis(1), chunk).collect();
            let c_chunks: Vec<ArrayViewMut2<f32>> = c.axis_chunks_iter_mut(Axis(1), chunk).collect();
            c_chunks.into_par_iter().zip(b_chunks).for_each(|(mut cc, bc)| general_mat_mul(1.0, &a, &bc, 0.0, &mut cc));
            return;
        }
        if m >= 16 * threads {
            let chunk = m.div_ceil(threads).next_multiple_of(8);
            let a_chunks: Vec<ArrayView2<f32>> = a.axis_chunks_iter(Axis(0), chunk).collect();
            let c_chunks: Vec<ArrayViewMut2<f32>> = c.axis_chunks_iter_mut(Axis(0), chunk).collect();
            c_chunks.into_par_iter().zip(a_chunks).for_each(|(mut cc, ac)| general_mat_mul(1.0, &ac, &b, 0.0, &mut cc));
            return;
        }
    }
    general_mat_mul(1.0, &a, &b, 0.0, &mut c);
}

fn shape_err(node: &Node, e: ndarray::ShapeError) -> ModelError {
    err(node, format!("internal shape error: {e}"))
}

/// Operators that can overwrite their first input when nothing else reads it (saves a copy per layer).
pub fn runs_in_place(op: &str) -> bool {
    matches!(op, "Relu" | "LeakyRelu" | "Sigmoid" | "Tanh" | "BatchNormalization")
}

/// Runs an in-place operator ([`runs_in_place`]) on an owned first input; `rest` are the other inputs.
pub fn run_in_place(node: &Node, mut x: Tensor, rest: &[Option<&Tensor>]) -> Result<Tensor, ModelError> {
    let Data::F32(v) = &mut x.data else { return Err(err(node, "expected a float tensor")) };
    let map = |v: &mut Vec<f32>, f: &(dyn Fn(f32) -> f32 + Sync)| {
        v.par_chunks_mut(1 << 14).for_each(|c| c.iter_mut().for_each(|x| *x = f(*x)))
    };
    match node.op.as_str() {
        "Relu" => map(v, &|x| x.max(0.0)),
        "LeakyRelu" => {
            let a = node.float("alpha", 0.01);
            map(v, &|x| if x < 0.0 { a * x } else { x })
        }
        "Sigmoid" => map(v, &|x| 1.0 / (1.0 + (-x).exp())),
        "Tanh" => map(v, &f32::tanh),
        "BatchNormalization" => {
            let p: Vec<&[f32]> =
                (0..4).map(|i| input(node, rest, i).and_then(|t| floats(node, t))).collect::<Result<_, _>>()?;
            batch_norm_apply(node, &x.shape.clone(), v, p[0], p[1], p[2], p[3])?;
        }
        other => return Err(err(node, format!("{other} does not run in place"))),
    }
    Ok(x)
}

/// Runs one node on its inputs (`None` for omitted optional inputs); returns its outputs in order.
pub fn run(node: &Node, ins: &[Option<&Tensor>], opset: i64) -> Result<Vec<Tensor>, ModelError> {
    let x = || input(node, ins, 0);
    let unary = |f: &(dyn Fn(f32) -> f32 + Sync)| -> Result<Vec<Tensor>, ModelError> {
        let t = x()?;
        let v = floats(node, t)?;
        let out: Vec<f32> = if v.len() >= 1 << 16 {
            v.par_chunks(1 << 14).flat_map_iter(|c| c.iter().map(|&x| f(x))).collect()
        } else {
            v.iter().map(|&x| f(x)).collect()
        };
        Ok(vec![Tensor::float(t.shape.clone(), out)])
    };
    match node.op.as_str() {
        "Conv" => conv(node, ins).map(|t| vec![t]),
        "ConvTranspose" => conv_transpose(node, ins).map(|t| vec![t]),
        "Resize" | "Upsample" => resize(node, ins, opset).map(|t| vec![t]),
        "BatchNormalization" => batch_norm(node, ins).map(|t| vec![t]),
        "Relu" => unary(&|v| v.max(0.0)),
        "LeakyRelu" => {
            let a = node.float("alpha", 0.01);
            unary(&|v| if v < 0.0 { a * v } else { v })
        }
        "Sigmoid" => unary(&|v| 1.0 / (1.0 + (-v).exp())),
        "Tanh" => unary(&f32::tanh),
        "Exp" => unary(&f32::exp),
        "Sqrt" => unary(&f32::sqrt),
        "Neg" => unary(&|v| -v),
        "Abs" => unary(&f32::abs),
        "Clip" => {
            let bound = |i: usize, attr: &str, default: f32| -> Result<f32, ModelError> {
                match ins.get(i).copied().flatten() {
                    Some(t) => t.to_f32().first().copied().ok_or_else(|| err(node, "empty clip bound")),
                    None => Ok(node.float(attr, default)),
                }
            };
            let (lo, hi) = (bound(1, "min", f32::NEG_INFINITY)?, bound(2, "max", f32::INFINITY)?);
            unary(&|v| v.max(lo).min(hi))
        }
        "Identity" | "Dropout" => Ok(vec![x()?.clone()]),
        "MaxPool" | "AveragePool" => pool(node, x()?).map(|t| vec![t]),
        "GlobalAveragePool" | "GlobalMaxPool" => global_pool(node, x()?).map(|t| vec![t]),
        "Concat" => concat(node, ins).map(|t| vec![t]),
        "Flatten" => {
            let t = x()?;
            let a = axis(node, node.int("axis", 1), t.shape.len() + 1)?;
            let outer: usize = t.shape[..a].iter().product();
            Ok(vec![Tensor { shape: vec![outer, t.len() / outer.max(1)], data: t.data.clone() }])
        }
        "Gemm" => gemm(node, ins).map(|t| vec![t]),
        "MatMul" => matmul(node, ins).map(|t| vec![t]),
        "Add" | "Sub" | "Mul" | "Div" => binary(node, input(node, ins, 0)?, input(node, ins, 1)?).map(|t| vec![t]),
        "Softmax" => softmax(node, x()?, opset).map(|t| vec![t]),
        "Reshape" => reshape(node, x()?, input(node, ins, 1)?).map(|t| vec![t]),
        "Transpose" => transpose(node, x()?).map(|t| vec![t]),
        "Shape" => {
            let t = x()?;
            Ok(vec![Tensor::int(vec![t.shape.len()], t.shape.iter().map(|&d| d as i64).collect())])
        }
        "Gather" => gather(node, x()?, input(node, ins, 1)?).map(|t| vec![t]),
        "Unsqueeze" | "Squeeze" => squeeze(node, ins, opset).map(|t| vec![t]),
        "Constant" => match node.attrs.get("value") {
            Some(Attr::Tensor(t)) => Ok(vec![t.clone()]),
            _ => match (node.attrs.get("value_float"), node.attrs.get("value_ints")) {
                (Some(Attr::Float(f)), _) => Ok(vec![Tensor::float(vec![], vec![*f])]),
                (_, Some(Attr::Ints(v))) => Ok(vec![Tensor::int(vec![v.len()], v.clone())]),
                _ => Err(err(node, "a Constant without a supported value")),
            },
        },
        "ReduceMean" => reduce_mean(node, ins, opset).map(|t| vec![t]),
        other => Err(ModelError::Unsupported(format!("operator {other} (node {:?})", node.name))),
    }
}

fn conv(node: &Node, ins: &[Option<&Tensor>]) -> Result<Tensor, ModelError> {
    let (x, w) = (input(node, ins, 0)?, input(node, ins, 1)?);
    let bias = ins.get(2).copied().flatten().map(|b| floats(node, b)).transpose()?;
    if x.shape.len() != 4 || w.shape.len() != 4 {
        return Err(err(
            node,
            format!("only 2-D convolutions are supported (input {:?}, weight {:?})", x.shape, w.shape),
        ));
    }
    if node.string("auto_pad").is_some_and(|p| p != "NOTSET") {
        return Err(err(node, "auto_pad is not supported; export with explicit pads"));
    }
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let (k, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
    if kh == 0 || kw == 0 {
        return Err(err(node, format!("empty kernel {:?}", w.shape)));
    }
    let group = node.int("group", 1).max(1) as usize;
    if cg * group != c || k % group != 0 {
        return Err(err(node, format!("{c} input channels do not fit weight {:?} in {group} groups", w.shape)));
    }
    let st = node.ints("strides").map(|v| v.to_vec()).unwrap_or(vec![1, 1]);
    let dl = node.ints("dilations").map(|v| v.to_vec()).unwrap_or(vec![1, 1]);
    let pd = node.ints("pads").map(|v| v.to_vec()).unwrap_or(vec![0; 4]);
    if st.len() != 2
        || dl.len() != 2
        || pd.len() != 4
        || st.iter().chain(&dl).any(|&v| v < 1)
        || pd.iter().any(|&p| p < 0)
    {
        return Err(err(node, "bad strides, dilations or pads"));
    }
    let (sh, sw, dh, dw) = (st[0] as usize, st[1] as usize, dl[0] as usize, dl[1] as usize);
    let (pt, pl, pb, pr) = (pd[0] as usize, pd[1] as usize, pd[2] as usize, pd[3] as usize);
    let ekh = dh * (kh - 1) + 1;
    let ekw = dw * (kw - 1) + 1;
    if h + pt + pb < ekh || wd + pl + pr < ekw {
        return Err(err(node, format!("the kernel {kh}×{kw} is larger than the padded input {h}×{wd}")));
    }
    let oh = (h + pt + pb - ekh) / sh + 1;
    let ow = (wd + pl + pr - ekw) / sw + 1;
    let xs = floats(node, x)?;
    let ws = floats(node, w)?;
    let kg = k / group;
    let rows = cg * kh * kw;
    let cols = oh * ow;
    let direct = kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt + pl + pb + pr == 0;
    let mut out = vec![0f32; n * k * cols];
    // The im2col buffer is reused across layers (im2col writes every element, so it needs no clearing).
    let mut scratch = SCRATCH.with(|c| c.try_borrow_mut().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default());
    if !direct && scratch.len() < rows * cols {
        scratch.resize(rows * cols, 0.0);
    }
    let col = &mut scratch[..if direct { 0 } else { rows * cols }];
    for b in 0..n {
        for g in 0..group {
            let xin = &xs[(b * c + g * cg) * h * wd..(b * c + (g + 1) * cg) * h * wd];
            let src: &[f32] = if direct {
                xin
            } else {
                im2col(xin, cg, h, wd, kh, kw, (sh, sw), (dh, dw), (pt, pl), (oh, ow), col);
                col
            };
            let a = ArrayView2::from_shape((kg, rows), &ws[g * kg * rows..(g + 1) * kg * rows])
                .map_err(|e| shape_err(node, e))?;
            let bm = ArrayView2::from_shape((rows, cols), src).map_err(|e| shape_err(node, e))?;
            let o = &mut out[(b * k + g * kg) * cols..(b * k + (g + 1) * kg) * cols];
            let cm = ArrayViewMut2::from_shape((kg, cols), o).map_err(|e| shape_err(node, e))?;
            matmul_into(a, bm, cm);
        }
        if let Some(bias) = bias {
            for (ch, plane) in out[b * k * cols..(b + 1) * k * cols].chunks_mut(cols).enumerate() {
                let v = bias[ch];
                plane.iter_mut().for_each(|p| *p += v);
            }
        }
    }
    SCRATCH.with(|c| {
        if let Ok(mut v) = c.try_borrow_mut() {
            if v.len() < scratch.len() {
                *v = scratch;
            }
        }
    });
    Ok(Tensor::float(vec![n, k, oh, ow], out))
}

thread_local! {
    /// Per-thread im2col buffer (taken while a convolution runs, so nested use just allocates afresh).
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[allow(clippy::too_many_arguments)]
fn im2col(
    x: &[f32],
    c: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    (sh, sw): (usize, usize),
    (dh, dw): (usize, usize),
    (pt, pl): (usize, usize),
    (oh, ow): (usize, usize),
    col: &mut [f32],
) {
    let cols = oh * ow;
    col[..c * kh * kw * cols].par_chunks_mut(kh * kw * cols).enumerate().for_each(|(ci, rows)| {
        let plane = &x[ci * h * w..(ci + 1) * h * w];
        for ki in 0..kh {
            for kj in 0..kw {
                let row = &mut rows[(ki * kw + kj) * cols..(ki * kw + kj + 1) * cols];
                for oy in 0..oh {
                    let iy = (oy * sh + ki * dh) as isize - pt as isize;
                    let dst = &mut row[oy * ow..(oy + 1) * ow];
                    if iy < 0 || iy >= h as isize {
                        dst.fill(0.0);
                        continue;
                    }
                    let src = &plane[iy as usize * w..(iy as usize + 1) * w];
                    let off = (kj * dw) as isize - pl as isize;
                    if sw == 1 {
                        // A shifted copy of the input row, zero where it falls outside.
                        let lo = (-off).clamp(0, ow as isize) as usize;
                        let hi = (w as isize - off).clamp(lo as isize, ow as isize) as usize;
                        dst[..lo].fill(0.0);
                        dst[lo..hi].copy_from_slice(&src[(lo as isize + off) as usize..(hi as isize + off) as usize]);
                        dst[hi..].fill(0.0);
                    } else {
                        for (ox, d) in dst.iter_mut().enumerate() {
                            let ix = (ox * sw) as isize + off;
                            *d = if ix < 0 || ix >= w as isize { 0.0 } else { src[ix as usize] };
                        }
                    }
                }
            }
        }
    });
}

/// Transposed 2-D convolution (the up-sampling layers of U-Nets): GEMM to columns, then col2im.
fn conv_transpose(node: &Node, ins: &[Option<&Tensor>]) -> Result<Tensor, ModelError> {
    let (x, w) = (input(node, ins, 0)?, input(node, ins, 1)?);
    let bias = ins.get(2).copied().flatten().map(|b| floats(node, b)).transpose()?;
    if x.shape.len() != 4 || w.shape.len() != 4 {
        return Err(err(
            node,
            format!("only 2-D transposed convolutions are supported ({:?}, {:?})", x.shape, w.shape),
        ));
    }
    if node.ints("output_shape").is_some() || node.string("auto_pad").is_some_and(|p| p != "NOTSET") {
        return Err(err(node, "output_shape and auto_pad are not supported; export with explicit pads"));
    }
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let group = node.int("group", 1).max(1) as usize;
    let (cw, mg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
    if h == 0 || wd == 0 || kh == 0 || kw == 0 {
        return Err(err(node, format!("empty input {:?} or kernel {:?}", x.shape, w.shape)));
    }
    if cw != c || c % group != 0 {
        return Err(err(node, format!("{c} input channels do not fit weight {:?} in {group} groups", w.shape)));
    }
    let get = |name: &str, default: Vec<i64>| node.ints(name).map(|v| v.to_vec()).unwrap_or(default);
    let (st, dl, pd, op) = (
        get("strides", vec![1, 1]),
        get("dilations", vec![1, 1]),
        get("pads", vec![0; 4]),
        get("output_padding", vec![0, 0]),
    );
    if st.len() != 2
        || dl.len() != 2
        || pd.len() != 4
        || op.len() != 2
        || st.iter().chain(&dl).any(|&v| v < 1)
        || pd.iter().chain(&op).any(|&v| v < 0)
    {
        return Err(err(node, "bad strides, dilations, pads or output_padding"));
    }
    let (sh, sw, dh, dw) = (st[0] as usize, st[1] as usize, dl[0] as usize, dl[1] as usize);
    let (pt, pl, pb, pr) = (pd[0] as isize, pd[1] as isize, pd[2] as isize, pd[3] as isize);
    let full_h = ((h - 1) * sh + dh * (kh - 1) + 1 + op[0] as usize) as isize;
    let full_w = ((wd - 1) * sw + dw * (kw - 1) + 1 + op[1] as usize) as isize;
    let (oh, ow) = (full_h - pt - pb, full_w - pl - pr);
    if oh < 1 || ow < 1 {
        return Err(err(node, "the padding leaves no output"));
    }
    let (oh, ow) = (oh as usize, ow as usize);
    let cg = c / group;
    let m = mg * group;
    let rows = mg * kh * kw;
    let xs = floats(node, x)?;
    let ws = floats(node, w)?;
    let mut out = vec![0f32; n * m * oh * ow];
    let mut col = vec![0f32; rows * h * wd];
    for b in 0..n {
        for g in 0..group {
            // col (rows × HW) = Wgᵀ (rows × cg) · X (cg × HW); W is [c, mg, kh, kw], so Wg is cg × rows.
            let wg = ArrayView2::from_shape((cg, rows), &ws[g * cg * rows..(g + 1) * cg * rows])
                .map_err(|e| shape_err(node, e))?;
            let xg =
                ArrayView2::from_shape((cg, h * wd), &xs[(b * c + g * cg) * h * wd..(b * c + (g + 1) * cg) * h * wd])
                    .map_err(|e| shape_err(node, e))?;
            matmul_into(
                wg.t(),
                xg,
                ArrayViewMut2::from_shape((rows, h * wd), &mut col).map_err(|e| shape_err(node, e))?,
            );
            for mi in 0..mg {
                let plane = &mut out[(b * m + g * mg + mi) * oh * ow..(b * m + g * mg + mi + 1) * oh * ow];
                for ki in 0..kh {
                    for kj in 0..kw {
                        let row = &col[((mi * kh + ki) * kw + kj) * h * wd..((mi * kh + ki) * kw + kj + 1) * h * wd];
                        for y in 0..h {
                            let oy = (y * sh + ki * dh) as isize - pt;
                            if oy < 0 || oy >= oh as isize {
                                continue;
                            }
                            for xx in 0..wd {
                                let ox = (xx * sw + kj * dw) as isize - pl;
                                if ox >= 0 && ox < ow as isize {
                                    plane[oy as usize * ow + ox as usize] += row[y * wd + xx];
                                }
                            }
                        }
                    }
                }
            }
        }
        if let Some(bias) = bias {
            for (ch, plane) in out[b * m * oh * ow..(b + 1) * m * oh * ow].chunks_mut(oh * ow).enumerate() {
                let v = bias[ch];
                plane.iter_mut().for_each(|p| *p += v);
            }
        }
    }
    Ok(Tensor::float(vec![n, m, oh, ow], out))
}

/// Resize (and the older Upsample) of the two spatial axes: nearest or (bi)linear, with ONNX's coordinate
/// transformation modes `half_pixel`, `pytorch_half_pixel`, `asymmetric` and `align_corners`.
fn resize(node: &Node, ins: &[Option<&Tensor>], opset: i64) -> Result<Tensor, ModelError> {
    let x = input(node, ins, 0)?;
    if x.shape.len() != 4 {
        return Err(err(node, format!("only 4-D inputs are supported, got {:?}", x.shape)));
    }
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    if h == 0 || w == 0 {
        return Err(err(node, format!("cannot resize the empty input {:?}", x.shape)));
    }
    let nonempty = |i: usize| ins.get(i).copied().flatten().filter(|t| !t.is_empty());
    let (scales, sizes) = if node.op == "Upsample" {
        (
            nonempty(1).map(|t| t.to_f32()).or_else(|| {
                node.attrs.get("scales").and_then(|a| match a {
                    crate::onnx::Attr::Floats(f) => Some(f.clone()),
                    _ => None,
                })
            }),
            None,
        )
    } else if opset < 11 {
        (nonempty(1).map(|t| t.to_f32()), None)
    } else {
        (nonempty(2).map(|t| t.to_f32()), nonempty(3).map(|t| t.to_i64()))
    };
    let (oh, ow, sy, sx) = match (sizes, scales) {
        (Some(sz), _) if sz.len() == 4 => {
            let (oh, ow) = (sz[2].max(1) as usize, sz[3].max(1) as usize);
            (oh, ow, oh as f32 / h as f32, ow as f32 / w as f32)
        }
        (_, Some(sc)) if sc.len() == 4 && sc[0] == 1.0 && sc[1] == 1.0 && sc[2] > 0.0 && sc[3] > 0.0 => {
            ((h as f32 * sc[2]).floor() as usize, (w as f32 * sc[3]).floor() as usize, sc[2], sc[3])
        }
        _ => return Err(err(node, "give scales [1, 1, sy, sx] or 4 sizes (batch and channels unchanged)")),
    };
    let mode = node.string("mode").unwrap_or("nearest");
    let ctm = node.string("coordinate_transformation_mode").unwrap_or(if node.op == "Upsample" {
        "asymmetric"
    } else {
        "half_pixel"
    });
    let nearest_mode = node.string("nearest_mode").unwrap_or("round_prefer_floor");
    let original = |out_i: usize, scale: f32, len_in: usize, len_out: usize| -> Result<f32, ModelError> {
        let o = out_i as f32;
        Ok(match ctm {
            "half_pixel" => (o + 0.5) / scale - 0.5,
            "pytorch_half_pixel" => {
                if len_out > 1 {
                    (o + 0.5) / scale - 0.5
                } else {
                    0.0
                }
            }
            "asymmetric" => o / scale,
            "align_corners" => {
                if len_out > 1 {
                    o * (len_in - 1) as f32 / (len_out - 1) as f32
                } else {
                    0.0
                }
            }
            other => return Err(err(node, format!("coordinate_transformation_mode {other} is not supported"))),
        })
    };
    let nearest = |v: f32, len: usize| -> Result<usize, ModelError> {
        let i = match nearest_mode {
            "floor" => v.floor(),
            "ceil" => v.ceil(),
            "round_prefer_ceil" => (v + 0.5).floor(),
            "round_prefer_floor" => {
                if v.fract() == 0.5 {
                    v.floor()
                } else {
                    v.round()
                }
            }
            other => return Err(err(node, format!("nearest_mode {other} is not supported"))),
        };
        Ok((i.max(0.0) as usize).min(len - 1))
    };
    let ys: Vec<f32> = (0..oh).map(|i| original(i, sy, h, oh)).collect::<Result<_, _>>()?;
    let xs_: Vec<f32> = (0..ow).map(|i| original(i, sx, w, ow)).collect::<Result<_, _>>()?;
    let src = floats(node, x)?;
    let mut out = vec![0f32; n * c * oh * ow];
    match mode {
        "nearest" => {
            let yi: Vec<usize> = ys.iter().map(|&v| nearest(v, h)).collect::<Result<_, _>>()?;
            let xi: Vec<usize> = xs_.iter().map(|&v| nearest(v, w)).collect::<Result<_, _>>()?;
            for (p, o) in out.chunks_mut(oh * ow).enumerate() {
                let plane = &src[p * h * w..(p + 1) * h * w];
                for (r, &y) in yi.iter().enumerate() {
                    for (cc, &xx) in xi.iter().enumerate() {
                        o[r * ow + cc] = plane[y * w + xx];
                    }
                }
            }
        }
        "linear" | "bilinear" => {
            let taps = |v: f32, len: usize| {
                let v = v.clamp(0.0, (len - 1) as f32);
                let i0 = v.floor() as usize;
                (i0, (i0 + 1).min(len - 1), v - i0 as f32)
            };
            let yt: Vec<(usize, usize, f32)> = ys.iter().map(|&v| taps(v, h)).collect();
            let xt: Vec<(usize, usize, f32)> = xs_.iter().map(|&v| taps(v, w)).collect();
            for (p, o) in out.chunks_mut(oh * ow).enumerate() {
                let plane = &src[p * h * w..(p + 1) * h * w];
                for (r, &(y0, y1, ty)) in yt.iter().enumerate() {
                    for (cc, &(x0, x1, tx)) in xt.iter().enumerate() {
                        let top = plane[y0 * w + x0] * (1.0 - tx) + plane[y0 * w + x1] * tx;
                        let bottom = plane[y1 * w + x0] * (1.0 - tx) + plane[y1 * w + x1] * tx;
                        o[r * ow + cc] = top * (1.0 - ty) + bottom * ty;
                    }
                }
            }
        }
        other => return Err(err(node, format!("mode {other} is not supported (nearest, linear)"))),
    }
    Ok(Tensor::float(vec![n, c, oh, ow], out))
}

fn batch_norm(node: &Node, ins: &[Option<&Tensor>]) -> Result<Tensor, ModelError> {
    let x = input(node, ins, 0)?;
    let p: Vec<&[f32]> = (1..5).map(|i| input(node, ins, i).and_then(|t| floats(node, t))).collect::<Result<_, _>>()?;
    let mut out = floats(node, x)?.to_vec();
    batch_norm_apply(node, &x.shape, &mut out, p[0], p[1], p[2], p[3])?;
    Ok(Tensor::float(x.shape.clone(), out))
}

/// Inference batch normalisation, `(x − mean)/√(var + ε)·scale + bias` per channel, in place.
fn batch_norm_apply(
    node: &Node,
    shape: &[usize],
    out: &mut [f32],
    scale: &[f32],
    bias: &[f32],
    mean: &[f32],
    var: &[f32],
) -> Result<(), ModelError> {
    let eps = node.float("epsilon", 1e-5);
    if shape.len() < 2 || [scale, bias, mean, var].iter().any(|v| v.len() != shape[1]) {
        return Err(err(
            node,
            format!("parameters do not match the {} channels of {shape:?}", shape.get(1).unwrap_or(&0)),
        ));
    }
    let c = shape[1];
    let inner: usize = shape[2..].iter().product();
    out.par_chunks_mut(inner.max(1)).enumerate().for_each(|(i, plane)| {
        let ch = i % c;
        let s = scale[ch] / (var[ch] + eps).sqrt();
        let t = bias[ch] - mean[ch] * s;
        plane.iter_mut().for_each(|v| *v = *v * s + t);
    });
    Ok(())
}

fn pool(node: &Node, x: &Tensor) -> Result<Tensor, ModelError> {
    if x.shape.len() != 4 {
        return Err(err(node, format!("only 2-D pooling is supported (input {:?})", x.shape)));
    }
    if node.string("auto_pad").is_some_and(|p| p != "NOTSET") {
        return Err(err(node, "auto_pad is not supported; export with explicit pads"));
    }
    let ks = node.ints("kernel_shape").ok_or_else(|| err(node, "kernel_shape is required"))?.to_vec();
    let st = node.ints("strides").map(|v| v.to_vec()).unwrap_or(vec![1, 1]);
    let pd = node.ints("pads").map(|v| v.to_vec()).unwrap_or(vec![0; 4]);
    if ks.len() != 2
        || st.len() != 2
        || pd.len() != 4
        || ks.iter().chain(&st).any(|&v| v < 1)
        || pd.iter().any(|&v| v < 0)
    {
        return Err(err(node, "bad kernel_shape, strides or pads"));
    }
    if node.ints("dilations").is_some_and(|d| d.iter().any(|&v| v != 1)) {
        return Err(err(node, "dilated pooling is not supported"));
    }
    let (kh, kw, sh, sw) = (ks[0] as usize, ks[1] as usize, st[0] as usize, st[1] as usize);
    let (pt, pl, pb, pr) = (pd[0] as usize, pd[1] as usize, pd[2] as usize, pd[3] as usize);
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    if h + pt + pb < kh || w + pl + pr < kw {
        return Err(err(node, "the pooling window is larger than the padded input"));
    }
    let ceil = node.int("ceil_mode", 0) == 1;
    let out_len = |len: usize, k: usize, s: usize, p0: usize, p1: usize| {
        let span = len + p0 + p1 - k;
        let mut o = if ceil { span.div_ceil(s) + 1 } else { span / s + 1 };
        // A window may not start in the end padding (PyTorch/ONNX rule for ceil mode).
        if ceil && (o - 1) * s >= len + p0 {
            o -= 1;
        }
        o
    };
    let (oh, ow) = (out_len(h, kh, sh, pt, pb), out_len(w, kw, sw, pl, pr));
    let is_max = node.op == "MaxPool";
    let include_pad = node.int("count_include_pad", 0) == 1;
    let xs = floats(node, x)?;
    let mut out = vec![0f32; n * c * oh * ow];
    out.par_chunks_mut(oh * ow).enumerate().for_each(|(plane_i, o)| {
        let plane = &xs[plane_i * h * w..(plane_i + 1) * h * w];
        for oy in 0..oh {
            let y0 = (oy * sh) as isize - pt as isize;
            for ox in 0..ow {
                let x0 = (ox * sw) as isize - pl as isize;
                let (mut acc, mut cnt) = (if is_max { f32::NEG_INFINITY } else { 0.0 }, 0usize);
                let mut padded_cnt = 0usize;
                for ky in 0..kh as isize {
                    let y = y0 + ky;
                    for kx in 0..kw as isize {
                        let xx = x0 + kx;
                        // Positions inside the padded extent (count_include_pad counts those).
                        if y < (h + pb) as isize && xx < (w + pr) as isize {
                            padded_cnt += 1;
                        }
                        if y < 0 || xx < 0 || y >= h as isize || xx >= w as isize {
                            continue;
                        }
                        let v = plane[y as usize * w + xx as usize];
                        if is_max {
                            acc = acc.max(v);
                        } else {
                            acc += v;
                        }
                        cnt += 1;
                    }
                }
                o[oy * ow + ox] = if is_max {
                    acc
                } else {
                    let d = if include_pad { padded_cnt } else { cnt };
                    if d == 0 {
                        0.0
                    } else {
                        acc / d as f32
                    }
                };
            }
        }
    });
    Ok(Tensor::float(vec![n, c, oh, ow], out))
}

fn global_pool(node: &Node, x: &Tensor) -> Result<Tensor, ModelError> {
    if x.shape.len() < 3 {
        return Err(err(node, format!("input {:?} has no spatial dimensions", x.shape)));
    }
    let inner: usize = x.shape[2..].iter().product();
    let xs = floats(node, x)?;
    let is_max = node.op == "GlobalMaxPool";
    let out: Vec<f32> = xs
        .chunks(inner.max(1))
        .map(|p| {
            if is_max {
                p.iter().copied().fold(f32::NEG_INFINITY, f32::max)
            } else {
                p.iter().sum::<f32>() / inner as f32
            }
        })
        .collect();
    let mut shape = x.shape[..2].to_vec();
    shape.extend(std::iter::repeat_n(1, x.shape.len() - 2));
    Ok(Tensor::float(shape, out))
}

fn concat(node: &Node, ins: &[Option<&Tensor>]) -> Result<Tensor, ModelError> {
    let parts: Vec<&Tensor> = ins.iter().flatten().copied().collect();
    let first = parts.first().ok_or_else(|| err(node, "no inputs"))?;
    let rank = first.shape.len();
    let a = axis(node, node.int("axis", 0), rank)?;
    for p in &parts {
        if p.shape.len() != rank || p.shape.iter().enumerate().any(|(i, &d)| i != a && d != first.shape[i]) {
            return Err(err(node, format!("inputs {:?} and {:?} cannot be joined on axis {a}", first.shape, p.shape)));
        }
    }
    let outer: usize = first.shape[..a].iter().product();
    let mut shape = first.shape.clone();
    shape[a] = parts.iter().map(|p| p.shape[a]).sum();
    let block = |p: &Tensor| p.shape[a..].iter().product::<usize>();
    if parts.iter().all(|p| matches!(p.data, Data::I64(_))) {
        let mut out = Vec::with_capacity(shape.iter().product());
        for o in 0..outer {
            for p in &parts {
                let v = p.to_i64();
                let b = block(p);
                out.extend_from_slice(&v[o * b..(o + 1) * b]);
            }
        }
        return Ok(Tensor::int(shape, out));
    }
    let vals: Vec<std::borrow::Cow<[f32]>> = parts
        .iter()
        .map(|p| match p.as_f32() {
            Some(v) => std::borrow::Cow::Borrowed(v),
            None => std::borrow::Cow::Owned(p.to_f32()),
        })
        .collect();
    let mut out = Vec::with_capacity(shape.iter().product());
    for o in 0..outer {
        for (p, v) in parts.iter().zip(&vals) {
            let b = block(p);
            out.extend_from_slice(&v[o * b..(o + 1) * b]);
        }
    }
    Ok(Tensor::float(shape, out))
}

fn gemm(node: &Node, ins: &[Option<&Tensor>]) -> Result<Tensor, ModelError> {
    let (a, b) = (input(node, ins, 0)?, input(node, ins, 1)?);
    if a.shape.len() != 2 || b.shape.len() != 2 {
        return Err(err(node, format!("Gemm needs 2-D inputs, got {:?} and {:?}", a.shape, b.shape)));
    }
    let (ta, tb) = (node.int("transA", 0) == 1, node.int("transB", 0) == 1);
    let av = ArrayView2::from_shape((a.shape[0], a.shape[1]), floats(node, a)?).map_err(|e| shape_err(node, e))?;
    let bv = ArrayView2::from_shape((b.shape[0], b.shape[1]), floats(node, b)?).map_err(|e| shape_err(node, e))?;
    let av = if ta { av.t() } else { av };
    let bv = if tb { bv.t() } else { bv };
    if av.ncols() != bv.nrows() {
        return Err(err(node, format!("inner dimensions differ: {:?} · {:?}", av.dim(), bv.dim())));
    }
    let (m, n) = (av.nrows(), bv.ncols());
    let alpha = node.float("alpha", 1.0);
    let beta = node.float("beta", 1.0);
    let mut out = vec![0f32; m * n];
    {
        let cm = ArrayViewMut2::from_shape((m, n), &mut out).map_err(|e| shape_err(node, e))?;
        matmul_into(av, bv, cm);
    }
    if alpha != 1.0 {
        out.iter_mut().for_each(|v| *v *= alpha);
    }
    if let Some(c) = ins.get(2).copied().flatten() {
        let bias = Tensor::float(vec![m, n], vec![0.0; m * n]);
        let c = binary_op(node, &bias, c, |_, y| beta * y)?;
        let cv = c.as_f32().unwrap_or(&[]);
        out.iter_mut().zip(cv).for_each(|(o, v)| *o += v);
    }
    Ok(Tensor::float(vec![m, n], out))
}

fn matmul(node: &Node, ins: &[Option<&Tensor>]) -> Result<Tensor, ModelError> {
    let (a, b) = (input(node, ins, 0)?, input(node, ins, 1)?);
    if a.shape.len() < 2 || b.shape.len() != 2 {
        return Err(err(node, format!("MatMul supports [..., m, k] · [k, n], got {:?} · {:?}", a.shape, b.shape)));
    }
    let k = a.shape[a.shape.len() - 1];
    let m: usize = a.shape[..a.shape.len() - 1].iter().product();
    if b.shape[0] != k {
        return Err(err(node, format!("inner dimensions differ: {:?} · {:?}", a.shape, b.shape)));
    }
    let n = b.shape[1];
    let av = ArrayView2::from_shape((m, k), floats(node, a)?).map_err(|e| shape_err(node, e))?;
    let bv = ArrayView2::from_shape((k, n), floats(node, b)?).map_err(|e| shape_err(node, e))?;
    let mut out = vec![0f32; m * n];
    matmul_into(av, bv, ArrayViewMut2::from_shape((m, n), &mut out).map_err(|e| shape_err(node, e))?);
    let mut shape = a.shape[..a.shape.len() - 1].to_vec();
    shape.push(n);
    Ok(Tensor::float(shape, out))
}

/// Numpy (multidirectional) broadcasting of two shapes.
fn broadcast(node: &Node, a: &[usize], b: &[usize]) -> Result<Vec<usize>, ModelError> {
    let r = a.len().max(b.len());
    (0..r)
        .map(|i| {
            let da = if i + a.len() >= r { a[i + a.len() - r] } else { 1 };
            let db = if i + b.len() >= r { b[i + b.len() - r] } else { 1 };
            match (da, db) {
                (x, y) if x == y => Ok(x),
                (1, y) => Ok(y),
                (x, 1) => Ok(x),
                _ => Err(err(node, format!("shapes {a:?} and {b:?} do not broadcast"))),
            }
        })
        .collect()
}

/// Index of each output element into an input of shape `s` broadcast to `out`.
fn broadcast_index(out: &[usize], s: &[usize]) -> Vec<usize> {
    let n: usize = out.iter().product();
    if s == out {
        return (0..n).collect();
    }
    let pad = out.len() - s.len();
    let st = strides(s);
    let ost = strides(out);
    (0..n)
        .map(|flat| {
            let mut idx = 0;
            for (d, &os) in ost.iter().enumerate() {
                let coord = (flat / os) % out[d];
                if d >= pad && s[d - pad] != 1 {
                    idx += coord * st[d - pad];
                }
            }
            idx
        })
        .collect()
}

fn binary_op(node: &Node, a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32) -> Result<Tensor, ModelError> {
    let shape = broadcast(node, &a.shape, &b.shape)?;
    let (av, bv) = (a.to_f32(), b.to_f32());
    let out: Vec<f32> = if a.shape == b.shape {
        av.iter().zip(&bv).map(|(&x, &y)| f(x, y)).collect()
    } else if b.len() == 1 {
        av.iter().map(|&x| f(x, bv[0])).collect()
    } else {
        let (ia, ib) = (broadcast_index(&shape, &a.shape), broadcast_index(&shape, &b.shape));
        ia.iter().zip(&ib).map(|(&i, &j)| f(av[i], bv[j])).collect()
    };
    Ok(Tensor::float(shape, out))
}

fn binary(node: &Node, a: &Tensor, b: &Tensor) -> Result<Tensor, ModelError> {
    if let (Data::I64(x), Data::I64(y)) = (&a.data, &b.data) {
        // Shape arithmetic (integer semantics, division truncating).
        let shape = broadcast(node, &a.shape, &b.shape)?;
        let (ia, ib) = (broadcast_index(&shape, &a.shape), broadcast_index(&shape, &b.shape));
        let out = ia
            .iter()
            .zip(&ib)
            .map(|(&i, &j)| match node.op.as_str() {
                "Add" => Ok(x[i].wrapping_add(y[j])),
                "Sub" => Ok(x[i].wrapping_sub(y[j])),
                "Mul" => Ok(x[i].wrapping_mul(y[j])),
                _ => x[i].checked_div(y[j]).ok_or_else(|| err(node, "integer division by zero")),
            })
            .collect::<Result<Vec<i64>, ModelError>>()?;
        return Ok(Tensor::int(shape, out));
    }
    match node.op.as_str() {
        "Add" => binary_op(node, a, b, |x, y| x + y),
        "Sub" => binary_op(node, a, b, |x, y| x - y),
        "Mul" => binary_op(node, a, b, |x, y| x * y),
        _ => binary_op(node, a, b, |x, y| x / y),
    }
}

fn softmax(node: &Node, x: &Tensor, opset: i64) -> Result<Tensor, ModelError> {
    let rank = x.shape.len();
    let a = axis(node, node.int("axis", if opset >= 13 { -1 } else { 1 }), rank)?;
    // Before opset 13 the input is flattened to 2-D at `axis`; from 13 the softmax runs along `axis` only.
    let (outer, len, inner) = if opset >= 13 {
        (x.shape[..a].iter().product::<usize>(), x.shape[a], x.shape[a + 1..].iter().product::<usize>())
    } else {
        (x.shape[..a].iter().product::<usize>(), x.shape[a..].iter().product::<usize>(), 1)
    };
    let mut v = floats(node, x)?.to_vec();
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| (o * len + j) * inner + i;
            let max = (0..len).map(|j| v[at(j)]).fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for j in 0..len {
                let e = (v[at(j)] - max).exp();
                v[at(j)] = e;
                sum += e;
            }
            for j in 0..len {
                v[at(j)] /= sum;
            }
        }
    }
    Ok(Tensor::float(x.shape.clone(), v))
}

fn reshape(node: &Node, x: &Tensor, shape: &Tensor) -> Result<Tensor, ModelError> {
    let spec = shape.to_i64();
    let allow_zero = node.int("allowzero", 0) == 1;
    let mut out: Vec<usize> = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &d) in spec.iter().enumerate() {
        match d {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allow_zero => out.push(*x.shape.get(i).ok_or_else(|| err(node, "0 refers to a missing dimension"))?),
            d if d >= 0 => out.push(d as usize),
            _ => return Err(err(node, format!("bad target shape {spec:?}"))),
        }
    }
    let known: usize = out.iter().product();
    if let Some(i) = infer {
        if known == 0 || !x.len().is_multiple_of(known) {
            return Err(err(node, format!("cannot reshape {:?} to {spec:?}", x.shape)));
        }
        out[i] = x.len() / known;
    }
    if out.iter().product::<usize>() != x.len() {
        return Err(err(node, format!("cannot reshape {:?} to {spec:?}", x.shape)));
    }
    Ok(Tensor { shape: out, data: x.data.clone() })
}

fn transpose(node: &Node, x: &Tensor) -> Result<Tensor, ModelError> {
    let rank = x.shape.len();
    let perm: Vec<usize> = match node.ints("perm") {
        Some(p) => p.iter().map(|&a| axis(node, a, rank)).collect::<Result<_, _>>()?,
        None => (0..rank).rev().collect(),
    };
    let mut seen = vec![false; rank];
    if perm.len() != rank || perm.iter().any(|&p| std::mem::replace(&mut seen[p], true)) {
        return Err(err(node, format!("perm {perm:?} is not a permutation of {rank} axes")));
    }
    let shape: Vec<usize> = perm.iter().map(|&p| x.shape[p]).collect();
    let ist = strides(&x.shape);
    let ost = strides(&shape);
    let n = x.len();
    let src: Vec<usize> =
        (0..n).map(|flat| perm.iter().enumerate().map(|(d, &p)| (flat / ost[d]) % shape[d] * ist[p]).sum()).collect();
    Ok(match &x.data {
        Data::F32(v) => Tensor::float(shape, src.iter().map(|&i| v[i]).collect()),
        Data::I64(v) => Tensor::int(shape, src.iter().map(|&i| v[i]).collect()),
    })
}

fn gather(node: &Node, x: &Tensor, idx: &Tensor) -> Result<Tensor, ModelError> {
    let rank = x.shape.len();
    let a = axis(node, node.int("axis", 0), rank)?;
    let dim = x.shape[a] as i64;
    let ids: Vec<usize> = idx
        .to_i64()
        .iter()
        .map(|&i| {
            let j = if i < 0 { i + dim } else { i };
            usize::try_from(j)
                .ok()
                .filter(|&j| (j as i64) < dim)
                .ok_or_else(|| err(node, format!("index {i} out of range {dim}")))
        })
        .collect::<Result<_, _>>()?;
    let outer: usize = x.shape[..a].iter().product();
    let inner: usize = x.shape[a + 1..].iter().product();
    let mut shape = x.shape[..a].to_vec();
    shape.extend_from_slice(&idx.shape);
    shape.extend_from_slice(&x.shape[a + 1..]);
    let order: Vec<usize> = (0..outer)
        .flat_map(|o| ids.iter().flat_map(move |&i| (0..inner).map(move |k| (o * x.shape[a] + i) * inner + k)))
        .collect();
    Ok(match &x.data {
        Data::F32(v) => Tensor::float(shape, order.iter().map(|&i| v[i]).collect()),
        Data::I64(v) => Tensor::int(shape, order.iter().map(|&i| v[i]).collect()),
    })
}

fn squeeze(node: &Node, ins: &[Option<&Tensor>], opset: i64) -> Result<Tensor, ModelError> {
    let x = input(node, ins, 0)?;
    let axes: Option<Vec<i64>> = if opset >= 13 {
        ins.get(1).copied().flatten().map(|t| t.to_i64())
    } else {
        node.ints("axes").map(|a| a.to_vec())
    };
    let shape = if node.op == "Unsqueeze" {
        let axes = axes.ok_or_else(|| err(node, "axes are required"))?;
        let rank = x.shape.len() + axes.len();
        let mut at: Vec<usize> = axes.iter().map(|&a| axis(node, a, rank)).collect::<Result<_, _>>()?;
        at.sort_unstable();
        let mut shape = x.shape.clone();
        for a in at {
            shape.insert(a.min(shape.len()), 1);
        }
        shape
    } else {
        let rank = x.shape.len();
        let drop: Vec<usize> = match axes {
            Some(a) => a.iter().map(|&a| axis(node, a, rank)).collect::<Result<_, _>>()?,
            None => (0..rank).filter(|&d| x.shape[d] == 1).collect(),
        };
        if drop.iter().any(|&d| x.shape[d] != 1) {
            return Err(err(node, format!("cannot squeeze a dimension that is not 1 in {:?}", x.shape)));
        }
        x.shape.iter().enumerate().filter(|(d, _)| !drop.contains(d)).map(|(_, &s)| s).collect()
    };
    Ok(Tensor { shape, data: x.data.clone() })
}

fn reduce_mean(node: &Node, ins: &[Option<&Tensor>], opset: i64) -> Result<Tensor, ModelError> {
    let x = input(node, ins, 0)?;
    let rank = x.shape.len();
    let axes: Vec<usize> = match if opset >= 18 {
        ins.get(1).copied().flatten().map(|t| t.to_i64())
    } else {
        node.ints("axes").map(|a| a.to_vec())
    } {
        Some(a) if !a.is_empty() => a.iter().map(|&a| axis(node, a, rank)).collect::<Result<_, _>>()?,
        _ => (0..rank).collect(),
    };
    let keep = node.int("keepdims", 1) == 1;
    let reduced: Vec<usize> = x.shape.iter().enumerate().map(|(d, &s)| if axes.contains(&d) { 1 } else { s }).collect();
    let count: usize = axes.iter().map(|&d| x.shape[d]).product();
    let st = strides(&x.shape);
    let rst = strides(&reduced);
    let mut out = vec![0f32; reduced.iter().product()];
    for (flat, &v) in floats(node, x)?.iter().enumerate() {
        let mut idx = 0;
        for d in 0..rank {
            if !axes.contains(&d) {
                idx += (flat / st[d]) % x.shape[d] * rst[d];
            }
        }
        out[idx] += v;
    }
    out.iter_mut().for_each(|v| *v /= count.max(1) as f32);
    let shape = if keep {
        reduced
    } else {
        x.shape.iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &s)| s).collect()
    };
    Ok(Tensor::float(shape, out))
}
