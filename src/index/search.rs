//! Story search: text (or a clip) → embedding in the index's space → ranked clips, each explained
//! by its closest moods and previewed from its chunk that fits the query best.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tch::{Device, Kind, Tensor};

use super::moods::{LibraryMoods, MoodAnchors};
use super::store::{ClipIndex, ClipRecord, IndexError};
use crate::audio::{load_mono_16k, AudioError, EVAL_CHUNKS};
use crate::model::{EmotionModel, ModelError, QuadrantShare, Similarity, Space, WindowMode};
use crate::text::{InputError, StoryText};

/// Text read for a whole-passage query; the encoder keeps only its first 256 tokens anyway, and
/// this spares tokenizing a megabyte to find them.
const WHOLE_TEXT_BYTES: usize = 64 * 1024;
/// How much of a story its language is judged on.
const LANGUAGE_SAMPLE_BYTES: usize = 2048;
/// Sentences averaged at most in per-sentence mode (evenly spaced through a longer story).
pub const MAX_SENTENCES: usize = 256;
/// Moods shown per query and per clip.
pub const MOODS_SHOWN: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("model: {0}")]
    Model(#[from] ModelError),
    #[error("query: {0}")]
    Input(#[from] InputError),
    #[error("{0}")]
    Audio(#[from] AudioError),
    #[error("index {dir} does not say which model built it (index.toml has no model_dir); rebuild it with `storyscore index`")]
    NoModelDir { dir: PathBuf },
    #[error(
        "the model at {model_dir} (id {model}) is not the one that built index {dir} (id {index_model}); \
         rebuild the index with `storyscore index --model {model_dir} ...`"
    )]
    ModelChanged { dir: PathBuf, model_dir: PathBuf, model: String, index_model: String },
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// How a multi-sentence query becomes one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryMode {
    /// One embedding of the whole passage (the encoder reads its first 256 tokens).
    #[default]
    Whole,
    /// The mean of the sentence embeddings.
    PerSentence,
}

/// One ranked clip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub rank: usize,
    /// The clip's row in the index.
    #[serde(skip)]
    pub row: usize,
    /// Cosine, inner product or negative Euclidean distance, per the space.
    pub score: f32,
    pub path: PathBuf,
    pub title: String,
    /// The clip's closest moods, best first.
    pub moods: Vec<(String, f32)>,
    /// Start (s) of the clip's 5-s chunk that fits the query best, where a preview begins; 0 when
    /// the index keeps no chunk embeddings for the clip (rebuild it with `storyscore index`).
    pub preview_start_s: f64,
    /// That chunk's score, in the same measure as `score`; absent without chunk embeddings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_score: Option<f32>,
    /// What a pretrained tagger hears in the clip (musicnn models), best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sounds_like: Vec<(String, f32)>,
    /// The moods the clip has more of than the library's average clip, with how many times
    /// (probability spaces), most first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stands_out: Vec<(String, f32)>,
}

/// The chunk of a clip that fits a query best.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preview {
    /// Chunk number, 0..16.
    pub chunk: usize,
    pub start_s: f64,
    /// Cosine, inner product or negative Euclidean distance, per the space.
    pub score: f32,
}

/// The chunk of clip `row` whose embedding fits `query` (`[dim]`, as the model emits it) best, by
/// the space's similarity; `None` when the index keeps no chunk embeddings for the clip. Reads
/// only that clip's row of `chunks.npy`.
pub fn best_chunk(index: &ClipIndex, row: usize, query: &[f32]) -> Result<Option<Preview>, IndexError> {
    best_chunk_of(index, row, &index.record(row)?, query)
}

/// [`best_chunk`] for a caller holding clip `row`'s record already.
pub fn best_chunk_of(
    index: &ClipIndex,
    row: usize,
    clip: &ClipRecord,
    query: &[f32],
) -> Result<Option<Preview>, IndexError> {
    let Some(chunks) = index.chunks_of(row, clip)? else {
        return Ok(None);
    };
    let q = index.prepare(query);
    let similarity = index.space().similarity();
    let best = chunks
        .chunks_exact(index.dim())
        .map(|c| chunk_score(similarity, c, &q))
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
    Ok(best
        .and_then(|(chunk, score)| Some(Preview { chunk, start_s: *clip.chunk_starts_s.get(chunk)?, score })))
}

/// One chunk embedding's fit to a query already prepared by [`ClipIndex::prepare`].
fn chunk_score(similarity: Similarity, chunk: &[f32], query: &[f32]) -> f32 {
    let dot = |a: &[f32]| a.iter().zip(query).map(|(x, y)| x * y).sum::<f32>();
    match similarity {
        Similarity::Cosine => dot(&super::store::unit(chunk)),
        Similarity::InnerProduct => dot(chunk),
        Similarity::NegEuclidean => {
            -chunk.iter().zip(query).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt()
        }
    }
}

/// Seconds as `m:ss`, as previews and players show them.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// The answer to one query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    pub query: String,
    pub space: Space,
    /// The query's closest moods, best first.
    pub query_moods: Vec<(String, f32)>,
    /// Moods space: the quadrant the query leans to, which the match rewards beside the moods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_quadrant: Option<QuadrantShare>,
    pub results: Vec<SearchHit>,
    /// Something the user should know (text truncated, sentences sampled).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

