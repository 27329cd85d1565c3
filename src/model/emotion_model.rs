//! `EmotionModel`: the branches of one emotion space, as the indexer, search, trainer,
//! evaluator and app use them.

use std::path::Path;

use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

use super::config::ModelConfig;
use super::error::{expect_rank, ModelError, Result};
use super::head::{Head, Heads};
use super::space::Space;
use super::trunk::AudioTrunk;
use super::weights::{copy_matching, read_safetensors};
use super::windows::{SegmentMels, WindowMode, WindowPlan};
use crate::audio::MelFrontEnd;
use crate::text::{l2_normalize, EncoderConfig, Pooling, TextEncoder, TextTokenizer, TokenBatch};

/// Texts per encoder forward pass in [`EmotionModel::embed_texts`].
const TEXT_BATCH: usize = 32;
/// Where the text encoder's variables live in the var store (the original's `model.bert`).
pub const ENCODER_PREFIX: &str = "bert.";

/// A reading's leading quadrant (moods space), to explain a match in the quadrant's own moods.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QuadrantShare {
    pub quadrant: crate::emotion::Quadrant,
    pub share: f32,
    /// The moods of that quadrant, in vocabulary order.
    pub moods: Vec<String>,
}

impl QuadrantShare {
    /// "Q4 (tender, calm, hopeful, peaceful) 0.41", as the CLI and the Search tab show it.
    pub fn text(&self) -> String {
        format!("{} ({}) {:.2}", self.quadrant, self.moods.join(", "), self.share)
    }
}

/// One model of one space. Variables carry the PyTorch reference names (`layer1.conv.weight`,
/// `song_fc1.weight`, `text_fc1.weight`, `tag_fc1.weight`, `bert.…`).
#[derive(Debug)]
pub struct EmotionModel {
    pub(crate) config: ModelConfig,
    pub(crate) vs: nn::VarStore,
    audio: AudioTrunk,
    song_head: Heads,
    pub(crate) encoder_config: EncoderConfig,
    encoder: TextEncoder,
    text_head: Heads,
    tag_head: Option<Head>,
    tokenizer: TextTokenizer,
    pooling: Pooling,
    /// Classification retrieval: text label → song mood weights, rows summing to 1. [K, M]
    label_to_mood: Tensor,
    /// Moods space: mood → quadrant, one-hot rows. [M, 4]
    mood_quadrants: Tensor,
    /// Moods space: `text_mood_prior^-prior_power` `[1, M]`, when the config asks for it.
    prior_weights: Option<Tensor>,
    /// Moods space: `song_mood_prior^-song_prior_power` `[1, M]`, when the config asks for it.
    song_prior_weights: Option<Tensor>,
    /// Moods space with a `zero_shot_weight`: the encoder's unit-length features of each mood
    /// word `[M, H]`.
    mood_words: Option<Tensor>,
    pub(crate) id: String,
}

impl EmotionModel {
    /// A fresh model: random heads and CNN; the encoder's pretrained weights from its directory
    /// (unless `text.fine_tuned`, whose weights come with the model's own file).
    pub fn new(config: ModelConfig, device: Device) -> Result<Self> {
        let mut model = Self::build(config, device, None, None)?;
        model.id = model.compute_id()?;
        Ok(model)
    }

