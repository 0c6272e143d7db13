//! Damaged radiograph files never panic: every fixture truncated at many points and with bytes flipped
//! (seeded, deterministic) must read or fail with an error.

use cxr_io::dicom::ReadOptions;
use cxr_io::radiograph::read_radiograph;
use std::path::PathBuf;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e3779b97f4a7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

#[test]
fn truncated_and_corrupted_files_fail_cleanly() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom");
    let work = std::env::temp_dir().join(format!("cxr-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let opts = ReadOptions::default();
    let mut seed = 7u64;
    let mut cases = 0;
    for name in
        ["CT_small.dcm", "MR_small_RLE.dcm", "JPEG-LL.dcm", "693_J2KR.dcm", "SC_rgb.dcm", "RG1_J2KI_pillow_box_256.png"]
    {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let target = work.join(name);
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for k in 1..9 {
            variants.push(bytes[..bytes.len() * k / 9].to_vec());
        }
        for _ in 0..12 {
            let mut b = bytes.clone();
            for _ in 0..8 {
                let at = (splitmix(&mut seed) % b.len() as u64) as usize;
                b[at] = splitmix(&mut seed) as u8;
            }
            variants.push(b);
        }
        for v in variants {
            std::fs::write(&target, &v).unwrap();
            let t = target.clone();
            let o = opts.clone();
            let r = std::panic::catch_unwind(move || read_radiograph(&t, &o).map(|r| r.stored.pixels.len()));
            assert!(r.is_ok(), "{name}: reading a damaged copy panicked");
            cases += 1;
        }
    }
    assert_eq!(cases, 6 * 20);
    std::fs::remove_dir_all(&work).unwrap();
}
