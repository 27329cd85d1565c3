//! The training view of a text and a music dataset: labels as indices, song mood sets, and the
//! triplet batch plan of each step (deterministic per step, so resume redraws nothing).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::data::{Dataset, Split};
use crate::emotion::{Quadrant, TrainMapper};
use crate::model::{ModelConfig, Space};

/// A labelled text of the corpus: its row in the dataset and its mapped song mood.
#[derive(Debug, Clone)]
pub struct CorpusText {
    pub item: usize,
    /// The text's label (index into the text vocabulary).
    pub label: usize,
    /// The training mapper's song mood for the label (index into the moods).
    pub mood: usize,
}

/// A clip of the corpus with its mood set.
#[derive(Debug, Clone)]
pub struct CorpusSong {
    pub item: usize,
    /// Moods (indices) from tags; for a 4Q clip without tag moods, the moods of its quadrant.
    pub moods: Vec<usize>,
}

/// Texts and songs of one split, ready for sampling.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub texts: Vec<CorpusText>,
    pub songs: Vec<CorpusSong>,
    /// Songs per mood, for drawing positives.
    pub songs_by_mood: Vec<Vec<usize>>,
    pub n_moods: usize,
    /// Texts and songs drawn independently (moods space: each side learns its own targets, so a
    /// step's clips follow the clips, not the texts' label mix).
    pub independent: bool,
    /// Cumulative drawing weights of the texts (independent draws; uniform when empty).
    pub text_cumulative: Vec<f64>,
}

