//! musicnn as the frozen audio trunk of an emotion model: the tagger's feature row of a window,
//! the columns the model was trained on, then a trainable BatchNorm (`musicnn_bn`).

use tch::nn::{self, ModuleT};
use tch::Tensor;

use super::{Musicnn, MusicnnFeatures, MusicnnModel};
use crate::model::error::Result;
use crate::model::head::bn_config;

#[derive(Debug)]
pub struct MusicnnTrunk {
    net: Musicnn,
    features: MusicnnFeatures,
    bn: nn::BatchNorm,
}

impl MusicnnTrunk {
    /// Loads the converted weights of `model` from the data dir; `musicnn_bn` is built under `p`.
    pub fn new(p: &nn::Path, model: MusicnnModel, features: MusicnnFeatures) -> Result<Self> {
        let net = Musicnn::load(model, p.device())?;
        Ok(Self { net, features, bn: nn::batch_norm1d(p / "musicnn_bn", features.dim(), bn_config()) })
    }

    pub fn net(&self) -> &Musicnn {
        &self.net
    }

    /// Full feature rows [B, FEATURE_DIM] of log-mel windows `[B, 96, T]` (checked by
    /// `AudioTrunk::check_input`).
    pub fn feature_rows(&self, mel: &Tensor) -> Tensor {
        self.net.forward_checked(&mel.transpose(1, 2)).feature_row()
    }

    /// The head's input from full feature rows: the model's columns, batch-normalised.
    pub fn from_rows(&self, rows: &Tensor, train: bool) -> Tensor {
        let cols = self.features.columns();
        let x = rows.narrow(1, cols.start, cols.end - cols.start).to_device(self.bn_device());
        self.bn.forward_t(&x, train)
    }

    fn bn_device(&self) -> tch::Device {
        self.bn.running_mean.device()
    }
}