/// A query embedding with what was noticed while making it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryVector {
    pub vector: Vec<f32>,
    pub notices: Vec<String>,
}

/// An index with the model that built it, ready for queries.
pub struct Searcher {
    index: ClipIndex,
    model: EmotionModel,
    anchors: MoodAnchors,
    library: Option<LibraryMoods>,
    dir: PathBuf,
}

impl Searcher {
    /// Opens the index in `index_dir` and the model recorded in its `index.toml`.
    pub fn open(index_dir: &Path, device: Device) -> Result<Self, SearchError> {
        let index = ClipIndex::open(index_dir)?;
        let model_dir = index.meta().model_dir.clone();
        if model_dir.as_os_str().is_empty() {
            return Err(SearchError::NoModelDir { dir: index_dir.to_path_buf() });
        }
        let model = EmotionModel::load(&model_dir, device)?;
        Self::with_model(index_dir, index, model)
    }

    /// Uses an index and a model already loaded (the app keeps one model for several tasks).
    pub fn with_model(index_dir: &Path, index: ClipIndex, model: EmotionModel) -> Result<Self, SearchError> {
        if model.id() != index.model_id() {
            return Err(SearchError::ModelChanged {
                dir: index_dir.to_path_buf(),
                model_dir: index.meta().model_dir.clone(),
                model: model.id().to_string(),
                index_model: index.model_id().to_string(),
            });
        }
        let anchors = MoodAnchors::of(&model)?;
        let library =
            LibraryMoods::new(&model.config().moods, index.embeddings(), index.dim(), index.space());
        Ok(Self { index, model, anchors, library, dir: index_dir.to_path_buf() })
    }

    pub fn index(&self) -> &ClipIndex {
        &self.index
    }

    pub fn model(&self) -> &EmotionModel {
        &self.model
    }

    pub fn anchors(&self) -> &MoodAnchors {
        &self.anchors
    }

