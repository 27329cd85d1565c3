//! BERT / DistilBERT / MiniLM parity with `reference/{bert_small,distilbert,minilm}`.
use crate::common;

use std::path::Path;

use serde_json::Value;
use storyscore::text::{
    load_safetensors, Bert, BertConfig, EncoderConfig, Pooling, SentenceEncoder, TextEncoder, TextError,
    TextTokenizer,
};
use tch::{nn, Device, Kind, Tensor};

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn int_tensor(v: &Value) -> Tensor {
    let rows: Vec<Vec<i64>> = serde_json::from_value(v.clone()).unwrap();
    let (b, l) = (rows.len() as i64, rows[0].len() as i64);
    Tensor::from_slice(&rows.concat()).view([b, l])
}

/// max |a − b| over positions whose mask is 1; `a`, `b` `[B, L, H]`, `mask` `[B, L]`.
fn masked_max_diff(a: &Tensor, b: &Tensor, mask: &Tensor) -> f64 {
    ((a - b).abs() * mask.to_kind(Kind::Float).unsqueeze(-1)).max().double_value(&[])
}

/// One libtorch thread per test: the tests run in parallel on a shared 2-core machine, where
/// OpenMP's default (all cores per test) oversubscribes and runs several times slower.
fn one_thread() {
    tch::set_num_threads(1);
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn bert_small_matches_reference_including_token_types() {
    one_thread();
    let Some(dir) = common::shared("reference/bert_small") else { return };
    let cases = json(&dir.join("cases.json"));
    let EncoderConfig::Bert(cfg) = EncoderConfig::from_file(&dir.join("config.json")).unwrap() else {
        panic!("bert_small should parse as bert")
    };
    let mut vs = nn::VarStore::new(Device::Cpu);
    let bert = Bert::new(vs.root(), &cfg).unwrap();
    let report = load_safetensors(&mut vs, &dir.join("model.safetensors"), &["bert."]).unwrap();
    assert!(report.unused.iter().all(|n| n.starts_with("pooler.")), "{:?}", report.unused);
    assert!(!report.unused.is_empty(), "the pooler is in the file but not used");
    let (ids, mask) = (int_tensor(&cases["input_ids"]), int_tensor(&cases["attention_mask"]));
    let types = int_tensor(&cases["token_type_ids"]);
    let want = Tensor::read_npy(dir.join("last_hidden_state.npy")).unwrap();
    let got = tch::no_grad(|| bert.forward_with_types(&ids, Some(&types), &mask, false));
    assert_eq!(got.size(), [3, 10, 64]);
    let diff = masked_max_diff(&got, &want, &mask);
    assert!(diff <= 1e-4, "bert_small max abs diff {diff}");
    // Ignoring the token types must break the pair case: the test can fail.
    let untyped = tch::no_grad(|| bert.forward_t(&ids, &mask, false));
    assert!(masked_max_diff(&untyped, &want, &mask) > 1e-2);
}

#[test]
fn distilbert_matches_reference_and_accepts_hub_prefix() {
    one_thread();
    let Some(dir) = common::shared("reference/distilbert") else { return };
    let cases = json(&dir.join("cases.json"));
    let (ids, mask) = (int_tensor(&cases["input_ids"]), int_tensor(&cases["attention_mask"]));
    let want = Tensor::read_npy(dir.join("last_hidden_state.npy")).unwrap();
    let (_vs, encoder, report) = TextEncoder::load(&dir, Device::Cpu).unwrap();
    assert!(matches!(encoder, TextEncoder::DistilBert(_)));
    assert!(report.unused.is_empty(), "{:?}", report.unused);
    assert_eq!((encoder.hidden_size(), encoder.max_len()), (64, 512));
    let got = tch::no_grad(|| encoder.forward_t(&ids, &mask, false));
    assert_eq!(got.size(), [3, 12, 64]);
    let diff = masked_max_diff(&got, &want, &mask);
    assert!(diff <= 1e-4, "distilbert max abs diff {diff}");

    // The hub's DistilBertForMaskedLM layout: `distilbert.` prefix plus MLM head tensors.
    let tmp = tempfile::tempdir().unwrap();
    let mut named: Vec<(String, Tensor)> = Tensor::read_safetensors(dir.join("model.safetensors"))
        .unwrap()
        .into_iter()
        .map(|(n, t)| (format!("distilbert.{n}"), t))
        .collect();
    named.push(("vocab_transform.weight".into(), Tensor::zeros([64, 64], (Kind::Float, Device::Cpu))));
    Tensor::write_safetensors(&named, tmp.path().join("model.safetensors")).unwrap();
    std::fs::copy(dir.join("config.json"), tmp.path().join("config.json")).unwrap();
    let (_vs, hub, report) = TextEncoder::load(tmp.path(), Device::Cpu).unwrap();
    assert_eq!(report.prefix, "distilbert.");
    assert_eq!(report.unused, ["vocab_transform.weight"]);
    let again = tch::no_grad(|| hub.forward_t(&ids, &mask, false));
    assert_eq!(max_diff(&again, &got), 0.0);
}

#[test]
fn minilm_hidden_states_and_sentence_embeddings_match() {
    one_thread();
    let (Some(refdir), Some(model)) = (common::shared("reference/minilm"), common::minilm_dir()) else {
        return;
    };
    let cases = json(&refdir.join("tokens.json"));
    let texts: Vec<&str> =
        cases["sentences"].as_array().unwrap().iter().map(|c| c["text"].as_str().unwrap()).collect();
    let enc = SentenceEncoder::load(&model, Device::Cpu).unwrap().with_batch_size(4);
    assert_eq!(enc.hidden_size(), 384);
    assert_eq!(enc.tokenizer().max_len(), 256);
    for i in 0..2 {
        let batch = enc.tokenizer().batch(&texts[i..=i], Device::Cpu).unwrap();
        let got =
            tch::no_grad(|| enc.encoder().forward_t(&batch.ids, &batch.attention_mask, false)).squeeze_dim(0);
        let want = Tensor::read_npy(refdir.join(format!("last_hidden_state_{i}.npy"))).unwrap();
        assert_eq!(got.size(), want.size());
        let diff = max_diff(&got, &want);
        assert!(diff <= 1e-4, "sentence {i} hidden state max abs diff {diff}");
    }
    let out = enc.encode(&texts, Pooling::Mean).unwrap();
    assert_eq!(out.truncated, 1, "the 372-token paragraph is cut at 256");
    let want = Tensor::read_npy(refdir.join("sentence_embeddings.npy")).unwrap();
    let diff = max_diff(&out.embeddings, &want);
    assert!(diff <= 1e-5, "sentence embeddings max abs diff {diff}");
    let cos = (&out.embeddings * &want).sum_dim_intlist(1, false, Kind::Float).min().double_value(&[]);
    assert!(cos >= 0.99999, "min cosine {cos}");

    // Order is restored whatever the batching: one at a time gives the same rows.
    let single = enc.encode(&[texts[5], texts[0]], Pooling::Mean).unwrap().embeddings;
    assert!(max_diff(&single.get(0), &want.get(5)) <= 1e-5);
    assert!(max_diff(&single.get(1), &want.get(0)) <= 1e-5);
    let cls = enc.encode(&texts[..2], Pooling::Cls).unwrap().embeddings;
    assert_eq!(cls.size(), [2, 384]);
    assert!(max_diff(&cls, &want.narrow(0, 0, 2)) > 1e-2, "cls differs from mean pooling");
    assert_eq!(enc.encode(&[], Pooling::Mean).unwrap().embeddings.size(), [0, 384]);
}

#[test]
fn weights_round_trip_through_varstore_names() {
    one_thread();
    let Some(dir) = common::shared("reference/bert_small") else { return };
    let (vs, encoder, _) = TextEncoder::load(&dir, Device::Cpu).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    vs.save(tmp.path().join("model.safetensors")).unwrap();
    let names: Vec<String> = Tensor::read_safetensors(tmp.path().join("model.safetensors"))
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&"encoder.layer.1.attention.self.query.weight".to_string()), "{names:?}");
    assert!(names.contains(&"embeddings.token_type_embeddings.weight".to_string()));
    std::fs::copy(dir.join("config.json"), tmp.path().join("config.json")).unwrap();
    let (_vs2, reloaded, report) = TextEncoder::load(tmp.path(), Device::Cpu).unwrap();
    assert!(report.unused.is_empty());
    let ids = Tensor::from_slice(&[101i64, 5, 6, 102]).view([1, 4]);
    let mask = ids.ones_like();
    let (a, b) =
        tch::no_grad(|| (encoder.forward_t(&ids, &mask, false), reloaded.forward_t(&ids, &mask, false)));
    assert_eq!(max_diff(&a, &b), 0.0);
}

