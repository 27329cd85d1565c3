//! What an audio trunk knows about emotion, measured apart from any text: a linear probe
//! (multinomial logistic regression on the clip's trunk features, averaged over its windows)
//! predicting 4Q quadrant, valence sign and arousal sign, cross-validated over folds of the clips
//! with the majority class of the training folds as the baseline.

use std::path::Path;

use serde::Serialize;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use super::embed::clip_feature_rows;
use crate::cache::PcmCache;
use crate::data::{assign_fold, Dataset, Split};
use crate::emotion::Quadrant;
use crate::model::{EmotionModel, WindowMode};
use crate::train::RunError;

/// Full-batch Adam steps of a probe, its learning rate and its L2 penalty (fixed for every
/// trunk, so the comparison is of features, not of tuning).
const STEPS: i64 = 300;
const LR: f64 = 1e-2;
const L2: f64 = 1e-2;

/// What is predicted from a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    Quadrant,
    ValenceSign,
    ArousalSign,
}

impl Target {
    pub const ALL: [Self; 3] = [Self::Quadrant, Self::ValenceSign, Self::ArousalSign];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Quadrant => "quadrant",
            Self::ValenceSign => "valence sign",
            Self::ArousalSign => "arousal sign",
        }
    }

    fn classes(self) -> i64 {
        if self == Self::Quadrant {
            4
        } else {
            2
        }
    }

    /// Q1 = positive valence, high arousal; Q2 negative, high; Q3 negative, low; Q4 positive, low.
    fn class(self, q: Quadrant) -> i64 {
        let i = q.index() as i64;
        match self {
            Self::Quadrant => i,
            Self::ValenceSign => i64::from(matches!(q, Quadrant::Q1 | Quadrant::Q4)),
            Self::ArousalSign => i64::from(matches!(q, Quadrant::Q1 | Quadrant::Q2)),
        }
    }
}

/// Accuracy of the probe and of the majority baseline on each fold.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeRow {
    pub target: Target,
    pub probe: Vec<f64>,
    pub majority: Vec<f64>,
}

/// The clips of `music` with a quadrant, and their trunk features `[N, F]` (mean over `chunks`
/// windows; a frozen trunk's rows come from the feature cache).
pub fn clip_features(
    model: &EmotionModel,
    music: &Dataset,
    pcm: &PcmCache,
    chunks: usize,
) -> Result<(Vec<usize>, Tensor), RunError> {
    let items: Vec<usize> = music
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.quadrant.is_some() && i.content.audio_path().is_some())
        .map(|(n, _)| n)
        .collect();
    let paths: Vec<&Path> = items.iter().filter_map(|&n| music.items[n].content.audio_path()).collect();
    let werr = RunError::Weights;
    let front = model.front_end();
    let mean = |t: Tensor| t.mean_dim([0i64].as_slice(), false, Kind::Float).to_device(Device::Cpu);
    let rows: Vec<Tensor> = if model.musicnn().is_some() {
        clip_feature_rows(model, &front, pcm, &paths, chunks, WindowMode::Exact, &|_, _| {})?
            .iter()
            .map(|r| model.trunk_from_rows(r).map(mean).map_err(werr))
            .collect::<Result<_, _>>()?
    } else {
        paths
            .iter()
            .map(|p| {
                let samples = pcm.samples(p)?;
                model.trunk_windows(&front, &samples, chunks, WindowMode::Exact).map(mean).map_err(werr)
            })
            .collect::<Result<_, _>>()?
    };
    if rows.is_empty() {
        return Err(RunError::format(&music.source, "no clip has a quadrant to probe"));
    }
    Ok((items, Tensor::stack(&rows, 0)))
}

