//! Tokenizer parity with `reference/minilm/tokens.json` (tokenizers library, Python side).
use crate::common;

use serde_json::Value;
use storyscore::text::{TextTokenizer, TokenBatch};

fn load_cases() -> Option<Vec<Value>> {
    let p = common::shared("reference/minilm/tokens.json")?;
    let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    Some(v["sentences"].as_array().unwrap().clone())
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

#[test]
fn minilm_tokens_match_reference_for_all_sentences() {
    let (Some(cases), Some(dir)) = (load_cases(), common::minilm_dir()) else { return };
    let tok = TextTokenizer::from_model_dir(&dir).unwrap();
    assert_eq!(tok.max_len(), 256, "sentence_bert_config.json max_seq_length wins over 512 positions");
    assert_eq!(cases.len(), 12);
    for case in &cases {
        let text = case["text"].as_str().unwrap();
        let got = tok.encode(text).unwrap();
        let i = &case["index"];
        assert_eq!(got.ids, u32s(&case["input_ids"]), "ids of sentence {i}");
        assert_eq!(got.attention_mask, u32s(&case["attention_mask"]), "mask of sentence {i}");
        assert_eq!(got.type_ids, u32s(&case["token_type_ids"]), "type ids of sentence {i}");
        assert_eq!(got.truncated, case["truncated"].as_bool().unwrap(), "truncated flag of sentence {i}");
        let pieces: Vec<String> = got.ids.iter().map(|&id| tok.id_to_token(id).unwrap()).collect();
        let want: Vec<&str> =
            case["tokens"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        assert_eq!(pieces, want, "word pieces of sentence {i}");
    }
}

#[test]
fn file_defaults_reproduce_fixed_128_padding() {
    let (Some(cases), Some(dir)) = (load_cases(), common::minilm_dir()) else { return };
    let tok = TextTokenizer::with_file_defaults(&dir.join("tokenizer.json")).unwrap();
    assert_eq!(tok.max_len(), 128);
    for case in &cases {
        let got = tok.encode(case["text"].as_str().unwrap()).unwrap();
        let want = &case["tokenizer_json_defaults"];
        assert_eq!(got.ids, u32s(&want["input_ids"]), "default ids of sentence {}", case["index"]);
        assert_eq!(got.attention_mask, u32s(&want["attention_mask"]));
        assert_eq!(got.len(), 128);
    }
}

#[test]
fn batch_pads_to_longest_with_mask_and_counts_truncation() {
    let (Some(cases), Some(dir)) = (load_cases(), common::minilm_dir()) else { return };
    let tok = TextTokenizer::from_model_dir(&dir).unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let batch = tok.batch(&texts[..4], tch::Device::Cpu).unwrap();
    assert_eq!(batch.ids.size(), [4, 256]);
    assert_eq!(batch.truncated, 1, "only the 372-token paragraph exceeds 256");
    let short = tok.batch(&texts[..2], tch::Device::Cpu).unwrap();
    assert_eq!(short.ids.size(), [2, 16], "padded to the longest (16), not to a fixed length");
    let mask: Vec<i64> = Vec::try_from(short.attention_mask.get(1)).unwrap();
    assert_eq!(mask.iter().sum::<i64>(), 12);
    assert_eq!(&mask[12..], &[0, 0, 0, 0]);
    let ids: Vec<i64> = Vec::try_from(short.ids.get(1)).unwrap();
    let want: Vec<i64> = u32s(&cases[1]["input_ids"]).into_iter().map(i64::from).collect();
    assert_eq!(&ids[..12], &want[..]);
    assert_eq!(&ids[12..], &[0, 0, 0, 0], "padded with [PAD] = 0");
}

#[test]
fn empty_batch_is_empty_not_a_panic() {
    let b = TokenBatch::pad::<storyscore::text::Tokens>(&[], 0, tch::Device::Cpu);
    assert_eq!(b.ids.size(), [0, 0]);
}

#[test]
fn missing_or_corrupt_tokenizer_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = TextTokenizer::from_model_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("config.json"), "{err}");
    std::fs::write(dir.path().join("config.json"), r#"{"max_position_embeddings": 512}"#).unwrap();
    let err = TextTokenizer::from_model_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("tokenizer.json") && err.contains("not found"), "{err}");
    std::fs::write(dir.path().join("tokenizer.json"), "{ not json").unwrap();
    let err = TextTokenizer::from_model_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("tokenizer.json"), "{err}");
    std::fs::write(dir.path().join("sentence_bert_config.json"), "[1,2]").unwrap();
    let err = TextTokenizer::from_model_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("sentence_bert_config.json"), "{err}");
}