    /// Builds the variables; `model_dir` anchors relative encoder and tokenizer paths. With
    /// `encoder_config` given (a checkpoint import), no encoder directory is read.
    pub(crate) fn build(
        config: ModelConfig,
        device: Device,
        model_dir: Option<&Path>,
        encoder_config: Option<EncoderConfig>,
    ) -> Result<Self> {
        config.validate(model_dir.unwrap_or(Path::new("model config")))?;
        let text_err = |e: crate::text::TextError| ModelError::Text(e.to_string());
        let encoder_dir = match &encoder_config {
            Some(_) => None,
            None => Some(config.resolve_dir(&config.text.encoder, model_dir)?),
        };
        let tokenizer_dir = match (config.text.tokenizer.as_str(), &encoder_dir) {
            ("", Some(dir)) => dir.clone(),
            ("", None) => {
                return Err(ModelError::Text("text.tokenizer must name a tokenizer directory".into()))
            }
            (name, _) => config.resolve_dir(name, model_dir)?,
        };
        let encoder_config = match (encoder_config, &encoder_dir) {
            (Some(c), _) => c,
            (None, Some(dir)) => EncoderConfig::from_file(&dir.join("config.json")).map_err(text_err)?,
            (None, None) => return Err(ModelError::Text("no text encoder configuration".into())),
        };
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let (song_out, text_out) = config.output_dims();
        let audio = AudioTrunk::new(&root, config.audio)?;
        let (hidden, members) = (config.head_hidden, config.members);
        // One song head per tagger of a two-tagger trunk, per member.
        let song_members = members * config.audio.trunk.parts();
        let song_head = Heads::new(&root, "song", config.audio.out_dim(), hidden, song_out, song_members);
        let encoder = TextEncoder::new(&root / "bert", &encoder_config).map_err(text_err)?;
        let text_head = Heads::new(&root, "text", encoder.hidden_size(), hidden, text_out, members);
        let tag_head = config
            .space
            .has_tag_branch()
            .then(|| Head::new(&root, "tag", config.tag_dim, config.head_hidden, config.embed_dim));
        let mut tokenizer = TextTokenizer::from_model_dir(&tokenizer_dir).map_err(text_err)?;
        let limit = usize::try_from(encoder.max_len()).unwrap_or(usize::MAX);
        if tokenizer.max_len() > limit {
            tokenizer = TextTokenizer::from_file(tokenizer.path(), limit).map_err(text_err)?;
        }
        if tokenizer.vocab_size() as i64 > encoder.vocab_size() {
            return Err(ModelError::Text(format!(
                "tokenizer {} has {} tokens, the encoder only {}",
                tokenizer.path().display(),
                tokenizer.vocab_size(),
                encoder.vocab_size()
            )));
        }
        let pooling = config.text.pooling.parse::<Pooling>().map_err(ModelError::Text)?;
        let label_to_mood = label_to_mood(&config).to_device(device);
        let mood_quadrants = mood_quadrants(&config).to_device(device);
        let prior_weights = mood_prior_weights(&config, &config.text_mood_prior, config.prior_power)
            .map(|t| t.to_device(device));
        let song_prior_weights =
            mood_prior_weights(&config, &config.song_mood_prior, config.song_prior_power)
                .map(|t| t.to_device(device));
        let mut model = Self {
            config,
            vs,
            audio,
            song_head,
            encoder_config,
            encoder,
            text_head,
            tag_head,
            tokenizer,
            pooling,
            label_to_mood,
            mood_quadrants,
            prior_weights,
            song_prior_weights,
            mood_words: None,
            id: String::new(),
        };
        if let Some(dir) = encoder_dir.filter(|_| !model.config.text.fine_tuned) {
            model.load_pretrained_encoder(&dir.join("model.safetensors"))?;
        }
        model.set_text_trainable(model.config.text.fine_tuned);
        // A fine-tuned encoder's weights come later (`from_files` encodes the words then).
        if !model.config.text.fine_tuned {
            model.refresh_mood_words()?;
        }
        Ok(model)
    }

    /// Encodes the mood words for the zero-shot share (moods space with a `zero_shot_weight`),
    /// from the encoder as it stands: once its weights are in.
    pub(crate) fn refresh_mood_words(&mut self) -> Result<()> {
        self.mood_words = None;
        if self.config.space != Space::Moods || self.config.zero_shot_weight == 0.0 {
            return Ok(());
        }
        let words: Vec<&str> = self.config.moods.iter().map(String::as_str).collect();
        let tokens = self.tokenizer.encode_all(&words).map_err(|e| ModelError::Text(e.to_string()))?;
        let batch = TokenBatch::pad(&tokens, self.tokenizer.pad_id(), self.device());
        let features = tch::no_grad(|| self.text_features(&batch, false))?;
        self.mood_words = Some(l2_normalize(&features));
        Ok(())
    }

