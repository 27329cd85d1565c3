//! A light audio trunk: per-band statistics of the log-mel over time, batch-normalised.
//!
//! Mood in 30-s previews is carried largely by timbre, loudness and how busy a band is, which
//! these statistics summarise; with a few hundred labelled clips (4Q) they generalise as well
//! as the paper's CNN while training in minutes on a CPU.

use tch::nn::{self, ModuleT};
use tch::Tensor;

/// Statistics per mel band: mean, standard deviation, mean |Δ| and standard deviation of Δ
/// (Δ = frame-to-frame change).
pub const STATS: i64 = 4;

/// `stats_bn` over the `STATS·n_mels` features: [B, n_mels, T] → [B, STATS·n_mels].
#[derive(Debug)]
pub struct MelStats {
    bn: nn::BatchNorm,
}

impl MelStats {
    pub fn new(p: &nn::Path, n_mels: i64) -> Self {
        Self { bn: nn::batch_norm1d(p / "stats_bn", STATS * n_mels, super::head::bn_config()) }
    }
}

impl ModuleT for MelStats {
    fn forward_t(&self, mel: &Tensor, train: bool) -> Tensor {
        let t = [-1i64];
        let delta = mel.diff(1, -1, None::<Tensor>, None::<Tensor>);
        let features = Tensor::cat(
            &[
                mel.mean_dim(t.as_slice(), false, tch::Kind::Float),
                mel.std_dim(t.as_slice(), false, false),
                delta.abs().mean_dim(t.as_slice(), false, tch::Kind::Float),
                delta.std_dim(t.as_slice(), false, false),
            ],
            1,
        );
        self.bn.forward_t(&features, train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AudioCnnConfig, AudioTrunk, TrunkKind};
    use tch::{Device, Kind};

    #[test]
    fn statistics_follow_the_mel_bands() {
        let vs = nn::VarStore::new(Device::Cpu);
        let stats = MelStats::new(&vs.root(), 3);
        // Band 0 constant, band 1 a ramp, band 2 alternating: their statistics differ as expected.
        let t = Tensor::arange(10, (Kind::Float, Device::Cpu));
        let alt = Tensor::from_slice(&[1f32, -1., 1., -1., 1., -1., 1., -1., 1., -1.]);
        let mel = Tensor::stack(&[t.zeros_like() + 5.0, t.shallow_clone(), alt], 0).unsqueeze(0);
        let mel = Tensor::cat(&[mel.shallow_clone(), mel * 2.0], 0); // [2, 3, 10]
        let raw = tch::no_grad(|| {
            let delta = mel.diff(1, -1, None::<Tensor>, None::<Tensor>);
            delta.abs().mean_dim([-1i64].as_slice(), false, Kind::Float)
        });
        assert_eq!(Vec::<f32>::try_from(raw.get(0)).unwrap(), vec![0.0, 1.0, 2.0]);
        let out = stats.forward_t(&mel, false);
        assert_eq!(out.size(), [2, STATS * 3]);
        // Eval-mode BN with fresh running stats is the identity up to eps: the mean feature shows.
        let means = Vec::<f32>::try_from(out.get(0).narrow(0, 0, 3)).unwrap();
        let ok = (means[0] - 5.0).abs() < 1e-3 && (means[1] - 4.5).abs() < 1e-3 && means[2].abs() < 1e-3;
        assert!(ok, "{means:?}");
    }

    #[test]
    fn short_or_misshapen_input_is_a_typed_error() {
        let vs = nn::VarStore::new(Device::Cpu);
        let config = AudioCnnConfig { trunk: TrunkKind::MelStats, ..Default::default() };
        let trunk = AudioTrunk::new(&vs.root(), config).unwrap();
        let ok = Tensor::zeros([2, 128, 2], (Kind::Float, Device::Cpu));
        assert!(trunk.check_input(&ok, &config).is_ok());
        let short = Tensor::zeros([2, 128, 1], (Kind::Float, Device::Cpu));
        assert!(trunk.check_input(&short, &config).is_err());
        let wrong_bands = Tensor::zeros([2, 64, 20], (Kind::Float, Device::Cpu));
        assert!(trunk.check_input(&wrong_bands, &config).is_err());
        assert_eq!(trunk.forward_t(&ok, false).size(), [2, config.out_dim()]);
    }
}

#[cfg(test)]
mod config_tests {
    use super::super::{ModelConfig, Space, TrunkKind};

    #[test]
    fn trunk_is_read_from_model_toml_and_defaults_to_the_cnn() {
        let mut config = ModelConfig::paper(Space::Classify).unwrap();
        config.audio.trunk = TrunkKind::MelStats;
        let text = config.to_toml().unwrap();
        assert!(text.contains("trunk = \"mel-stats\""), "{text}");
        let back: ModelConfig = toml::from_str(&text).unwrap();
        assert_eq!(back.audio.trunk, TrunkKind::MelStats);
        // model.toml files written before the trunk existed hold CNN weights.
        let old = text.replace("trunk = \"mel-stats\"\n", "");
        let old: ModelConfig = toml::from_str(&old).unwrap();
        assert_eq!(old.audio.trunk, TrunkKind::Cnn);
        assert_eq!("mel-stats".parse::<TrunkKind>(), Ok(TrunkKind::MelStats));
        let err = "resnet".parse::<TrunkKind>().unwrap_err();
        assert!(err.contains("mel-stats") && err.contains("musicnn-mtt"), "{err}");
        assert_eq!("musicnn".parse::<TrunkKind>(), Ok(TrunkKind::MusicnnMsd));
    }
}
