//! The paper's evaluation protocol: which texts are queries, which clips are candidates, what
//! counts as a hit in each view, and the two baselines every table shows.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use super::metrics::{rank_descending, MetricsError, RetrievalScores};
use crate::data::{Dataset, Split};
use crate::emotion::{Mapping, MoodTables, Quadrant};

/// Seeds the random baseline averages over.
pub const RANDOM_SEEDS: u64 = 20;

/// A text query: its label and the quadrant of the label's NRC-VAD valence/arousal.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Row of the text in its dataset.
    pub item: usize,
    pub id: String,
    pub text: String,
    pub label: String,
    pub quadrant: Option<Quadrant>,
}

/// A candidate clip with its AudioSet moods and Russell quadrant.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    pub path: PathBuf,
    pub moods: Vec<String>,
    pub quadrant: Option<Quadrant>,
}

/// A text with a valence–arousal rating (EmoBank), for the correlation view.
#[derive(Debug, Clone, PartialEq)]
pub struct Rated {
    /// Row of the text in its dataset.
    pub item: usize,
    pub text: String,
    /// (valence, arousal) on 0–1.
    pub va: [f32; 2],
}

/// How hits are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// Only clips with at least one AudioSet mood; hit when a mood is in the query's mapping set.
    Tags,
    /// Every clip with a quadrant; hit when it equals the query emotion's quadrant.
    Quadrants,
    /// Rated texts: Pearson correlation of the valence and arousal the model reads with the ratings.
    Va,
}

impl View {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tags => "tags",
            Self::Quadrants => "quadrants",
            Self::Va => "va",
        }
    }
}

/// Queries and candidates of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalSet {
    /// Every text of the text dataset, in order (frozen-encoder features are cached per corpus).
    pub corpus: Vec<String>,
    pub queries: Vec<Query>,
    pub clips: Vec<Candidate>,
    /// Texts with a valence–arousal rating (labelled or not).
    pub rated: Vec<Rated>,
}

/// The queries and candidates a view and mapping evaluate, as indices into the set.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub view: View,
    pub queries: Vec<usize>,
    pub clips: Vec<usize>,
    /// `hits[q][c]` for the selected queries and clips.
    pub hits: Vec<Vec<bool>>,
}

/// The NRC-VAD quadrant all of a text's labels share (`neutral` has none).
fn agreed_quadrant(labels: &[String], tables: &MoodTables) -> Option<Quadrant> {
    let mut found =
        labels.iter().filter(|l| *l != "neutral").map(|l| tables.vad(l).map(|v| Quadrant::of_va(v[0], v[1])));
    let first = found.next()??;
    found.all(|q| q == Some(first)).then_some(first)
}

impl EvalSet {
    /// Labelled texts and clips of the test split of each dataset (every item with `all`).
    /// Texts keep their first label; their quadrant is the NRC-VAD quadrant their labels agree
    /// on (none when they disagree, or for `neutral`); clips need moods or a quadrant. Rated
    /// texts (EmoBank) are kept apart for the correlation view.
    pub fn new(text: &Dataset, music: &Dataset, all: bool) -> Result<Self, crate::emotion::EmotionError> {
        let tables = MoodTables::shipped()?;
        let wanted = |split: Option<Split>| all || split == Some(Split::Test);
        let queries = text
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| wanted(i.split))
            .filter_map(|(item, i)| {
                let label = i.labels.first()?.clone();
                let quadrant = agreed_quadrant(&i.labels, tables);
                let text = i.content.text()?.to_string();
                Some(Query { item, id: i.id.clone(), text, label, quadrant })
            })
            .collect();
        let clips = music
            .items
            .iter()
            .filter(|i| wanted(i.split))
            .filter_map(|i| {
                let moods = i.labels.clone();
                (!moods.is_empty() || i.quadrant.is_some()).then_some(Candidate {
                    id: i.id.clone(),
                    path: i.content.audio_path()?.to_path_buf(),
                    moods,
                    quadrant: i.quadrant,
                })
            })
            .collect();
        let rated = text
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| wanted(i.split))
            .filter_map(|(item, i)| {
                let va = i.va?;
                Some(Rated { item, text: i.content.text()?.to_string(), va: [va[0], va[1]] })
            })
            .collect();
        let corpus = text.items.iter().map(|i| i.content.text().unwrap_or("").to_string()).collect();
        Ok(Self { corpus, queries, clips, rated })
    }

    /// Queries the mapping covers × clips with moods (tags), or queries and clips that both have
    /// a quadrant (quadrants).
    pub fn select(&self, view: View, mapping: &Mapping) -> Selection {
        let (queries, clips): (Vec<usize>, Vec<usize>) = match view {
            View::Tags => (
                (0..self.queries.len())
                    .filter(|&q| mapping.moods(&self.queries[q].label).is_some())
                    .collect(),
                (0..self.clips.len()).filter(|&c| !self.clips[c].moods.is_empty()).collect(),
            ),
            View::Quadrants => (
                (0..self.queries.len()).filter(|&q| self.queries[q].quadrant.is_some()).collect(),
                (0..self.clips.len()).filter(|&c| self.clips[c].quadrant.is_some()).collect(),
            ),
            View::Va => (Vec::new(), Vec::new()),
        };
        let hit = |q: &Query, c: &Candidate| match view {
            View::Tags => c.moods.iter().any(|m| mapping.hits(&q.label, m)),
            View::Quadrants => q.quadrant.is_some() && q.quadrant == c.quadrant,
            View::Va => false,
        };
        let hits = queries
            .iter()
            .map(|&q| clips.iter().map(|&c| hit(&self.queries[q], &self.clips[c])).collect())
            .collect();
        Selection { view, queries, clips, hits }
    }
}

