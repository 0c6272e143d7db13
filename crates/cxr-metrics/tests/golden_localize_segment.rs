//! Localisation and segmentation against the reference values (tests/data/eval; definitions in
//! cxr_metrics::{localize, segment}). Tolerances: localisation 1e-12; segmentation 1e-9.

use cxr_metrics::localize::{accuracy_at, iobb, iou, BoxXywh, T_IOBB, T_IOU};
use cxr_metrics::segment::segmentation_scores;

fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("tests/data/eval/{name}")).unwrap()).unwrap()
}

fn bx(v: &serde_json::Value) -> BoxXywh {
    let f = |i: usize| v[i].as_f64().unwrap();
    BoxXywh { x: f(0), y: f(1), w: f(2), h: f(3) }
}

#[test]
fn localization_matches_the_reference() {
    let r = json("localization_reference.json");
    let (mut ious, mut iobbs, mut hits) = (Vec::new(), Vec::new(), 0);
    let boxes = r["boxes"].as_array().unwrap();
    for b in boxes {
        let (g, p) = (bx(&b["gt_xywh"]), bx(&b["pred_xywh"]));
        let (i, o) = (iou(&g, &p), iobb(&g, &p));
        assert!((i - b["iou"].as_f64().unwrap()).abs() < 1e-12, "row {}: IoU {i}", b["bbox_list_row"]);
        assert!((o - b["iobb"].as_f64().unwrap()).abs() < 1e-12, "IoBB {o}");
        let hit = g.contains(p.x + p.w / 2.0, p.y + p.h / 2.0, 0.0);
        assert_eq!(hit, b["pointing_hit_pred_center"].as_bool().unwrap());
        ious.push(i);
        iobbs.push(o);
        hits += usize::from(hit);
    }
    for (t, acc) in accuracy_at(&ious, &T_IOU) {
        assert!((acc - r["accuracy_T_IoU"][format!("{t}")].as_f64().unwrap()).abs() < 1e-12, "T(IoU) {t}");
    }
    for (t, acc) in accuracy_at(&iobbs, &T_IOBB) {
        assert!((acc - r["accuracy_T_IoBB"][format!("{t}")].as_f64().unwrap()).abs() < 1e-12, "T(IoBB) {t}");
    }
    assert!((hits as f64 / boxes.len() as f64 - r["pointing_game_accuracy"].as_f64().unwrap()).abs() < 1e-12);
}

fn mask(name: &str) -> Vec<bool> {
    // 64 rows of 64 values; row = y, column = x.
    std::fs::read_to_string(format!("tests/data/eval/{name}"))
        .unwrap()
        .lines()
        .flat_map(|l| l.split(',').map(|v| v.trim() == "1").collect::<Vec<_>>())
        .collect()
}

#[test]
fn segmentation_matches_monai_and_medpy() {
    let r = json("segmentation_reference.json");
    let (a, b) = (mask("seg_mask_A_64x64.csv"), mask("seg_mask_B_64x64.csv"));
    assert_eq!(a.len(), 4096);
    let s = segmentation_scores(&a, &b, [64, 64, 1], [1.0; 3]);
    let w = |k: &str| r[k].as_f64().unwrap();
    assert_eq!((s.n_a, s.n_b, s.n_intersection), (733, 727, 563));
    assert_eq!((s.n_border_a as f64, s.n_border_b as f64), (w("n_border_A"), w("n_border_B")));
    for (got, key) in [
        (s.dice, "dice"),
        (s.iou, "iou"),
        (s.hd.unwrap(), "hd"),
        (s.hd95_monai.unwrap(), "hd95_monai_max_of_directed_p95"),
        (s.hd95_medpy.unwrap(), "hd95_medpy_pooled_p95"),
        (s.assd.unwrap(), "assd_mean_of_directed_means"),
        (s.assd_medpy.unwrap(), "assd_pooled_mean_medpy_0_5"),
    ] {
        assert!((got - w(key)).abs() <= 1e-9, "{key}: {got} vs {}", w(key));
    }
}