    /// Copies a Hugging Face checkpoint (names with or without `bert.`/`distilbert.`) into the
    /// encoder.
    fn load_pretrained_encoder(&self, path: &Path) -> Result<()> {
        let tensors = read_safetensors(path)?;
        let prefix = ["", "bert.", "distilbert."]
            .into_iter()
            .find(|p| tensors.contains_key(&format!("{p}embeddings.word_embeddings.weight")))
            .unwrap_or("");
        copy_matching(&self.vs, &tensors, path, |name| {
            name.strip_prefix(ENCODER_PREFIX).map(|rest| format!("{prefix}{rest}"))
        })?;
        Ok(())
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    pub fn space(&self) -> Space {
        self.config.space
    }

    /// Content hash of config and weights as last built, loaded or saved (the index refuses to
    /// mix embeddings of different ids).
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Width of the embeddings `embed_*` return.
    pub fn embed_dim(&self) -> i64 {
        match self.config.space {
            Space::Classify => self.config.moods.len() as i64,
            Space::Moods => self.config.moods.len() as i64 + 5,
            _ => self.config.output_dims().0,
        }
    }

    /// All variables (heads, CNN, encoder) under their reference names.
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// Whether the encoder trains with the heads (`freeze_text` is the opposite).
    pub fn set_text_trainable(&self, trainable: bool) {
        for (name, t) in self.vs.variables() {
            if name.starts_with(ENCODER_PREFIX) {
                let _ = t.set_requires_grad(trainable);
            }
        }
    }

    pub fn text_trainable(&self) -> bool {
        self.vs.variables().iter().any(|(n, t)| n.starts_with(ENCODER_PREFIX) && t.requires_grad())
    }

    /// The variables an optimizer should update: everything except a frozen encoder.
    pub fn trainable_variables(&self) -> Vec<Tensor> {
        self.vs.trainable_variables().into_iter().filter(|t| t.requires_grad()).collect()
    }

    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    pub fn encoder_hidden_size(&self) -> i64 {
        self.encoder.hidden_size()
    }
}

impl EmotionModel {
    /// Raw song-head outputs (embeddings; logits for classify): log-mel [B, n_mels, T] → [B, D].
    pub fn audio_outputs(&self, mel: &Tensor, train: bool) -> Result<Tensor> {
        Ok(Heads::combine(self.audio_member_outputs(mel, train)?))
    }

    /// Each song-head member's raw outputs (what each one's loss sees): log-mel → K × [B, D].
    pub fn audio_member_outputs(&self, mel: &Tensor, train: bool) -> Result<Vec<Tensor>> {
        self.audio.check_input(mel, &self.config.audio)?;
        check_batch(mel, train, "log-mel batch")?;
        Ok(self.song_members(&self.audio.forward_t(&mel.to_device(self.device()), train), train))
    }

    /// Each song-head member's outputs from the trunk's output (its blocks side by side).
    fn song_members(&self, trunk_out: &Tensor, train: bool) -> Vec<Tensor> {
        self.song_head.forward_split(trunk_out, self.config.audio.trunk.parts(), train)
    }

    /// Song embeddings in the space: log-mel [B, n_mels, T] → [B, D]. For evaluation, a clip's 16
    /// chunks go through as one batch `[16, 128, 313]` (under `tch::no_grad`).
    pub fn embed_audio_mel(&self, mel: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.audio_outputs(mel, train)?;
        Ok(self.song_in_space(out))
    }

    /// The log-mel front end this model's trunk expects, on its device.
    pub fn front_end(&self) -> MelFrontEnd {
        match self.audio {
            AudioTrunk::Musicnn(_) => MelFrontEnd::musicnn(self.device()),
            _ => MelFrontEnd::new(self.device()),
        }
    }

    /// Samples in one of this model's windows: 5 s, or musicnn's 3-s patch.
    pub fn window_samples(&self) -> usize {
        match self.audio {
            AudioTrunk::Musicnn(_) => super::musicnn::WINDOW_SAMPLES,
            _ => crate::audio::CHUNK_SAMPLES,
        }
    }

    /// The frozen pretrained trunk, when the model has one.
    pub fn musicnn(&self) -> Option<&super::musicnn::MusicnnTrunk> {
        self.audio.musicnn()
    }

    /// The frozen trunk, or an error saying this model's trunk works on log-mels.
    fn frozen_trunk(&self) -> Result<&super::musicnn::MusicnnTrunk> {
        self.musicnn().ok_or_else(|| ModelError::Config {
            path: "model config".into(),
            message: format!("the {} trunk takes log-mels; it has no feature rows", self.config.audio.trunk),
        })
    }

    /// Where this model's trunk computes the `count` evaluation windows of a clip of `len`
    /// samples (see [`super::windows`]).
    pub fn window_plan(&self, front: &MelFrontEnd, len: usize, count: usize, mode: WindowMode) -> WindowPlan {
        WindowPlan::with_window(self.window_samples(), len, count, self.window_grid(front), mode)
    }

    /// A frozen trunk's feature rows of a clip's `count` windows `[count, row_dim]` (what
    /// [`super::musicnn::FeatureCache`] keeps), and where each window starts.
    pub fn clip_feature_rows(
        &self,
        front: &MelFrontEnd,
        samples: &[f32],
        count: usize,
        mode: WindowMode,
    ) -> Result<(Tensor, Vec<usize>)> {
        let plan = self.window_plan(front, samples.len(), count, mode);
        let rows = self.window_feature_rows(front, &plan, &plan.segment_samples(samples))?;
        Ok((rows, plan.starts))
    }