    /// What stands out in clip embedding `v` against this library's average clip.
    pub fn stands_out(&self, v: &[f32]) -> Vec<(String, f32)> {
        self.library.as_ref().map_or_else(Vec::new, |l| l.stands_out(v))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The `k` clips that fit `text` best (whole-passage embedding).
    pub fn search(&self, text: &str, k: usize) -> Result<SearchResults, SearchError> {
        self.search_with(text, k, QueryMode::Whole)
    }

    pub fn search_with(&self, text: &str, k: usize, mode: QueryMode) -> Result<SearchResults, SearchError> {
        let story = StoryText::new(text, "query")?;
        let query = self.embed_text(&story, mode)?;
        let mut out = self.search_vector(&query.vector, k, story.as_str())?;
        out.notices = query.notices;
        Ok(out)
    }

    /// Music to music: the clips nearest to the audio file at `path` (its stored embedding when
    /// the index has it, else decoded and embedded now).
    pub fn like(&self, path: &Path, k: usize) -> Result<SearchResults, SearchError> {
        let label = path.display().to_string();
        let absolute = std::fs::canonicalize(path).ok().filter(|p| p != path);
        let mut row = None;
        // One sequential pass over the records, keeping none.
        for (i, record) in self.index.records().enumerate() {
            let record = record?;
            if record.path == path {
                row = Some(i);
                break;
            }
            if row.is_none() && absolute.as_deref() == Some(record.path.as_path()) {
                row = Some(i);
            }
        }
        let stored = row.and_then(|i| self.index.embedding(i)).map(<[f32]>::to_vec);
        let vector = match stored {
            Some(v) => v,
            None => embed_audio_file(&self.model, path)?,
        };
        self.search_vector(&vector, k, &label)
    }

    /// A notice when the story does not look like English (judged on its beginning), which the
    /// text encoders were trained on: its reading is then unreliable, and the user is told so.
    pub fn language_notice(&self, story: &StoryText) -> Result<Option<String>, SearchError> {
        let text = prefix(story.as_str(), LANGUAGE_SAMPLE_BYTES);
        let english = crate::text::looks_english(text, self.model.tokenizer())
            .map_err(|e| ModelError::Text(e.to_string()))?;
        Ok((!english).then(|| {
            "the text may not be English; the text encoder reads English, so its reading (and the \
             ranking) is unreliable"
                .to_string()
        }))
    }

    /// Embeds a story in the index's space. → `[D]`
    pub fn embed_text(&self, story: &StoryText, mode: QueryMode) -> Result<QueryVector, SearchError> {
        let mut notices: Vec<String> = self.language_notice(story)?.into_iter().collect();
        let texts: Vec<&str> = match mode {
            QueryMode::Whole => {
                let text = prefix(story.as_str(), WHOLE_TEXT_BYTES);
                let tokens =
                    self.model.tokenizer().encode(text).map_err(|e| ModelError::Text(e.to_string()))?;
                if tokens.truncated || text.len() < story.as_str().len() {
                    notices.push(format!(
                        "the text is longer than the encoder reads ({} tokens); only its beginning \
                         was used (--per-sentence averages all sentences)",
                        self.model.tokenizer().max_len()
                    ));
                }
                vec![text]
            }
            QueryMode::PerSentence => {
                let sentences = story.sentences();
                let picked = evenly_spaced(sentences.len(), MAX_SENTENCES);
                if picked.len() < sentences.len() {
                    notices.push(format!(
                        "{} sentences: averaged {} evenly spaced ones",
                        sentences.len(),
                        picked.len()
                    ));
                }
                let texts: Vec<String> = picked.iter().map(|&i| sentences[i].text.clone()).collect();
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                let emb = self.model.embed_texts(&refs)?;
                return Ok(QueryVector { vector: self.mean_row(&emb)?, notices });
            }
        };
        let emb = self.model.embed_texts(&texts)?;
        Ok(QueryVector { vector: self.mean_row(&emb)?, notices })
    }

    /// Mean of the rows of `[N, D]` (each unit-normalised first in cosine spaces). → `[D]`
    fn mean_row(&self, emb: &Tensor) -> Result<Vec<f32>, SearchError> {
        let emb = emb.to_kind(Kind::Float).to_device(Device::Cpu);
        let emb = match self.index.metric() {
            super::topk::Metric::InnerProduct if !self.model.space().is_probability() => {
                crate::model::space::unit_rows(&emb)
            }
            _ => emb,
        };
        Ok(Vec::<f32>::try_from(emb.f_mean_dim([0i64].as_slice(), false, Kind::Float)?)?)
    }

    /// Ranks the index against an embedding already in the space.
    pub fn search_vector(&self, vector: &[f32], k: usize, query: &str) -> Result<SearchResults, SearchError> {
        let hits = self.index.search(vector, k)?;
        let mut results = Vec::with_capacity(hits.len());
        for (rank, hit) in hits.iter().enumerate() {
            let Some(emb) = self.index.embedding(hit.index) else { continue };
            let clip = self.index.record(hit.index)?;
            let preview = best_chunk_of(&self.index, hit.index, &clip, vector)?;
            results.push(SearchHit {
                rank: rank + 1,
                row: hit.index,
                score: hit.score,
                path: clip.path.clone(),
                title: clip.title(),
                moods: self.anchors.closest(emb, MOODS_SHOWN),
                preview_start_s: preview.map_or(0.0, |p| p.start_s),
                preview_score: preview.map(|p| p.score),
                sounds_like: clip.sounds_like.clone(),
                stands_out: self.stands_out(emb),
            });
        }
        super::records::distinct_titles(results.iter_mut().map(|h| (&mut h.title, h.path.as_path())));
        Ok(SearchResults {
            query: query.to_string(),
            space: self.index.space(),
            query_moods: self.anchors.closest(vector, MOODS_SHOWN),
            query_quadrant: self.model.leading_quadrant(vector),
            results,
            notices: Vec::new(),
        })
    }
}

/// Embeds one audio file as the indexer does: mean of its 16 window embeddings. → `[D]`
pub fn embed_audio_file(model: &EmotionModel, path: &Path) -> Result<Vec<f32>, SearchError> {
    let samples = load_mono_16k(path)?;
    let mel = model.front_end();
    let (emb, _) = model.embed_clip_windows(&mel, &samples, EVAL_CHUNKS, WindowMode::Shared)?;
    let mean = emb.f_mean_dim([0i64].as_slice(), false, Kind::Float)?.to_device(Device::Cpu);
    Ok(Vec::<f32>::try_from(mean)?)
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Up to `max` indices of `0..n`, evenly spaced, first and last included.
fn evenly_spaced(n: usize, max: usize) -> Vec<usize> {
    match max {
        _ if n <= max => return (0..n).collect(),
        0 => return Vec::new(),
        1 => return vec![0],
        _ => {}
    }
    (0..max).map(|i| i * (n - 1) / (max - 1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_respects_char_boundaries() {
        assert_eq!(prefix("héllo", 2), "h");
        assert_eq!(prefix("héllo", 3), "hé");
        assert_eq!(prefix("abc", 10), "abc");
    }

    #[test]
    fn chunk_scores_follow_the_space() {
        let q = super::super::store::unit(&[1.0, 0.0]);
        assert!((chunk_score(Similarity::Cosine, &[3.0, 3.0], &q) - 0.70710677).abs() < 1e-6);
        assert_eq!(chunk_score(Similarity::InnerProduct, &[3.0, 3.0], &[1.0, 0.0]), 3.0);
        assert_eq!(chunk_score(Similarity::NegEuclidean, &[4.0, 3.0], &[0.0, 0.0]), -5.0);
        assert_eq!(clock(83.4), "1:23");
        assert_eq!(clock(0.0), "0:00");
    }

    #[test]
    fn evenly_spaced_keeps_ends() {
        assert_eq!(evenly_spaced(3, 10), vec![0, 1, 2]);
        assert_eq!(evenly_spaced(10, 4), vec![0, 3, 6, 9]);
        assert!(evenly_spaced(0, 4).is_empty());
    }
}
