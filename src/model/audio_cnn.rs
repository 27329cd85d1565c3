//! The original audio CNN (Won et al. 2021, `MyModel.spec_to_embedding` up to the max over time):
//! `spec_bn`, `layer1`..`layer8` with the original parameter names.

use tch::nn::{self, ModuleT};
use tch::Tensor;

use super::error::{expect_rank, ModelError, Result};
use super::head::bn_config;

/// Which network turns a log-mel chunk into the song head's input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrunkKind {
    /// The paper's CNN (about 1.4 M parameters; seconds per training step on a CPU).
    #[default]
    Cnn,
    /// Per-band statistics of the log-mel over time ([`super::MelStats`]): no convolutions,
    /// so a CPU trains it in minutes; on small datasets such as 4Q it generalises as well.
    MelStats,
    /// The pretrained musicnn MSD tagger, frozen ([`super::musicnn`]); `musicnn` names it too.
    #[serde(alias = "musicnn")]
    MusicnnMsd,
    /// The pretrained musicnn MagnaTagATune tagger, frozen.
    MusicnnMtt,
    /// Both taggers, frozen, each under its own song head; the song side reads the mean of the
    /// heads' mood distributions (moods space).
    MusicnnBoth,
}

impl TrunkKind {
    pub const ALL: [Self; 5] =
        [Self::Cnn, Self::MelStats, Self::MusicnnMsd, Self::MusicnnMtt, Self::MusicnnBoth];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cnn => "cnn",
            Self::MelStats => "mel-stats",
            Self::MusicnnMsd => "musicnn-msd",
            Self::MusicnnMtt => "musicnn-mtt",
            Self::MusicnnBoth => "musicnn-both",
        }
    }

    /// The pretrained tagger this trunk runs, if any (its weights are frozen); the first of
    /// [`Self::musicnn_models`].
    pub fn musicnn(self) -> Option<super::musicnn::MusicnnModel> {
        self.musicnn_models().first().copied()
    }

    /// Every pretrained tagger this trunk runs, in the order of their feature blocks.
    pub fn musicnn_models(self) -> &'static [super::musicnn::MusicnnModel] {
        use super::musicnn::MusicnnModel::{Msd, Mtt};
        match self {
            Self::MusicnnMsd => &[Msd],
            Self::MusicnnMtt => &[Mtt],
            Self::MusicnnBoth => &[Msd, Mtt],
            Self::Cnn | Self::MelStats => &[],
        }
    }

    /// Feature blocks the trunk puts side by side, one per song head: one per tagger, else 1.
    pub fn parts(self) -> usize {
        self.musicnn_models().len().max(1)
    }

    /// Whether a model of `space` can have this trunk: several song heads' mood distributions
    /// are averaged, which only the moods space does.
    pub fn suits(self, space: super::Space) -> bool {
        self.parts() == 1 || space == super::Space::Moods
    }
}

impl std::fmt::Display for TrunkKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TrunkKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "musicnn" => Ok(Self::MusicnnMsd),
            _ => Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| {
                format!(
                    "unknown audio trunk {s:?} (expected cnn, mel-stats, musicnn, musicnn-msd, musicnn-mtt or \
                     musicnn-both)"
                )
            }),
        }
    }
}

/// Sizes of the audio trunk; defaults are the paper's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AudioCnnConfig {
    /// Base channel width ("ndim"): layers use ndim, 2·ndim and 4·ndim channels.
    pub ndim: i64,
    /// Mel bins of the input; the seven pools of 2 along mel must leave exactly one row.
    pub n_mels: i64,
    /// The trunk; model files from before it existed are CNNs.
    #[serde(default)]
    pub trunk: TrunkKind,
    /// What the song head sees of a musicnn trunk (musicnn trunks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub musicnn_features: Option<super::musicnn::MusicnnFeatures>,
}

impl Default for AudioCnnConfig {
    fn default() -> Self {
        Self { ndim: 64, n_mels: 128, trunk: TrunkKind::Cnn, musicnn_features: None }
    }
}