    /// A frozen trunk's feature rows `[windows, row_dim]` of a plan's segments, in window order.
    pub fn window_feature_rows(
        &self,
        front: &MelFrontEnd,
        plan: &WindowPlan,
        segments: &[Vec<f32>],
    ) -> Result<Tensor> {
        let trunk = self.frozen_trunk()?;
        let mels = SegmentMels::new(front, plan, segments)?;
        self.over_windows(&mels, |mel, offsets| {
            trunk.feature_rows(&super::windows::slice_windows(mel, offsets, 1, mels.frames))
        })
    }

    /// `per_segments` over each group of a clip's segment log-mels (checked, on the model's
    /// device, no gradient), its rows back in window order.
    fn over_windows(
        &self,
        mels: &SegmentMels,
        per_segments: impl Fn(&Tensor, &[Vec<i64>]) -> Tensor,
    ) -> Result<Tensor> {
        tch::no_grad(|| {
            mels.run(|mel, offsets| {
                self.audio.check_input(mel, &self.config.audio)?;
                Ok(per_segments(&mel.to_device(self.device()), offsets))
            })
        })
    }

    /// What the song head sees of a clip's `count` windows: the trunk's outputs `[count, out_dim]`
    /// (eval mode, no gradient). For probing what a trunk knows.
    pub fn trunk_windows(
        &self,
        front: &MelFrontEnd,
        samples: &[f32],
        count: usize,
        mode: WindowMode,
    ) -> Result<Tensor> {
        let plan = self.window_plan(front, samples.len(), count, mode);
        let mels = SegmentMels::new(front, &plan, &plan.segment_samples(samples))?;
        self.over_windows(&mels, |mel, offsets| self.audio.forward_windows(mel, offsets, mels.frames))
    }

    /// The head's input from a frozen trunk's feature rows (its columns, batch-normalised).
    pub fn trunk_from_rows(&self, rows: &Tensor) -> Result<Tensor> {
        let trunk = self.frozen_trunk()?;
        Ok(tch::no_grad(|| trunk.from_rows(&rows.to_device(self.device()), false)))
    }

    /// Raw song-head outputs from a frozen trunk's feature rows `[B, row_dim]`.
    pub fn audio_outputs_from_rows(&self, rows: &Tensor, train: bool) -> Result<Tensor> {
        Ok(Heads::combine(self.audio_member_outputs_from_rows(rows, train)?))
    }

    /// Each song-head member's raw outputs from a frozen trunk's feature rows → K × [B, D].
    pub fn audio_member_outputs_from_rows(&self, rows: &Tensor, train: bool) -> Result<Vec<Tensor>> {
        let trunk = self.frozen_trunk()?;
        let size = expect_rank(rows, 2, "feature rows", "[B, features]")?;
        if size[1] != trunk.row_dim() {
            let expected = format!("[B, {}]", trunk.row_dim());
            return Err(ModelError::Shape { what: "feature rows".into(), expected, got: size });
        }
        check_batch(rows, train, "feature rows")?;
        Ok(self.song_members(&trunk.from_rows(rows, train), train))
    }

    /// Song embeddings in the space from a frozen trunk's feature rows → [B, D].
    pub fn embed_feature_rows(&self, rows: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.audio_outputs_from_rows(rows, train)?;
        Ok(self.song_in_space(out))
    }

    /// Samples a window's start moves by within a segment: the trunk's grid times the mel hop.
    pub fn window_grid(&self, front: &MelFrontEnd) -> usize {
        self.audio.window_grid() as usize * front.config().hop as usize
    }

    /// Window embeddings in the space `[count, D]` (eval mode, no gradient) from the samples of
    /// the plan's segments ([`WindowPlan::segment_samples`]), in window order.
    pub fn embed_windows(
        &self,
        front: &MelFrontEnd,
        plan: &WindowPlan,
        segments: &[Vec<f32>],
    ) -> Result<Tensor> {
        self.embed_segment_mels(&SegmentMels::new(front, plan, segments)?)
    }

    /// Window embeddings `[count, D]` from the segments' log-mels.
    pub fn embed_segment_mels(&self, mels: &SegmentMels) -> Result<Tensor> {
        let trunk =
            self.over_windows(mels, |mel, offsets| self.audio.forward_windows(mel, offsets, mels.frames))?;
        let out = tch::no_grad(|| Heads::combine(self.song_members(&trunk, false)));
        Ok(self.song_in_space(out))
    }