#[test]
fn bad_model_files_give_errors_naming_them() {
    one_thread();
    let Some(dir) = common::shared("reference/bert_small") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let cfg_path = tmp.path().join("config.json");
    std::fs::write(&cfg_path, r#"{"model_type": "gpt2"}"#).unwrap();
    let err = TextEncoder::load(tmp.path(), Device::Cpu).unwrap_err();
    assert!(matches!(err, TextError::UnsupportedModel { .. }) && err.to_string().contains("gpt2"), "{err}");

    let mut cfg = json(&dir.join("config.json"));
    cfg["num_attention_heads"] = 5.into();
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    let err = TextEncoder::load(tmp.path(), Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("num_attention_heads") && err.contains("config.json"), "{err}");

    std::fs::copy(dir.join("config.json"), &cfg_path).unwrap();
    let err = TextEncoder::load(tmp.path(), Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("model.safetensors") && err.contains("not found"), "{err}");

    let weights = tmp.path().join("model.safetensors");
    std::fs::write(&weights, b"\x10\x00\x00\x00\x00\x00\x00\x00not a header").unwrap();
    let err = TextEncoder::load(tmp.path(), Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("model.safetensors"), "{err}");

    let mut named = Tensor::read_safetensors(dir.join("model.safetensors")).unwrap();
    named.retain(|(n, _)| n != "encoder.layer.1.output.LayerNorm.bias");
    Tensor::write_safetensors(&named, &weights).unwrap();
    let err = TextEncoder::load(tmp.path(), Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("encoder.layer.1.output.LayerNorm.bias"), "{err}");

    let mut cfg: BertConfig = serde_json::from_value(json(&dir.join("config.json"))).unwrap();
    cfg.intermediate_size = 96;
    let mut vs = nn::VarStore::new(Device::Cpu);
    let _bert = Bert::new(vs.root(), &cfg).unwrap();
    let err = load_safetensors(&mut vs, &dir.join("model.safetensors"), &[]).unwrap_err();
    assert!(matches!(err, TextError::ShapeMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("intermediate.dense") || err.to_string().contains("output.dense"),
        "{err}"
    );

    let tokenizer_dir = common::minilm_dir();
    if let Some(minilm) = tokenizer_dir {
        // A 30522-word tokenizer must not feed a 1000-word embedding table.
        let (vs, encoder, _) = TextEncoder::load(&dir, Device::Cpu).unwrap();
        let tok = TextTokenizer::from_model_dir(&minilm).unwrap();
        let err = SentenceEncoder::from_parts(vs, encoder, tok, true).unwrap_err();
        assert!(matches!(err, TextError::VocabMismatch { .. }), "{err}");
    }
}