impl Corpus {
    /// Collects `split` of both datasets. Texts whose label the mapper does not know and clips
    /// with neither mood nor quadrant are left out.
    pub fn new(
        text: &Dataset,
        music: &Dataset,
        split: Split,
        model: &ModelConfig,
        mapper: &TrainMapper,
        use_quadrants: bool,
    ) -> Self {
        let mood_index = |m: &str| model.moods.iter().position(|x| x == m);
        if model.space == Space::Moods {
            return Self::story(text, music, split, model);
        }
        let texts = text
            .items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.split == Some(split))
            .filter_map(|(item, it)| {
                let label = it.labels.first()?;
                let mood = mood_index(mapper.positive(label)?)?;
                Some(CorpusText { item, label: model.text_labels.iter().position(|l| l == label)?, mood })
            })
            .collect();
        let quadrant_moods = |q: Quadrant| -> Vec<usize> {
            (0..model.moods.len())
                .filter(|&m| {
                    model.mood_va.get(&model.moods[m]).is_some_and(|va| Quadrant::of_va(va[0], va[1]) == q)
                })
                .collect()
        };
        let songs: Vec<CorpusSong> = music
            .items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.split == Some(split))
            .filter_map(|(item, it)| {
                let mut moods: Vec<usize> = it.labels.iter().filter_map(|l| mood_index(l)).collect();
                if moods.is_empty() && use_quadrants {
                    moods = it.quadrant.map(quadrant_moods).unwrap_or_default();
                }
                (!moods.is_empty()).then_some(CorpusSong { item, moods })
            })
            .collect();
        Self::assemble(texts, songs, model.moods.len(), false)
    }

    /// The corpus of these texts and songs, with the songs of each of `n_moods` moods indexed.
    fn assemble(texts: Vec<CorpusText>, songs: Vec<CorpusSong>, n_moods: usize, independent: bool) -> Self {
        let mut songs_by_mood = vec![Vec::new(); n_moods];
        for (s, song) in songs.iter().enumerate() {
            for &m in &song.moods {
                songs_by_mood[m].push(s);
            }
        }
        Self { texts, songs, songs_by_mood, n_moods, independent, text_cumulative: Vec::new() }
    }

    /// The moods space: every text with a label the model maps (neutral included) or a
    /// valence–arousal rating; every clip, with the story moods of its tags or, failing those,
    /// the moods of its quadrant.
    fn story(text: &Dataset, music: &Dataset, split: Split, model: &ModelConfig) -> Self {
        let texts = text
            .items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.split == Some(split))
            .filter(|(_, it)| {
                it.va.is_some() || it.labels.iter().any(|l| model.label_mapping.contains_key(l))
            })
            .map(|(item, it)| {
                let label = it.labels.first().and_then(|l| model.text_labels.iter().position(|x| x == l));
                CorpusText { item, label: label.unwrap_or(0), mood: 0 }
            })
            .collect();
        let mood_index = |m: &String| model.moods.iter().position(|x| x == m);
        let story = crate::emotion::StoryMoods::shipped().ok();
        let songs: Vec<CorpusSong> = music
            .items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.split == Some(split))
            .filter_map(|(item, it)| {
                let tagged =
                    story.map(|t| t.moods_of_tags(it.tags.iter().map(String::as_str))).unwrap_or_default();
                let mut moods: Vec<usize> = tagged.iter().chain(&it.labels).filter_map(mood_index).collect();
                moods.sort_unstable();
                moods.dedup();
                if moods.is_empty() {
                    moods = (0..model.moods.len())
                        .filter(|&m| {
                            it.quadrant.is_some()
                                && model.mood_quadrants.get(&model.moods[m]) == it.quadrant.as_ref()
                        })
                        .collect();
                }
                (!moods.is_empty()).then_some(CorpusSong { item, moods })
            })
            .collect();
        Self::assemble(texts, songs, model.moods.len(), true)
    }

    /// Draw texts label-balanced: each first label of `text` (the unlabelled texts as one group)
    /// gets the same total weight.
    pub fn balance_labels(&mut self, text: &Dataset) {
        self.weigh_groups(|t| text.items[t.item].labels.first().cloned().unwrap_or_default(), |n| 1.0 / n);
    }

    /// Draw each part of a joined text dataset (ISEAR, GoEmotions, EmoBank) with total weight
    /// proportional to its size to the power `power`: 1 is every text alike (the big datasets
    /// dominate), 0 every dataset alike, between a compromise.
    pub fn weigh_datasets(&mut self, text: &Dataset, power: f64) {
        self.weigh_groups(|t| text.part_of(t.item), |n| n.powf(power - 1.0));
    }

    /// Draw weights by group: each text of a group of `n` texts weighs `weight(n)`.
    fn weigh_groups<K: Eq + std::hash::Hash>(
        &mut self,
        group: impl Fn(&CorpusText) -> K,
        weight: impl Fn(f64) -> f64,
    ) {
        let mut counts = std::collections::HashMap::new();
        for t in &self.texts {
            *counts.entry(group(t)).or_insert(0usize) += 1;
        }
        let mut total = 0.0;
        self.text_cumulative = self
            .texts
            .iter()
            .map(|t| {
                total += weight(counts[&group(t)] as f64);
                total
            })
            .collect();
    }

    /// Gives the texts whose dataset item `picked` selects `share` of the draws together
    /// (on top of any balancing), the rest keeping their relative weights.
    pub fn boost(&mut self, picked: impl Fn(usize) -> bool, share: f64) {
        let mut weights: Vec<f64> = if self.text_cumulative.is_empty() {
            vec![1.0; self.texts.len()]
        } else {
            let mut previous = 0.0;
            self.text_cumulative.iter().map(|&c| c - std::mem::replace(&mut previous, c)).collect()
        };
        let is_picked: Vec<bool> = self.texts.iter().map(|t| picked(t.item)).collect();
        let inside: f64 = weights.iter().zip(&is_picked).filter(|(_, &p)| p).map(|(w, _)| w).sum();
        let outside: f64 = weights.iter().sum::<f64>() - inside;
        if inside == 0.0 || outside == 0.0 {
            return;
        }
        let scale = share / (1.0 - share) * outside / inside;
        for (w, &p) in weights.iter_mut().zip(&is_picked) {
            if p {
                *w *= scale;
            }
        }
        let mut total = 0.0;
        self.text_cumulative = weights
            .iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
    }

    /// A text index drawn by the corpus's weights.
    fn draw_text(&self, rng: &mut StdRng) -> usize {
        match self.text_cumulative.last() {
            Some(&total) if total > 0.0 => {
                let x = rng.random_range(0.0..total);
                self.text_cumulative.partition_point(|&c| c <= x).min(self.texts.len() - 1)
            }
            _ => rng.random_range(0..self.texts.len()),
        }
    }

    /// Steps per epoch: one pass over the texts in groups of `half` anchors.
    pub fn steps_per_epoch(&self, half: usize) -> u64 {
        self.texts.len().div_ceil(half.max(1)).max(1) as u64
    }
}

/// One step's draw: indices into the corpus (not the datasets).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchPlan {
    pub step: u64,
    /// tag→text: texts (their mapped mood is the tag anchor).
    pub tag_text: Vec<usize>,
    /// tag→song: songs and the mood used as each one's tag anchor.
    pub tag_song: Vec<(usize, usize)>,
    /// text→song: texts and a positive song sharing the mapped mood.
    pub text_song: Vec<(usize, usize)>,
}