    /// A whole clip (16 kHz mono samples): its `count` window embeddings `[count, D]` and where
    /// each window starts, in samples.
    pub fn embed_clip_windows(
        &self,
        front: &MelFrontEnd,
        samples: &[f32],
        count: usize,
        mode: WindowMode,
    ) -> Result<(Tensor, Vec<usize>)> {
        let plan = self.window_plan(front, samples.len(), count, mode);
        let embeddings = self.embed_windows(front, &plan, &plan.segment_samples(samples))?;
        Ok((embeddings, plan.starts))
    }

    /// Encoder features of a token batch (pooled per `text.pooling`): → [B, H]. A frozen encoder
    /// runs in eval mode without gradient, as in the peer's training step.
    pub fn text_features(&self, batch: &TokenBatch, train: bool) -> Result<Tensor> {
        let ids = batch.ids.to_device(self.device());
        let mask = batch.attention_mask.to_device(self.device());
        let size = expect_rank(&ids, 2, "token ids", "[B, L]")?;
        if size[1] > self.encoder.max_len() || size[1] < 1 {
            let expected = format!("[B, 1..={}]", self.encoder.max_len());
            return Err(ModelError::Shape { what: "token ids".into(), expected, got: size });
        }
        let run = |train| self.pooling.pool(&self.encoder.forward_t(&ids, &mask, train), &mask);
        Ok(if self.text_trainable() { run(train) } else { tch::no_grad(|| run(false)) })
    }

    /// Raw text-head outputs (embeddings; logits over text labels for classify): [B, H] → [B, D].
    pub fn text_outputs(&self, features: &Tensor, train: bool) -> Result<Tensor> {
        Ok(Heads::combine(self.text_member_outputs(features, train)?))
    }

    /// Each text-head member's raw outputs (what each one's loss sees) → K × [B, D].
    pub fn text_member_outputs(&self, features: &Tensor, train: bool) -> Result<Vec<Tensor>> {
        let size = expect_rank(features, 2, "text features", "[B, hidden]")?;
        if size[1] != self.text_head.in_dim() {
            let expected = format!("[B, {}]", self.text_head.in_dim());
            return Err(ModelError::Shape { what: "text features".into(), expected, got: size });
        }
        check_batch(features, train, "text features")?;
        Ok(self.text_head.forward_members(&features.to_device(self.device()), train))
    }

    /// Text embeddings in the space from encoder features `hidden_cls` [B, H] → [B, D]
    /// (classify: label probabilities mapped onto the song moods).
    pub fn embed_text_features(&self, hidden_cls: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.text_outputs(hidden_cls, train)?;
        Ok(match self.config.space {
            Space::Classify => out.softmax(-1, Kind::Float).matmul(&self.label_to_mood),
            Space::Moods => self.text_mood_embedding(hidden_cls, &out),
            _ => out,
        })
    }

    /// Moods space, text side: logits over the moods and neutral `[B, M + 1]` → the mood
    /// probabilities with neutral's share spread evenly over the moods `[B, M]`, and neutral's
    /// probability `[B, 1]`.
    pub fn text_mood_probabilities(&self, logits: &Tensor) -> (Tensor, Tensor) {
        let (moods, neutral) = self.text_moods_and_neutral(logits);
        (moods + &neutral / self.config.moods.len() as f64, neutral)
    }

    /// The softmax of `[B, M + 1]` logits split into the moods `[B, M]` and neutral `[B, 1]`.
    fn text_moods_and_neutral(&self, logits: &Tensor) -> (Tensor, Tensor) {
        let m = self.config.moods.len() as i64;
        let all = logits.softmax(-1, Kind::Float);
        (all.narrow(1, 0, m), all.narrow(1, m, 1))
    }

    /// Moods space, text side: encoder features `[B, H]` and head logits `[B, M + 1]` →
    /// `[B, M + 5]` (see [`Self::mood_embedding`]), the last column neutral's probability (0 for
    /// every clip, so it never moves a match). Matching uses the head's mood distribution
    /// corrected for its prior ([`ModelConfig::prior_power`]) and mixed with the zero-shot one
    /// ([`ModelConfig::zero_shot_weight`]), at the share the moods had beside neutral; training
    /// losses see the head's own.
    fn text_mood_embedding(&self, features: &Tensor, logits: &Tensor) -> Tensor {
        let (moods, neutral) = self.text_moods_and_neutral(logits);
        let mut moods = rebalanced(&moods, self.prior_weights.as_ref());
        if let Some(words) = &self.mood_words {
            let share = self.config.zero_shot_weight;
            let sims = l2_normalize(&features.to_device(self.device())).matmul(&words.tr());
            let zero_shot = (sims / self.config.zero_shot_temperature).softmax(-1, Kind::Float);
            moods = moods * (1.0 - share) + zero_shot * share;
        }
        let moods = moods * (1.0 - &neutral);
        self.mood_point(moods + &neutral / self.config.moods.len() as f64, neutral)
    }

