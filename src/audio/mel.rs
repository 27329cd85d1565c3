//! Log-mel spectrogram on tch, batched, CPU or CUDA — the original's torchaudio 0.7 front end:
//! periodic Hann STFT (n_fft 512, hop 256, reflect padding), power, 128 HTK mel filters without
//! area normalisation, then `10·log10(max(x, 1e-10))`. [`MelFrontEnd::musicnn`] is musicnn's
//! (librosa's) variant: 96 Slaney filters with area normalisation, `log10(10000·f16(x) + 1)`.

use tch::{Device, Kind, Tensor};

use super::{AudioError, SAMPLE_RATE};

/// Front-end parameters; the defaults are the paper's.
#[derive(Debug, Clone, PartialEq)]
pub struct MelConfig {
    pub sample_rate: u32,
    pub n_fft: i64,
    pub hop: i64,
    pub n_mels: i64,
    pub f_min: f64,
    pub f_max: f64,
    /// Floor before the log (torchaudio `AmplitudeToDB` amin).
    pub amin: f64,
    pub scale: MelScale,
    pub log: LogScale,
}

/// How mel bands are placed and weighted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MelScale {
    /// HTK mel, triangles of height 1 (torchaudio's default, the paper's).
    #[default]
    Htk,
    /// Slaney's mel (linear below 1 kHz, logarithmic above), each triangle scaled to unit area
    /// (librosa's default, musicnn's).
    Slaney,
}

/// How mel power becomes the network's input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogScale {
    /// `10·log10(max(x, amin))`.
    #[default]
    Decibel,
    /// musicnn's `log10(10000·x + 1)` after rounding `x` to float16, computed in float32.
    Musicnn,
}

impl Default for MelConfig {
    fn default() -> Self {
        Self {
            sample_rate: SAMPLE_RATE,
            n_fft: 512,
            hop: 256,
            n_mels: 128,
            f_min: 0.0,
            f_max: 8000.0,
            amin: 1e-10,
            scale: MelScale::Htk,
            log: LogScale::Decibel,
        }
    }
}

impl MelConfig {
    /// musicnn's front end: 96 Slaney bands with area normalisation, 0–8 kHz, its log.
    pub fn musicnn() -> Self {
        Self { n_mels: 96, scale: MelScale::Slaney, log: LogScale::Musicnn, ..Self::default() }
    }

    /// Frames for a waveform of `samples` samples: `1 + ⌊N / hop⌋` (centred frames).
    pub fn frames(&self, samples: i64) -> i64 {
        1 + samples / self.hop
    }
}

/// The mel front end with its window and filterbank resident on one device.
#[derive(Debug)]
pub struct MelFrontEnd {
    config: MelConfig,
    device: Device,
    /// [n_fft] periodic Hann.
    window: Tensor,
    /// [n_mels, n_fft/2 + 1].
    fbank: Tensor,
    /// [n_fft/2 + 1, n_mels], contiguous: `power^T · fbank^T` is one plain GEMM per batch, where
    /// `fbank · power` broadcast over the batch took twice as long.
    fbank_t: Tensor,
}

impl MelFrontEnd {
    /// musicnn's front end on `device`.
    pub fn musicnn(device: Device) -> Self {
        Self::from_config(MelConfig::musicnn(), device)
    }

    /// The paper's front end on `device`.
    pub fn new(device: Device) -> Self {
        Self::from_config(MelConfig::default(), device)
    }

    /// A front end with other parameters; rejects sizes that make no spectrogram.
    pub fn with_config(config: MelConfig, device: Device) -> Result<Self, AudioError> {
        let nyquist = config.sample_rate as f64 / 2.0;
        if config.n_fft < 2 || config.hop < 1 || config.n_mels < 1 || config.sample_rate == 0 {
            return Err(invalid(format!("n_fft, hop, n_mels and sample_rate must be positive: {config:?}")));
        }
        if !(0.0 <= config.f_min && config.f_min < config.f_max && config.f_max <= nyquist) {
            return Err(invalid(format!("need 0 ≤ f_min < f_max ≤ {nyquist} Hz, got {config:?}")));
        }
        Ok(Self::from_config(config, device))
    }

    /// A front end of a valid `config`: its window and filterbank computed in f64.
    fn from_config(config: MelConfig, device: Device) -> Self {
        let bins = config.n_fft / 2 + 1;
        let window =
            Tensor::from_slice(&hann_periodic(config.n_fft as usize)).to_kind(Kind::Float).to_device(device);
        let fbank = Tensor::from_slice(&mel_filterbank(&config))
            .view([config.n_mels, bins])
            .to_kind(Kind::Float)
            .to_device(device);
        let fbank_t = fbank.tr().contiguous();
        Self { config, device, window, fbank, fbank_t }
    }