/// Pooling (mel, time) after each of layer1..layer7.
const POOLS: [(i64, i64); 7] = [(2, 2), (2, 2), (2, 2), (2, 2), (2, 2), (2, 3), (2, 3)];

/// Blocks that overlapping windows of one clip share ([`AudioCnn::forward_windows`]): layer1 and
/// layer2 work at full resolution (two thirds of the multiply-adds, most of the memory traffic)
/// and pool time by 4 frames (64 ms). Sharing deeper layers is faster still but moves the
/// embeddings more than shifting the paper's windows by the coarser grid would
/// (`tests/lib/model_windows.rs`).
const SHARED_BLOCKS: usize = 2;

impl AudioCnnConfig {
    /// Width of one of the trunk's output blocks (a song head's input).
    pub fn out_dim(&self) -> i64 {
        match self.trunk {
            TrunkKind::Cnn => self.ndim * 4,
            TrunkKind::MelStats => super::mel_stats::STATS * self.n_mels,
            TrunkKind::MusicnnMsd | TrunkKind::MusicnnMtt | TrunkKind::MusicnnBoth => {
                self.musicnn_features.unwrap_or_default().dim()
            }
        }
    }

    /// Fewest frames the trunk accepts (288 with the paper's pools; 2 for the statistics).
    pub fn min_frames(&self) -> i64 {
        match self.trunk {
            TrunkKind::Cnn => POOLS.iter().map(|p| p.1).product(),
            TrunkKind::MelStats => 2,
            TrunkKind::MusicnnMsd | TrunkKind::MusicnnMtt | TrunkKind::MusicnnBoth => 1,
        }
    }

    pub fn validate(&self, origin: &std::path::Path) -> super::error::Result<()> {
        let bad = |message: String| Err(super::error::ModelError::Config { path: origin.into(), message });
        let mel_pool: i64 = POOLS.iter().map(|p| p.0).product();
        if self.ndim <= 0 {
            return bad(format!("audio.ndim must be positive, got {}", self.ndim));
        }
        if self.trunk.musicnn().is_some() {
            return if self.n_mels == super::musicnn::N_MELS {
                Ok(())
            } else {
                bad(format!(
                    "audio.n_mels must be {} for musicnn, got {}",
                    super::musicnn::N_MELS,
                    self.n_mels
                ))
            };
        }
        if self.trunk == TrunkKind::MelStats {
            return if self.n_mels > 0 {
                Ok(())
            } else {
                bad(format!("audio.n_mels must be positive, got {}", self.n_mels))
            };
        }
        if self.n_mels / mel_pool != 1 {
            return bad(format!(
                "audio.n_mels must be in {mel_pool}..{} so the mel axis pools to one row, got {}",
                2 * mel_pool - 1,
                self.n_mels
            ));
        }
        Ok(())
    }
}

fn conv3x3(p: nn::Path, cin: i64, cout: i64) -> nn::Conv2D {
    nn::conv2d(p, cin, cout, 3, nn::ConvConfig { padding: 1, ..Default::default() })
}

/// The same kernel with channels-last strides (NHWC in memory, NCHW in shape). oneDNN's
/// convolutions run their fast NHWC kernels when the weight is laid out so, and their outputs
/// stay NHWC through BN, ReLU, pooling and the residual sums. On the 2-core AVX-512 machine the
/// trunk's forward and backward of 32 chunks went from 2.7 to 1.8 s, and an index's CNN from
/// 205 to 81 ms per file. Only kernels are copied (1.4 M floats in all), and their gradients
/// flow back to the parameters as stored, so checkpoints and optimiser state keep NCHW.
fn channels_last(weight: &Tensor) -> Tensor {
    let size = weight.size();
    let (c, h, w) = (size[1], size[2], size[3]);
    // Strides set explicitly: with one input channel a permute round trip keeps NCHW strides
    // (the copy is skipped), and layer1 (the largest maps) would stay NCHW.
    weight.permute([0, 2, 3, 1]).contiguous().as_strided(size.as_slice(), [h * w * c, 1, w * c, c], None)
}

