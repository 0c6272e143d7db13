//! MetaImage reading against SimpleITK's own readings of the same files (tests/data).

use cxr_core::volume::apply_affine;
use cxr_io::read_volume;
use std::path::Path;

#[test]
fn metaimage_matches_simpleitk() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metaimage_expected.json")).unwrap()).unwrap();
    for (name, e) in expected.as_object().unwrap() {
        let v = read_volume(&dir.join(name)).unwrap();
        let dims: Vec<usize> = e["dims"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
        assert_eq!(v.dims.to_vec(), dims, "{name}");
        let sum: f64 = v.data.iter().map(|&x| f64::from(x)).sum();
        assert_eq!(sum, e["sum"].as_f64().unwrap(), "{name}");
        assert_eq!(f64::from(v.get(1, 2, 3)), e["voxel_1_2_3"].as_f64().unwrap(), "{name}");
        // SimpleITK reports LPS; cxrkit's affine is RAS: negate x and y.
        let ras = apply_affine(&v.affine, [1.0, 2.0, 3.0]);
        let lps = e["lps_of_index_1_2_3"].as_array().unwrap();
        for (k, sign) in [(0, -1.0), (1, -1.0), (2, 1.0)] {
            assert!((ras[k] - sign * lps[k].as_f64().unwrap()).abs() < 1e-9, "{name} axis {k}: {ras:?} vs {lps:?}");
        }
    }
}

#[test]
fn metaimage_errors() {
    let d = std::env::temp_dir().join(format!("cxr-mha-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("bad.mha");
    std::fs::write(&f, "NDims = 2\nDimSize = 4 4\nElementType = MET_SHORT\nElementDataFile = LOCAL\n").unwrap();
    assert!(read_volume(&f).unwrap_err().to_string().contains("3 dimensions"));
    std::fs::write(&f, "NDims = 3\nDimSize = 4 4 4\nElementType = MET_SHORT\nElementDataFile = LOCAL\nxx").unwrap();
    assert!(read_volume(&f).unwrap_err().to_string().contains("truncated"));
    std::fs::write(
        &f,
        "NDims = 3\nDimSize = 1 1 1\nElementSpacing = 0 1 1\nElementType = MET_SHORT\nElementDataFile = LOCAL\nxx",
    )
    .unwrap();
    assert!(read_volume(&f).unwrap_err().to_string().contains("positive"));
    std::fs::write(&f, "hello").unwrap();
    assert!(read_volume(&f).unwrap_err().to_string().contains("ElementDataFile"));
    let _ = std::fs::remove_dir_all(&d);
}
