//! Everything a run needs before its first step: run directory, data and split, model (restored
//! from the last checkpoint on resume), cached text features and the validation set.

use std::path::Path;

use tch::{Device, Kind, Tensor};

use super::config::{RatingStretch, Ratings, TrainRequest};
use super::corpus::Corpus;
use super::{CheckpointState, MetricsLog, RunDir, RunError, TrainConfig};
use crate::audio::MelFrontEnd;
use crate::cache::{Caches, PcmCache};
use crate::data::{apply_splits, assign_fold, load_joined, parse_fold, Dataset, Modality, Split};
use crate::emotion::{Mapping, MoodVocabulary, TrainMapper};
use crate::features::clips::{clip_embeddings, clip_feature_rows, text_embeddings, to_rows};
use crate::features::progress::{clip_progress, progress_line};
use crate::features::text::{text_features_in_blocks, TextInputs, SAVE_BLOCK};
use crate::metrics::RetrievalScores;
use crate::model::{weights, EmotionModel, ModelConfig, Space, WindowMode};

/// A run ready to train: the recipe, the model, what the steps read and where the run writes.
pub struct Session {
    pub config: TrainConfig,
    pub model: EmotionModel,
    pub data: RunData,
    pub output: RunOutput,
}

/// What the steps read: the datasets, their training and validation corpora, and the inputs a
/// batch is made of.
pub struct RunData {
    pub text: Dataset,
    pub music: Dataset,
    pub train: Corpus,
    pub valid: Corpus,
    /// The text items' encoder features (frozen) or tokens (fine-tuned).
    pub texts: TextInputs,
    /// Word vectors of the moods, row = mood index. [M, tag_dim]
    pub mood_vectors: Tensor,
    pub front: MelFrontEnd,
    pub pcm: PcmCache,
    /// A frozen trunk's cached feature rows of each training clip (row = window), aligned with
    /// `train.songs`; steps draw one window per clip instead of decoding audio.
    pub song_rows: Option<Vec<Tensor>>,
    /// Moods space, `--ratings stretched`: how the rated training texts' targets are stretched
    /// (none without rated and labelled texts both).
    pub rating_stretch: Option<RatingStretch>,
}

/// [`RatingStretch`] of the training texts: the rated ones' (valence, arousal) against the
/// labelled ones' mean NRC-VAD points (neutral left out, as the loss leaves it out).
fn rating_stretch(text: &Dataset, train: &Corpus) -> Result<Option<RatingStretch>, RunError> {
    let tables = crate::emotion::MoodTables::shipped()?;
    let (mut rated, mut labelled) = (Vec::new(), Vec::new());
    for t in &train.texts {
        let item = &text.items[t.item];
        if let Some(v) = item.va {
            rated.push([v[0], v[1]]);
            continue;
        }
        labelled.extend(tables.labels_va(&item.labels));
    }
    Ok(RatingStretch::measure(&rated, &labelled))
}

/// Where the run writes: its directory and metrics log, and the checkpoint it starts from.
pub struct RunOutput {
    pub run: RunDir,
    pub log: MetricsLog,
    pub start: CheckpointState,
    pub resumed: bool,
}

fn load(spec: &str, modality: Modality) -> Result<Dataset, RunError> {
    Ok(load_joined(spec, modality).map(|(d, _)| d)?)
}

/// Id prefix of the mood-lexicon texts the moods space trains on beside the datasets.
pub const LEXICON_PREFIX: &str = "story-moods:";

/// Moods space: appends the words that name the moods (each mood word and AllMusic tag of
/// `data/story_moods.json`, labelled with its mood) as training texts. They are the space's own
/// vocabulary, not development data: always in the train split, never evaluated.
fn add_mood_lexicon(text: &mut Dataset) -> Result<(), RunError> {
    let story = crate::emotion::StoryMoods::shipped().map_err(RunError::from)?;
    text.parts.push(text.items.len());
    for (word, mood) in story.lexicon() {
        if !text.vocabulary.iter().any(|v| v == mood) {
            text.vocabulary.push(mood.to_string());
        }
        let mut item = crate::data::Item::new(
            format!("{LEXICON_PREFIX}{word}"),
            crate::data::ItemContent::Text(word.to_string()),
        );
        item.labels = vec![mood.to_string()];
        item.split = Some(Split::Train);
        text.items.push(item);
    }
    Ok(())
}

