//! Story → soundtrack: one clip per passage, following the story's emotional arc.
//!
//! The story is split into paragraphs (long ones into windows of sentences); each passage is
//! embedded and gets its best-fitting clips as candidates. A beam search then picks one clip per
//! passage maximising `Σ fit − JUMP_WEIGHT · Σ max(0, clip jump − passage jump)`: consecutive clips
//! may differ as much as their passages differ, and no clip is used twice.

use std::path::PathBuf;

use serde::Serialize;
use tch::{Device, Kind};

use super::search::{best_chunk_of, SearchError, Searcher, MOODS_SHOWN};
use super::topk::Metric;
use crate::model::{QuadrantShare, Space};
use crate::text::{Passage, StoryText};

/// Sentences per passage when a paragraph is longer than that.
pub const WINDOW_SENTENCES: usize = 4;
/// Passages at most; a longer story is read in this many contiguous sections.
pub const MAX_PASSAGES: usize = 200;
/// Candidate clips per passage.
const CANDIDATES: usize = 16;
/// Paths kept by the beam search.
const BEAM: usize = 32;
/// Weight of an emotional jump between consecutive clips that the passages do not make.
const JUMP_WEIGHT: f32 = 0.5;

/// One passage and its clip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoundtrackPassage {
    /// Offset of the passage in the story, in characters.
    pub start: usize,
    pub text: String,
    /// The passage's closest moods, best first.
    pub moods: Vec<(String, f32)>,
    /// Moods space: the quadrant the passage leans to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quadrant: Option<QuadrantShare>,
    pub clip: PathBuf,
    pub title: String,
    /// Fit of the clip to the passage (cosine, or negative distance in the VA space).
    pub score: f32,
    pub duration_s: f64,
    /// Start (s) of the clip's chunk that fits the passage best (0 without chunk embeddings).
    pub preview_start_s: f64,
    /// What a pretrained tagger hears in the clip (musicnn models), best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sounds_like: Vec<(String, f32)>,
    /// The moods the clip has more of than the library's average clip (as in search).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stands_out: Vec<(String, f32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Soundtrack {
    pub passages: Vec<SoundtrackPassage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

impl Soundtrack {
    /// An extended M3U playlist, one entry per passage.
    pub fn m3u(&self) -> String {
        let mut out = String::from("#EXTM3U\n");
        for p in &self.passages {
            out.push_str(&format!(
                "#EXTINF:{},{}\n{}\n",
                p.duration_s.round() as i64,
                p.title,
                p.clip.display()
            ));
        }
        out
    }
}

/// Chooses a clip for each passage of `story`.
pub fn soundtrack(searcher: &Searcher, story: &StoryText) -> Result<Soundtrack, SearchError> {
    let mut notices: Vec<String> = searcher.language_notice(story)?.into_iter().collect();
    let mut passages = passages(story);
    if passages.len() > MAX_PASSAGES {
        notices.push(format!(
            "the story has {} passages; it was read as {MAX_PASSAGES} sections, each from its beginning",
            passages.len()
        ));
        passages = merge_into(passages, MAX_PASSAGES);
    }
    let index = searcher.index();
    if index.is_empty() || passages.is_empty() {
        return Ok(Soundtrack { passages: Vec::new(), notices });
    }
    let texts: Vec<&str> = passages.iter().map(|p| p.text.as_str()).collect();
    let emb = searcher.model().embed_texts(&texts)?.to_kind(Kind::Float).to_device(Device::Cpu);
    let dim = index.dim();
    let flat: Vec<f32> = Vec::try_from(emb.reshape([-1]))?;
    let vectors: Vec<Vec<f32>> = flat.chunks_exact(dim).map(|v| index.prepare(v)).collect();
    let candidates: Vec<Vec<(usize, f32)>> = vectors
        .iter()
        .map(|v| index.search(v, CANDIDATES).map(|hits| hits.iter().map(|h| (h.index, h.score)).collect()))
        .collect::<Result<_, _>>()?;
    if index.len() < passages.len() {
        notices.push(format!(
            "{} passages but only {} clips: some clips repeat",
            passages.len(),
            index.len()
        ));
    }
    let distance = |a: &[f32], b: &[f32]| distance(index.metric(), index.space(), a, b);
    let chosen = beam_search(&candidates, |i, prev, next| {
        let clip_jump = distance(index.embedding(prev).unwrap_or(&[]), index.embedding(next).unwrap_or(&[]));
        let text_jump = distance(&vectors[i - 1], &vectors[i]);
        JUMP_WEIGHT * (clip_jump - text_jump).max(0.0)
    });
    let source = story.as_str();
    let mut out = Vec::with_capacity(chosen.len());
    for ((p, v), (clip, score)) in passages.iter().zip(&vectors).zip(chosen) {
        let record = index.record(clip)?;
        out.push(SoundtrackPassage {
            start: source.get(..p.start).map_or(0, |s| s.chars().count()),
            text: p.text.clone(),
            moods: searcher.anchors().closest(v, MOODS_SHOWN),
            quadrant: searcher.model().leading_quadrant(v),
            clip: record.path.clone(),
            title: record.title(),
            score,
            duration_s: record.duration_s,
            preview_start_s: best_chunk_of(index, clip, &record, v)?.map_or(0.0, |c| c.start_s),
            sounds_like: record.sounds_like.clone(),
            stands_out: index.embedding(clip).map_or_else(Vec::new, |e| searcher.stands_out(e)),
        });
    }
    super::records::distinct_titles(out.iter_mut().map(|p| (&mut p.title, p.clip.as_path())));
    Ok(Soundtrack { passages: out, notices })
}