/// `conv` applied with a channels-last kernel ([`channels_last`]).
fn conv2d(xs: &Tensor, conv: &nn::Conv2D) -> Tensor {
    let pad = conv.ws.size()[2] / 2;
    xs.conv2d(&channels_last(&conv.ws), conv.bs.as_ref(), [1, 1], [pad, pad], [1, 1], 1)
}

fn max_pool(xs: &Tensor, pool: (i64, i64)) -> Tensor {
    let k = [pool.0, pool.1];
    xs.max_pool2d(k, k, [0, 0], [1, 1], false)
}

/// conv → BN in eval mode as one convolution, BN's affine map folded into kernel and bias: one
/// pass less over the largest feature maps of the trunk.
fn conv_bn_eval(xs: &Tensor, conv: &nn::Conv2D, bn: &nn::BatchNorm) -> Tensor {
    let eps = bn_config().eps;
    let mut scale = (&bn.running_var + eps).rsqrt();
    if let Some(gamma) = &bn.ws {
        scale *= gamma;
    }
    let weight = &conv.ws * scale.view([-1, 1, 1, 1]);
    let mut bias = match &conv.bs {
        Some(b) => (b - &bn.running_mean) * &scale,
        None => -&bn.running_mean * &scale,
    };
    if let Some(beta) = &bn.bs {
        bias += beta;
    }
    let pad = conv.ws.size()[2] / 2;
    xs.conv2d(&channels_last(&weight), Some(&bias), [1, 1], [pad, pad], [1, 1], 1)
}

/// `Conv_2d`: conv 3×3 → BN → ReLU → max-pool. [B, cin, F, T] → [B, cout, F/pf, T/pt]
#[derive(Debug)]
struct ConvBlock {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
    pool: (i64, i64),
}

impl ConvBlock {
    fn new(p: nn::Path, cin: i64, cout: i64, pool: (i64, i64)) -> Self {
        Self {
            conv: conv3x3(&p / "conv", cin, cout),
            bn: nn::batch_norm2d(&p / "bn", cout, bn_config()),
            pool,
        }
    }
}

impl ModuleT for ConvBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        // ReLU commutes with max-pooling (values and gradients), so it runs on the pooled map, a
        // quarter of the size.
        if train {
            return max_pool(&self.bn.forward_t(&conv2d(xs, &self.conv), train), self.pool).relu();
        }
        max_pool(&conv_bn_eval(xs, &self.conv, &self.bn), self.pool).relu_()
    }
}

/// `Res_2d_mp`: x + BN(conv(ReLU(BN(conv(x))))) → ReLU → max-pool. [B, C, F, T] → [B, C, F/pf, T/pt]
#[derive(Debug)]
struct ResBlock {
    conv_1: nn::Conv2D,
    bn_1: nn::BatchNorm,
    conv_2: nn::Conv2D,
    bn_2: nn::BatchNorm,
    pool: (i64, i64),
}

impl ResBlock {
    fn new(p: nn::Path, ch: i64, pool: (i64, i64)) -> Self {
        Self {
            conv_1: conv3x3(&p / "conv_1", ch, ch),
            bn_1: nn::batch_norm2d(&p / "bn_1", ch, bn_config()),
            conv_2: conv3x3(&p / "conv_2", ch, ch),
            bn_2: nn::batch_norm2d(&p / "bn_2", ch, bn_config()),
            pool,
        }
    }
}

impl ModuleT for ResBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        if train {
            let h = self.bn_1.forward_t(&conv2d(xs, &self.conv_1), train).relu();
            let h = self.bn_2.forward_t(&conv2d(&h, &self.conv_2), train);
            return max_pool(&(xs + h), self.pool).relu();
        }
        let h = conv_bn_eval(xs, &self.conv_1, &self.bn_1).relu_();
        let mut h = conv_bn_eval(&h, &self.conv_2, &self.bn_2);
        h += xs;
        max_pool(&h, self.pool).relu_()
    }
}

/// `Conv_emb`: conv 1×1 → BN → ReLU (no pooling).
#[derive(Debug)]
struct ConvEmb {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
}

