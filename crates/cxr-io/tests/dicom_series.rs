//! CT volumes from DICOM slices: written here with known geometry, shuffled, then read back.

use cxr_io::dicom_series::read_dicom_series;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{meta::FileMetaTableBuilder, InMemDicomObject};
use std::path::{Path, PathBuf};

const ROWS: u16 = 3;
const COLS: u16 = 4;

/// Writes one 4×3 CT slice whose stored values are `base + index`, rescaled by intercept −1024.
fn write_slice(path: &Path, series: &str, position: [f64; 3], base: u16) {
    let mut obj = InMemDicomObject::new_empty();
    let s = |v: &str| PrimitiveValue::from(v.to_string());
    obj.put(DataElement::new(tags::SOP_CLASS_UID, VR::UI, s("1.2.840.10008.5.1.4.1.1.2")));
    obj.put(DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, s(&format!("{series}.{base}"))));
    obj.put(DataElement::new(tags::MODALITY, VR::CS, s("CT")));
    obj.put(DataElement::new(tags::SERIES_INSTANCE_UID, VR::UI, s(series)));
    obj.put(DataElement::new(
        tags::IMAGE_POSITION_PATIENT,
        VR::DS,
        s(&format!("{}\\{}\\{}", position[0], position[1], position[2])),
    ));
    obj.put(DataElement::new(tags::IMAGE_ORIENTATION_PATIENT, VR::DS, s("1\\0\\0\\0\\1\\0")));
    obj.put(DataElement::new(tags::PIXEL_SPACING, VR::DS, s("0.5\\0.7")));
    obj.put(DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(ROWS)));
    obj.put(DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(COLS)));
    obj.put(DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1u16)));
    obj.put(DataElement::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, s("MONOCHROME2")));
    obj.put(DataElement::new(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(16u16)));
    obj.put(DataElement::new(tags::BITS_STORED, VR::US, PrimitiveValue::from(12u16)));
    obj.put(DataElement::new(tags::HIGH_BIT, VR::US, PrimitiveValue::from(11u16)));
    obj.put(DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, PrimitiveValue::from(0u16)));
    obj.put(DataElement::new(tags::RESCALE_INTERCEPT, VR::DS, s("-1024")));
    obj.put(DataElement::new(tags::RESCALE_SLOPE, VR::DS, s("1")));
    let pixels: Vec<u16> = (0..ROWS * COLS).map(|i| base + i).collect();
    obj.put(DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(pixels.into())));
    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax("1.2.840.10008.1.2.1")
                .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.2")
                .media_storage_sop_instance_uid(format!("{series}.{base}")),
        )
        .unwrap();
    file.write_to_file(path).unwrap();
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cxr-series-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn slices_are_sorted_by_position_and_placed_in_ras() {
    let d = dir("plain");
    // Written in scrambled order with misleading names: z = 10, 12.5, 15, 17.5.
    for (name, z, base) in [("a.dcm", 15.0, 3000), ("b.dcm", 10.0, 1000), ("c.dcm", 17.5, 4000), ("d.dcm", 12.5, 2000)]
    {
        write_slice(&d.join(name), "1.2.3", [-20.0, 30.0, z], base);
    }
    let (v, report) = read_dicom_series(&d, None).unwrap();
    assert_eq!(v.dims, [4, 3, 4]);
    assert_eq!(report.slices, 4);
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    // Slice k holds base 1000·(k+1); HU = stored − 1024; voxel (i, j) = base + 4j + i.
    assert_eq!(v.get(0, 0, 0), 1000.0 - 1024.0);
    assert_eq!(v.get(3, 2, 2), 3000.0 + 11.0 - 1024.0);
    // Affine: i along +x LPS (column spacing 0.7) → −x RAS; j along +y LPS (row spacing 0.5) → −y RAS.
    assert_eq!(v.affine[0][0], -0.7);
    assert_eq!(v.affine[1][1], -0.5);
    assert!((v.affine[2][2] - 2.5).abs() < 1e-9);
    assert_eq!([v.affine[0][3], v.affine[1][3], v.affine[2][3]], [20.0, -30.0, 10.0]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn uneven_spacing_is_resampled_and_tilt_kept_as_shear() {
    let d = dir("uneven");
    // z = 0, 2, 4, 8 (one slice missing): resampled to 2 mm, 5 slices; z = 6 interpolates 4 and 8.
    for (z, base) in [(0.0, 1000), (2.0, 1100), (4.0, 1200), (8.0, 1400)] {
        write_slice(&d.join(format!("s{base}.dcm")), "9.9", [0.0, 0.0, z], base);
    }
    let (v, report) = read_dicom_series(&d, None).unwrap();
    assert_eq!(v.dims[2], 5);
    assert_eq!(v.get(0, 0, 3), 1300.0 - 1024.0);
    assert!(report.notes.iter().any(|n| n.contains("uneven slice spacing")), "{:?}", report.notes);

    let t = dir("tilt");
    // Each step moves 1 mm in y as well as 2 mm in z: a tilt of atan(1/2) = 26.57°.
    for k in 0..3 {
        write_slice(&t.join(format!("{k}.dcm")), "7.7", [0.0, k as f64, 2.0 * k as f64], 1000 + k as u16);
    }
    let (v, report) = read_dicom_series(&t, None).unwrap();
    assert!((report.tilt_degrees - 26.565).abs() < 0.01, "{}", report.tilt_degrees);
    assert!((v.affine[1][2] + 1.0).abs() < 1e-9, "shear kept in the affine (RAS y = −LPS y)");
    assert!(report.notes.iter().any(|n| n.contains("gantry tilt")));
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::remove_dir_all(&t).unwrap();
}

#[test]
fn mixed_series_duplicates_and_empty_folders_fail_clearly() {
    let d = dir("mixed");
    write_slice(&d.join("a.dcm"), "1.1", [0.0, 0.0, 0.0], 1);
    write_slice(&d.join("b.dcm"), "1.1", [0.0, 0.0, 1.0], 2);
    write_slice(&d.join("c.dcm"), "2.2", [0.0, 0.0, 0.0], 3);
    let e = read_dicom_series(&d, None).unwrap_err().to_string();
    assert!(e.contains("2 series") && e.contains("--series"), "{e}");
    let (v, _) = read_dicom_series(&d, Some("1.1")).unwrap();
    assert_eq!(v.dims[2], 2);
    write_slice(&d.join("d.dcm"), "1.1", [0.0, 0.0, 1.0], 4);
    let e = read_dicom_series(&d, Some("1.1")).unwrap_err().to_string();
    assert!(e.contains("duplicate slice"), "{e}");
    let empty = dir("empty");
    let e = read_dicom_series(&empty, None).unwrap_err().to_string();
    assert!(e.contains("no DICOM files"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::remove_dir_all(&empty).unwrap();
}
