//! musicnn on tch against the package's own TensorFlow outputs (`shared/reference/musicnn`):
//! the front end, every intermediate stage and the outputs of both taggers.

mod common;

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use ndarray_npy::{NpzReader, ReadNpyExt};
use storyscore::audio::MelFrontEnd;
use storyscore::model::musicnn::{Musicnn, MusicnnModel, PATCH_FRAMES};
use tch::{Device, Kind, Tensor};

const CLIPS: [&str; 3] = ["audioset_demo", "4q_MT0000004637", "4q_MT0001523435"];

fn npz(path: &Path) -> NpzReader<std::fs::File> {
    NpzReader::new(std::fs::File::open(path).unwrap()).unwrap()
}

fn array(reader: &mut NpzReader<std::fs::File>, name: &str) -> ArrayD<f32> {
    reader.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn tensor(a: &ArrayD<f32>) -> Tensor {
    let shape: Vec<i64> = a.shape().iter().map(|&d| d as i64).collect();
    Tensor::from_slice(a.as_standard_layout().as_slice().unwrap()).view(shape.as_slice())
}

fn array_of(t: &Tensor) -> ArrayD<f32> {
    let t = t.to_kind(Kind::Float).contiguous();
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let v = Vec::<f32>::try_from(t.view([-1])).unwrap();
    ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap()
}

/// Largest absolute difference, with matching shapes asserted.
fn max_diff(ours: &ArrayD<f32>, reference: &ArrayD<f32>, what: &str) -> f32 {
    assert_eq!(ours.shape(), reference.shape(), "{what}: shape");
    ours.iter().zip(reference.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
}

fn max_abs(a: &ArrayD<f32>) -> f32 {
    a.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

#[test]
fn slaney_filterbank_matches_librosa() {
    let Some(path) = common::shared("reference/musicnn/mel_filterbank_96.npy") else { return };
    let reference = ndarray::Array2::<f32>::read_npy(std::fs::File::open(path).unwrap()).unwrap();
    let ours = array_of(MelFrontEnd::musicnn(Device::Cpu).filterbank());
    let d = max_diff(&ours, &reference.into_dyn(), "filterbank");
    assert!(d < 1e-7, "filterbank differs by {d}");
}

#[test]
fn log_mel_and_patches_match_the_package() {
    let front = MelFrontEnd::musicnn(Device::Cpu);
    for clip in CLIPS {
        let Some(path) = common::shared(&format!("reference/musicnn/{clip}.input.npz")) else { return };
        let mut input = npz(&path);
        let samples = array(&mut input, "samples");
        let wave = tensor(&samples);
        // [1, 96, T] → [T, 96], the package's layout.
        let power = front.mel_power(&wave).unwrap().squeeze_dim(0).tr();
        let reference = array(&mut input, "mel_power");
        let d = max_diff(&array_of(&power), &reference, "mel_power");
        assert!(d <= 1e-4 * max_abs(&reference).max(1.0), "{clip}: mel power differs by {d}");
        let logmel = front.log_mel(&wave).unwrap().squeeze_dim(0).tr();
        let reference = array(&mut input, "logmel");
        let d = max_diff(&array_of(&logmel), &reference, "logmel");
        assert!(d <= 1e-3, "{clip}: log-mel differs by {d}");
        assert!(logmel.isfinite().all().int64_value(&[]) != 0, "{clip}: non-finite log-mel");
        let patches = array(&mut input, "patches");
        let n = patches.shape()[0] as i64;
        let ours = logmel.narrow(0, 0, n * PATCH_FRAMES).view([n, PATCH_FRAMES, 96]);
        let d = max_diff(&array_of(&ours), &patches, "patches");
        assert!(d <= 1e-3, "{clip}: patches differ by {d}");
    }
}

/// Every stage of `model` on the stored patches of every clip, within the stated tolerances
/// (outputs) or 1e-3 of the stage's scale (intermediate maps, which the reference does not bound).
fn check_model(model: MusicnnModel) {
    let Some(weights) = common::musicnn_weights(model.name()) else { return };
    let net = Musicnn::from_file(model, &weights, Device::Cpu).unwrap();
    assert_eq!(net.labels().len(), 50);
    for clip in CLIPS {
        let root = format!("reference/musicnn/{clip}");
        let Some(input) = common::shared(&format!("{root}.input.npz")) else { return };
        let Some(golden) = common::shared(&format!("{root}.{}.npz", model.name())) else { return };
        let patches = array(&mut npz(&input), "patches");
        let out = net.forward(&tensor(&patches)).unwrap();
        let mut golden = npz(&golden);
        let stages: [(&str, &Tensor, f32); 6] = [
            ("taggram", &out.taggram, 1e-4),
            ("penultimate", &out.penultimate, 1e-3),
            ("logits", &out.logits, 1e-3),
            ("max_pool", &out.max_pool, 1e-3),
            ("mean_pool", &out.mean_pool, 1e-3),
            ("timbral", &out.timbral, 1e-3),
        ];
        for (name, ours, tol) in stages {
            let reference = array(&mut golden, name);
            let scale = if tol < 1e-3 { 1.0 } else { max_abs(&reference).max(1.0) };
            let d = max_diff(&array_of(ours), &reference, name);
            assert!(d <= tol * scale, "{} {clip} {name}: differs by {d} (scale {scale})", model.name());
        }
        let reference = array(&mut golden, "temporal");
        let d = max_diff(&array_of(&out.temporal), &reference, "temporal");
        assert!(d <= 1e-3 * max_abs(&reference).max(1.0), "{clip} temporal: {d}");
        for (i, cnn) in out.cnn.iter().enumerate() {
            let reference = array(&mut golden, &format!("cnn{}", i + 1));
            let ours = array_of(&cnn.unsqueeze(-1));
            let d = max_diff(&ours, &reference, "cnn");
            assert!(d <= 1e-3 * max_abs(&reference).max(1.0), "{clip} cnn{}: {d}", i + 1);
        }
    }
}

#[test]
fn msd_musicnn_matches_tensorflow_at_every_stage() {
    check_model(MusicnnModel::Msd);
}

#[test]
fn mtt_musicnn_matches_tensorflow_at_every_stage() {
    check_model(MusicnnModel::Mtt);
}

#[test]
fn missing_or_damaged_weights_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("MSD_musicnn.safetensors");
    let e = Musicnn::from_file(MusicnnModel::Msd, &absent, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("MSD_musicnn.safetensors") && e.contains("scripts/setup"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    std::fs::write(&absent, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json").unwrap();
    let e = Musicnn::from_file(MusicnnModel::Msd, &absent, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("MSD_musicnn.safetensors") && e.contains("scripts/setup"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    let Some(real) = common::musicnn_weights("MSD_musicnn") else { return };
    let bytes = std::fs::read(real).unwrap();
    std::fs::write(&absent, &bytes[..bytes.len() / 2]).unwrap();
    let e = Musicnn::from_file(MusicnnModel::Msd, &absent, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("MSD_musicnn.safetensors"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}
