//! Loss of the moods space: each side learns a distribution over the story moods.
//!
//! Text: cross-entropy against its labels' moods (spread evenly; `neutral` is a class of its
//! own, whose probability the embedding spreads evenly over the moods), plus the squared error of the valence–arousal its probabilities imply (the
//! moods' NRC-VAD points, weighted) against the text's own rating (EmoBank; stretched to the
//! labels' spread by default, see [`super::config::Ratings`]) or its labels'
//! NRC-VAD points (not `neutral`'s: it sits at low arousal and would drag every reading down).
//! Both sides also learn the quadrant their probabilities sum to: a text the NRC-VAD quadrant
//! its labels agree on (the quadrant view's ground truth), a clip its 4Q quadrant. Clip: besides,
//! cross-entropy against its tags' moods (or its quadrant's).

use std::collections::BTreeMap;

use tch::{Kind, Tensor};

use super::config::{TextQuadrants, SOFT_QUADRANT_SCALE};
use super::feed::PreparedBatch;
use super::setup::Session;
use super::RunError;
use crate::emotion::{MoodTables, Quadrant};
use crate::model::losses::soft_cross_entropy;

/// Weight of the valence–arousal error beside the cross-entropies (errors on 0–1 are small).
const VA_WEIGHT: f64 = 5.0;

fn tensor(values: &[f32], rows: usize) -> Tensor {
    Tensor::from_slice(values).view([rows as i64, (values.len() / rows.max(1)) as i64])
}

/// Text targets: (distribution over the moods and neutral, has one), (valence–arousal, has
/// one), and the quadrant it should read as (over `Quadrant::ALL`; none for neutral or
/// disagreement): see [`TextQuadrants`].
fn text_targets(
    s: &Session,
    item: usize,
    tables: &MoodTables,
) -> (Vec<f32>, bool, [f32; 2], bool, Option<[f32; 4]>) {
    let cfg = s.model.config();
    let it = &s.data.text.items[item];
    let m = cfg.moods.len();
    let mut dist = vec![0f32; m + 1];
    let mut mapped = false;
    for label in &it.labels {
        if let Some(set) = cfg.label_mapping.get(label) {
            mapped = true;
            for mood in set {
                if let Some(j) = cfg.moods.iter().position(|x| x == mood) {
                    dist[j] += 1.0;
                }
            }
        }
    }
    let total: f32 = dist.iter().sum();
    if mapped && total == 0.0 {
        dist[m] = 1.0;
    } else if total > 0.0 {
        dist.iter_mut().for_each(|d| *d /= total);
    }
    let label_va = tables.labels_va(&it.labels);
    let va = match it.va {
        Some(v) => Some(s.data.rating_stretch.map_or([v[0], v[1]], |r| r.apply([v[0], v[1]]))),
        None => label_va,
    };
    // A mood word (the mood lexicon) sits in its mood's quadrant; an emotion label in its NRC-VAD
    // one, or (`--text-quadrants moods`) in those of its moods.
    let by_moods = s.config.text_quadrants == TextQuadrants::Moods;
    let quadrants: Vec<Quadrant> = it
        .labels
        .iter()
        .filter(|l| *l != "neutral")
        .flat_map(|l| -> Vec<Quadrant> {
            if let Some(q) = cfg.mood_quadrants.get(l) {
                return vec![*q];
            }
            if by_moods {
                let moods = cfg.label_mapping.get(l).map(Vec::as_slice).unwrap_or_default();
                return moods.iter().filter_map(|m| cfg.mood_quadrants.get(m).copied()).collect();
            }
            tables.vad(l).map(|v| Quadrant::of_va(v[0], v[1])).into_iter().collect()
        })
        .collect();
    let one_hot = |q: usize| {
        let mut t = [0f32; 4];
        t[q] = 1.0;
        t
    };
    let agreed = quadrants.first().filter(|q| quadrants.iter().all(|x| x == *q)).map(|q| one_hot(q.index()));
    let lexicon = it.labels.iter().any(|l| cfg.mood_quadrants.contains_key(l));
    let quadrant = match (s.config.text_quadrants, label_va) {
        (TextQuadrants::Soft, Some([v, a])) if !lexicon => Some(soft_quadrants(v, a)),
        _ => agreed,
    };
    (dist, mapped, va.unwrap_or([0.5, 0.5]), va.is_some(), quadrant)
}

