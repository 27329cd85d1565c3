//! Triplet loss, negative sampling and the per-space losses on small hand-checkable tensors.

use storyscore::model::losses::{music_classification_loss, regression_loss, text_classification_loss};
use storyscore::model::triplet::TRIPLET_MARGIN;
use storyscore::model::{sample_negatives, three_branch_loss, triplet_loss, PairGroup, Similarity, Space};
use tch::{Kind, Tensor};

fn t(rows: &[&[f32]]) -> Tensor {
    let cols = rows[0].len() as i64;
    Tensor::from_slice(&rows.concat()).view([rows.len() as i64, cols])
}

fn scalar(x: &Tensor) -> f64 {
    x.double_value(&[])
}

#[test]
fn triplet_loss_is_zero_when_positives_are_much_closer() {
    let a = t(&[&[1.0, 0.0], &[0.0, 1.0]]);
    let p = t(&[&[2.0, 0.0], &[0.0, 3.0]]);
    let n = t(&[&[0.0, 1.0], &[1.0, 0.0]]);
    assert_eq!(scalar(&triplet_loss(&a, &p, &n, TRIPLET_MARGIN)), 0.0);
}

#[test]
fn triplet_loss_matches_hand_computation() {
    // cos(a,p) = 0, cos(a,n) = 1 → relu(0.2 − 0 + 1) = 1.2; second row: cos(a,p)=1, cos(a,n)=0.9 → 0.1.
    let a = t(&[&[1.0, 0.0], &[1.0, 0.0]]);
    let p = t(&[&[0.0, 1.0], &[1.0, 0.0]]);
    let n = t(&[&[5.0, 0.0], &[0.9, (1.0f32 - 0.81).sqrt()]]);
    let loss = scalar(&triplet_loss(&a, &p, &n, 0.2));
    assert!((loss - (1.2 + 0.1) / 2.0).abs() < 1e-6, "{loss}");
}

#[test]
fn negatives_never_share_the_anchor_label() {
    tch::manual_seed(7);
    let labels =
        t(&[&[1.0, 0.0, 0.0], &[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0], &[0.0, 0.0, 1.0], &[0.0, 1.0, 0.0]]);
    let anchor = Tensor::randn([5, 4], tch::kind::FLOAT_CPU);
    let positive = Tensor::randn([5, 4], tch::kind::FLOAT_CPU);
    let label_of = [0, 0, 1, 2, 1];
    for _ in 0..200 {
        let idx = Vec::<i64>::try_from(sample_negatives(&anchor, &positive, &labels).unwrap()).unwrap();
        for (i, &j) in idx.iter().enumerate() {
            assert_ne!(label_of[i], label_of[j as usize], "anchor {i} drew {j}");
        }
    }
}

#[test]
fn closer_items_are_drawn_more_often() {
    tch::manual_seed(11);
    // Anchor 0 (label A); candidates 1 (cos 1 → weight 1) and 2 (cos −1 → weight 0) have label B.
    let anchor = t(&[&[1.0, 0.0], &[0.0, 1.0], &[0.0, 1.0]]);
    let positive = t(&[&[0.0, 1.0], &[1.0, 0.0], &[-1.0, 0.0]]);
    let labels = t(&[&[1.0, 0.0], &[0.0, 1.0], &[0.0, 1.0]]);
    for _ in 0..100 {
        let idx = Vec::<i64>::try_from(sample_negatives(&anchor, &positive, &labels).unwrap()).unwrap();
        assert_eq!(idx[0], 1);
    }
}

#[test]
fn a_batch_with_one_label_falls_back_to_any_other_item() {
    tch::manual_seed(5);
    let anchor = Tensor::randn([4, 3], tch::kind::FLOAT_CPU);
    let labels = t(&[&[1.0, 0.0], &[1.0, 0.0], &[1.0, 0.0], &[1.0, 0.0]]);
    for _ in 0..50 {
        let idx = Vec::<i64>::try_from(sample_negatives(&anchor, &anchor, &labels).unwrap()).unwrap();
        assert!(idx.iter().enumerate().all(|(i, &j)| i as i64 != j), "{idx:?}");
    }
}

