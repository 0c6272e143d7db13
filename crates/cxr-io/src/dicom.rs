//! DICOM radiographs (CR, DX, Secondary Capture, and any single-image grey object) with dicom-rs.
//!
//! [`read_dicom`] opens a Part 10 file, checks the image size before decoding anything, decodes one frame
//! with dicom-rs (native, deflate, RLE, JPEG baseline/lossless and JPEG 2000 in pure Rust) and returns the
//! **stored values** as `i32` together with every declared display transform ([`PixelTransforms`]) and
//! the geometry/provenance attributes ([`DicomInfo`]). The transforms are applied by `cxr-image`.
//!
//! What this module does itself rather than trust the decoder (each checked against pydicom 3.0 in the
//! golden tests): masking unsigned samples to Bits Stored and sign-extending signed ones (dicom-rs keeps
//! the unused high bits), the Modality LUT Sequence, the VOI LUT Sequence, Rescale from the shared
//! functional groups of enhanced objects, and the choice between several windows.
//! JPEG Extended 12-bit (1.2.840.10008.1.2.4.51) and JPEG-LS have no decoder in this build: such files fail
//! with an error that names the transfer syntax.
//!
//! Patient identifiers (name, ID, birth date) are read only when asked ([`ReadOptions::identifiers`]).

use crate::IoError;
use cxr_core::image::{Image2, Lut, ModalityLut, PixelTransforms, Window, WindowFunction};
use dicom_dictionary_std::tags;
use dicom_object::mem::InMemDicomObject;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::PixelDecoder;
use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};
use serde::Serialize;
use std::path::Path;

/// Options for [`read_dicom`].
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The frame of a multi-frame object (0-based).
    pub frame: u32,
    /// Refuse images with more pixels than this before decoding (default 10⁸, e.g. 10,000 × 10,000).
    pub max_pixels: u64,
    /// Read Patient's Name, ID and Birth Date into [`DicomInfo`].
    pub identifiers: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { frame: 0, max_pixels: 100_000_000, identifiers: false }
    }
}

/// What the header says about an image: how it is encoded, its geometry and its provenance.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DicomInfo {
    pub transfer_syntax_uid: String,
    pub transfer_syntax: String,
    pub sop_class_uid: String,
    pub modality: Option<String>,
    pub rows: u32,
    pub columns: u32,
    pub frames: u32,
    pub samples_per_pixel: u16,
    pub photometric_interpretation: String,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    /// Pixel Spacing (0028,0030), row then column spacing in mm: spacing in the patient.
    pub pixel_spacing: Option<[f64; 2]>,
    /// Imager Pixel Spacing (0018,1164): spacing at the detector front plane.
    pub imager_pixel_spacing: Option<[f64; 2]>,
    /// Estimated Radiographic Magnification Factor (0018,1114).
    pub magnification_factor: Option<f64>,
    /// Image Position (Patient) (0020,0032): the first pixel's centre, LPS mm.
    pub image_position: Option<[f64; 3]>,
    /// Image Orientation (Patient) (0020,0037): row then column direction cosines.
    pub image_orientation: Option<[f64; 6]>,
    pub view_position: Option<String>,
    pub patient_orientation: Option<String>,
    pub laterality: Option<String>,
    pub body_part: Option<String>,
    pub presentation_lut_shape: Option<String>,
    pub study_uid: Option<String>,
    pub series_uid: Option<String>,
    pub sop_instance_uid: Option<String>,
    pub patient_sex: Option<String>,
    pub patient_age: Option<String>,
    /// Only with [`ReadOptions::identifiers`].
    pub patient_id: Option<String>,
    /// Only with [`ReadOptions::identifiers`].
    pub patient_name: Option<String>,
    /// Only with [`ReadOptions::identifiers`].
    pub patient_birth_date: Option<String>,
}