    /// Song-head outputs as points of the space (classify: mood probabilities).
    pub(crate) fn song_in_space(&self, out: Tensor) -> Tensor {
        match self.config.space {
            Space::Classify => out.sigmoid(),
            Space::Moods => self.mood_embedding(&out),
            _ => out,
        }
    }

    /// Moods space, song side: logits over the moods `[B, M]` → `[B, M + 5]`: the mood
    /// probabilities (corrected for the song prior, [`ModelConfig::song_prior_power`]), the
    /// quadrant probabilities they sum to (times √`quadrant_weight`), and a zero neutral column
    /// (texts carry their neutral probability there).
    pub fn mood_embedding(&self, logits: &Tensor) -> Tensor {
        let mut p = logits.softmax(-1, Kind::Float);
        if let Some(w) = &self.song_prior_weights {
            p = rebalanced(&p, Some(w));
        }
        let zero = Tensor::zeros([p.size()[0], 1], (Kind::Float, p.device()));
        self.mood_point(p, zero)
    }

    /// Moods space: mood probabilities `[B, M]` and a neutral column `[B, 1]` → `[B, M + 5]`,
    /// the quadrant sums (times √`quadrant_weight`) between them.
    fn mood_point(&self, p: Tensor, neutral: Tensor) -> Tensor {
        let q = p.matmul(&self.mood_quadrants) * self.config.quadrant_weight.sqrt();
        Tensor::cat(&[p, q, neutral], 1)
    }

    /// Moods space: `[M, 4]`, row m one-hot on mood m's quadrant.
    pub fn mood_quadrant_matrix(&self) -> &Tensor {
        &self.mood_quadrants
    }

    /// Mood-word (tag) branch of the three-branch space: word vectors [B, tag_dim] → [B, D].
    pub fn embed_tags(&self, vectors: &Tensor, train: bool) -> Result<Tensor> {
        let head = self
            .tag_head
            .as_ref()
            .ok_or(ModelError::NoBranch { space: self.space().as_str(), branch: "tag" })?;
        let size = expect_rank(vectors, 2, "tag vectors", "[B, tag_dim]")?;
        if size[1] != head.in_dim() {
            let expected = format!("[B, {}]", head.in_dim());
            return Err(ModelError::Shape { what: "tag vectors".into(), expected, got: size });
        }
        check_batch(vectors, train, "tag vectors")?;
        Ok(head.forward_t(&vectors.to_device(self.device()), train))
    }

