//! musicnn as the frozen audio trunk of an emotion model: each tagger's feature row of a window,
//! the columns the model was trained on, then a trainable BatchNorm per tagger (`musicnn_bn`,
//! then `musicnn_m1_bn` for a second).

use tch::nn::{self, ModuleT};
use tch::Tensor;

use super::{Musicnn, MusicnnFeatures, MusicnnModel, FEATURE_DIM};
use crate::model::error::Result;
use crate::model::head::{bn_config, member_name};

#[derive(Debug)]
pub struct MusicnnTrunk {
    nets: Vec<Musicnn>,
    features: MusicnnFeatures,
    bns: Vec<nn::BatchNorm>,
}

impl MusicnnTrunk {
    /// Loads the converted weights of each of `models` (at least one) from the data dir; the
    /// BatchNorms are built under `p`.
    pub fn new(p: &nn::Path, models: &[MusicnnModel], features: MusicnnFeatures) -> Result<Self> {
        let models = if models.is_empty() { &[MusicnnModel::Msd][..] } else { models };
        let nets = models.iter().map(|m| Musicnn::load(*m, p.device())).collect::<Result<Vec<_>>>()?;
        let bns = (0..nets.len())
            .map(|k| {
                nn::batch_norm1d(p / format!("{}_bn", member_name("musicnn", k)), features.dim(), bn_config())
            })
            .collect();
        Ok(Self { nets, features, bns })
    }

    /// The first tagger: its tags are what a clip "sounds like".
    pub fn net(&self) -> &Musicnn {
        &self.nets[0]
    }

    pub fn nets(&self) -> &[Musicnn] {
        &self.nets
    }

    /// The taggers' names (`MSD_musicnn`, …), in block order.
    pub fn names(&self) -> Vec<&'static str> {
        self.nets.iter().map(|n| n.model().name()).collect()
    }

    /// Width of a feature row: each tagger's [`FEATURE_DIM`] side by side.
    pub fn row_dim(&self) -> i64 {
        FEATURE_DIM * self.nets.len() as i64
    }

    /// Full feature rows [B, row_dim] of log-mel windows `[B, 96, T]` (checked by
    /// `AudioTrunk::check_input`).
    pub fn feature_rows(&self, mel: &Tensor) -> Tensor {
        let mel = mel.transpose(1, 2);
        let rows: Vec<Tensor> = self.nets.iter().map(|n| n.forward_checked(&mel).feature_row()).collect();
        Tensor::cat(&rows, 1)
    }

    /// The heads' input from full feature rows: each tagger's chosen columns, batch-normalised,
    /// side by side `[B, taggers · features]`.
    pub fn from_rows(&self, rows: &Tensor, train: bool) -> Tensor {
        let cols = self.features.columns();
        let blocks: Vec<Tensor> = self
            .bns
            .iter()
            .enumerate()
            .map(|(k, bn)| {
                let start = k as i64 * FEATURE_DIM + cols.start;
                let x = rows.narrow(1, start, cols.end - cols.start).to_device(bn.running_mean.device());
                bn.forward_t(&x, train)
            })
            .collect();
        Tensor::cat(&blocks, 1)
    }
}
