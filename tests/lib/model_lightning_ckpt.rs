//! The authors' Lightning checkpoint format: `tiny_cross.ckpt` read as data, all three branches
//! reproduced within 1e-4, converted to a model directory; bad files are clear errors.
use crate::common;

use std::io::Write;
use std::path::Path;

use storyscore::formats::torch_pickle as pickle;
use storyscore::model::lightning::{import_lightning, read_state_dict, ImportOptions};
use storyscore::model::EmotionModel;
use storyscore::text::TokenBatch;
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

fn int_rows(v: &serde_json::Value) -> Tensor {
    let rows: Vec<Vec<i64>> = serde_json::from_value(v.clone()).unwrap();
    let width = rows[0].len() as i64;
    Tensor::from_slice(&rows.concat()).view([rows.len() as i64, width])
}

/// (song, text, tag) embeddings of the reference inputs, eval mode.
fn branches(model: &EmotionModel, dir: &Path) -> (Tensor, Tensor, Tensor) {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let ids = int_rows(&meta["tokens"]);
    let batch = TokenBatch {
        type_ids: ids.zeros_like(),
        ids,
        attention_mask: int_rows(&meta["attention_mask"]),
        truncated: 0,
    };
    tch::no_grad(|| {
        let song = model.embed_audio_mel(&npy(&dir.join("spec_input.npy")), false).unwrap();
        let features = model.text_features(&batch, false).unwrap();
        let text = model.embed_text_features(&features, false).unwrap();
        let tag = model.embed_tags(&npy(&dir.join("tag_input.npy")), false).unwrap();
        (song, text, tag)
    })
}

fn tiny_options(dir: &Path) -> ImportOptions {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    ImportOptions { n_heads: meta["distilbert_config"]["n_heads"].as_i64(), ..Default::default() }
}

#[test]
fn tiny_cross_reproduces_the_three_branches_and_survives_conversion() {
    let Some(dir) = common::shared("reference/lightning_ckpt") else { return };
    if common::minilm_dir().is_none() {
        return;
    }
    let ckpt = dir.join("tiny_cross.ckpt");
    let state = read_state_dict(&ckpt).unwrap();
    assert!(
        state.contains_key("bert.transformer.layer.1.ffn.lin2.weight")
            && state.contains_key("tag_fc1.weight")
    );
    assert_eq!(state["layer1.bn.num_batches_tracked"].kind(), tch::Kind::Int64);
    let model = import_lightning(&ckpt, &tiny_options(&dir), Device::Cpu).unwrap();
    let (song, text, tag) = branches(&model, &dir);
    for (name, ours) in [("song", &song), ("text", &text), ("tag", &tag)] {
        let diff = max_abs_diff(ours, &npy(&dir.join(format!("{name}_emb.npy"))));
        assert!(diff <= 1e-4, "{name}: max abs diff {diff}");
    }
    // As a model directory the fine-tuned encoder travels with the heads.
    let out = tempfile::tempdir().unwrap();
    let mut model = model;
    model.save(out.path()).unwrap();
    assert!(out.path().join("text_encoder/config.json").is_file());
    let reopened = EmotionModel::load(out.path(), Device::Cpu).unwrap();
    assert_eq!(reopened.id(), model.id());
    let (song2, text2, tag2) = branches(&reopened, &dir);
    assert_eq!(max_abs_diff(&song, &song2) + max_abs_diff(&text, &text2) + max_abs_diff(&tag, &tag2), 0.0);
    assert_eq!(reopened.embed_texts(&["a happy day"]).unwrap().size(), [1, 64]);
}

#[test]
fn truncated_and_corrupt_checkpoints_are_errors() {
    let Some(ckpt) = common::shared("reference/lightning_ckpt/tiny_cross.ckpt") else { return };
    let bytes = std::fs::read(&ckpt).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in [
        ("half.ckpt", &bytes[..bytes.len() / 2]),
        ("empty.ckpt", &bytes[..0]),
        ("text.ckpt", b"hello".as_slice()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, data).unwrap();
        let err = EmotionModel::load(&path, Device::Cpu).unwrap_err().to_string();
        assert!(err.contains(name), "{err}");
    }
    // A storage file cut short inside an otherwise valid archive.
    let path = dir.path().join("short_storage.ckpt");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&ckpt).unwrap()).unwrap();
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        if name.ends_with("/data/5") {
            data.truncate(100);
        }
        w.start_file(name, opts).unwrap();
        w.write_all(&data).unwrap();
    }
    w.finish().unwrap();
    let err = read_state_dict(&path).unwrap_err().to_string();
    assert!(err.contains("data/5") && err.contains("bytes"), "{err}");
}

#[test]
fn the_pickle_reader_executes_nothing() {
    // `os.system('echo hi')` as a protocol-2 pickle.
    let evil = b"\x80\x02cos\nsystem\nq\x00X\x07\x00\x00\x00echo hiq\x01\x85q\x02Rq\x03.";
    let err = pickle::parse(evil).unwrap_err().to_string();
    assert!(err.contains("refusing") && err.contains("os.system"), "{err}");
    // Builtins reached through STACK_GLOBAL are refused too.
    let evil = b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93.";
    assert!(pickle::parse(evil).unwrap_err().to_string().contains("builtins.eval"));
    // Truncation and stack underflow are errors, not panics.
    assert!(pickle::parse(b"\x80\x02X\xff\x00\x00\x00ab").unwrap_err().to_string().contains("truncated"));
    assert!(pickle::parse(b"\x80\x02R.").unwrap_err().to_string().contains("underflow"));
    assert!(pickle::parse(b"\x80\x02(u.").is_err());
    let ok = pickle::parse(b"\x80\x02}q\x00(X\x01\x00\x00\x00aK\x05u.").unwrap();
    assert_eq!(ok.get("a"), Some(&pickle::Value::Int(5)));
}
