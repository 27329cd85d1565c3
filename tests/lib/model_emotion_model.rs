//! `EmotionModel` end to end on the installed MiniLM: the five spaces, save/load, ids, errors.
use crate::common;

use storyscore::model::{EmotionModel, ModelConfig, Space};
use tch::{Device, Kind, Tensor};

fn mel(batch: i64) -> Tensor {
    Tensor::randn([batch, 128, 313], tch::kind::FLOAT_CPU) * 20.0 - 40.0
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn three_branch_embeds_texts_audio_and_moods() {
    if common::minilm_dir().is_none() {
        return;
    }
    tch::manual_seed(0);
    let model = EmotionModel::new(ModelConfig::paper(Space::ThreeBranch).unwrap(), Device::Cpu).unwrap();
    assert_eq!(model.embed_dim(), 64);
    let texts =
        model.embed_texts(&["I won the prize and danced all night.", "", "She wept at the grave."]).unwrap();
    assert_eq!(texts.size(), [3, 64]);
    // Order is the input order, whatever the batching: one text alone gives the same row.
    let alone = model.embed_texts(&["She wept at the grave."]).unwrap();
    assert!(max_abs_diff(&alone.get(0), &texts.get(2)) < 1e-5);
    let song = tch::no_grad(|| model.embed_audio_mel(&mel(16), false)).unwrap();
    assert_eq!(song.size(), [16, 64]);
    let (moods, anchors) = model.mood_anchors().unwrap();
    assert_eq!(moods, ["angry", "exciting", "funny", "happy", "sad", "scary", "tender"]);
    assert_eq!(anchors.size(), [7, 64]);
    assert_eq!(model.similarity(&texts, &song).unwrap().size(), [3, 16]);
    assert!(model.similarity(&texts, &Tensor::zeros([2, 5], tch::kind::FLOAT_CPU)).is_err());
    // Frozen encoder by default: only CNN and heads train (1,439,426 + text 57,792 + tag 15,040).
    let trainable: i64 = model.trainable_variables().iter().map(|t| t.numel() as i64).sum();
    assert_eq!(trainable, 1_439_426 + 57_792 + 15_040);
}

#[test]
fn save_and_load_round_trip_and_ids_follow_the_weights() {
    if common::minilm_dir().is_none() {
        return;
    }
    tch::manual_seed(1);
    let dir = tempfile::tempdir().unwrap();
    let mut model = EmotionModel::new(ModelConfig::paper(Space::ThreeBranch).unwrap(), Device::Cpu).unwrap();
    let id = model.save(dir.path()).unwrap();
    assert_eq!(id, model.id());
    let toml = std::fs::read_to_string(dir.path().join("model.toml")).unwrap();
    assert!(toml.contains("space = \"three-branch\"") && toml.contains(&id), "{toml}");
    let loaded = EmotionModel::load(dir.path(), Device::Cpu).unwrap();
    assert_eq!(loaded.id(), id);
    let x = mel(2);
    let (a, b) = tch::no_grad(|| {
        (model.embed_audio_mel(&x, false).unwrap(), loaded.embed_audio_mel(&x, false).unwrap())
    });
    assert_eq!(max_abs_diff(&a, &b), 0.0);
    let texts = ["a quiet farewell"];
    assert_eq!(max_abs_diff(&model.embed_texts(&texts).unwrap(), &loaded.embed_texts(&texts).unwrap()), 0.0);
    // The encoder is not fine-tuned: its weights stay out of the file, the reference names are in.
    let names: Vec<String> = Tensor::read_safetensors(dir.path().join("model.safetensors"))
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.iter().all(|n| !n.starts_with("bert.")));
    for n in [
        "layer1.conv.weight",
        "song_fc1.weight",
        "text_fc1.weight",
        "tag_fc1.weight",
        "layer8.bn.num_batches_tracked",
    ] {
        assert!(names.iter().any(|m| m == n), "{n} missing");
    }
    // Changing one weight changes the id on the next save.
    let _ = tch::no_grad(|| model.var_store().variables()["song_fc2.bias"].shallow_clone().fill_(0.5));
    let id2 = model.save(dir.path()).unwrap();
    assert_ne!(id, id2);
}