impl DicomInfo {
    /// The spacing to measure the patient in, and where it came from: Pixel Spacing when present, else
    /// Imager Pixel Spacing divided by the magnification factor (ERMF) when given, else Imager Pixel
    /// Spacing as is (detector-plane spacing, which overstates patient size by the magnification).
    pub fn patient_spacing(&self) -> Option<([f64; 2], &'static str)> {
        if let Some(s) = self.pixel_spacing {
            return Some((s, "PixelSpacing"));
        }
        let s = self.imager_pixel_spacing?;
        match self.magnification_factor {
            Some(m) if m > 0.0 => Some(([s[0] / m, s[1] / m], "ImagerPixelSpacing/ERMF")),
            _ => Some((s, "ImagerPixelSpacing")),
        }
    }
}

/// A decoded radiograph: stored values of one frame, its display transforms and header facts.
#[derive(Debug, Clone)]
pub struct DicomImage {
    pub stored: Image2<i32>,
    pub transforms: PixelTransforms,
    pub info: DicomInfo,
}

fn err(path: &Path, problem: impl Into<String>) -> IoError {
    IoError::format(path, problem)
}

fn open(path: &Path, header_only: bool) -> Result<DefaultDicomObject, IoError> {
    let meta = std::fs::metadata(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    if meta.is_dir() {
        return Err(err(path, "is a folder, not a DICOM file"));
    }
    let mut opts = OpenFileOptions::new();
    if header_only {
        opts = opts.read_until(tags::PIXEL_DATA);
    }
    opts.open_file(path).map_err(|e| {
        err(
            path,
            format!(
                "is not a readable DICOM Part 10 file ({e}); check that it is a complete .dcm file with the \
                 'DICM' preamble (files cut short by a transfer also fail here)"
            ),
        )
    })
}

fn text(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Option<String> {
    let e = obj.element_opt(tag).ok()??;
    let s = e.to_str().ok()?;
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\0').to_string();
    (!s.is_empty()).then_some(s)
}

fn floats(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Option<Vec<f64>> {
    let e = obj.element_opt(tag).ok()??;
    if e.vr() == dicom_core::VR::UN {
        // An element written with VR UN (e.g. after a transfer through a system that did not know it) holds
        // its DS/IS text as raw bytes; read it as the dictionary VR would.
        let bytes = e.to_bytes().ok()?;
        let text = String::from_utf8_lossy(&bytes);
        let v: Option<Vec<f64>> = text
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .split('\\')
            .map(|t| t.trim().parse::<f64>().ok())
            .collect();
        return v.filter(|v| !v.is_empty());
    }
    e.to_multi_float64().ok().filter(|v| !v.is_empty())
}

fn uint(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Option<u32> {
    obj.element_opt(tag).ok()??.to_int::<u32>().ok()
}

/// A (row, column) spacing; zero, negative or non-finite values (some anonymised files carry `0\\0`) mean
/// "unknown".
fn pair(v: Option<Vec<f64>>) -> Option<[f64; 2]> {
    let p = v.and_then(|v| match v.as_slice() {
        [a, b, ..] => Some([*a, *b]),
        [a] => Some([*a, *a]),
        _ => None,
    })?;
    p.iter().all(|x| x.is_finite() && *x > 0.0).then_some(p)
}

/// The first item of a sequence.
fn first_item(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Option<&InMemDicomObject> {
    obj.element_opt(tag).ok()??.items()?.first()
}

fn lut_items(path: &Path, obj: &InMemDicomObject, tag: dicom_core::Tag, signed: bool) -> Result<Vec<Lut>, IoError> {
    let Some(items) = obj.element_opt(tag).ok().flatten().and_then(|e| e.items()) else {
        return Ok(Vec::new());
    };
    items.iter().map(|item| read_lut(path, item, signed)).collect()
}

/// A LUT from LUT Descriptor (entries, first mapped value, bits) and LUT Data (PS3.3 §C.11.1.1).
fn read_lut(path: &Path, item: &InMemDicomObject, signed: bool) -> Result<Lut, IoError> {
    let desc = item
        .element_opt(tags::LUT_DESCRIPTOR)
        .ok()
        .flatten()
        .and_then(|e| e.to_multi_int::<i64>().ok())
        .filter(|d| d.len() == 3)
        .ok_or_else(|| err(path, "a LUT item has no valid LUT Descriptor (3 values); the LUT cannot be used"))?;
    // 0 entries means 2^16; the first mapped value is SS for signed pixel data even when read as US.
    let entries = if desc[0] == 0 { 65536 } else { desc[0].rem_euclid(65536) as usize };
    let mut first = desc[1];
    if signed && first > 32767 {
        first -= 65536;
    }
    let bits = desc[2].clamp(1, 16) as u16;
    let data_el = item
        .element_opt(tags::LUT_DATA)
        .ok()
        .flatten()
        .ok_or_else(|| err(path, "a LUT item has a descriptor but no LUT Data"))?;
    let mut data: Vec<u16> = match data_el.to_multi_int::<u16>() {
        Ok(v) if v.len() >= entries => v,
        _ => {
            // 8-bit tables may be packed two entries per 16-bit word (OW); read the bytes.
            let bytes = data_el.to_bytes().map_err(|e| err(path, format!("unreadable LUT Data ({e})")))?;
            if bits <= 8 && bytes.len() >= entries {
                bytes.iter().map(|&b| b as u16).collect()
            } else {
                bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
            }
        }
    };
    if data.len() < entries {
        return Err(err(path, format!("LUT Data has {} entries; its descriptor promises {entries}", data.len())));
    }
    data.truncate(entries);
    Ok(Lut { first_mapped: first, bits, data, explanation: text(item, tags::LUT_EXPLANATION) })
}

/// Reads the header (not the pixels): what [`read_dicom`] would decode, and how.
pub fn read_dicom_info(path: &Path, opts: &ReadOptions) -> Result<(DicomInfo, PixelTransforms), IoError> {
    let obj = open(path, true)?;
    header(path, &obj, opts)
}

fn header(path: &Path, obj: &DefaultDicomObject, opts: &ReadOptions) -> Result<(DicomInfo, PixelTransforms), IoError> {
    let ts_uid = obj.meta().transfer_syntax().trim_end_matches('\0').to_string();
    let ts_name = TransferSyntaxRegistry.get(&ts_uid).map(|t| t.name().to_string()).unwrap_or_else(|| "unknown".into());
    let o: &InMemDicomObject = obj;
    let need = |tag, name: &str| {
        uint(o, tag)
            .ok_or_else(|| err(path, format!("has no {name} attribute: it holds no image (no pixel data to read)")))
    };
    let rows = need(tags::ROWS, "Rows")?;
    let columns = need(tags::COLUMNS, "Columns")?;
    let bits_allocated = need(tags::BITS_ALLOCATED, "Bits Allocated")? as u16;
    let bits_stored = uint(o, tags::BITS_STORED).unwrap_or(bits_allocated as u32) as u16;
    let signed = uint(o, tags::PIXEL_REPRESENTATION) == Some(1);
    let samples_per_pixel = uint(o, tags::SAMPLES_PER_PIXEL).unwrap_or(1) as u16;
    let frames = text(o, tags::NUMBER_OF_FRAMES).and_then(|s| s.parse::<u32>().ok()).unwrap_or(1).max(1);
    let pi = text(o, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_else(|| "MONOCHROME2".into());
    if rows == 0 || columns == 0 {
        return Err(err(path, format!("declares an empty image ({rows} rows × {columns} columns)")));
    }
    let pixels = rows as u64 * columns as u64;
    if pixels > opts.max_pixels {
        return Err(err(
            path,
            format!(
                "declares {rows} × {columns} = {pixels} pixels, more than the limit of {}; refusing to decode \
                 (raise the limit with --max-pixels if the image is genuine)",
                opts.max_pixels
            ),
        ));
    }
    if ![1, 8, 16, 32].contains(&bits_allocated) || bits_stored == 0 || bits_stored > bits_allocated.max(1) {
        return Err(err(
            path,
            format!("has Bits Allocated {bits_allocated} / Bits Stored {bits_stored}, which no radiograph uses"),
        ));
    }
    if opts.frame >= frames {
        return Err(err(path, format!("has {frames} frame(s); frame {} does not exist", opts.frame)));
    }

    // Modality LUT: the LUT Sequence wins over Rescale; enhanced objects keep Rescale in functional groups.
    let modality_luts = lut_items(path, o, tags::MODALITY_LUT_SEQUENCE, signed)?;
    let rescale_from = |obj: &InMemDicomObject| -> Option<(f64, f64)> {
        let slope = floats(obj, tags::RESCALE_SLOPE).map(|v| v[0]);
        let intercept = floats(obj, tags::RESCALE_INTERCEPT).map(|v| v[0]);
        (slope.is_some() || intercept.is_some()).then(|| (slope.unwrap_or(1.0), intercept.unwrap_or(0.0)))
    };
    let rescale = rescale_from(o).or_else(|| {
        first_item(o, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE)
            .and_then(|g| first_item(g, tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE))
            .and_then(rescale_from)
    });
    let modality = match (modality_luts.into_iter().next(), rescale) {
        (Some(t), _) => ModalityLut::Table(t),
        (None, Some((slope, intercept))) => ModalityLut::Rescale { slope, intercept },
        (None, None) => ModalityLut::IDENTITY,
    };
    // The stored range through the modality LUT (pydicom's ymin/ymax for windows).
    let (smin, smax) = if signed {
        (-(1i64 << (bits_stored - 1)) as f64, ((1i64 << (bits_stored - 1)) - 1) as f64)
    } else {
        (0.0, ((1u64 << bits_stored) - 1) as f64)
    };
    let modality_range = match &modality {
        ModalityLut::Rescale { slope, intercept } => {
            let (a, b) = (smin * slope + intercept, smax * slope + intercept);
            (a.min(b), a.max(b))
        }
        ModalityLut::Table(t) => (0.0, ((1u64 << t.bits) - 1) as f64),
    };

    // VOI: windows (several values make several windows), then the VOI LUT Sequence.
    let function = match text(o, tags::VOILUT_FUNCTION).as_deref() {
        Some("LINEAR_EXACT") => WindowFunction::LinearExact,
        Some("SIGMOID") => WindowFunction::Sigmoid,
        _ => WindowFunction::Linear,
    };
    let centers = floats(o, tags::WINDOW_CENTER).unwrap_or_default();
    let widths = floats(o, tags::WINDOW_WIDTH).unwrap_or_default();
    let explanations: Vec<String> = text(o, tags::WINDOW_CENTER_WIDTH_EXPLANATION)
        .map(|s| s.split('\\').map(|p| p.trim().to_string()).collect())
        .unwrap_or_default();
    let windows = centers
        .iter()
        .zip(&widths)
        .enumerate()
        .map(|(i, (&center, &width))| Window {
            center,
            width,
            function,
            explanation: explanations.get(i).filter(|e| !e.is_empty()).cloned(),
        })
        .collect();
    let voi_luts = lut_items(path, o, tags::VOILUT_SEQUENCE, signed)?;
    let shape = text(o, tags::PRESENTATION_LUT_SHAPE);
    let invert = pi == "MONOCHROME1" || shape.as_deref() == Some("INVERSE");

    let info = DicomInfo {
        transfer_syntax_uid: ts_uid,
        transfer_syntax: ts_name,
        sop_class_uid: text(o, tags::SOP_CLASS_UID)
            .unwrap_or_else(|| obj.meta().media_storage_sop_class_uid().trim_end_matches('\0').to_string()),
        modality: text(o, tags::MODALITY),
        rows,
        columns,
        frames,
        samples_per_pixel,
        photometric_interpretation: pi,
        bits_allocated,
        bits_stored,
        signed,
        pixel_spacing: pair(floats(o, tags::PIXEL_SPACING)),
        imager_pixel_spacing: pair(floats(o, tags::IMAGER_PIXEL_SPACING)),
        magnification_factor: floats(o, tags::ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR).map(|v| v[0]),
        image_position: floats(o, tags::IMAGE_POSITION_PATIENT)
            .filter(|v| v.len() == 3 && v.iter().all(|x| x.is_finite()))
            .map(|v| [v[0], v[1], v[2]]),
        image_orientation: floats(o, tags::IMAGE_ORIENTATION_PATIENT)
            .filter(|v| v.len() == 6 && v.iter().all(|x| x.is_finite()))
            .map(|v| std::array::from_fn(|i| v[i])),
        view_position: text(o, tags::VIEW_POSITION),
        patient_orientation: text(o, tags::PATIENT_ORIENTATION),
        laterality: text(o, tags::IMAGE_LATERALITY).or_else(|| text(o, tags::LATERALITY)),
        body_part: text(o, tags::BODY_PART_EXAMINED),
        presentation_lut_shape: shape,
        study_uid: text(o, tags::STUDY_INSTANCE_UID),
        series_uid: text(o, tags::SERIES_INSTANCE_UID),
        sop_instance_uid: text(o, tags::SOP_INSTANCE_UID),
        patient_sex: text(o, tags::PATIENT_SEX),
        patient_age: text(o, tags::PATIENT_AGE),
        patient_id: opts.identifiers.then(|| text(o, tags::PATIENT_ID)).flatten(),
        patient_name: opts.identifiers.then(|| text(o, tags::PATIENT_NAME)).flatten(),
        patient_birth_date: opts.identifiers.then(|| text(o, tags::PATIENT_BIRTH_DATE)).flatten(),
    };
    Ok((info, PixelTransforms { modality, windows, voi_luts, invert, modality_range }))
}

/// Reads a DICOM radiograph: header, then one frame of stored values.
pub fn read_dicom(path: &Path, opts: &ReadOptions) -> Result<DicomImage, IoError> {
    let obj = open(path, false)?;
    let (info, transforms) = header(path, &obj, opts)?;
    if info.transfer_syntax_uid == JPEG_EXTENDED && info.bits_stored > 8 {
        return Err(err(
            path,
            format!(
                "uses transfer syntax {} ({JPEG_EXTENDED}) with {} bits stored; 12-bit JPEG Extended has no offline \
                 decoder in this build. Transcode it first, e.g. `dcmdjpeg in.dcm out.dcm` (dcmtk) or \
                 `gdcmconv --raw in.dcm out.dcm`",
                info.transfer_syntax, info.bits_stored
            ),
        ));
    }
    match TransferSyntaxRegistry.get(&info.transfer_syntax_uid) {
        None => {
            return Err(err(
                path,
                format!("uses transfer syntax {} which this build does not know", info.transfer_syntax_uid),
            ))
        }
        Some(ts) if !ts.can_decode_all() => {
            return Err(err(
                path,
                format!(
                    "uses transfer syntax {} ({}), which this build cannot decode (no offline decoder for it); \
                     transcode the file first, e.g. with dcmtk `dcmdjpeg`/`dcmdjpls` or gdcmconv --raw",
                    info.transfer_syntax, info.transfer_syntax_uid
                ),
            ))
        }
        Some(_) => {}
    }
    if obj.element_opt(tags::PIXEL_DATA).ok().flatten().is_none() {
        return Err(err(path, "has image attributes but no Pixel Data element (7FE0,0010)"));
    }
    // Some decoders (e.g. RLE in dicom-rs 0.10) panic on corrupt data instead of returning an error; a
    // damaged file must be an error like any other, so the panic is caught here and reported as one.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| obj.decode_pixel_data_frame(opts.frame)))
        .map_err(|_| {
            err(
                path,
                format!(
                    "pixel data is corrupt: the {} decoder could not make sense of it (the file is damaged or \
                     truncated)",
                    info.transfer_syntax
                ),
            )
        })?;
    let decoded = decoded.map_err(|e| {
        err(
            path,
            format!(
                "pixel data could not be decoded as {} ({}): {e}. If the syntax is JPEG Extended (12-bit), no \
                 offline decoder exists here; transcode it losslessly first. Otherwise the file may be truncated",
                info.transfer_syntax, info.transfer_syntax_uid
            ),
        )
    })?;
    // Decoders of colour JPEGs hand back RGB whatever the header says (YBR_FULL_422 …).
    let decoded_pi = decoded.photometric_interpretation().as_str().to_string();
    let planar = decoded.planar_configuration() as u8 == 1;
    let stored = stored_values(path, &info, &decoded_pi, decoded.data(), planar)?;
    Ok(DicomImage { stored, transforms, info })
}

/// Raw frame bytes → stored values: little-endian samples of `bits_allocated`, masked to Bits Stored
/// (unsigned) or sign-extended from it (signed); colour reduced to grey by ITU-R 601 luma (as Pillow's
/// `convert("L")`), YBR by its Y. 32-bit samples above `i32::MAX` (only in 32-bit colour) wrap.
fn stored_values(path: &Path, info: &DicomInfo, pi: &str, bytes: &[u8], planar: bool) -> Result<Image2<i32>, IoError> {
    let n = info.rows as usize * info.columns as usize;
    let spp = info.samples_per_pixel.max(1) as usize;
    let bytes_per = (info.bits_allocated as usize).div_ceil(8);
    let need = n * spp * bytes_per;
    if bytes.len() < need {
        return Err(err(
            path,
            format!(
                "pixel data holds {} bytes for the frame; {} × {} × {spp} samples × {bytes_per} bytes need {need} \
                 (the file is truncated or its header is wrong)",
                bytes.len(),
                info.rows,
                info.columns
            ),
        ));
    }
    let bs = info.bits_stored as u32;
    // dicom-rs reads OW pixel data as 16-bit words in native order, so a 32-bit sample of a big-endian file
    // arrives as (high word, low word).
    let big_endian_words = info.transfer_syntax_uid == "1.2.840.10008.1.2.2";
    let sample = |i: usize| -> i32 {
        let raw: u32 = match bytes_per {
            1 => bytes[i] as u32,
            2 => u16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]) as u32,
            _ if big_endian_words => {
                let hi = u16::from_le_bytes([bytes[4 * i], bytes[4 * i + 1]]) as u32;
                let lo = u16::from_le_bytes([bytes[4 * i + 2], bytes[4 * i + 3]]) as u32;
                (hi << 16) | lo
            }
            _ => u32::from_le_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]]),
        };
        if info.bits_allocated == 1 {
            // dicom-rs expands 1-bit samples to 0/255 bytes; the stored value is the bit.
            return (raw != 0) as i32;
        }
        let mask = if bs >= 32 { u32::MAX } else { (1u32 << bs) - 1 };
        let v = raw & mask;
        if info.signed && bs < 32 && v & (1 << (bs - 1)) != 0 {
            (v | !mask) as i32
        } else {
            v as i32
        }
    };
    let pixels: Vec<i32> = if spp == 1 && bytes_per == 2 && info.bits_allocated == 16 {
        // The common radiograph layout, without the per-sample dispatch.
        let mask = ((1u32 << bs) - 1) as u16;
        let shift = 16 - bs;
        bytes[..2 * n]
            .chunks_exact(2)
            .map(|c| {
                let raw = u16::from_le_bytes([c[0], c[1]]) & mask;
                if info.signed {
                    ((raw << shift) as i16 >> shift) as i32
                } else {
                    raw as i32
                }
            })
            .collect()
    } else if spp == 1 {
        (0..n).map(sample).collect()
    } else {
        let ybr = pi.starts_with("YBR");
        (0..n)
            .map(|p| {
                let at = |c: usize| if planar { sample(c * n + p) } else { sample(p * spp + c) } as f64;
                if ybr {
                    at(0) as i32 // Y is already the luma
                } else {
                    crate::radiograph::luma(at(0) as i64, at(1) as i64, at(2) as i64) as i32
                }
            })
            .collect()
    };
    Ok(Image2 { width: info.columns as usize, height: info.rows as usize, pixels })
}

/// JPEG Extended (process 2 & 4); its 12-bit form has no offline decoder here.
const JPEG_EXTENDED: &str = "1.2.840.10008.1.2.4.51";

/// Whether this build can decode the pixel data a header describes: the transfer syntax has a decoder, and
/// it is not 12-bit JPEG Extended (jpeg-decoder reads only 8-bit lossy JPEG).
pub fn can_decode(info: &DicomInfo) -> bool {
    let known = TransferSyntaxRegistry.get(&info.transfer_syntax_uid).is_some_and(|t| t.can_decode_all());
    known && !(info.transfer_syntax_uid == JPEG_EXTENDED && info.bits_stored > 8)
}

/// Whether a file starts like DICOM Part 10 (`DICM` at byte 128). Files without the preamble are not
/// recognised by this check (but [`read_dicom`] still tries them when named explicitly).
pub fn looks_like_dicom(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 132];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head[128..132] == b"DICM"
}
