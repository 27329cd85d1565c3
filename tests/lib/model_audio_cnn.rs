//! The audio CNN against `model_shapes/` (original names, eval mode, 1e-4).
use crate::common;

use std::path::Path;

use storyscore::model::weights::{copy_into, read_safetensors};
use storyscore::model::{AudioCnn, AudioCnnConfig, Head};
use tch::nn::{self, ModuleT};
use tch::{Device, Tensor};

fn npy(path: &Path) -> Tensor {
    let arr: ndarray::ArrayD<f32> = ndarray_npy::read_npy(path).unwrap();
    let shape: Vec<i64> = arr.shape().iter().map(|&d| d as i64).collect();
    Tensor::from_slice(&arr.iter().copied().collect::<Vec<f32>>()).reshape(shape)
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

/// The audio branch of the reference: trunk plus `song_*` head, weights loaded by name.
fn audio_branch(weights: &Path) -> (nn::VarStore, AudioCnn, Head) {
    let vs = nn::VarStore::new(Device::Cpu);
    let cnn = AudioCnn::new(&vs.root(), AudioCnnConfig::default());
    let head = Head::new(&vs.root(), "song", 256, 128, 64);
    let tensors = read_safetensors(weights).unwrap();
    let copied = copy_into(&vs, "", &tensors, "", weights).unwrap();
    assert_eq!(copied, vs.variables().len());
    (vs, cnn, head)
}

#[test]
fn audio_branch_reproduces_reference_outputs() {
    let Some(dir) = common::shared("reference/model_shapes") else { return };
    let (_vs, cnn, head) = audio_branch(&dir.join("audio_branch.safetensors"));
    for (input, output) in [
        (npy(&dir.join("audio_input.npy")), npy(&dir.join("audio_output.npy"))),
        (
            Tensor::stack(
                &[npy(&dir.join("../mel/clip_logmel.npy")), npy(&dir.join("../mel/noise_logmel.npy"))],
                0,
            ),
            npy(&dir.join("audio_output_mel.npy")),
        ),
    ] {
        cnn.check_input(&input).unwrap();
        let ours = tch::no_grad(|| head.forward_t(&cnn.forward_t(&input, false), false));
        let diff = max_abs_diff(&ours, &output);
        assert!(diff <= 1e-4, "max abs diff {diff}");
    }
    let trunk = tch::no_grad(|| cnn.forward_t(&npy(&dir.join("audio_input.npy")), false));
    let diff = max_abs_diff(&trunk, &npy(&dir.join("intermediates/flatten.npy")));
    assert!(diff <= 1e-4, "trunk max abs diff {diff}");
}

#[test]
fn audio_branch_has_the_original_parameter_count_and_names() {
    let vs = nn::VarStore::new(Device::Cpu);
    let _cnn = AudioCnn::new(&vs.root(), AudioCnnConfig::default());
    let _head = Head::new(&vs.root(), "song", 256, 128, 64);
    let params: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
    assert_eq!(params, 1_439_426);
    let Some(shapes) = common::shared("reference/model_shapes/shapes.json") else { return };
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(shapes).unwrap()).unwrap();
    let vars = vs.variables();
    let branch = &json["audio_branch"];
    let named = branch["parameters"].as_array().unwrap().iter().chain(branch["buffers"].as_array().unwrap());
    for p in named {
        let name = p["name"].as_str().unwrap();
        if name.ends_with("num_batches_tracked") {
            continue;
        }
        let shape: Vec<i64> = p["shape"].as_array().unwrap().iter().map(|d| d.as_i64().unwrap()).collect();
        assert_eq!(vars.get(name).map(|t| t.size()), Some(shape), "{name}");
    }
}

#[test]
fn bad_mel_shapes_are_errors_not_panics() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cnn = AudioCnn::new(&vs.root(), AudioCnnConfig::default());
    for bad in [
        Tensor::zeros([2, 64, 313], tch::kind::FLOAT_CPU),
        Tensor::zeros([2, 128, 100], tch::kind::FLOAT_CPU),
        Tensor::zeros([128, 313], tch::kind::FLOAT_CPU),
    ] {
        let err = cnn.check_input(&bad).unwrap_err().to_string();
        assert!(err.contains("log-mel") && err.contains("128"), "{err}");
    }
    let ok = Tensor::zeros([1, 128, 288], tch::kind::FLOAT_CPU);
    cnn.check_input(&ok).unwrap();
    assert_eq!(tch::no_grad(|| cnn.forward_t(&ok, false)).size(), [1, 256]);
}

#[test]
fn longer_inputs_take_the_max_over_time() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cnn = AudioCnn::new(&vs.root(), AudioCnnConfig::default());
    let mel = Tensor::randn([1, 128, 313 * 2], tch::kind::FLOAT_CPU);
    let map = tch::no_grad(|| cnn.feature_map_t(&mel, false));
    assert_eq!(map.size(), [1, 256, 2]);
    let pooled = tch::no_grad(|| cnn.forward_t(&mel, false));
    assert_eq!(max_abs_diff(&pooled, &map.amax([-1i64].as_slice(), false)), 0.0);
}
