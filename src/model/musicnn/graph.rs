//! The musicnn graph (`build_musicnn` of the package's `models.py`), inference only.
//!
//! Every BatchNorm becomes a per-channel scale and shift, computed once at load. The ones after a
//! ReLU stay a separate affine step (a negative scale would change what the max-pools pick); the
//! one before the penultimate dense layer is folded into its kernel. The input BatchNorm cannot go
//! into the front-end kernels, whose zero padding is applied after it.

use std::collections::HashMap;
use std::path::Path;

use tch::{Kind, Tensor};

use super::{missing, MusicnnModel};
use crate::model::error::{ModelError, Result};

/// Frames in one input patch (3 s at 16 kHz, hop 256).
pub const PATCH_FRAMES: i64 = 187;
/// Width of [`MusicnnOutputs::feature_row`]: penultimate 200, tags 50, max-pool 753, mean-pool 753.
pub const FEATURE_DIM: i64 = 200 + 50 + 2 * POOLED;
/// Mel bands of the input.
pub const N_MELS: i64 = 96;
/// Channels pooled over time: front end 561 + three mid-end layers of 64.
const POOLED: i64 = 753;
const BN_EPS: f64 = 1e-3;

/// A convolution's kernel (torch layout), bias, and the BatchNorm after its ReLU.
#[derive(Debug)]
struct ConvBn {
    weight: Tensor,
    bias: Tensor,
    scale: Tensor,
    shift: Tensor,
}

/// One pretrained musicnn tagger.
#[derive(Debug)]
pub struct Musicnn {
    model: MusicnnModel,
    /// Content hash of the weight file (feature caches are keyed by it).
    weights_id: String,
    labels: Vec<String>,
    input_scale: f64,
    input_shift: f64,
    /// The two timbral branches: kernels 7×38 and 7×67 over (time, mel), 204 filters each.
    timbral: [ConvBn; 2],
    /// The three temporal branches: kernels 128, 64 and 32 frames long, 51 filters each.
    temporal: [ConvBn; 3],
    /// The mid end: three 1-d convolutions of 7 frames, 64 filters.
    mid: [ConvBn; 3],
    /// Dense 1506 → 200 with the BatchNorm before it folded in; [1506, 200].
    dense_weight: Tensor,
    dense_bias: Tensor,
    dense_scale: Tensor,
    dense_shift: Tensor,
    /// Dense 200 → 50: [200, 50].
    out_weight: Tensor,
    out_bias: Tensor,
}

/// Every stage the reference files hold, for parity tests and feature extraction.
#[derive(Debug)]
pub struct MusicnnOutputs {
    /// [B, T, 408]
    pub timbral: Tensor,
    /// [B, T, 153]
    pub temporal: Tensor,
    /// [B, T, 64] each
    pub cnn: [Tensor; 3],
    /// [B, 753]
    pub max_pool: Tensor,
    pub mean_pool: Tensor,
    /// [B, 200]
    pub penultimate: Tensor,
    /// [B, 50]
    pub logits: Tensor,
    pub taggram: Tensor,
}

impl MusicnnOutputs {
    /// [B, FEATURE_DIM]: penultimate, tags, max-pool, mean-pool.
    pub fn feature_row(&self) -> Tensor {
        Tensor::cat(&[&self.penultimate, &self.taggram, &self.max_pool, &self.mean_pool], 1)
    }
}

impl Musicnn {
    /// Loads the converted weights of `model` from the data dir.
    pub fn load(model: MusicnnModel, device: tch::Device) -> Result<Self> {
        Self::from_file(model, &model.weights_path()?, device)
    }