impl Selection {
    /// Scores a `[queries][clips]` similarity matrix of the selection.
    pub fn score(&self, similarity: &[Vec<f64>]) -> Result<RetrievalScores, MetricsError> {
        RetrievalScores::from_similarity(similarity, |q, c| self.hits[q][c])
    }

    /// Label-prior ranking: every query gets the same order, clips sorted by the share of the
    /// evaluated queries for which they are a hit (stable for ties).
    pub fn label_prior(&self) -> Result<RetrievalScores, MetricsError> {
        let n = self.hits.len().max(1) as f64;
        let prior: Vec<f64> =
            (0..self.clips.len()).map(|c| self.hits.iter().filter(|row| row[c]).count() as f64 / n).collect();
        let order = rank_descending(&prior);
        let ranked: Vec<Vec<bool>> =
            self.hits.iter().map(|row| order.iter().map(|&c| row[c]).collect()).collect();
        RetrievalScores::from_ranked_hits(&ranked)
    }

    /// Random ranking: P@k and MRR averaged over [`RANDOM_SEEDS`] seeds (each query its own
    /// shuffle).
    pub fn random(&self) -> Result<RetrievalScores, MetricsError> {
        let mut runs = Vec::new();
        for seed in 0..RANDOM_SEEDS {
            let mut rng = StdRng::seed_from_u64(seed);
            let ranked: Vec<Vec<bool>> = self
                .hits
                .iter()
                .map(|row| {
                    let mut order: Vec<usize> = (0..row.len()).collect();
                    order.shuffle(&mut rng);
                    order.into_iter().map(|c| row[c]).collect()
                })
                .collect();
            runs.push(RetrievalScores::from_ranked_hits(&ranked)?);
        }
        let n = runs.len() as f64;
        let mean = |f: fn(&RetrievalScores) -> f64| runs.iter().map(f).sum::<f64>() / n;
        let mut scores = runs[0].clone();
        scores.p_at_1 = mean(|r| r.p_at_1);
        scores.p_at_5 = mean(|r| r.p_at_5);
        scores.p_at_10 = mean(|r| r.p_at_10);
        scores.mrr = mean(|r| r.mrr);
        // A query's expected P@5 is the mean over seeds; its first hit of one seed says nothing.
        for (q, p) in scores.p_at_5_per_query.iter_mut().enumerate() {
            *p = runs.iter().map(|r| r.p_at_5_per_query[q]).sum::<f64>() / n;
        }
        scores.first_hit_rank_per_query.clear();
        Ok(scores)
    }

    /// Mean P@5 of the selected queries of each quadrant (`Q1`..`Q4`; quadrants without a query
    /// are left out): in the quadrant view, the share of each quadrant's top-5 places that its
    /// own clips take. `per_query` is [`RetrievalScores::p_at_5_per_query`] of this selection.
    pub fn p_at_5_by_quadrant(&self, set: &EvalSet, per_query: &[f64]) -> BTreeMap<String, f64> {
        self.mean_by(per_query, |q| set.queries[q].quadrant.map(|x| x.as_str().to_string()))
    }

    /// Mean P@5 of the selected queries of each text label (a multi-label text counts under its
    /// first label).
    pub fn p_at_5_by_label(&self, set: &EvalSet, per_query: &[f64]) -> BTreeMap<String, f64> {
        self.mean_by(per_query, |q| Some(set.queries[q].label.clone()))
    }