    /// Embeds texts in eval mode: → [N, D] in input order. Texts longer than the tokenizer's limit
    /// are truncated.
    pub fn embed_texts(&self, texts: &[&str]) -> Result<Tensor> {
        let tokens = self.tokenizer.encode_all(texts).map_err(|e| ModelError::Text(e.to_string()))?;
        let mut order: Vec<usize> = (0..tokens.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
        let mut parts = Vec::new();
        for chunk in order.chunks(TEXT_BATCH) {
            let seqs: Vec<_> = chunk.iter().map(|&i| &tokens[i]).collect();
            let batch = TokenBatch::pad(&seqs, self.tokenizer.pad_id(), self.device());
            let emb = tch::no_grad(|| -> Result<Tensor> {
                let features = self.text_features(&batch, false)?;
                self.embed_text_features(&features, false)
            })?;
            parts.push(emb);
        }
        if parts.is_empty() {
            return Ok(Tensor::zeros([0, self.embed_dim()], (Kind::Float, self.device())));
        }
        let sorted = Tensor::f_cat(&parts, 0)?;
        let mut inverse = vec![0i64; order.len()];
        for (row, &i) in order.iter().enumerate() {
            inverse[i] = row as i64;
        }
        Ok(sorted.f_index_select(0, &Tensor::from_slice(&inverse).to_device(self.device()))?)
    }

    /// The moods and their points in the space, to explain results: tag-branch embeddings of the
    /// mood vectors (three-branch; the text branch on the mood words when the vectors are
    /// missing, and for two-branch), the VA points (va), the word vectors (w2v), one-hot rows
    /// (classify). → (moods, [M, D])
    pub fn mood_anchors(&self) -> Result<(Vec<String>, Tensor)> {
        let moods = self.config.moods.clone();
        let words: Vec<&str> = moods.iter().map(String::as_str).collect();
        let table = |rows: Vec<Vec<f32>>| {
            let width = rows.first().map_or(0, Vec::len) as i64;
            Tensor::from_slice(&rows.concat()).view([rows.len() as i64, width]).to_device(self.device())
        };
        let vectors: Option<Vec<Vec<f32>>> =
            moods.iter().map(|m| self.config.mood_vectors.get(m).cloned()).collect();
        let anchors = match (self.config.space, vectors) {
            (Space::ThreeBranch, Some(v)) => tch::no_grad(|| self.embed_tags(&table(v), false))?,
            (Space::ThreeBranch | Space::TwoBranch, _) => self.embed_texts(&words)?,
            (Space::W2v, Some(v)) => table(v),
            (Space::W2v, None) => unreachable_config("mood_vectors")?,
            (Space::Va, _) => {
                let dims = self.config.va_dims as usize;
                let rows: Option<Vec<Vec<f32>>> =
                    moods.iter().map(|m| self.config.mood_va.get(m).map(|v| v[..dims].to_vec())).collect();
                table(rows.map_or_else(|| unreachable_config("mood_va"), Ok)?)
            }
            (Space::Classify, _) => Tensor::eye(moods.len() as i64, (Kind::Float, self.device())),
            // The mood part and neutral: a reading's score for a mood is its own share (a text's
            // mood columns also carry neutral's even spread, taken back here), for neutral its
            // probability.
            (Space::Moods, _) => {
                let m = moods.len() as i64;
                let eye = Tensor::eye(m, (Kind::Float, self.device())).pad([0, 5], "constant", Some(0.0));
                let _ = eye.narrow(1, m + 4, 1).fill_(-1.0 / m as f64);
                let neutral = Tensor::zeros([1, m + 5], (Kind::Float, self.device()));
                let _ = neutral.narrow(1, m + 4, 1).fill_(1.0);
                let mut moods = moods;
                moods.push("neutral".into());
                return Ok((moods, Tensor::cat(&[eye, neutral], 0)));
            }
        };
        Ok((moods, anchors))
    }

    /// The (valence, arousal) an embedding `[N, D]` reads as, on 0–1 → `[N, 2]`: the point itself
    /// (va), or the moods' NRC-VAD points weighted by their probabilities (classify, moods).
    /// `None` in spaces without a valence–arousal reading.
    pub fn valence_arousal(&self, emb: &Tensor) -> Option<Tensor> {
        let m = self.config.moods.len() as i64;
        let points: Option<Vec<f32>> = self
            .config
            .moods
            .iter()
            .map(|mood| self.config.mood_va.get(mood).map(|v| [v[0], v[1]]))
            .collect::<Option<Vec<[f32; 2]>>>()
            .map(|v| v.concat());
        let emb = emb.to_kind(Kind::Float);
        match self.config.space {
            Space::Va => Some(emb.narrow(1, 0, 2)),
            Space::Classify | Space::Moods => {
                let p = emb.narrow(1, 0, m);
                let table = Tensor::from_slice(&points?).view([m, 2]).to_device(emb.device());
                Some(
                    p.matmul(&table)
                        / p.sum_dim_intlist([-1i64].as_slice(), true, Kind::Float).clamp_min(1e-8),
                )
            }
            _ => None,
        }
    }

    /// The mood probabilities of embeddings `[N, D]` → `[N, M]` (classify, moods).
    pub fn mood_probabilities(&self, emb: &Tensor) -> Option<Tensor> {
        let m = self.config.moods.len() as i64;
        self.space().is_probability().then(|| emb.to_kind(Kind::Float).narrow(1, 0, m))
    }

    /// Moods space: the likeliest quadrant of one embedding `[D]` with its share (its moods'
    /// probabilities summed by quadrant, neutral's even spread included, as the match sees them)
    /// and the quadrant's moods; `None` in other spaces or for a vector of another width.
    pub fn leading_quadrant(&self, v: &[f32]) -> Option<QuadrantShare> {
        use crate::emotion::Quadrant;
        if self.space() != Space::Moods || v.len() as i64 != self.embed_dim() {
            return None;
        }
        let mut shares = [0f32; 4];
        for (mood, p) in self.config.moods.iter().zip(v) {
            if let Some(q) = self.config.mood_quadrants.get(mood) {
                shares[q.index()] += p;
            }
        }
        let best = (0..4).max_by(|a, b| shares[*a].total_cmp(&shares[*b]))?;
        let quadrant = Quadrant::ALL[best];
        let moods =
            self.config.moods.iter().filter(|m| self.config.mood_quadrants.get(*m) == Some(&quadrant));
        Some(QuadrantShare { quadrant, share: shares[best], moods: moods.cloned().collect() })
    }

    /// The quadrant each embedding `[N, D]` reads as: the likeliest of the four (moods), or that
    /// of its valence–arousal reading (va, classify); `None` in the other spaces.
    pub fn quadrants_of(&self, emb: &Tensor) -> Option<Vec<crate::emotion::Quadrant>> {
        use crate::emotion::Quadrant;
        if self.space() == Space::Moods {
            let q = emb.to_kind(Kind::Float).narrow(1, self.config.moods.len() as i64, 4).argmax(1, false);
            let q: Vec<i64> = Vec::try_from(q).ok()?;
            return Some(q.iter().map(|&i| Quadrant::ALL[i.clamp(0, 3) as usize]).collect());
        }
        let va: Vec<Vec<f32>> = Vec::try_from(self.valence_arousal(emb)?).ok()?;
        Some(va.iter().map(|v| Quadrant::of_va(v[0], v[1])).collect())
    }

    /// Scores of queries [Q, D] against items [N, D] → [Q, N] (cosine, inner product or negative
    /// Euclidean distance, per space).
    pub fn similarity(&self, query: &Tensor, items: &Tensor) -> Result<Tensor> {
        let q = expect_rank(query, 2, "query embeddings", "[Q, D]")?;
        let n = expect_rank(items, 2, "item embeddings", "[N, D]")?;
        if q[1] != n[1] {
            let expected = format!("[N, {}]", q[1]);
            return Err(ModelError::Shape { what: "item embeddings".into(), expected, got: n });
        }
        Ok(self.space().similarity().scores(&query.to_kind(Kind::Float), &items.to_kind(Kind::Float)))
    }
}

/// A validated config always has these tables; reaching here means it was not validated.
fn unreachable_config<T>(field: &str) -> Result<T> {
    Err(ModelError::Config { path: "model config".into(), message: format!("{field} lacks a mood") })
}

/// BatchNorm in train mode needs at least two rows.
fn check_batch(xs: &Tensor, train: bool, what: &str) -> Result<()> {
    let size = xs.size();
    if size.first().copied().unwrap_or(0) < if train { 2 } else { 1 } {
        let expected = if train { "a batch of at least 2 in train mode" } else { "a batch of at least 1" };
        return Err(ModelError::Shape { what: what.into(), expected: expected.into(), got: size });
    }
    Ok(())
}

/// Mood shares `[B, M]` times a prior's weights `[1, M]` when given (not in place: `p` may be a
/// view of a softmax), each row rescaled to sum to 1.
fn rebalanced(p: &Tensor, weights: Option<&Tensor>) -> Tensor {
    let p = weights.map_or_else(|| p.shallow_clone(), |w| p * w);
    let total = p.sum_dim_intlist([-1i64].as_slice(), true, Kind::Float).clamp_min(1e-12);
    p / total
}

/// `prior^-power` `[1, M]` (moods space), `None` when either is unset.
fn mood_prior_weights(config: &ModelConfig, prior: &[f64], power: f64) -> Option<Tensor> {
    let ok = config.space == Space::Moods && power > 0.0 && prior.len() == config.moods.len();
    ok.then(|| {
        let w: Vec<f32> = prior.iter().map(|p| p.max(1e-6).powf(-power) as f32).collect();
        Tensor::from_slice(&w).view([1, w.len() as i64])
    })
}

/// [M, 4]: row m is one-hot on mood m's quadrant (all zero when the config has none).
fn mood_quadrants(config: &ModelConfig) -> Tensor {
    let m = config.moods.len();
    let mut w = vec![0f32; m * 4];
    for (i, mood) in config.moods.iter().enumerate() {
        if let Some(q) = config.mood_quadrants.get(mood) {
            w[i * 4 + q.index()] = 1.0;
        }
    }
    Tensor::from_slice(&w).view([m as i64, 4])
}

/// [K, M]: row k spreads text label k evenly over the moods its mapping set names.
fn label_to_mood(config: &ModelConfig) -> Tensor {
    let (k, m) = (config.text_labels.len(), config.moods.len());
    let mut w = vec![0f32; k * m];
    for (i, label) in config.text_labels.iter().enumerate() {
        let set = config.label_mapping.get(label).map(Vec::as_slice).unwrap_or_default();
        let hits: Vec<usize> = set.iter().filter_map(|s| config.moods.iter().position(|x| x == s)).collect();
        for &j in &hits {
            w[i * m + j] = 1.0 / hits.len() as f32;
        }
    }
    Tensor::from_slice(&w).view([k as i64, m as i64])
}
