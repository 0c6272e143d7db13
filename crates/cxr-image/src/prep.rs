//! Model preprocessing: square crop/pad, histogram equalisation, CLAHE, normalisations, lung-field bands.

use cxr_core::image::Image2;

/// Crops the centre square (side = the shorter side). With an odd difference the extra pixel is cut at the
/// end, as torchvision's `CenterCrop` and torchxrayvision's `XRayCenterCrop` do.
pub fn center_crop_square<T: Copy>(img: &Image2<T>) -> Image2<T> {
    let side = img.width.min(img.height);
    let (x0, y0) = ((img.width - side) / 2, (img.height - side) / 2);
    let mut pixels = Vec::with_capacity(side * side);
    for r in y0..y0 + side {
        pixels.extend_from_slice(&img.pixels[r * img.width + x0..r * img.width + x0 + side]);
    }
    Image2 { width: side, height: side, pixels }
}

/// Pads to a square (side = the longer side) with `fill`, the image centred (extra pixel at the end).
pub fn pad_square<T: Copy>(img: &Image2<T>, fill: T) -> Image2<T> {
    let side = img.width.max(img.height);
    let (x0, y0) = ((side - img.width) / 2, (side - img.height) / 2);
    let mut pixels = vec![fill; side * side];
    for r in 0..img.height {
        let dst = (y0 + r) * side + x0;
        pixels[dst..dst + img.width].copy_from_slice(&img.pixels[r * img.width..(r + 1) * img.width]);
    }
    Image2 { width: side, height: side, pixels }
}

/// Histogram equalisation of an 8-bit image as OpenCV's `equalizeHist` defines it:
/// `lut[v] = round((cdf[v] − cdf_min) · 255 / (N − cdf_min))`, a constant image left unchanged.
pub fn equalize_hist(img: &Image2<u8>) -> Image2<u8> {
    let mut hist = [0usize; 256];
    img.pixels.iter().for_each(|&p| hist[p as usize] += 1);
    let n = img.pixels.len();
    let cdf_min = hist.iter().copied().find(|&c| c > 0).unwrap_or(0);
    if n == cdf_min {
        return img.clone();
    }
    let mut lut = [0u8; 256];
    let mut cdf = 0usize;
    for v in 0..256 {
        cdf += hist[v];
        let num = cdf.saturating_sub(cdf_min) as f64 * 255.0;
        lut[v] = (num / (n - cdf_min) as f64).round().clamp(0.0, 255.0) as u8;
    }
    img.map(|p| lut[p as usize])
}

