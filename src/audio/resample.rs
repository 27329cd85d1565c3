//! Sample-rate conversion with rubato's FFT resampler (band-limited, high quality).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Indexing, Resampler, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

use super::ResampleError;

/// Frames per resampler chunk: large enough for a sharp anti-aliasing filter.
const CHUNK_FRAMES: usize = 1024;
/// Above this input block size (rate / gcd of the two rates) the FFT resampler's blocks get too
/// large, so odd rate pairs fall back to the asynchronous sinc resampler.
const MAX_FFT_BLOCK: usize = 4096;

/// Resamples mono `samples` from `from` Hz to `to` Hz. Returns the input unchanged when the
/// rates are equal. Output length is [`resampled_len`]; the resampler delay is trimmed.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, ResampleError> {
    if from == to && from != 0 {
        return Ok(samples.to_vec());
    }
    let mut out = Vec::with_capacity(resampled_len(samples.len() as u64, from, to) as usize);
    let mut stream = StreamResampler::new(from, to)?;
    stream.push(samples, &mut |block| out.extend_from_slice(block))?;
    stream.finish(&mut |block| out.extend_from_slice(block))?;
    Ok(out)
}

/// Frames `frames` at `from` Hz become at `to` Hz: `ceil(frames · to / from)`.
pub fn resampled_len(frames: u64, from: u32, to: u32) -> u64 {
    if from == to || from == 0 {
        return frames;
    }
    (to as f64 / from as f64 * frames as f64).ceil() as u64
}

/// Resamples a mono stream block by block, with exactly the output [`resample`] gives for the
/// whole signal (the same chunks go through the same resampler), so a long file never has to
/// be held at either rate.
pub struct StreamResampler {
    inner: Option<Box<dyn Resampler<f32>>>,
    from: u32,
    to: u32,
    /// Input not yet a whole chunk.
    pending: Vec<f32>,
    chunk: usize,
    out: Vec<f32>,
    /// Startup delay frames still to drop from the output.
    to_trim: usize,
    fed: u64,
    emitted: u64,
}

impl StreamResampler {
    pub fn new(from: u32, to: u32) -> Result<Self, ResampleError> {
        let fail = |reason: String| ResampleError { from, to, reason };
        if from == 0 || to == 0 {
            return Err(fail("sample rates must be positive".into()));
        }
        let inner = (from != to).then(|| make_resampler(from, to)).transpose()?;
        let (chunk, out_max, delay) = match &inner {
            Some(r) => (r.input_frames_next(), r.output_frames_max(), r.output_delay()),
            None => (0, 0, 0),
        };
        Ok(Self {
            inner,
            from,
            to,
            pending: Vec::with_capacity(chunk),
            chunk,
            out: vec![0.0; out_max],
            to_trim: delay,
            fed: 0,
            emitted: 0,
        })
    }

    /// Feeds `samples`; whatever output is ready goes to `emit`.
    pub fn push(&mut self, mut samples: &[f32], emit: &mut dyn FnMut(&[f32])) -> Result<(), ResampleError> {
        self.fed += samples.len() as u64;
        if self.inner.is_none() {
            self.emitted += samples.len() as u64;
            emit(samples);
            return Ok(());
        }
        while !samples.is_empty() {
            let take = (self.chunk - self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            // A full chunk is only processed once more input follows it, as rubato's own
            // process_all treats a last chunk that is exactly full as its partial one.
            if self.pending.len() == self.chunk && !samples.is_empty() {
                self.process(None, u64::MAX, emit)?;
            }
        }
        Ok(())
    }

    /// Flushes the last partial chunk and the resampler's delay; the total emitted is
    /// [`resampled_len`] of the frames fed.
    pub fn finish(mut self, emit: &mut dyn FnMut(&[f32])) -> Result<(), ResampleError> {
        if self.inner.is_none() {
            return Ok(());
        }
        let expected = resampled_len(self.fed, self.from, self.to);
        if !self.pending.is_empty() {
            let n = self.pending.len();
            self.pending.resize(self.chunk, 0.0);
            self.process(Some(n), expected, emit)?;
        }
        self.pending.clear();
        self.pending.resize(self.chunk, 0.0);
        while self.emitted < expected {
            self.process(Some(0), expected, emit)?;
        }
        Ok(())
    }

    /// Runs one chunk (`partial`: how many of `pending`'s frames are real) and emits its output
    /// after the startup delay, up to `cap` frames emitted in all.
    fn process(
        &mut self,
        partial: Option<usize>,
        cap: u64,
        emit: &mut dyn FnMut(&[f32]),
    ) -> Result<(), ResampleError> {
        let (from, to) = (self.from, self.to);
        let fail = |reason: String| ResampleError { from, to, reason };
        let Some(inner) = self.inner.as_mut() else { return Ok(()) };
        let input = InterleavedSlice::new(&self.pending, 1, self.chunk).map_err(|e| fail(e.to_string()))?;
        let frames = self.out.len();
        let mut output =
            InterleavedSlice::new_mut(&mut self.out, 1, frames).map_err(|e| fail(e.to_string()))?;
        let indexing = Indexing { partial_len: partial, ..Indexing::new() };
        let (_, produced) = inner
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| fail(e.to_string()))?;
        self.pending.clear();
        let skip = self.to_trim.min(produced);
        self.to_trim -= skip;
        let room = cap.saturating_sub(self.emitted).min((produced - skip) as u64) as usize;
        if room > 0 {
            emit(&self.out[skip..skip + room]);
            self.emitted += room as u64;
        }
        Ok(())
    }
}

/// rubato's FFT resampler for rate pairs with a small common block, the sinc one otherwise.
fn make_resampler(from: u32, to: u32) -> Result<Box<dyn Resampler<f32>>, ResampleError> {
    let fail = |reason: String| ResampleError { from, to, reason };
    let (from_us, to_us) = (from as usize, to as usize);
    let block = from_us / gcd(from_us, to_us);
    Ok(if block <= MAX_FFT_BLOCK {
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
    })
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

    /// rubato's own whole-clip path, which `resample` must equal.
    fn process_all(x: &[f32], from: u32, to: u32) -> Vec<f32> {
        let mut r = make_resampler(from, to).unwrap();
        let input = InterleavedSlice::new(x, 1, x.len()).unwrap();
        r.process_all(&input, x.len(), None).unwrap().take_data()
    }

    #[test]
    fn streaming_equals_the_whole_clip_path_in_any_blocks() {
        for (rate, n) in
            [(44_100u32, 44_100usize), (22_050, 1000), (48_000, 1024 * 3), (44_057, 30_000), (44_100, 7)]
        {
            let x = sine(440.0, rate, n);
            let whole = process_all(&x, rate, 16_000);
            assert_eq!(resample(&x, rate, 16_000).unwrap(), whole, "{rate} Hz, {n} frames");
            for block in [1usize, 333, 4096] {
                let mut out = Vec::new();
                let mut s = StreamResampler::new(rate, 16_000).unwrap();
                for part in x.chunks(block) {
                    s.push(part, &mut |b| out.extend_from_slice(b)).unwrap();
                }
                s.finish(&mut |b| out.extend_from_slice(b)).unwrap();
                assert_eq!(out, whole, "{rate} Hz, {n} frames in blocks of {block}");
            }
        }
    }

    #[test]
    fn zero_rate_is_an_error() {
        assert!(resample(&[0.0; 10], 0, 16_000).is_err());
        assert!(resample(&[0.0; 10], 16_000, 0).is_err());
    }
}
