//! Losses of the regression and classification spaces: each branch learns its own targets, and
//! retrieval meets in the shared target space (VA points, word vectors, mood probabilities).
//!
//! Targets: VA regresses a text to the NRC-VAD (valence, arousal) of its label word, or to its
//! own rating when the dataset has one (EmoBank), and a clip to the mean VA of its moods; w2v
//! regresses to the label word's vector and the mean vector of the clip's moods; classify uses
//! cross-entropy over text labels and binary cross-entropy over song moods.

use std::collections::BTreeMap;

use tch::{Kind, Tensor};

use super::corpus::Corpus;
use super::feed::PreparedBatch;
use super::setup::Session;
use super::RunError;
use crate::emotion::MoodTables;
use crate::model::losses::{music_classification_loss, regression_loss, text_classification_loss};
use crate::model::Space;

fn table(rows: &[Vec<f32>]) -> Tensor {
    let width = rows.first().map_or(0, Vec::len) as i64;
    Tensor::from_slice(&rows.concat()).view([rows.len() as i64, width])
}

fn mean(rows: &[&[f32]]) -> Vec<f32> {
    let width = rows.first().map_or(0, |r| r.len());
    let mut out = vec![0f32; width];
    for r in rows {
        for (o, v) in out.iter_mut().zip(r.iter()) {
            *o += v / rows.len() as f32;
        }
    }
    out
}

/// Per-space targets of the texts and songs of a corpus.
struct Targets<'a> {
    s: &'a Session,
    corpus: &'a Corpus,
    tables: &'static MoodTables,
}

impl Targets<'_> {
    fn missing(&self, what: String) -> RunError {
        RunError::format(
            &self.s.output.run.config_path(),
            format!("no {} target for {what}", self.s.config.space),
        )
    }

    fn text(&self, t: usize) -> Result<Vec<f32>, RunError> {
        let cfg = self.s.model.config();
        let text = &self.corpus.texts[t];
        let label = &cfg.text_labels[text.label];
        match cfg.space {
            Space::Va => {
                let dims = cfg.va_dims as usize;
                let rated = self.s.data.text.items[text.item].va;
                let va =
                    rated.or_else(|| self.tables.vad(label)).ok_or_else(|| self.missing(label.clone()))?;
                Ok(va[..dims].to_vec())
            }
            _ => self.tables.vector(label).map(<[f32]>::to_vec).ok_or_else(|| self.missing(label.clone())),
        }
    }

    fn song(&self, song: usize) -> Result<Vec<f32>, RunError> {
        let cfg = self.s.model.config();
        let moods = &self.corpus.songs[song].moods;
        let rows: Option<Vec<&[f32]>> = match cfg.space {
            Space::Va => moods
                .iter()
                .map(|&m| cfg.mood_va.get(&cfg.moods[m]).map(|v| &v[..cfg.va_dims as usize]))
                .collect(),
            _ => moods.iter().map(|&m| cfg.mood_vectors.get(&cfg.moods[m]).map(Vec::as_slice)).collect(),
        };
        rows.map(|r| mean(&r)).ok_or_else(|| self.missing(format!("the moods of clip {song}")))
    }
}

/// Loss of one batch in the va, w2v or classify space → (text + song loss, per-branch losses).
/// The batch's text→song pairs supply the texts and the clips (each clip already decoded).
pub fn space_loss(s: &Session, batch: &PreparedBatch) -> Result<(Tensor, BTreeMap<String, f64>), RunError> {
    let werr = RunError::Weights;
    let corpus = &s.data.train;
    let device = s.model.device();
    let plan = &batch.plan;
    let texts: Vec<usize> = plan.text_song.iter().map(|p| p.0).collect();
    let songs: Vec<usize> = plan.text_song.iter().map(|p| p.1).collect();
    let rows: Vec<i64> = texts.iter().map(|&t| corpus.texts[t].item as i64).collect();
    let features = s.data.texts.features(&s.model, &rows, true)?;
    let text_out = s.model.text_outputs(&features, true).map_err(werr)?;
    // Metric plans stack tag→song clips first; regression plans have none, so all are text→song.
    let song_out = s.song_outputs(batch, false)?;
    let (text_loss, song_loss) = if s.config.space == Space::Classify {
        let labels: Vec<i64> = texts.iter().map(|&t| corpus.texts[t].label as i64).collect();
        let mut hot = vec![0f32; songs.len() * corpus.n_moods];
        for (r, &song) in songs.iter().enumerate() {
            for &m in &corpus.songs[song].moods {
                hot[r * corpus.n_moods + m] = 1.0;
            }
        }
        let hot = Tensor::from_slice(&hot).view([songs.len() as i64, corpus.n_moods as i64]);
        (
            text_classification_loss(&text_out, &Tensor::from_slice(&labels).to_device(device))
                .map_err(werr)?,
            music_classification_loss(&song_out, &hot.to_device(device)).map_err(werr)?,
        )
    } else {
        let tables = MoodTables::shipped()?;
        let targets = Targets { s, corpus, tables };
        let text_t: Vec<Vec<f32>> = texts.iter().map(|&t| targets.text(t)).collect::<Result<_, _>>()?;
        let song_t: Vec<Vec<f32>> = songs.iter().map(|&c| targets.song(c)).collect::<Result<_, _>>()?;
        (
            regression_loss(&text_out, &table(&text_t).to_device(device)).map_err(werr)?,
            regression_loss(&song_out, &table(&song_t).to_device(device)).map_err(werr)?,
        )
    };
    let mut branches = BTreeMap::new();
    branches.insert("text".to_string(), text_loss.double_value(&[]));
    branches.insert("song".to_string(), song_loss.double_value(&[]));
    Ok(((text_loss + song_loss).to_kind(Kind::Float), branches))
}