/// `--text-quadrants soft`: each axis a logistic of its distance from the 0.5 midline, the
/// quadrants their products, in `Quadrant::ALL` order (Q1 +v +a, Q2 −v +a, Q3 −v −a, Q4 +v −a).
fn soft_quadrants(valence: f32, arousal: f32) -> [f32; 4] {
    let side = |x: f32| 1.0 / (1.0 + (-(x - 0.5) / SOFT_QUADRANT_SCALE).exp());
    let (v, a) = (side(valence), side(arousal));
    [v * a, (1.0 - v) * a, (1.0 - v) * (1.0 - a), v * (1.0 - a)]
}

/// Cross-entropy of the quadrant sums of mood probabilities `p` [B, M] against one-hot rows
/// `targets` [B, 4] (all-zero rows have no target).
fn quadrant_loss(s: &Session, p: &Tensor, targets: &Tensor) -> Tensor {
    let p = p.matmul(s.model.mood_quadrant_matrix()).clamp_min(1e-6);
    let has = targets.sum(Kind::Float);
    -(targets * p.log()).sum(Kind::Float) / has.clamp_min(1.0)
}

/// Loss of one batch in the moods space → (text + song loss, per-part losses).
pub fn mood_loss(s: &Session, batch: &PreparedBatch) -> Result<(Tensor, BTreeMap<String, f64>), RunError> {
    let werr = RunError::Weights;
    let cfg = s.model.config();
    let device = s.model.device();
    let tables = MoodTables::shipped()?;
    let m = cfg.moods.len();
    let plan = &batch.plan;
    let n = plan.text_song.len();
    let items: Vec<usize> = plan.text_song.iter().map(|p| s.data.train.texts[p.0].item).collect();
    let (mut dist, mut has_dist, mut va, mut has_va) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut text_quadrants = vec![0f32; n * 4];
    for (r, &item) in items.iter().enumerate() {
        let (d, hd, v, hv, q) = text_targets(s, item, tables);
        if let Some(q) = q {
            text_quadrants[r * 4..r * 4 + 4].copy_from_slice(&q);
        }
        dist.extend(d);
        has_dist.push(f32::from(u8::from(hd)));
        va.extend(v);
        has_va.push(f32::from(u8::from(hv)));
    }
    let rows: Vec<i64> = items.iter().map(|&i| i as i64).collect();
    let features = s.data.texts.features(&s.model, &rows, true)?;
    let text_members = s.model.text_member_outputs(&features, true).map_err(werr)?;
    let song_members = s.song_member_outputs(batch)?;
    let to = |t: Tensor| t.to_device(device);
    let mood_va: Vec<f32> = cfg
        .moods
        .iter()
        .flat_map(|mood| cfg.mood_va.get(mood).map_or([0.5, 0.5], |v| [v[0], v[1]]))
        .collect();
    let mut song_dist = vec![0f32; n * m];
    let mut quadrants = vec![0f32; n * 4];
    for (r, &(_, song)) in plan.text_song.iter().enumerate() {
        let moods = &s.data.train.songs[song].moods;
        for &j in moods {
            song_dist[r * m + j] = 1.0 / moods.len() as f32;
        }
        if let Some(q) = s.data.music.items[s.data.train.songs[song].item].quadrant {
            quadrants[r * 4 + q.index()] = 1.0;
        }
    }
    let targets = Targets {
        dist: to(tensor(&dist, n)),
        has_dist: to(Tensor::from_slice(&has_dist)),
        va: to(tensor(&va, n)),
        has_va: to(Tensor::from_slice(&has_va)),
        text_quadrants: to(tensor(&text_quadrants, n)),
        mood_va: to(tensor(&mood_va, m)),
        song_dist: to(tensor(&song_dist, n)),
        song_quadrants: to(tensor(&quadrants, n)),
    };
    // Each head member learns on its own; a side's losses are the means over its members (a
    // two-tagger trunk has two song heads per text head).
    let text_parts = text_members.iter().map(|l| text_loss(s, &targets, l)).collect::<Result<Vec<_>, _>>()?;
    let song_parts = song_members.iter().map(|l| song_loss(s, &targets, l)).collect::<Result<Vec<_>, _>>()?;
    let [text_ce, text_va, text_quad] = [0, 1, 2].map(|j| mean(text_parts.iter().map(|p| &p[j])));
    let [song_ce, song_quad] = [0, 1].map(|j| mean(song_parts.iter().map(|p| &p[j])));
    let mut parts = BTreeMap::new();
    let named = [
        ("text", &text_ce),
        ("text_va", &text_va),
        ("text_quadrant", &text_quad),
        ("song", &song_ce),
        ("song_quadrant", &song_quad),
    ];
    for (name, t) in named {
        parts.insert(name.to_string(), t.double_value(&[]));
    }
    let total = text_ce + text_va * VA_WEIGHT + text_quad + song_ce + song_quad;
    Ok((total.to_kind(Kind::Float), parts))
}