impl ConvEmb {
    fn new(p: nn::Path, cin: i64, cout: i64) -> Self {
        Self {
            conv: nn::conv2d(&p / "conv", cin, cout, 1, Default::default()),
            bn: nn::batch_norm2d(&p / "bn", cout, bn_config()),
        }
    }
}

impl ModuleT for ConvEmb {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        if train {
            return self.bn.forward_t(&conv2d(xs, &self.conv), train).relu();
        }
        conv_bn_eval(xs, &self.conv, &self.bn).relu_()
    }
}

/// The convolutional trunk: log-mel [B, n_mels, T] → [B, 4·ndim] (max over time).
#[derive(Debug)]
pub struct AudioCnn {
    config: AudioCnnConfig,
    spec_bn: nn::BatchNorm,
    blocks: Vec<Box<dyn ModuleT>>,
    layer8: ConvEmb,
}

impl AudioCnn {
    /// Builds the trunk under `p` (`p / "spec_bn"`, `p / "layer1"`, …).
    pub fn new(p: &nn::Path, config: AudioCnnConfig) -> Self {
        let (c1, c2, c4) = (config.ndim, config.ndim * 2, config.ndim * 4);
        let blocks: Vec<Box<dyn ModuleT>> = vec![
            Box::new(ConvBlock::new(p / "layer1", 1, c1, POOLS[0])),
            Box::new(ResBlock::new(p / "layer2", c1, POOLS[1])),
            Box::new(ConvBlock::new(p / "layer3", c1, c2, POOLS[2])),
            Box::new(ResBlock::new(p / "layer4", c2, POOLS[3])),
            Box::new(ResBlock::new(p / "layer5", c2, POOLS[4])),
            Box::new(ResBlock::new(p / "layer6", c2, POOLS[5])),
            Box::new(ConvBlock::new(p / "layer7", c2, c4, POOLS[6])),
        ];
        Self {
            config,
            spec_bn: nn::batch_norm2d(p / "spec_bn", 1, bn_config()),
            blocks,
            layer8: ConvEmb::new(p / "layer8", c4, c4),
        }
    }

    pub fn config(&self) -> &AudioCnnConfig {
        &self.config
    }

    /// Checks a log-mel batch before it reaches libtorch (which would panic on a bad shape).
    pub fn check_input(&self, mel: &Tensor) -> Result<()> {
        let expected = format!("[batch, {}, frames ≥ {}]", self.config.n_mels, self.config.min_frames());
        let size = expect_rank(mel, 3, "log-mel batch", &expected)?;
        if size[0] < 1 || size[1] != self.config.n_mels || size[2] < self.config.min_frames() {
            return Err(ModelError::Shape { what: "log-mel batch".into(), expected, got: size });
        }
        Ok(())
    }

    /// Feature map before the max over time: [B, n_mels, T] → [B, 4·ndim, T'].
    pub fn feature_map_t(&self, mel: &Tensor, train: bool) -> Tensor {
        let mut x = self.spec_bn.forward_t(&mel.unsqueeze(1), train);
        for block in &self.blocks {
            x = block.forward_t(&x, train);
        }
        self.layer8.forward_t(&x, train).squeeze_dim(2)
    }

    /// Frames between the columns of the shared blocks' output: windows start on this grid.
    pub fn window_grid(&self) -> i64 {
        POOLS[..SHARED_BLOCKS].iter().map(|p| p.1).product()
    }

    /// Windows of `frames` frames of segments `mel` [S, n_mels, T] (eval mode): the first blocks
    /// run once per segment, the rest per window, `offsets[s]` being segment s's window starts
    /// in frames (multiples of [`Self::window_grid`]) → [Σ windows, 4·ndim]. A window at offset
    /// 0 of a segment of exactly `frames` frames gives what [`ModuleT::forward_t`] does.
    pub fn forward_windows(&self, mel: &Tensor, offsets: &[Vec<i64>], frames: i64) -> Tensor {
        let mut x = self.spec_bn.forward_t(&mel.unsqueeze(1), false);
        for block in &self.blocks[..SHARED_BLOCKS] {
            x = block.forward_t(&x, false);
        }
        let width = POOLS[..SHARED_BLOCKS].iter().fold(frames, |w, p| w / p.1);
        let mut x = super::windows::slice_windows(&x, offsets, self.window_grid(), width);
        for block in &self.blocks[SHARED_BLOCKS..] {
            x = block.forward_t(&x, false);
        }
        self.layer8.forward_t(&x, false).squeeze_dim(2).amax([-1i64].as_slice(), false)
    }
}