#[test]
fn sampling_rejects_bad_shapes() {
    let one = Tensor::ones([1, 3], tch::kind::FLOAT_CPU);
    assert!(sample_negatives(&one, &one, &one).unwrap_err().to_string().contains("B ≥ 2"));
    let a = Tensor::ones([3, 3], tch::kind::FLOAT_CPU);
    let p = Tensor::ones([2, 3], tch::kind::FLOAT_CPU);
    assert!(sample_negatives(&a, &p, &a).is_err());
}

#[test]
fn three_branch_loss_weights_the_three_groups() {
    tch::manual_seed(1);
    // Each group: anchor equals its positive, and the only possible negative is orthogonal,
    // so every group's loss is relu(0.2 − 1 + 0) = 0; with an antiparallel negative it is 0.2.
    let a = t(&[&[1.0, 0.0], &[0.0, 1.0]]);
    let labels = t(&[&[1.0, 0.0], &[0.0, 1.0]]);
    let g = PairGroup { anchor: &a, positive: &a, labels: &labels };
    assert_eq!(scalar(&three_branch_loss(&g, &g, &g, 0.2).unwrap()), 0.0);
    // Positives orthogonal to anchors, negatives parallel: each group loss = 0.2 − 0 + 1 = 1.2.
    let p = t(&[&[0.0, 1.0], &[1.0, 0.0]]);
    let g = PairGroup { anchor: &a, positive: &p, labels: &labels };
    let total = scalar(&three_branch_loss(&g, &g, &g, 0.2).unwrap());
    assert!((total - 1.2).abs() < 1e-6, "{total}");
}

#[test]
fn classification_and_regression_losses() {
    let logits = t(&[&[0.0, 0.0], &[0.0, 0.0]]);
    let ce = text_classification_loss(&logits, &Tensor::from_slice(&[0i64, 1])).unwrap();
    assert!((scalar(&ce) - 2f64.ln()).abs() < 1e-6);
    assert!(text_classification_loss(&logits, &Tensor::from_slice(&[0i64, 2]))
        .unwrap_err()
        .to_string()
        .contains("0..2"));
    let bce = music_classification_loss(&logits, &t(&[&[1.0, 0.0], &[0.0, 1.0]])).unwrap();
    assert!((scalar(&bce) - 2f64.ln()).abs() < 1e-6);
    let mse = regression_loss(&t(&[&[1.0, 2.0]]), &t(&[&[0.0, 0.0]])).unwrap();
    assert!((scalar(&mse) - 2.5).abs() < 1e-6);
    assert!(regression_loss(&t(&[&[1.0, 2.0]]), &t(&[&[0.0, 0.0, 0.0]])).is_err());
}

#[test]
fn similarities_per_space() {
    let q = t(&[&[3.0, 4.0]]);
    let items = t(&[&[3.0, 4.0], &[0.0, 0.0], &[-4.0, 3.0]]);
    let cos = Vec::<f32>::try_from(Space::W2v.similarity().scores(&q, &items).view([-1])).unwrap();
    assert!((cos[0] - 1.0).abs() < 1e-6 && cos[1] == 0.0 && cos[2].abs() < 1e-6, "{cos:?}");
    let euc = Vec::<f32>::try_from(Space::Va.similarity().scores(&q, &items).view([-1])).unwrap();
    assert_eq!(euc[0], 0.0);
    assert!((euc[1] + 5.0).abs() < 1e-5 && (euc[2] + 50f32.sqrt()).abs() < 1e-4, "{euc:?}");
    let dot = Similarity::InnerProduct.scores(&q, &items).to_kind(Kind::Double);
    assert_eq!(Vec::<f64>::try_from(dot.view([-1])).unwrap(), [25.0, 0.0, 0.0]);
    assert_eq!("three-branch".parse::<Space>().unwrap(), Space::ThreeBranch);
    assert!("four-branch".parse::<Space>().unwrap_err().contains("three-branch"));
}