    pub fn config(&self) -> &MelConfig {
        &self.config
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// The filterbank, [n_mels, n_fft/2 + 1] f32.
    pub fn filterbank(&self) -> &Tensor {
        &self.fbank
    }

    /// Power spectrogram: `wave` `[B, N]` (or `[N]`) f32 → `[B, n_fft/2 + 1, 1 + N/hop]`.
    pub fn power_spectrogram(&self, wave: &Tensor) -> Result<Tensor, AudioError> {
        let wave = self.batch(wave)?;
        let pad = self.config.n_fft / 2;
        // tch's stft(center=true) is broken, so reflect-pad here and call it uncentred.
        let padded = wave.f_unsqueeze(1)?.f_pad([pad, pad], "reflect", None)?.f_squeeze_dim(1)?;
        let spec = padded.f_stft(
            self.config.n_fft,
            self.config.hop,
            self.config.n_fft,
            Some(&self.window),
            false,
            true,
            true,
            false,
        )?;
        // |X|² as re² + im² ([B, bins, T]); summing a view_as_real over its last axis was slower.
        Ok(spec.f_real()?.f_square()?.f_add(&spec.f_imag()?.f_square()?)?)
    }

    /// Mel power: [B, N] → [B, n_mels, 1 + N/hop].
    pub fn mel_power(&self, wave: &Tensor) -> Result<Tensor, AudioError> {
        let power = self.power_spectrogram(wave)?;
        Ok(power.f_transpose(1, 2)?.f_matmul(&self.fbank_t)?.f_transpose(1, 2)?)
    }

    /// Log-mel per [`LogScale`]: `[B, N]` (or `[N]`, treated as B = 1) f32 → `[B, n_mels, 1 + N/hop]`.
    pub fn log_mel(&self, wave: &Tensor) -> Result<Tensor, AudioError> {
        let power = self.mel_power(wave)?;
        Ok(match self.config.log {
            LogScale::Decibel => power.f_clamp_min(self.config.amin)?.f_log10()?.f_mul_scalar(10.0)?,
            // Clamped to float16's largest finite value first: numpy would round to inf.
            LogScale::Musicnn => power
                .f_clamp(0.0, F16_MAX)?
                .f_to_kind(Kind::Half)?
                .f_to_kind(Kind::Float)?
                .f_mul_scalar(10_000.0)?
                .f_add_scalar(1.0)?
                .f_log10()?,
        })
    }

    /// Checks the input and brings it to [B, N] f32 on this device.
    fn batch(&self, wave: &Tensor) -> Result<Tensor, AudioError> {
        let size = wave.size();
        let wave = match size.len() {
            1 => wave.f_unsqueeze(0)?,
            2 => wave.shallow_clone(),
            _ => return Err(invalid(format!("waveform must be [B, N] or [N], got {size:?}"))),
        };
        let n = wave.size()[1];
        // Reflection padding needs more samples than the pad on each side.
        if n <= self.config.n_fft / 2 {
            return Err(invalid(format!(
                "waveform of {n} samples is too short (need > {})",
                self.config.n_fft / 2
            )));
        }
        if !matches!(wave.kind(), Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16) {
            return Err(invalid(format!("waveform must be floating point, got {:?}", wave.kind())));
        }
        Ok(wave.f_to_kind(Kind::Float)?.f_to_device(self.device)?)
    }
}

/// Largest finite float16.
const F16_MAX: f64 = 65_504.0;

fn invalid(message: String) -> AudioError {
    AudioError::Tensor(tch::TchError::Shape(message))
}

/// Periodic Hann window `0.5 − 0.5 cos(2πk/n)`, k = 0..n, in f64.
pub fn hann_periodic(n: usize) -> Vec<f64> {
    (0..n).map(|k| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * k as f64 / n as f64).cos()).collect()
}

/// Slaney's scale: 3 mels per 200 Hz below 1 kHz, then 27 mels per factor 6.4.
const SLANEY_HZ_PER_MEL: f64 = 200.0 / 3.0;
const SLANEY_LOG_HZ: f64 = 1000.0;

fn slaney_log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(scale: MelScale, f: f64) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + f / 700.0).log10(),
        MelScale::Slaney if f >= SLANEY_LOG_HZ => {
            SLANEY_LOG_HZ / SLANEY_HZ_PER_MEL + (f / SLANEY_LOG_HZ).ln() / slaney_log_step()
        }
        MelScale::Slaney => f / SLANEY_HZ_PER_MEL,
    }
}

fn mel_to_hz(scale: MelScale, m: f64) -> f64 {
    let log_mel = SLANEY_LOG_HZ / SLANEY_HZ_PER_MEL;
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(m / 2595.0) - 1.0),
        MelScale::Slaney if m >= log_mel => SLANEY_LOG_HZ * (slaney_log_step() * (m - log_mel)).exp(),
        MelScale::Slaney => m * SLANEY_HZ_PER_MEL,
    }
}

/// numpy's `linspace(start, stop, n)` (last point exactly `stop`).
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    let step = (stop - start) / (n - 1) as f64;
    (0..n).map(|i| if i + 1 == n { stop } else { start + i as f64 * step }).collect()
}

/// Triangular mel filters computed in f64, row-major [n_mels, n_fft/2 + 1]: HTK without
/// normalisation (torchaudio `melscale_fbanks(norm=None, mel_scale="htk")`), or Slaney with area
/// normalisation (librosa `filters.mel(htk=False, norm="slaney")`).
pub fn mel_filterbank(config: &MelConfig) -> Vec<f64> {
    let bins = (config.n_fft / 2 + 1) as usize;
    let n_mels = config.n_mels as usize;
    let freqs = linspace(0.0, config.sample_rate as f64 / 2.0, bins);
    let scale = config.scale;
    let edges: Vec<f64> =
        linspace(hz_to_mel(scale, config.f_min), hz_to_mel(scale, config.f_max), n_mels + 2)
            .into_iter()
            .map(|m| mel_to_hz(scale, m))
            .collect();
    let mut fb = vec![0.0; n_mels * bins];
    for m in 0..n_mels {
        let (lo, centre, hi) = (edges[m], edges[m + 1], edges[m + 2]);
        for (b, &f) in freqs.iter().enumerate() {
            let rising = (f - lo) / (centre - lo);
            let falling = (hi - f) / (hi - centre);
            fb[m * bins + b] = rising.min(falling).max(0.0);
        }
        if scale == MelScale::Slaney {
            let area = 2.0 / (hi - lo);
            fb[m * bins..(m + 1) * bins].iter_mut().for_each(|w| *w *= area);
        }
    }
    fb
}