/// Model config of a run: the text dataset's vocabulary, AudioSet moods, manual mapping.
pub fn model_config(config: &TrainConfig, text: &Dataset) -> Result<ModelConfig, RunError> {
    let labels: Vec<&str> = text.vocabulary.iter().map(String::as_str).collect();
    let mc = match config.space {
        Space::Moods => ModelConfig::story(&labels),
        space => ModelConfig::with_vocabularies(space, MoodVocabulary::AUDIOSET.words, &labels, "manual"),
    };
    let mut mc = mc.map_err(RunError::from)?;
    // The installed MiniLM is named, not pathed, so a shipped model.toml works on any machine.
    // Compared canonicalised, so a symlinked data dir still names it (and shares its text cache).
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let installed = crate::config::Dirs::resolve().map(|d| canonical(&d.minilm())).ok();
    if installed != Some(canonical(&config.text_encoder)) {
        mc.text.encoder = config.text_encoder.to_string_lossy().into_owned();
    }
    mc.text.fine_tuned = !config.freeze_text;
    mc.text.pooling = config.text_pooling.clone();
    mc.set_trunk(config.audio_trunk, config.musicnn_features);
    mc.members = config.members;
    mc.validate(Path::new("model config")).map_err(RunError::from)?;
    Ok(mc)
}

