//! Log-mel front end against the float64 reference (`reference/mel/`, tolerances from its README).
use crate::common;

use std::path::Path;

use ndarray::{Array1, Array2};
use ndarray_npy::ReadNpyExt;
use storyscore::audio::mel::{mel_filterbank, MelConfig};
use storyscore::audio::MelFrontEnd;
use tch::{Device, Kind, Tensor};

fn npy<A: ReadNpyExt>(path: &Path) -> A {
    A::read_npy(std::fs::File::open(path).expect("reference file")).expect("reference npy")
}

fn to_array(t: &Tensor) -> Array2<f32> {
    let size = t.size();
    let flat: Vec<f32> = Vec::try_from(t.to_kind(Kind::Float).contiguous().view([-1])).expect("f32 tensor");
    Array2::from_shape_vec((size[0] as usize, size[1] as usize), flat).expect("shape")
}

/// Computes [128, frames] log-mel and mel power of a reference input.
fn ours(dir: &Path, name: &str) -> (Array2<f32>, Array2<f32>) {
    let input: Array1<f32> = npy(&dir.join(format!("{name}_input.npy")));
    let wave = Tensor::from_slice(input.as_slice().expect("contiguous")).unsqueeze(0);
    let front = MelFrontEnd::new(Device::Cpu);
    let log_mel = front.log_mel(&wave).expect("log_mel");
    let power = front.mel_power(&wave).expect("mel_power");
    assert_eq!(log_mel.size(), vec![1, 128, 1 + input.len() as i64 / 256], "{name} shape");
    (to_array(&log_mel.squeeze_dim(0)), to_array(&power.squeeze_dim(0)))
}

fn check(name: &str, expected_frames: usize) {
    let Some(meta) = common::shared("reference/mel/meta.json") else { return };
    let dir = meta.parent().expect("mel dir");
    let (log_mel, power) = ours(dir, name);
    let reference: Array2<f32> = npy(&dir.join(format!("{name}_logmel.npy")));
    assert_eq!(log_mel.shape(), reference.shape(), "{name}");
    assert_eq!(reference.shape(), &[128, expected_frames]);

    assert!(log_mel.row(0).iter().all(|&v| v == -100.0), "{name}: row 0 must be exactly -100 dB");

    let max = reference.iter().copied().fold(f32::MIN, f32::max);
    let (mut worst_loud, mut worst_floor) = (0f32, 0f32);
    for (a, r) in log_mel.iter().zip(reference.iter()) {
        let d = (a - r).abs();
        if *r >= max - 80.0 || name != "sweep" {
            worst_loud = worst_loud.max(d);
        } else {
            worst_floor = worst_floor.max(d);
        }
    }
    assert!(worst_loud <= 0.01, "{name}: max |Δ| {worst_loud} dB within 80 dB of the max");
    assert!(worst_floor <= 2.0, "{name}: max |Δ| {worst_floor} dB in the leakage floor");

    let ref_power: Array2<f32> = npy(&dir.join(format!("{name}_mel_power.npy")));
    let pmax = ref_power.iter().copied().fold(0f32, f32::max);
    let mut worst_rel = 0f64;
    for (a, r) in power.iter().zip(ref_power.iter()) {
        if *r as f64 >= 1e-8 * pmax as f64 {
            worst_rel = worst_rel.max(((a - r) as f64 / *r as f64).abs());
        }
    }
    assert!(worst_rel <= 1e-3, "{name}: mel power relative diff {worst_rel}");
}

#[test]
fn sweep_matches_reference() {
    check("sweep", 63);
}

#[test]
fn noise_matches_reference() {
    check("noise", 313);
}

#[test]
fn clip_matches_reference() {
    check("clip", 313);
}

#[test]
fn filterbank_matches_reference() {
    let Some(p) = common::shared("reference/mel/mel_fbank.npy") else { return };
    let reference: Array2<f32> = npy(&p);
    assert_eq!(reference.shape(), &[128, 257]);
    let f64_bank = mel_filterbank(&MelConfig::default());
    let worst = f64_bank.iter().zip(reference.iter()).map(|(a, r)| (a - *r as f64).abs()).fold(0.0, f64::max);
    assert!(worst <= 1e-6, "float64 filterbank max diff {worst}");
    let f32_bank = to_array(MelFrontEnd::new(Device::Cpu).filterbank());
    let worst = f32_bank.iter().zip(reference.iter()).map(|(a, r)| (a - r).abs()).fold(0.0, f32::max);
    assert!(worst <= 5e-5, "float32 filterbank max diff {worst}");
    assert!(reference.row(0).iter().all(|&v| v == 0.0) && f64_bank[..257].iter().all(|&v| v == 0.0));
}

#[test]
fn batch_rows_are_independent_and_equal_single_calls() {
    let Some(meta) = common::shared("reference/mel/meta.json") else { return };
    let dir = meta.parent().expect("mel dir");
    let noise: Array1<f32> = npy(&dir.join("noise_input.npy"));
    let clip: Array1<f32> = npy(&dir.join("clip_input.npy"));
    let front = MelFrontEnd::new(Device::Cpu);
    let a = Tensor::from_slice(noise.as_slice().expect("contiguous"));
    let b = Tensor::from_slice(clip.as_slice().expect("contiguous"));
    let batch = front.log_mel(&Tensor::stack(&[&a, &b], 0)).unwrap();
    assert_eq!(batch.size(), vec![2, 128, 313]);
    let single = front.log_mel(&b).unwrap();
    let diff = f64::try_from((batch.get(1) - single.get(0)).abs().max()).unwrap();
    assert!(diff < 1e-4, "batched vs single: {diff}");
}

#[test]
fn bad_tensor_inputs_are_errors_not_panics() {
    let front = MelFrontEnd::new(Device::Cpu);
    assert!(front.log_mel(&Tensor::zeros([2, 3, 1000], (Kind::Float, Device::Cpu))).is_err());
    assert!(front.log_mel(&Tensor::zeros([1, 100], (Kind::Float, Device::Cpu))).is_err());
    assert!(front.log_mel(&Tensor::zeros([1, 1000], (Kind::Int64, Device::Cpu))).is_err());
    // Just long enough: 257 samples → 2 frames, all silent → -100 dB everywhere.
    let t = front.log_mel(&Tensor::zeros([257], (Kind::Float, Device::Cpu))).unwrap();
    assert_eq!(t.size(), vec![1, 128, 2]);
    assert_eq!(f64::try_from(t.max()).unwrap(), -100.0);
}