impl BatchPlan {
    /// Draws the plan of `step` from `seed`; `half` pairs per group. Texts whose mood has no
    /// song are redrawn (the corpus must hold at least one pairable text).
    pub fn draw(corpus: &Corpus, seed: u64, step: u64, half: usize, three_branch: bool) -> Option<Self> {
        if corpus.independent {
            if corpus.texts.is_empty() || corpus.songs.is_empty() {
                return None;
            }
            let mut rng = StdRng::seed_from_u64(seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let ns = corpus.songs.len();
            let text_song =
                (0..half).map(|_| (corpus.draw_text(&mut rng), rng.random_range(0..ns))).collect();
            return Some(Self { step, tag_text: Vec::new(), tag_song: Vec::new(), text_song });
        }
        let pairable: Vec<usize> = (0..corpus.texts.len())
            .filter(|&t| !corpus.songs_by_mood[corpus.texts[t].mood].is_empty())
            .collect();
        if pairable.is_empty() || corpus.songs.is_empty() {
            return None;
        }
        let mut rng = StdRng::seed_from_u64(seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let pick_text = |rng: &mut StdRng| pairable[rng.random_range(0..pairable.len())];
        let text_song = (0..half)
            .map(|_| {
                let t = pick_text(&mut rng);
                let pool = &corpus.songs_by_mood[corpus.texts[t].mood];
                (t, pool[rng.random_range(0..pool.len())])
            })
            .collect();
        let (tag_text, tag_song) = if three_branch {
            let tag_text = (0..half).map(|_| pick_text(&mut rng)).collect();
            let tag_song = (0..half)
                .map(|_| {
                    let s = rng.random_range(0..corpus.songs.len());
                    let moods = &corpus.songs[s].moods;
                    (s, moods[rng.random_range(0..moods.len())])
                })
                .collect();
            (tag_text, tag_song)
        } else {
            (Vec::new(), Vec::new())
        };
        Some(Self { step, tag_text, tag_song, text_song })
    }

    /// Songs whose chunks the step needs, in the order the trainer stacks them.
    pub fn songs(&self) -> Vec<usize> {
        self.tag_song.iter().map(|p| p.0).chain(self.text_song.iter().map(|p| p.1)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DatasetKind, Item, ItemContent};

    #[test]
    fn balanced_draws_give_each_label_the_same_share() {
        let mut text = Dataset::new(DatasetKind::GoEmotions, "x", vec!["a".into(), "b".into()]);
        for i in 0..100 {
            let mut item = Item::new(i.to_string(), ItemContent::Text(String::new()));
            item.labels = vec![if i < 90 { "a" } else { "b" }.to_string()];
            text.items.push(item);
        }
        let texts = (0..100).map(|item| CorpusText { item, label: 0, mood: 0 }).collect();
        let songs = vec![CorpusSong { item: 0, moods: vec![0] }];
        let mut corpus = Corpus {
            texts,
            songs,
            songs_by_mood: vec![vec![0]],
            n_moods: 1,
            independent: true,
            text_cumulative: Vec::new(),
        };
        corpus.balance_labels(&text);
        let mut rng = StdRng::seed_from_u64(7);
        let b = (0..4000).filter(|_| corpus.draw_text(&mut rng) >= 90).count();
        assert!((1800..2200).contains(&b), "{b} of 4000 draws from the 10 texts of label b");
        corpus.boost(|item| item == 0, 0.25);
        let first = (0..4000).filter(|_| corpus.draw_text(&mut rng) == 0).count();
        assert!((900..1100).contains(&first), "{first} of 4000 draws of the boosted text");
    }

    #[test]
    fn dataset_power_sets_each_joined_part_s_share() {
        // Two parts: 90 texts, then 10 (as `isear:A+emobank:B` would be joined).
        let mut text = Dataset::new(DatasetKind::Isear, "x", vec!["a".into()]);
        text.items = (0..100).map(|i| Item::new(i.to_string(), ItemContent::Text(String::new()))).collect();
        text.parts = vec![0, 90];
        assert_eq!((text.part_of(0), text.part_of(89), text.part_of(90), text.part_of(99)), (1, 1, 2, 2));
        let corpus = || Corpus {
            texts: (0..100).map(|item| CorpusText { item, label: 0, mood: 0 }).collect(),
            songs: vec![CorpusSong { item: 0, moods: vec![0] }],
            songs_by_mood: vec![vec![0]],
            n_moods: 1,
            independent: true,
            text_cumulative: Vec::new(),
        };
        // The small part's share: 10 / 100 by size, 1/2 when every part is alike, and
        // √10 / (√90 + √10) = 1/4 at power 0.5.
        for (power, share) in [(1.0, 0.1), (0.0, 0.5), (0.5, 0.25)] {
            let mut c = corpus();
            c.weigh_datasets(&text, power);
            let mut rng = StdRng::seed_from_u64(11);
            let small = (0..8000).filter(|_| c.draw_text(&mut rng) >= 90).count() as f64 / 8000.0;
            assert!(
                (small - share).abs() < 0.02,
                "power {power}: the small part has {small:.3} of the draws"
            );
        }
    }
}
