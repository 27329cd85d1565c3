//! The text and tag heads against `model_shapes/heads.safetensors` (eval mode, 1e-4).
use crate::common;

use std::path::Path;

use storyscore::model::weights::{copy_into, read_safetensors};
use storyscore::model::Head;
use tch::nn::{self, ModuleT};
use tch::{Device, Tensor};

fn npy(path: &Path) -> Tensor {
    let arr: ndarray::ArrayD<f32> = ndarray_npy::read_npy(path).unwrap();
    let shape: Vec<i64> = arr.shape().iter().map(|&d| d as i64).collect();
    Tensor::from_slice(&arr.iter().copied().collect::<Vec<f32>>()).reshape(shape)
}

#[test]
fn text_and_tag_heads_reproduce_reference_outputs() {
    let Some(dir) = common::shared("reference/model_shapes") else { return };
    let weights = dir.join("heads.safetensors");
    let vs = nn::VarStore::new(Device::Cpu);
    let text = Head::new(&vs.root(), "text", 384, 128, 64);
    let tag = Head::new(&vs.root(), "tag", 50, 128, 64);
    assert_eq!(vs.trainable_variables().iter().map(|t| t.numel()).sum::<usize>(), 57_792 + 15_040);
    copy_into(&vs, "", &read_safetensors(&weights).unwrap(), "", &weights).unwrap();
    for (head, name) in [(&text, "text"), (&tag, "tag")] {
        let input = npy(&dir.join(format!("{name}_head_input.npy")));
        let expected = npy(&dir.join(format!("{name}_head_output.npy")));
        let ours = tch::no_grad(|| head.forward_t(&input, false));
        let diff = (ours - expected).abs().max().double_value(&[]);
        assert!(diff <= 1e-4, "{name} head: max abs diff {diff}");
    }
}

#[test]
fn a_head_with_the_wrong_input_width_is_a_named_load_error() {
    let Some(weights) = common::shared("reference/model_shapes/heads.safetensors") else { return };
    let vs = nn::VarStore::new(Device::Cpu);
    let _text = Head::new(&vs.root(), "text", 768, 128, 64);
    let err = copy_into(&vs, "", &read_safetensors(&weights).unwrap(), "", &weights).unwrap_err().to_string();
    assert!(
        err.contains("text_fc1.weight") && err.contains("768") && err.contains("heads.safetensors"),
        "{err}"
    );
}

#[test]
fn train_mode_applies_dropout_and_batch_statistics() {
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let head = Head::new(&vs.root(), "tag", 50, 128, 64);
    let x = Tensor::randn([8, 50], tch::kind::FLOAT_CPU);
    let eval_a = head.forward_t(&x, false);
    let eval_b = head.forward_t(&x, false);
    assert_eq!((&eval_a - &eval_b).abs().max().double_value(&[]), 0.0);
    let train = head.forward_t(&x, true);
    assert!((&train - &eval_a).abs().max().double_value(&[]) > 1e-3);
}

#[test]
fn an_ensemble_of_heads_reads_the_mean_of_its_members_distributions() {
    tch::manual_seed(5);
    let vs = nn::VarStore::new(Device::Cpu);
    let heads = storyscore::model::Heads::new(&vs.root(), "song", 50, 32, 12, 3);
    assert_eq!(heads.len(), 3);
    let names: std::collections::BTreeSet<String> = vs.variables().into_keys().collect();
    for name in ["song_fc1.weight", "song_m1_fc1.weight", "song_m2_fc2.bias", "song_m2_bn.running_mean"] {
        assert!(names.contains(name), "{name} in {names:?}");
    }
    let x = Tensor::randn([6, 50], tch::kind::FLOAT_CPU);
    let members = heads.forward_members(&x, false);
    assert_eq!(members.len(), 3);
    assert!(
        (&members[0] - &members[1]).abs().max().double_value(&[]) > 1e-3,
        "each member starts on its own"
    );
    let ensemble = heads.forward_t(&x, false).softmax(-1, tch::Kind::Float);
    assert!((ensemble - common::mean_softmax(&members)).abs().max().double_value(&[]) < 1e-6);
    // A lone head is itself: its raw outputs, not a log-probability.
    let one = storyscore::model::Heads::new(&vs.root(), "text", 50, 32, 12, 1);
    let raw = one.forward_members(&x, false).remove(0);
    assert_eq!((one.forward_t(&x, false) - raw).abs().max().double_value(&[]), 0.0);
}