/// Paragraphs, with paragraphs of more than [`WINDOW_SENTENCES`] sentences cut into windows.
pub fn passages(story: &StoryText) -> Vec<Passage> {
    let sentences = story.sentences();
    let mut out = Vec::new();
    // Both lists are in story order: walk the sentences once.
    let mut next = 0;
    for para in story.paragraphs() {
        while next < sentences.len() && sentences[next].start < para.start {
            next += 1;
        }
        let first = next;
        while next < sentences.len() && sentences[next].start < para.end {
            next += 1;
        }
        let inside: Vec<&Passage> = sentences[first..next].iter().collect();
        if inside.len() <= WINDOW_SENTENCES {
            out.push(para);
            continue;
        }
        for window in inside.chunks(WINDOW_SENTENCES) {
            let (first, last) = (window[0], window[window.len() - 1]);
            let text = window.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
            out.push(Passage { start: first.start, end: last.end, text });
        }
    }
    out
}

/// `n` contiguous sections covering all passages; a section's text is its passages' texts joined.
fn merge_into(passages: Vec<Passage>, n: usize) -> Vec<Passage> {
    let total = passages.len();
    (0..n)
        .filter_map(|g| {
            let group = &passages[g * total / n..(g + 1) * total / n];
            let (first, last) = (group.first()?, group.last()?);
            let text = group.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" ");
            Some(Passage { start: first.start, end: last.end, text })
        })
        .collect()
}

/// How far apart two points of the space are (0 for identical).
fn distance(metric: Metric, space: Space, a: &[f32], b: &[f32]) -> f32 {
    match (metric, space.is_probability()) {
        (Metric::InnerProduct, true) | (Metric::NegSquaredEuclidean, _) => {
            a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt()
        }
        (Metric::InnerProduct, _) => 1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>(),
    }
}

/// One candidate per passage maximising total fit minus `penalty(i, previous clip, clip)`, no clip
/// twice (unless a passage has no unused candidate left). Returns (clip, fit) per passage.
fn beam_search(
    candidates: &[Vec<(usize, f32)>],
    penalty: impl Fn(usize, usize, usize) -> f32,
) -> Vec<(usize, f32)> {
    let mut beams: Vec<(f32, Vec<(usize, f32)>)> = vec![(0.0, Vec::new())];
    for (i, cands) in candidates.iter().enumerate() {
        let mut next = Vec::new();
        for (total, path) in &beams {
            let unused: Vec<&(usize, f32)> =
                cands.iter().filter(|(c, _)| !path.iter().any(|(p, _)| p == c)).collect();
            let options = if unused.is_empty() { cands.iter().collect() } else { unused };
            for &&(clip, fit) in &options {
                let cost = path.last().map_or(0.0, |&(prev, _)| penalty(i, prev, clip));
                let mut extended = path.clone();
                extended.push((clip, fit));
                next.push((total + fit - cost, extended));
            }
        }
        next.sort_by(|a, b| b.0.total_cmp(&a.0));
        next.truncate(BEAM);
        if next.is_empty() {
            break;
        }
        beams = next;
    }
    beams.into_iter().next().map(|(_, path)| path).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beam_search_avoids_repeats_and_follows_penalty() {
        // Clip 0 fits every passage best; without the no-repeat rule it would be chosen thrice.
        let cands = vec![vec![(0, 0.9), (1, 0.8), (2, 0.1)]; 3];
        let picked: Vec<usize> = beam_search(&cands, |_, _, _| 0.0).iter().map(|c| c.0).collect();
        let mut sorted = picked.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2]);
        // A large jump penalty between 0 and 1 makes the search separate them with clip 2.
        let jumpy = |_, a: usize, b: usize| if a + b == 1 { 5.0 } else { 0.0 };
        let picked: Vec<usize> = beam_search(&cands, jumpy).iter().map(|c| c.0).collect();
        assert_eq!(picked[1], 2, "{picked:?}");
    }

    #[test]
    fn too_few_clips_repeat_instead_of_failing() {
        let cands = vec![vec![(0, 0.5)]; 3];
        assert_eq!(beam_search(&cands, |_, _, _| 0.0), vec![(0, 0.5); 3]);
        assert!(beam_search(&[], |_, _, _| 0.0).is_empty());
    }

    #[test]
    fn long_paragraphs_become_sentence_windows_with_offsets() {
        let text = "One. Two. Three. Four. Five. Six.\n\nShort one.";
        let story = StoryText::new(text, "test").unwrap();
        let p = passages(&story);
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(p[0].text, "One. Two. Three. Four.");
        assert_eq!(&text[p[1].start..p[1].end], "Five. Six.");
        assert_eq!(p[2].text, "Short one.");
        let merged = merge_into(p, 2);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].start, 0);
    }
}