pub fn setup(request: &TrainRequest, note: &dyn Fn(String)) -> Result<Session, RunError> {
    let (run, config) = if request.resume && request.run_dir.join(super::CONFIG_FILE).exists() {
        let (run, mut stored) = RunDir::open(&request.run_dir)?;
        // A resumed run may be given a new length; everything else comes from the stored config.
        stored.epochs = request.config.epochs;
        stored.max_steps = request.config.max_steps;
        (run, stored)
    } else {
        (RunDir::create(&request.run_dir, &request.config)?, request.config.clone())
    };
    let device = match config.device.as_str() {
        "cuda" if tch::Cuda::is_available() => Device::Cuda(0),
        _ => Device::Cpu,
    };
    let mut text = load(&config.text, Modality::Text)?;
    let mut music = load(&config.music, Modality::Music)?;
    if run.splits_path().exists() {
        let splits = run.read_splits()?;
        apply_splits(&mut text, &splits.text);
        apply_splits(&mut music, &splits.music);
    } else {
        if let Some(fold) = &config.fold {
            let (k, n) = parse_fold(fold).map_err(|e| RunError::format(&run.config_path(), e))?;
            assign_fold(&mut text, k, n);
            assign_fold(&mut music, k, n);
        }
        run.write_splits(&text, &music)?;
    }
    if config.space == Space::Moods {
        add_mood_lexicon(&mut text)?;
    }
    let mc = model_config(&config, &text)?;
    let mc_path = run.root().join("model.toml");
    let mc_text = mc.to_toml().map_err(|e| RunError::format(&mc_path, e))?;
    crate::config::write_atomic(&mc_path, mc_text.as_bytes()).map_err(|e| RunError::io(&mc_path, e))?;
    // libtorch's generator draws the initial weights: seeded, a run is reproducible.
    tch::manual_seed(config.seed as i64);
    // Built as frozen so the encoder starts from its pretrained weights, then handed to the
    // optimiser when it fine-tunes (a fine-tuned model directory carries its own encoder).
    let mut pretrained = mc.clone();
    pretrained.text.fine_tuned = false;
    let mut model = EmotionModel::new(pretrained, device).map_err(RunError::from)?;
    if !config.freeze_text {
        model.set_fine_tuned(true);
        model.set_text_trainable(true);
    }
    let (start, resumed) = match run.latest_checkpoint()? {
        Some((state, path)) if request.resume => {
            restore(&model, &path)?;
            note(format!("resuming from {} (step {})", path.display(), state.step));
            (state, true)
        }
        _ => (CheckpointState::new(0, 0, 0), false),
    };
    let log = MetricsLog::open(&run.metrics_path(), Some(start.step))?;
    let texts: Vec<&str> = text.items.iter().map(|i| i.content.text().unwrap_or("")).collect();
    // A broken config file was reported by the CLI already; the run keeps the default limit.
    let caches = Caches::resolve().unwrap_or_else(|_| Caches::new(&run.cache_dir(), &Default::default()));
    let text_inputs = if config.freeze_text {
        note(format!("encoding {} texts with the frozen encoder (cached)", texts.len()));
        let started = std::time::Instant::now();
        let progress =
            |done: usize, total: usize| note(progress_line("encoded", "texts", done, total, started));
        let features =
            text_features_in_blocks(&caches.text_features(), &model, &texts, SAVE_BLOCK, &progress)?;
        TextInputs::Cached(features.to_device(device))
    } else {
        let tokenizer = model.tokenizer();
        note(format!("tokenizing {} texts; the encoder trains with the heads", texts.len()));
        TextInputs::Tokens(tokenizer.encode_all(&texts).map_err(|e| RunError::format(tokenizer.path(), e))?)
    };
    let vectors: Vec<f32> =
        mc.moods.iter().flat_map(|m| mc.mood_vectors.get(m).cloned().unwrap_or_default()).collect();
    let mood_vectors = Tensor::from_slice(&vectors).view([mc.moods.len() as i64, -1]).to_kind(Kind::Float);
    let mapper = TrainMapper::get(&config.train_mapper)?;
    let mut train = Corpus::new(&text, &music, Split::Train, &mc, mapper, true);
    if config.balance_labels {
        train.balance_labels(&text);
    }
    // At 1 the draws stay uniform, from the same random numbers as runs made before the option.
    if config.dataset_power != 1.0 {
        train.weigh_datasets(&text, config.dataset_power);
    }
    if config.space == Space::Moods {
        train.boost(|item| text.items[item].id.starts_with(LEXICON_PREFIX), config.lexicon_share);
    }
    let valid = Corpus::new(&text, &music, Split::Valid, &mc, mapper, false);
    let rating_stretch = match (config.space, config.ratings) {
        (Space::Moods, Ratings::Stretched) => rating_stretch(&text, &train)?,
        _ => None,
    };
    if let Some(r) = rating_stretch {
        note(format!(
            "ratings stretched to the labels' spread: valence ×{:.2}, arousal ×{:.2} about {:.2}, {:.2}",
            r.factor[0], r.factor[1], r.mean[0], r.mean[1]
        ));
    }
    note(format!(
        "train: {} texts, {} clips; valid: {} texts, {} clips with tag moods",
        train.texts.len(),
        train.songs.len(),
        valid.texts.len(),
        valid.songs.len()
    ));
    let front = model.front_end();
    let pcm = caches.audio();
    let song_rows = match model.musicnn() {
        Some(trunk) => {
            note(format!(
                "musicnn {} features of {} training clips (computed once, cached)",
                trunk.names().join(" + "),
                train.songs.len()
            ));
            let clips: Vec<&Path> = train
                .songs
                .iter()
                .map(|s| {
                    music.items[s.item].content.audio_path().ok_or_else(|| {
                        RunError::format(Path::new(&config.music), "a training clip has no audio file")
                    })
                })
                .collect::<Result<_, _>>()?;
            let progress = clip_progress(note);
            Some(clip_feature_rows(
                &model,
                &front,
                &pcm,
                &clips,
                config.eval_chunks,
                WindowMode::Exact,
                &progress,
            )?)
        }
        None => None,
    };
    let data = RunData {
        text,
        music,
        train,
        valid,
        texts: text_inputs,
        mood_vectors: mood_vectors.to_device(device),
        front,
        pcm,
        song_rows,
        rating_stretch,
    };
    Ok(Session { config, model, data, output: RunOutput { run, log, start, resumed } })
}