#[test]
fn every_space_builds_with_its_dimensions() {
    if common::minilm_dir().is_none() {
        return;
    }
    for (space, dim) in [(Space::TwoBranch, 64), (Space::Va, 2), (Space::W2v, 50), (Space::Classify, 7)] {
        let model = EmotionModel::new(ModelConfig::paper(space).unwrap(), Device::Cpu).unwrap();
        assert_eq!(model.embed_dim(), dim, "{space}");
        let text = model.embed_texts(&["joy", "fear"]).unwrap();
        assert_eq!(text.size(), [2, dim], "{space}");
        let (_, anchors) = model.mood_anchors().unwrap();
        assert_eq!(anchors.size(), [7, dim], "{space}");
        assert!(model.embed_tags(&Tensor::zeros([2, 50], tch::kind::FLOAT_CPU), false).is_err());
        if space == Space::Classify {
            // A probability vector over the song moods: rows sum to one.
            let sums = text.sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
            assert!(max_abs_diff(&sums, &Tensor::ones([2], tch::kind::FLOAT_CPU)) < 1e-5);
            let song = tch::no_grad(|| model.embed_audio_mel(&mel(2), false)).unwrap();
            assert!(song.min().double_value(&[]) >= 0.0 && song.max().double_value(&[]) <= 1.0);
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    if common::minilm_dir().is_none() {
        return;
    }
    let model = EmotionModel::new(ModelConfig::paper(Space::TwoBranch).unwrap(), Device::Cpu).unwrap();
    assert!(model.embed_audio_mel(&mel(1), true).unwrap_err().to_string().contains("at least 2"));
    assert!(model.embed_audio_mel(&Tensor::zeros([1, 128, 10], tch::kind::FLOAT_CPU), false).is_err());
    assert!(model.embed_text_features(&Tensor::zeros([2, 100], tch::kind::FLOAT_CPU), false).is_err());
    let empty = tempfile::tempdir().unwrap();
    let err = EmotionModel::load(empty.path(), Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("not a model"), "{err}");
    std::fs::write(empty.path().join("model.toml"), "space = \"four-branch\"\n").unwrap();
    std::fs::write(empty.path().join("model.safetensors"), b"garbage").unwrap();
    let err = EmotionModel::load(empty.path(), Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("model.toml") && err.contains("four-branch"), "{err}");
    // A valid config with corrupt weights names the weights file.
    let mut cfg = ModelConfig::paper(Space::TwoBranch).unwrap();
    cfg.id.clear();
    std::fs::write(empty.path().join("model.toml"), cfg.to_toml().unwrap()).unwrap();
    let err = EmotionModel::load(empty.path(), Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("model.safetensors"), "{err}");
}

/// A prior of `m` moods with half its mass on the first.
fn half_on_the_first(m: i64) -> Vec<f64> {
    (0..m).map(|i| if i == 0 { 0.5 } else { 0.5 / (m - 1) as f64 }).collect()
}

#[test]
fn moods_matching_divides_out_the_text_prior_and_keeps_neutral() {
    if common::minilm_dir().is_none() {
        return;
    }
    let base = ModelConfig::story(&["joy", "sadness", "neutral"]).unwrap();
    let m = base.moods.len() as i64;
    let mut skewed = base.clone();
    // The first mood (angry) had half of the training texts' mass.
    skewed.text_mood_prior = half_on_the_first(m);
    skewed.prior_power = 1.0;
    // Both read the same weights from disk, through model.toml as a trained model would.
    let dir = tempfile::tempdir().unwrap();
    let plain = saved_plain(&base, dir.path());
    let with = |cfg: &ModelConfig, name: &str| with_config(dir.path(), cfg, name);
    let corrected = with(&skewed, "skewed");
    let features = Tensor::randn([4, 384], tch::kind::FLOAT_CPU);
    let a = plain.embed_text_features(&features, false).unwrap();
    let b = corrected.embed_text_features(&features, false).unwrap();
    // Neutral's probability (the last column) is what the head said; the moods still sum to 1.
    assert!(max_abs_diff(&a.narrow(1, m + 4, 1), &b.narrow(1, m + 4, 1)) < 1e-6);
    let sums = b.narrow(1, 0, m).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    assert!(max_abs_diff(&sums, &Tensor::ones([4], tch::kind::FLOAT_CPU)) < 1e-5);
    // The frequent mood loses share on every text; two moods with the same prior keep their ratio.
    let share = |e: &Tensor, j: i64| e.narrow(1, j, 1) - e.narrow(1, m + 4, 1) / m as f64;
    assert!(bool::try_from(share(&b, 0).lt_tensor(&share(&a, 0)).all()).unwrap());
    let ratio = |e: &Tensor| share(e, 1) / share(e, 2);
    assert!(max_abs_diff(&ratio(&a), &ratio(&b)) < 1e-3);
    // A power of 0 (or no prior) is the head's own reading.
    let mut off = skewed.clone();
    off.prior_power = 0.0;
    let off = with(&off, "off");
    assert!(max_abs_diff(&a, &off.embed_text_features(&features, false).unwrap()) < 1e-6);
    // A prior that does not fit the moods, or a power out of range, names the field.
    let mut bad = skewed.clone();
    bad.text_mood_prior.pop();
    let err = common::refusal(bad);
    assert!(err.contains("text_mood_prior"), "{err}");
    let mut bad = skewed;
    bad.prior_power = 3.0;
    let err = common::refusal(bad);
    assert!(err.contains("prior_power"), "{err}");
}

#[test]
fn moods_matching_divides_out_the_song_prior() {
    if common::minilm_dir().is_none() {
        return;
    }
    let base = ModelConfig::story(&["joy", "sadness", "neutral"]).unwrap();
    let m = base.moods.len() as i64;
    let mut skewed = base.clone();
    // The first mood (angry) had half of the training clips' mass.
    skewed.song_mood_prior = half_on_the_first(m);
    skewed.song_prior_power = 1.0;
    let dir = tempfile::tempdir().unwrap();
    let plain = saved_plain(&base, dir.path());
    let corrected = with_config(dir.path(), &skewed, "skewed");
    let logits = Tensor::randn([5, m], tch::kind::FLOAT_CPU);
    let a = plain.mood_embedding(&logits);
    let b = corrected.mood_embedding(&logits);
    // The moods still sum to 1, the quadrant columns are their sums, neutral's column stays 0.
    let sums = b.narrow(1, 0, m).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    assert!(max_abs_diff(&sums, &Tensor::ones([5], tch::kind::FLOAT_CPU)) < 1e-5);
    let quadrants = b.narrow(1, 0, m).matmul(corrected.mood_quadrant_matrix());
    assert!(max_abs_diff(&quadrants, &b.narrow(1, m, 4)) < 1e-5);
    assert_eq!(b.narrow(1, m + 4, 1).abs().max().double_value(&[]), 0.0);
    // The frequent mood loses share on every clip; two moods with the same prior keep their ratio.
    assert!(bool::try_from(b.narrow(1, 0, 1).lt_tensor(&a.narrow(1, 0, 1)).all()).unwrap());
    let ratio = |e: &Tensor| e.narrow(1, 1, 1) / e.narrow(1, 2, 1);
    assert!(max_abs_diff(&ratio(&a), &ratio(&b)) < 1e-3);
    // The text side is untouched by the song prior.
    let features = Tensor::randn([3, 384], tch::kind::FLOAT_CPU);
    let (ta, tb) = (
        plain.embed_text_features(&features, false).unwrap(),
        corrected.embed_text_features(&features, false).unwrap(),
    );
    assert!(max_abs_diff(&ta, &tb) < 1e-6);
    // A power of 0 is the song head's own reading.
    let mut off = skewed.clone();
    off.song_prior_power = 0.0;
    let off = with_config(dir.path(), &off, "off");
    assert!(max_abs_diff(&a, &off.mood_embedding(&logits)) < 1e-6);
    // A prior that does not fit the moods, or a power out of range, names the field.
    let mut bad = skewed.clone();
    bad.song_mood_prior.pop();
    let err = common::refusal(bad);
    assert!(err.contains("song_mood_prior"), "{err}");
    let mut bad = skewed;
    bad.song_prior_power = 3.0;
    let err = common::refusal(bad);
    assert!(err.contains("song_prior_power"), "{err}");
}

#[test]
fn moods_matching_mixes_in_the_mood_words_zero_shot() {
    if common::minilm_dir().is_none() {
        return;
    }
    let base = ModelConfig::story(&["joy", "sadness", "neutral"]).unwrap();
    let m = base.moods.len() as i64;
    let dir = tempfile::tempdir().unwrap();
    let plain = saved_plain(&base, dir.path());
    let with = |weight: f64, name: &str| {
        let mut cfg = base.clone();
        cfg.zero_shot_weight = weight;
        with_config(dir.path(), &cfg, name)
    };
    // The mood words alone: each word reads as itself (cosine 1 with its own prototype), whatever
    // the untrained head says; the moods keep the share the head left beside neutral.
    let words: Vec<&str> = base.moods.iter().map(String::as_str).collect();
    let alone = with(1.0, "alone");
    let emb = alone.embed_texts(&words).unwrap();
    let moods = emb.narrow(1, 0, m);
    let top: Vec<i64> = Vec::try_from(moods.argmax(1, false)).unwrap();
    assert_eq!(top, (0..m).collect::<Vec<_>>(), "each mood word reads as itself");
    let sums = moods.sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    assert!(max_abs_diff(&sums, &Tensor::ones([m], tch::kind::FLOAT_CPU)) < 1e-5);
    // Explained by the anchors, a reading's moods and neutral are shares that sum to 1 (a mood's
    // score leaves out neutral's even spread).
    let (names, anchors) = alone.mood_anchors().unwrap();
    assert_eq!(names.last().map(String::as_str), Some("neutral"));
    let scores = emb.matmul(&anchors.tr());
    let total = scores.sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    assert!(max_abs_diff(&total, &Tensor::ones([m], tch::kind::FLOAT_CPU)) < 1e-5, "{total}");
    // Half and half lies between the head's reading and the words'; 0 is the head's own.
    let head = plain.embed_texts(&words).unwrap();
    let half = with(0.5, "half").embed_texts(&words).unwrap();
    let neutral = head.narrow(1, m + 4, 1) / m as f64;
    let mix = (&head.narrow(1, 0, m) - &neutral) * 0.5 + (&moods - &neutral) * 0.5 + &neutral;
    assert!(max_abs_diff(&half.narrow(1, 0, m), &mix) < 1e-5);
    assert!(max_abs_diff(&head, &with(0.0, "off").embed_texts(&words).unwrap()) < 1e-6);
    // Out of range names the field.
    let mut bad = base.clone();
    bad.zero_shot_weight = 1.5;
    let err = common::refusal(bad);
    assert!(err.contains("zero_shot_weight"), "{err}");
    let mut bad = base;
    bad.zero_shot_temperature = 0.0;
    let err = common::refusal(bad);
    assert!(err.contains("zero_shot_temperature"), "{err}");
}

#[test]
fn a_moods_ensemble_matches_with_its_members_mean_and_survives_save_and_load() {
    if common::minilm_dir().is_none() {
        return;
    }
    tch::manual_seed(7);
    let mut cfg = ModelConfig::story(&["joy", "sadness", "neutral"]).unwrap();
    cfg.members = 3;
    let m = cfg.moods.len() as i64;
    let model = EmotionModel::new(cfg.clone(), Device::Cpu).unwrap();
    // Song side: the embedding's moods are the mean of the members' distributions.
    let x = mel(2);
    let (members, emb) = tch::no_grad(|| {
        (model.audio_member_outputs(&x, false).unwrap(), model.embed_audio_mel(&x, false).unwrap())
    });
    assert_eq!(members.len(), 3);
    assert!(max_abs_diff(&emb.narrow(1, 0, m), &common::mean_softmax(&members)) < 1e-6);
    // Text side: the logits the prior and the match read are the members' mean softmax, logged.
    let features = Tensor::randn([4, model.encoder_hidden_size()], tch::kind::FLOAT_CPU);
    let members = tch::no_grad(|| model.text_member_outputs(&features, false)).unwrap();
    let ensemble = tch::no_grad(|| model.text_outputs(&features, false)).unwrap().softmax(-1, Kind::Float);
    assert!(max_abs_diff(&ensemble, &common::mean_softmax(&members)) < 1e-6);
    // Saved and loaded, it reads the same.
    let dir = tempfile::tempdir().unwrap();
    let mut model = model;
    model.save(dir.path()).unwrap();
    let loaded = EmotionModel::load(dir.path(), Device::Cpu).unwrap();
    assert_eq!(loaded.config().members, 3);
    let texts = ["She kissed him softly as the sun set.", "The storm tore the roof away."];
    assert!(max_abs_diff(&model.embed_texts(&texts).unwrap(), &loaded.embed_texts(&texts).unwrap()) < 1e-6);
    // Out of range, or outside the moods space, names the field.
    cfg.members = 0;
    let err = common::refusal(cfg);
    assert!(err.contains("members must be between 1 and 16"), "{err}");
    let mut va = ModelConfig::paper(Space::Va).unwrap();
    va.members = 2;
    let err = common::refusal(va);
    assert!(err.contains("members 2 is for the moods space"), "{err}");
}

/// A fresh model of `base`, saved as `dir/plain`.
fn saved_plain(base: &ModelConfig, dir: &std::path::Path) -> EmotionModel {
    let mut plain = EmotionModel::new(base.clone(), Device::Cpu).unwrap();
    plain.save(&dir.join("plain")).unwrap();
    plain
}

/// `dir/plain`'s weights under `cfg`, loaded from `dir/name` as a trained model would be.
fn with_config(dir: &std::path::Path, cfg: &ModelConfig, name: &str) -> EmotionModel {
    let to = dir.join(name);
    std::fs::create_dir_all(&to).unwrap();
    std::fs::copy(dir.join("plain/model.safetensors"), to.join("model.safetensors")).unwrap();
    let mut cfg = cfg.clone();
    cfg.id.clear();
    std::fs::write(to.join("model.toml"), cfg.to_toml().unwrap()).unwrap();
    EmotionModel::load(&to, Device::Cpu).unwrap()
}