    fn mean_by(&self, per_query: &[f64], key: impl Fn(usize) -> Option<String>) -> BTreeMap<String, f64> {
        let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
        for (&q, &p) in self.queries.iter().zip(per_query) {
            if let Some(k) = key(q) {
                let e = sums.entry(k).or_default();
                e.0 += p;
                e.1 += 1;
            }
        }
        sums.into_iter().map(|(k, (sum, n))| (k, sum / n as f64)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(label: &str, q: Quadrant) -> Query {
        Query { item: 0, id: label.into(), text: label.into(), label: label.into(), quadrant: Some(q) }
    }

    fn clip(id: &str, moods: &[&str], q: Quadrant) -> Candidate {
        Candidate {
            id: id.into(),
            path: id.into(),
            moods: moods.iter().map(|m| m.to_string()).collect(),
            quadrant: Some(q),
        }
    }

    fn set() -> EvalSet {
        EvalSet {
            corpus: Vec::new(),
            queries: vec![query("sadness", Quadrant::Q3), query("anger", Quadrant::Q2)],
            clips: vec![
                clip("a", &["happy"], Quadrant::Q1),
                clip("b", &[], Quadrant::Q3),
                clip("c", &["sad"], Quadrant::Q3),
                clip("d", &["angry", "sad"], Quadrant::Q2),
            ],
            rated: Vec::new(),
        }
    }

    #[test]
    fn multi_label_queries_keep_a_quadrant_only_when_their_labels_agree() {
        let tables = MoodTables::shipped().unwrap();
        let labels = |ls: &[&str]| ls.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        assert_eq!(agreed_quadrant(&labels(&["sadness"]), tables), Some(Quadrant::Q3));
        assert_eq!(agreed_quadrant(&labels(&["joy", "excitement"]), tables), Some(Quadrant::Q1));
        assert_eq!(agreed_quadrant(&labels(&["joy", "sadness"]), tables), None);
        assert_eq!(agreed_quadrant(&labels(&["neutral"]), tables), None);
        assert_eq!(agreed_quadrant(&labels(&["anger", "neutral"]), tables), Some(Quadrant::Q2));
    }

    #[test]
    fn tag_view_drops_clips_without_moods() {
        let sel = set().select(View::Tags, Mapping::get("manual").unwrap());
        assert_eq!(sel.clips, vec![0, 2, 3]);
        assert_eq!(sel.hits, vec![vec![false, true, true], vec![false, false, true]]);
        let prior = sel.label_prior().unwrap();
        // d (both queries) ranks first, then c, then a.
        assert_eq!(prior.first_hit_rank_per_query, vec![Some(1), Some(1)]);
        assert_eq!(prior.p_at_1, 1.0);
    }

    #[test]
    fn quadrant_view_matches_the_query_quadrant() {
        let sel = set().select(View::Quadrants, Mapping::get("manual").unwrap());
        assert_eq!(sel.clips.len(), 4);
        assert_eq!(sel.hits[0], vec![false, true, true, false]);
        assert_eq!(sel.hits[1], vec![false, false, false, true]);
        let random = sel.random().unwrap();
        assert!(random.mrr > 0.25 && random.mrr < 1.0, "{}", random.mrr);
    }

    #[test]
    fn p_at_5_breaks_down_by_query_quadrant_and_label() {
        let mut set = set();
        set.queries.push(query("grief", Quadrant::Q3));
        let sel = set.select(View::Quadrants, Mapping::get("manual").unwrap());
        let per_query = [0.4, 0.2, 0.6];
        let by_q = sel.p_at_5_by_quadrant(&set, &per_query);
        assert_eq!(by_q.keys().collect::<Vec<_>>(), ["Q2", "Q3"], "no Q1 or Q4 query, no entry");
        assert!((by_q["Q3"] - 0.5).abs() < 1e-12 && (by_q["Q2"] - 0.2).abs() < 1e-12, "{by_q:?}");
        let by_label = sel.p_at_5_by_label(&set, &per_query);
        assert_eq!(by_label["grief"], 0.6);
        // The random baseline's per-query P@5 is its mean over the seeds: each of four clips
        // ranks in the top 5, so every query's P@5 is its hits over 5.
        let random = sel.random().unwrap();
        let expected = [0.4, 0.2, 0.4];
        assert!(random.p_at_5_per_query.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-9));
    }
}
