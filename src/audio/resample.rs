//! Sample-rate conversion with rubato's FFT resampler (band-limited, high quality).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Resampler, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

use super::ResampleError;

/// Frames per resampler chunk: large enough for a sharp anti-aliasing filter.
const CHUNK_FRAMES: usize = 1024;
/// Above this input block size (rate / gcd of the two rates) the FFT resampler's blocks get too
/// large, so odd rate pairs fall back to the asynchronous sinc resampler.
const MAX_FFT_BLOCK: usize = 4096;

/// Resamples mono `samples` from `from` Hz to `to` Hz. Returns the input unchanged when the
/// rates are equal. Output length is `ceil(len · to / from)`; the resampler delay is trimmed.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, ResampleError> {
    let fail = |reason: String| ResampleError { from, to, reason };
    if from == 0 || to == 0 {
        return Err(fail("sample rates must be positive".into()));
    }
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let (from_us, to_us) = (from as usize, to as usize);
    let block = from_us / gcd(from_us, to_us);
    let mut resampler: Box<dyn Resampler<f32>> = if block <= MAX_FFT_BLOCK {
        let chunk = CHUNK_FRAMES.max(block);
        Box::new(
            Fft::<f32>::new(from_us, to_us, chunk, 1, FixedSync::Input).map_err(|e| fail(e.to_string()))?,
        )
    } else {
        let params = SincInterpolationParameters {
            sinc_len: 256,
            f_cutoff: None,
            oversampling_factor: 256,
            interpolation: SincInterpolationType::Cubic,
            window: WindowFunction::BlackmanHarris2,
        }
        .with_cutoff();
        Box::new(
            Async::<f32>::new_sinc(to as f64 / from as f64, 1.0, &params, CHUNK_FRAMES, 1, FixedAsync::Input)
                .map_err(|e| fail(e.to_string()))?,
        )
    };
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| fail(e.to_string()))?;
    let out = resampler.process_all(&input, samples.len(), None).map_err(|e| fail(e.to_string()))?;
    Ok(out.take_data())
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

trait WithCutoff {
    fn with_cutoff(self) -> Self;
}

impl WithCutoff for SincInterpolationParameters {
    /// rubato's recommended cutoff for the chosen filter length and window.
    fn with_cutoff(mut self) -> Self {
        self.f_cutoff = Some(rubato::calculate_cutoff::<f32>(self.sinc_len, self.window));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n).map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin() as f32).collect()
    }

    /// Least-squares fit of `y[j] ≈ A sin(w (j + shift))` over the middle of `y`: (A, shift in samples).
    fn fit_sine(y: &[f32], freq: f64, rate: u32) -> (f64, f64) {
        let w = 2.0 * std::f64::consts::PI * freq / rate as f64;
        let (mut ss, mut sc, mut cc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (j, &v) in y.iter().enumerate().take(y.len() * 7 / 8).skip(y.len() / 8) {
            let (s, c) = ((w * j as f64).sin(), (w * j as f64).cos());
            ss += s * s;
            sc += s * c;
            cc += c * c;
            ys += v as f64 * s;
            yc += v as f64 * c;
        }
        let det = ss * cc - sc * sc;
        let (a, b) = ((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det);
        ((a * a + b * b).sqrt(), b.atan2(a) / w)
    }

    #[test]
    fn same_rate_is_identity() {
        let x = sine(440.0, 16_000, 1600);
        assert_eq!(resample(&x, 16_000, 16_000).unwrap(), x);
    }

    #[test]
    fn gain_length_and_timing_are_kept() {
        // 44.1k and 22.05k take the FFT resampler, 44 057 Hz the sinc fallback.
        for (rate, freq) in
            [(44_100, 440.0), (44_100, 5000.0), (22_050, 1000.0), (32_000, 440.0), (44_057, 300.0)]
        {
            let x = sine(freq, rate, rate as usize);
            let y = resample(&x, rate, 16_000).unwrap();
            let expect = (x.len() as f64 * 16_000.0 / rate as f64).ceil() as usize;
            assert!(y.len().abs_diff(expect) <= 1, "{rate}: {} vs {expect}", y.len());
            let (amp, shift) = fit_sine(&y, freq, 16_000);
            assert!((amp - 1.0).abs() < 1e-3, "{rate} Hz, {freq} Hz tone: gain {amp}");
            // The startup delay is trimmed; what is left is a sub-sample offset of rubato's.
            assert!(shift.abs() < 0.6, "{rate} Hz: shifted by {shift} samples");
        }
    }

    #[test]
    fn content_above_8k_is_filtered_out() {
        let x = sine(12_000.0, 44_100, 44_100);
        let y = resample(&x, 44_100, 16_000).unwrap();
        let rms = (y[2000..14000].iter().map(|v| (v * v) as f64).sum::<f64>() / 12_000.0).sqrt();
        assert!(rms < 1e-3, "aliased energy {rms}");
    }

    #[test]
    fn zero_rate_is_an_error() {
        assert!(resample(&[0.0; 10], 0, 16_000).is_err());
        assert!(resample(&[0.0; 10], 16_000, 0).is_err());
    }
}