    /// Loads a converted checkpoint (TF names and layouts, tag names in the metadata).
    pub fn from_file(model: MusicnnModel, path: &Path, device: tch::Device) -> Result<Self> {
        if !path.exists() {
            return Err(missing(path));
        }
        let bad = |message: String| ModelError::Read { path: path.into(), message };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| bad(format!("not a safetensors file ({e}); rerun scripts/setup")))?;
        let labels: Vec<String> = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("labels"))
            .and_then(|l| serde_json::from_str(l).ok())
            .ok_or_else(|| bad("no tag labels in the metadata; rerun scripts/setup".into()))?;
        if labels.len() != 50 {
            return Err(bad(format!("{} tag labels, expected 50", labels.len())));
        }
        // Read once: the tensors come from the same bytes as the metadata and the content hash.
        let file = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| bad(format!("not a safetensors file ({e}); rerun scripts/setup")))?;
        let tensors: HashMap<String, Tensor> = file
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                if view.dtype() != safetensors::Dtype::F32 {
                    return Err(bad(format!(
                        "tensor `{name}` is {:?}, expected F32; rerun scripts/setup",
                        view.dtype()
                    )));
                }
                let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
                let t = Tensor::f_from_data_size(view.data(), &shape, Kind::Float)?.to_device(device);
                Ok((name, t))
            })
            .collect::<Result<_>>()?;
        let get = |name: &str, shape: &[i64]| -> Result<Tensor> {
            let t = tensors
                .get(name)
                .ok_or_else(|| ModelError::MissingTensor { path: path.into(), name: name.into() })?;
            if t.size() != shape {
                return Err(ModelError::TensorShape {
                    path: path.into(),
                    name: name.into(),
                    expected: shape.to_vec(),
                    got: t.size(),
                });
            }
            Ok(t.shallow_clone())
        };
        let bn = |i: usize, n: i64| -> Result<(Tensor, Tensor)> {
            let name =
                if i == 0 { "batch_normalization".to_string() } else { format!("batch_normalization_{i}") };
            let gamma = get(&format!("{name}/gamma"), &[n])?;
            let beta = get(&format!("{name}/beta"), &[n])?;
            let mean = get(&format!("{name}/moving_mean"), &[n])?;
            let var = get(&format!("{name}/moving_variance"), &[n])?;
            let scale = gamma / (var + BN_EPS).sqrt();
            let shift = beta - &mean * &scale;
            Ok((scale, shift))
        };
        let conv_name = |i: usize| if i == 0 { "conv2d".to_string() } else { format!("conv2d_{i}") };
        // TF [kh, kw, in, out] → torch [out, in, kh, kw].
        let conv2d = |i: usize, shape: [i64; 4], bn_index: usize| -> Result<ConvBn> {
            let weight = get(&format!("{}/kernel", conv_name(i)), &shape)?.permute([3, 2, 0, 1]).contiguous();
            let bias = get(&format!("{}/bias", conv_name(i)), &[shape[3]])?;
            let (scale, shift) = bn(bn_index, shape[3])?;
            Ok(ConvBn { weight, bias, scale, shift })
        };
        // TF [7, width, 1, out] over (time, channels-as-width) → torch conv1d [out, width, 7].
        let conv1d = |i: usize, width: i64, bn_index: usize| -> Result<ConvBn> {
            let weight = get(&format!("{}/kernel", conv_name(i)), &[7, width, 1, 64])?
                .squeeze_dim(2)
                .permute([2, 1, 0])
                .contiguous();
            let bias = get(&format!("{}/bias", conv_name(i)), &[64])?;
            let (scale, shift) = bn(bn_index, 64)?;
            Ok(ConvBn { weight, bias, scale, shift })
        };
        let (input_scale, input_shift) = bn(0, 1)?;
        let timbral = [conv2d(0, [7, 38, 1, 204], 1)?, conv2d(1, [7, 67, 1, 204], 2)?];
        let temporal =
            [conv2d(2, [128, 1, 1, 51], 3)?, conv2d(3, [64, 1, 1, 51], 4)?, conv2d(4, [32, 1, 1, 51], 5)?];
        let mid = [conv1d(5, 561, 6)?, conv1d(6, 64, 7)?, conv1d(7, 64, 8)?];
        let (pool_scale, pool_shift) = bn(9, 2 * POOLED)?;
        let dense = get("dense/kernel", &[2 * POOLED, 200])?;
        let dense_bias = get("dense/bias", &[200])? + pool_shift.unsqueeze(0).matmul(&dense).squeeze_dim(0);
        let dense_weight = (dense * pool_scale.unsqueeze(1)).contiguous();
        let (dense_scale, dense_shift) = bn(10, 200)?;
        let weights_id = {
            use sha1::{Digest, Sha1};
            Sha1::digest(&bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
        };
        let this = Self {
            model,
            weights_id,
            labels,
            input_scale: input_scale.double_value(&[0]),
            input_shift: input_shift.double_value(&[0]),
            timbral,
            temporal,
            mid,
            dense_weight,
            dense_bias,
            dense_scale,
            dense_shift,
            out_weight: get("dense_1/kernel", &[200, 50])?,
            out_bias: get("dense_1/bias", &[50])?,
        };
        Ok(this)
    }

    pub fn model(&self) -> MusicnnModel {
        self.model
    }

    pub fn weights_id(&self) -> &str {
        &self.weights_id
    }

    /// The 50 tag names, in output order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Checks a batch of log-mel patches `[B, T, 96]` (time, mel) before libtorch sees it.
    pub fn check_input(&self, patches: &Tensor) -> Result<()> {
        let size = patches.size();
        let ok = size.len() == 3 && size[0] >= 1 && size[1] >= 1 && size[2] == N_MELS;
        if !ok {
            let expected = format!("[batch, frames, {N_MELS}]");
            return Err(ModelError::Shape { what: "musicnn patches".into(), expected, got: size });
        }
        Ok(())
    }

    /// Runs the graph on log-mel patches `[B, T, 96]` (the package's input layout).
    pub fn forward(&self, patches: &Tensor) -> Result<MusicnnOutputs> {
        self.check_input(patches)?;
        Ok(self.forward_checked(patches))
    }

    /// [`Self::forward`] on input already checked.
    pub(crate) fn forward_checked(&self, patches: &Tensor) -> MusicnnOutputs {
        let device = self.dense_weight.device();
        tch::no_grad(|| self.run(&patches.to_kind(Kind::Float).to_device(device).unsqueeze(1)))
    }

    /// `x` [B, 1, T, 96] (NCHW, H = time).
    fn run(&self, x: &Tensor) -> MusicnnOutputs {
        let x = x * self.input_scale + self.input_shift;
        let affine = |t: Tensor, c: &ConvBn, dims: usize| {
            let shape: Vec<i64> = (0..dims).map(|d| if d == 1 { -1 } else { 1 }).collect();
            t.relu() * c.scale.view(shape.as_slice()) + c.shift.view(shape.as_slice())
        };
        // Timbral: pad time by 3, valid conv, then max over the remaining mel positions.
        let padded = x.constant_pad_nd([0, 0, 3, 3]);
        let timbral: Vec<Tensor> = self
            .timbral
            .iter()
            .map(|c| {
                let y = padded.conv2d(&c.weight, Some(&c.bias), [1, 1], [0, 0], [1, 1], 1);
                affine(y, c, 4).amax([3i64].as_slice(), false)
            })
            .collect();
        // Temporal: TF "same" padding along time ((k−1)/2 before, the rest after), max over mel.
        let temporal: Vec<Tensor> = self
            .temporal
            .iter()
            .map(|c| {
                let k = c.weight.size()[2];
                let before = (k - 1) / 2;
                let y = x.constant_pad_nd([0, 0, before, k - 1 - before]).conv2d(
                    &c.weight,
                    Some(&c.bias),
                    [1, 1],
                    [0, 0],
                    [1, 1],
                    1,
                );
                affine(y, c, 4).amax([3i64].as_slice(), false)
            })
            .collect();
        // [B, 561, T]: f74, f77, s1, s2, s3.
        let front = Tensor::cat(&[&timbral[0], &timbral[1], &temporal[0], &temporal[1], &temporal[2]], 1);
        let mid = |input: &Tensor, c: &ConvBn| {
            affine(input.conv1d(&c.weight, Some(&c.bias), [1], [3], [1], 1), c, 3)
        };
        let cnn1 = mid(&front, &self.mid[0]);
        let cnn2 = mid(&cnn1, &self.mid[1]) + &cnn1;
        let cnn3 = mid(&cnn2, &self.mid[2]) + &cnn2;
        let all = Tensor::cat(&[&front, &cnn1, &cnn2, &cnn3], 1); // [B, 753, T]
        let max_pool = all.amax([2i64].as_slice(), false);
        let mean_pool = all.mean_dim([2i64].as_slice(), false, Kind::Float);
        // TF concatenates [B, 753, 1] pools on the last axis and flattens: max₀, mean₀, max₁, …
        let pooled = Tensor::stack(&[&max_pool, &mean_pool], 2).view([-1, 2 * POOLED]);
        let dense = (pooled.matmul(&self.dense_weight) + &self.dense_bias).relu();
        let penultimate = dense * &self.dense_scale + &self.dense_shift;
        let logits = penultimate.matmul(&self.out_weight) + &self.out_bias;
        let taggram = logits.sigmoid();
        let btc = |t: &Tensor| t.transpose(1, 2).contiguous();
        MusicnnOutputs {
            timbral: btc(&Tensor::cat(&[&timbral[0], &timbral[1]], 1)),
            temporal: btc(&Tensor::cat(&[&temporal[0], &temporal[1], &temporal[2]], 1)),
            cnn: [btc(&cnn1), btc(&cnn2), btc(&cnn3)],
            max_pool,
            mean_pool,
            penultimate,
            logits,
            taggram,
        }
    }
}