/// The mean of some scalar losses (a lone one as it is).
fn mean<'a>(losses: impl Iterator<Item = &'a Tensor>) -> Tensor {
    let losses: Vec<&Tensor> = losses.collect();
    match losses.as_slice() {
        [one] => one.shallow_clone(),
        many => Tensor::stack(many, 0).mean(Kind::Float),
    }
}

/// One batch's targets, on the model's device (see [`text_targets`]).
struct Targets {
    dist: Tensor,
    has_dist: Tensor,
    va: Tensor,
    has_va: Tensor,
    text_quadrants: Tensor,
    /// The moods' valence–arousal points `[M, 2]`.
    mood_va: Tensor,
    song_dist: Tensor,
    song_quadrants: Tensor,
}

/// One text-head member's losses from its logits `[B, M + 1]`: cross-entropy, valence–arousal
/// error, quadrant.
fn text_loss(s: &Session, t: &Targets, logits: &Tensor) -> Result<[Tensor; 3], RunError> {
    let ce = soft_cross_entropy(logits, &t.dist, &t.has_dist).map_err(RunError::Weights)?;
    let (p, _) = s.model.text_mood_probabilities(logits);
    let implied = p.matmul(&t.mood_va);
    let va_err = (implied - &t.va).square().sum_dim_intlist([-1i64].as_slice(), false, Kind::Float);
    let va = (va_err * &t.has_va).sum(Kind::Float) / t.has_va.sum(Kind::Float).clamp_min(1.0);
    let quadrant = quadrant_loss(s, &p, &t.text_quadrants);
    Ok([ce, va, quadrant])
}

/// One song-head member's losses from its logits `[B, M]`: cross-entropy, quadrant.
fn song_loss(s: &Session, t: &Targets, logits: &Tensor) -> Result<[Tensor; 2], RunError> {
    let ones = Tensor::ones([logits.size()[0]], (Kind::Float, logits.device()));
    let ce = soft_cross_entropy(logits, &t.song_dist, &ones).map_err(RunError::Weights)?;
    let quadrant = quadrant_loss(s, &logits.softmax(-1, Kind::Float), &t.song_quadrants);
    Ok([ce, quadrant])
}

#[cfg(test)]
mod tests {
    #[test]
    fn soft_quadrants_split_labels_near_a_midline_and_keep_clear_ones() {
        let love = super::soft_quadrants(1.0, 0.519); // NRC-VAD love: just over the arousal midline
        let anger = super::soft_quadrants(0.167, 0.865);
        for q in [love, anger] {
            assert!((q.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{q:?}");
        }
        assert!(love[0] > 0.45 && love[3] > 0.4, "love splits between Q1 and Q4: {love:?}");
        assert!(anger[1] > 0.9, "anger stays Q2: {anger:?}");
    }
}