/// Copies checkpoint weights into the model (a frozen encoder's weights are not in the file).
pub fn restore(model: &EmotionModel, path: &Path) -> Result<(), RunError> {
    let tensors = weights::read_safetensors(path).map_err(RunError::from)?;
    weights::copy_matching(model.var_store(), &tensors, path, |name| {
        tensors.contains_key(name).then(|| name.to_string())
    })
    .map_err(RunError::from)?;
    Ok(())
}

impl Session {
    /// Weights worth saving: everything but a frozen encoder (it is reloaded from its folder).
    pub fn weights(&self) -> Vec<(String, Tensor)> {
        let frozen = self.config.freeze_text;
        weights::state_dict(self.model.var_store(), |n| !(frozen && n.starts_with("bert.")))
    }

    /// P@5 and MRR of valid texts against valid clips with tag moods (manual mapping).
    pub fn validate(&self) -> Result<RetrievalScores, RunError> {
        let manual =
            Mapping::get("manual").map_err(|e| RunError::format(&self.output.run.config_path(), e))?;
        let idx: Vec<i64> = self.data.valid.texts.iter().map(|t| t.item as i64).collect();
        let feats = self.data.texts.features(&self.model, &idx, false)?;
        let texts = text_embeddings(&self.model, &feats)?;
        let clips: Vec<&Path> = self
            .data
            .valid
            .songs
            .iter()
            .filter_map(|s| self.data.music.items[s.item].content.audio_path())
            .collect();
        let chunks = self.config.eval_chunks;
        let songs = clip_embeddings(
            &self.model,
            &self.data.front,
            &self.data.pcm,
            &clips,
            chunks,
            WindowMode::Exact,
            &|_, _| {},
        )?;
        let moods = &self.model.config().moods;
        let labels = &self.model.config().text_labels;
        // Each space's own similarity (cosine, negative Euclidean for VA, inner product for classify).
        let sim = self.model.similarity(&texts, &songs).map_err(RunError::from)?;
        let sim = to_rows(&sim);
        if self.config.space == Space::Moods {
            return self.validate_quadrants(&sim);
        }
        RetrievalScores::from_similarity(&sim, |q, c| {
            let label = &labels[self.data.valid.texts[q].label];
            self.data.valid.songs[c].moods.iter().any(|&m| manual.hits(label, &moods[m]))
        })
        .map_err(|e| RunError::format(&self.output.run.config_path(), e))
    }

    /// Moods space: P@5 and MRR in the quadrant view (a clip is a hit when its quadrant is that of
    /// the text's first label's NRC-VAD point), over valid texts with such a label.
    fn validate_quadrants(&self, sim: &[Vec<f64>]) -> Result<RetrievalScores, RunError> {
        let tables = crate::emotion::MoodTables::shipped()
            .map_err(|e| RunError::format(&self.output.run.config_path(), e))?;
        let quadrant_of = |t: &super::corpus::CorpusText| {
            let label = self.data.text.items[t.item].labels.first().filter(|l| *l != "neutral")?;
            tables.vad(label).map(|v| crate::emotion::Quadrant::of_va(v[0], v[1]))
        };
        let keep: Vec<usize> = (0..self.data.valid.texts.len())
            .filter(|&q| quadrant_of(&self.data.valid.texts[q]).is_some())
            .collect();
        let rows: Vec<Vec<f64>> = keep.iter().map(|&q| sim[q].clone()).collect();
        RetrievalScores::from_similarity(&rows, |q, c| {
            let clip = self.data.music.items[self.data.valid.songs[c].item].quadrant;
            clip.is_some() && clip == quadrant_of(&self.data.valid.texts[keep[q]])
        })
        .map_err(|e| RunError::format(&self.output.run.config_path(), e))
    }
}