impl ModuleT for AudioCnn {
    /// [B, n_mels, T] → [B, 4·ndim]
    fn forward_t(&self, mel: &Tensor, train: bool) -> Tensor {
        self.feature_map_t(mel, train).amax([-1i64].as_slice(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Running statistics and affine parameters away from their initial values.
    fn perturb(vs: &nn::VarStore) {
        tch::no_grad(|| {
            for (name, mut t) in vs.variables() {
                let noise = Tensor::rand_like(&t);
                if name.ends_with("running_var") {
                    t.copy_(&(noise * 2.0 + 0.1));
                } else if name.contains("bn") {
                    t.copy_(&(noise - 0.5));
                }
            }
        });
    }

    /// A conv block then a residual block as the paper code writes them: NCHW kernels through
    /// `nn::Conv2D`, BN unfolded, ReLU before pooling.
    fn reference_blocks(conv: &ConvBlock, res: &ResBlock, x: &Tensor, train: bool) -> Tensor {
        let y = max_pool(&conv.bn.forward_t(&x.apply(&conv.conv), train).relu(), conv.pool);
        let h = res.bn_1.forward_t(&y.apply(&res.conv_1), train).relu();
        let h = res.bn_2.forward_t(&h.apply(&res.conv_2), train);
        max_pool(&(y + h).relu(), res.pool)
    }

    #[test]
    fn eval_mode_folds_batch_norm_into_the_convolutions_exactly() {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let conv = ConvBlock::new(vs.root() / "c", 3, 8, (2, 2));
        let res = ResBlock::new(vs.root() / "r", 8, (2, 3));
        let emb = ConvEmb::new(vs.root() / "e", 8, 8);
        perturb(&vs);
        let x = Tensor::randn([2, 3, 16, 36], (Kind::Float, Device::Cpu));
        let unfused = tch::no_grad(|| {
            let y = reference_blocks(&conv, &res, &x, false);
            emb.bn.forward_t(&y.apply(&emb.conv), false).relu()
        });
        let fused = tch::no_grad(|| {
            let y = res.forward_t(&conv.forward_t(&x, false), false);
            emb.forward_t(&y, false)
        });
        let diff = (unfused - fused).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn channels_last_kernels_give_the_nchw_values_and_gradients() {
        tch::manual_seed(5);
        let vs = nn::VarStore::new(Device::Cpu);
        // One input channel (layer1's case, where the strides need setting by hand) and many.
        let first = ConvBlock::new(vs.root() / "c", 1, 8, (2, 2));
        let res = ResBlock::new(vs.root() / "r", 8, (2, 2));
        let x = Tensor::randn([3, 1, 16, 24], (Kind::Float, Device::Cpu));
        let grads = |out: Tensor| {
            for mut v in vs.trainable_variables() {
                v.zero_grad();
            }
            (&out * &out).sum(Kind::Float).backward();
            [&first.conv.ws, &res.conv_1.ws, &res.conv_2.ws].map(|w| w.grad().copy())
        };
        let reference = reference_blocks(&first, &res, &x, true);
        let want = grads(reference.shallow_clone());
        let ours = res.forward_t(&first.forward_t(&x, true), true);
        assert_eq!(channels_last(&first.conv.ws).stride(), [9, 1, 3, 1]);
        let diff = (&ours - &reference).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "values differ by {diff}");
        for (g, w) in grads(ours).iter().zip(&want) {
            let diff = (g - w).abs().max().double_value(&[]) / w.abs().max().double_value(&[]);
            assert!(diff < 1e-5, "gradients differ by {diff} of their largest value");
        }
    }
}