/// Cross-validates the probe over `folds` folds of the clips (`data::assign_fold`).
pub fn probe(music: &Dataset, items: &[usize], features: &Tensor, folds: usize, seed: i64) -> Vec<ProbeRow> {
    let quadrants: Vec<Quadrant> = items.iter().filter_map(|&n| music.items[n].quadrant).collect();
    let mut rows: Vec<ProbeRow> = Target::ALL
        .iter()
        .map(|&target| ProbeRow { target, probe: Vec::new(), majority: Vec::new() })
        .collect();
    for k in 1..=folds {
        let mut split = music.clone();
        assign_fold(&mut split, k, folds);
        let (train, test): (Vec<usize>, Vec<usize>) =
            (0..items.len()).partition(|&i| split.items[items[i]].split != Some(Split::Test));
        for row in &mut rows {
            let y: Vec<i64> = quadrants.iter().map(|&q| row.target.class(q)).collect();
            let (acc, majority) = fit_and_score(features, &y, &train, &test, row.target.classes(), seed);
            row.probe.push(acc);
            row.majority.push(majority);
        }
    }
    rows
}

/// Trains the probe on `train` rows and returns (its accuracy, the majority class's) on `test`.
fn fit_and_score(
    x: &Tensor,
    y: &[i64],
    train: &[usize],
    test: &[usize],
    classes: i64,
    seed: i64,
) -> (f64, f64) {
    let pick = |idx: &[usize]| {
        let rows = Tensor::from_slice(&idx.iter().map(|&i| i as i64).collect::<Vec<_>>());
        (x.index_select(0, &rows), Tensor::from_slice(&idx.iter().map(|&i| y[i]).collect::<Vec<_>>()))
    };
    let ((xtr, ytr), (xte, yte)) = (pick(train), pick(test));
    // Standardised with the training folds' statistics only.
    let mean = xtr.mean_dim([0i64].as_slice(), true, Kind::Float);
    let sd = xtr.std_dim([0i64].as_slice(), false, true) + 1e-6;
    let (xtr, xte) = ((&xtr - &mean) / &sd, (&xte - &mean) / &sd);
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let linear = nn::linear(vs.root(), xtr.size()[1], classes, Default::default());
    let Ok(mut opt) = nn::Adam::default().build(&vs, LR) else { return (0.0, 0.0) };
    for _ in 0..STEPS {
        let logits = linear.forward(&xtr);
        let penalty = vs
            .trainable_variables()
            .iter()
            .map(|w| w.square().sum(Kind::Float))
            .fold(Tensor::zeros([], (Kind::Float, Device::Cpu)), |a, b| a + b);
        let loss = logits.cross_entropy_for_logits(&ytr) + penalty * L2 / 2.0;
        opt.backward_step(&loss);
    }
    let accuracy =
        |pred: &Tensor| pred.eq_tensor(&yte).to_kind(Kind::Double).mean(Kind::Double).double_value(&[]);
    let predicted = tch::no_grad(|| linear.forward(&xte).argmax(-1, false));
    let counts = ytr.bincount::<Tensor>(None, classes);
    let majority = counts.argmax(0, false).int64_value(&[]);
    (accuracy(&predicted), accuracy(&Tensor::full_like(&yte, majority)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_learns_a_separable_target_and_majority_does_not() {
        tch::manual_seed(7);
        let x = Tensor::randn([200, 5], (Kind::Float, Device::Cpu));
        // The class is the sign of feature 2; the other features are noise.
        let y: Vec<i64> =
            Vec::<f32>::try_from(x.select(1, 2)).unwrap().iter().map(|&v| i64::from(v > 0.0)).collect();
        let train: Vec<usize> = (0..150).collect();
        let test: Vec<usize> = (150..200).collect();
        let (acc, majority) = fit_and_score(&x, &y, &train, &test, 2, 1);
        assert!(acc >= 0.85, "probe accuracy {acc}");
        assert!(majority < 0.7, "majority accuracy {majority}");
        // Labels unrelated to the features: the probe does no better than chance on held-out rows.
        let shuffled: Vec<i64> = (0..200).map(|i| (i * 7 % 11 % 2) as i64).collect();
        let (acc, _) = fit_and_score(&x, &shuffled, &train, &test, 2, 1);
        assert!(acc < 0.75, "probe found signal in noise: {acc}");
    }
}