/// Contrast-limited adaptive histogram equalisation of an 8-bit image, following OpenCV's `CLAHE`
/// (Zuiderveld 1994): a `tiles × tiles` grid; per tile a 256-bin histogram clipped at
/// `max(clip_limit · tile_area / 256, 1)` with the excess spread evenly (remainder one bin at a time at a
/// regular stride); the tile's mapping `cdf · 255 / tile_area`; each pixel bilinearly interpolated between
/// the mappings of the four nearest tile centres. Images not divisible by the grid are extended by
/// reflection (OpenCV's BORDER_REFLECT_101) for the histograms, by `tiles − side % tiles` on both sides as
/// OpenCV does. OpenCV's defaults are `clip_limit = 40` and an 8×8 grid; the common CXR setting is
/// `clip_limit = 2`. Agrees with `cv2.createCLAHE(...).apply` to ±1 grey level (its float32 rounding).
pub fn clahe(img: &Image2<u8>, clip_limit: f64, tiles: usize) -> Image2<u8> {
    let (w, h) = (img.width, img.height);
    let tiles = tiles.max(1);
    if w == 0 || h == 0 {
        return img.clone();
    }
    // OpenCV extends the image by reflection only when a side is not a multiple of the grid — and then it
    // adds `tiles − side % tiles` to *both* sides, i.e. a whole extra tile to a side that was a multiple.
    let (tw, th) = if w % tiles == 0 && h % tiles == 0 {
        (w / tiles, h / tiles)
    } else {
        ((w + tiles - w % tiles) / tiles, (h + tiles - h % tiles) / tiles)
    };
    let reflect = |i: usize, n: usize| -> usize {
        if i < n || n == 1 {
            i.min(n - 1)
        } else {
            let j = 2 * (n - 1) - i;
            j.min(n - 1)
        }
    };
    let area = (tw * th) as f64;
    let clip = if clip_limit > 0.0 { ((clip_limit * area / 256.0) as usize).max(1) } else { usize::MAX };
    let mut luts = vec![[0u8; 256]; tiles * tiles];
    for ty in 0..tiles {
        for tx in 0..tiles {
            let mut hist = [0usize; 256];
            for y in ty * th..(ty + 1) * th {
                let row = reflect(y, h) * w;
                for x in tx * tw..(tx + 1) * tw {
                    hist[img.pixels[row + reflect(x, w)] as usize] += 1;
                }
            }
            if clip != usize::MAX {
                let mut excess = 0usize;
                for c in hist.iter_mut() {
                    if *c > clip {
                        excess += *c - clip;
                        *c = clip;
                    }
                }
                let batch = excess / 256;
                let residual = excess - batch * 256;
                hist.iter_mut().for_each(|c| *c += batch);
                if let Some(step) = 256usize.checked_div(residual) {
                    let step = step.max(1);
                    let mut left = residual;
                    let mut i = 0;
                    while i < 256 && left > 0 {
                        hist[i] += 1;
                        left -= 1;
                        i += step;
                    }
                }
            }
            let lut = &mut luts[ty * tiles + tx];
            let mut cdf = 0usize;
            let scale = 255.0f32 / area as f32; // OpenCV's single-precision lutScale
            for v in 0..256 {
                cdf += hist[v];
                lut[v] = (cdf as f32 * scale).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        let fy = y as f64 / th as f64 - 0.5;
        let y1 = fy.floor();
        let wy = fy - y1;
        let (ty1, ty2) = ((y1.max(0.0) as usize).min(tiles - 1), ((y1 + 1.0).max(0.0) as usize).min(tiles - 1));
        for x in 0..w {
            let fx = x as f64 / tw as f64 - 0.5;
            let x1 = fx.floor();
            let wx = fx - x1;
            let (tx1, tx2) = ((x1.max(0.0) as usize).min(tiles - 1), ((x1 + 1.0).max(0.0) as usize).min(tiles - 1));
            let v = img.pixels[y * w + x] as usize;
            let l = |ty: usize, tx: usize| luts[ty * tiles + tx][v] as f64;
            let top = l(ty1, tx1) * (1.0 - wx) + l(ty1, tx2) * wx;
            let bottom = l(ty2, tx1) * (1.0 - wx) + l(ty2, tx2) * wx;
            out[y * w + x] = (top * (1.0 - wy) + bottom * wy).round().clamp(0.0, 255.0) as u8;
        }
    }
    Image2 { width: w, height: h, pixels: out }
}

/// torchxrayvision's normalisation (`xrv.datasets.normalize`): `(2·v/maxval − 1)·1024`, i.e. display
/// fractions `y ∈ [0, 1]` to `[−1024, 1024]`.
pub fn txv_normalize(display: &Image2<f32>) -> Image2<f32> {
    display.map(|y| (2.0 * y - 1.0) * 1024.0)
}

/// ImageNet mean and standard deviation (torchvision), per RGB channel.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// See [`IMAGENET_MEAN`].
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// ImageNet normalisation of a grey image replicated to 3 channels: channel-major `[3, h, w]` values
/// `(y − mean_c)/std_c` for display fractions `y ∈ [0, 1]`.
pub fn imagenet_normalize(display: &Image2<f32>) -> Vec<f32> {
    let mut out = Vec::with_capacity(display.pixels.len() * 3);
    for c in 0..3 {
        out.extend(display.pixels.iter().map(|&y| (y - IMAGENET_MEAN[c]) / IMAGENET_STD[c]));
    }
    out
}

/// The three horizontal lung-field bands (upper, middle, lower) of the multi-model "Automated Chest X-Ray
/// Report Generator" (its pre-processing scales to 128×128 and slices into three parts covering the upper,
/// middle and lower lung). The paper gives no band boundaries; we use equal thirds of the (already
/// resized) image, the remainder rows going to the lower band.
pub fn lung_bands<T: Copy>(img: &Image2<T>) -> [Image2<T>; 3] {
    let third = img.height / 3;
    let cut = |r0: usize, r1: usize| Image2 {
        width: img.width,
        height: r1 - r0,
        pixels: img.pixels[r0 * img.width..r1 * img.width].to_vec(),
    };
    [cut(0, third), cut(third, 2 * third), cut(2 * third, img.height)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_and_pad_to_square() {
        let img = Image2::new(4, 2, (0..8).collect::<Vec<u8>>()).unwrap();
        let c = center_crop_square(&img);
        assert_eq!((c.width, c.height, c.pixels), (2, 2, vec![1, 2, 5, 6]));
        let p = pad_square(&img, 9);
        assert_eq!((p.width, p.height), (4, 4));
        assert_eq!(p.pixels, vec![9, 9, 9, 9, 0, 1, 2, 3, 4, 5, 6, 7, 9, 9, 9, 9]);
    }

    #[test]
    fn equalize_hist_matches_the_opencv_formula() {
        // Values 10, 20, 30, 40 once each: cdf 1,2,3,4; cdf_min 1 → (cdf−1)·255/3.
        let img = Image2::new(4, 1, vec![10u8, 20, 30, 40]).unwrap();
        assert_eq!(equalize_hist(&img).pixels, vec![0, 85, 170, 255]);
        let flat = Image2::new(2, 1, vec![7u8, 7]).unwrap();
        assert_eq!(equalize_hist(&flat).pixels, vec![7, 7]);
    }

    #[test]
    fn clahe_with_one_tile_and_no_clip_is_global_equalisation_without_the_min_shift() {
        let img = Image2::new(4, 1, vec![10u8, 20, 30, 40]).unwrap();
        // cdf·255/N: 64, 128, 191, 255 (rounded).
        assert_eq!(clahe(&img, 0.0, 1).pixels, vec![64, 128, 191, 255]);
        // Clipping flattens the mapping of a low-contrast image towards the identity ramp.
        let ramp: Vec<u8> = (0..64 * 64).map(|i| (100 + (i % 64) / 16) as u8).collect();
        let img = Image2::new(64, 64, ramp).unwrap();
        let strong = clahe(&img, 0.0, 2);
        let limited = clahe(&img, 2.0, 2);
        let spread = |i: &Image2<u8>| i.pixels.iter().max().unwrap() - i.pixels.iter().min().unwrap();
        assert!(spread(&limited) < spread(&strong), "{} {}", spread(&limited), spread(&strong));
    }

    #[test]
    fn normalisations() {
        let img = Image2::new(3, 1, vec![0.0f32, 0.5, 1.0]).unwrap();
        assert_eq!(txv_normalize(&img).pixels, vec![-1024.0, 0.0, 1024.0]);
        let n = imagenet_normalize(&img);
        assert_eq!(n.len(), 9);
        assert!((n[0] + 0.485 / 0.229).abs() < 1e-6 && (n[8] - (1.0 - 0.406) / 0.225).abs() < 1e-6);
        let tall = Image2::new(1, 7, (0..7).collect::<Vec<u8>>()).unwrap();
        let [a, b, c] = lung_bands(&tall);
        assert_eq!((a.pixels, b.pixels, c.pixels), (vec![0, 1], vec![2, 3], vec![4, 5, 6]));
    }
}
