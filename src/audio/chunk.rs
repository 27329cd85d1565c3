//! The original's 5-s chunks: one random crop for training, 16 evenly spaced crops for evaluation.

use rand::Rng;
use tch::{Device, Kind, Tensor};

/// Samples per chunk: 5 s at 16 kHz (the original's `input_length`).
pub const CHUNK_SAMPLES: usize = 80_000;
/// Chunks averaged per clip at evaluation.
pub const EVAL_CHUNKS: usize = 16;

/// One random 5-s crop (training); clips shorter than a chunk are zero-padded at the end.
pub fn random_chunk(samples: &[f32], rng: &mut impl Rng) -> Vec<f32> {
    if samples.len() <= CHUNK_SAMPLES {
        return padded(samples);
    }
    let start = rng.random_range(0..=samples.len() - CHUNK_SAMPLES);
    samples[start..start + CHUNK_SAMPLES].to_vec()
}

/// Start of evaluation chunk `i` for a clip of `len` samples: `i · ⌊(len − 80000) / 16⌋`
/// (0 for clips no longer than a chunk).
pub fn eval_chunk_start(len: usize, i: usize) -> usize {
    i * (len.saturating_sub(CHUNK_SAMPLES) / EVAL_CHUNKS)
}

/// The 16 evaluation chunks of a clip, each [`CHUNK_SAMPLES`] long (zero-padded when short).
pub fn eval_chunks(samples: &[f32]) -> Vec<Vec<f32>> {
    (0..EVAL_CHUNKS)
        .map(|i| {
            let start = eval_chunk_start(samples.len(), i);
            padded(&samples[start..(start + CHUNK_SAMPLES).min(samples.len())])
        })
        .collect()
}

/// The evaluation chunks as one tensor: [16, 80000] f32 on `device`.
pub fn eval_chunks_tensor(samples: &[f32], device: Device) -> Tensor {
    let flat: Vec<f32> = eval_chunks(samples).concat();
    Tensor::from_slice(&flat)
        .view([EVAL_CHUNKS as i64, CHUNK_SAMPLES as i64])
        .to_device(device)
        .to_kind(Kind::Float)
}

fn padded(samples: &[f32]) -> Vec<f32> {
    let mut out = samples[..samples.len().min(CHUNK_SAMPLES)].to_vec();
    out.resize(CHUNK_SAMPLES, 0.0);
    out
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn ramp(n: usize) -> Vec<f32> {
        (0..n).map(|i| i as f32).collect()
    }

    #[test]
    fn eval_chunks_follow_the_original_hop() {
        let x = ramp(480_384);
        let chunks = eval_chunks(&x);
        let hop = (480_384 - 80_000) / 16;
        assert_eq!(chunks.len(), 16);
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.len(), CHUNK_SAMPLES);
            assert_eq!(c[0], (i * hop) as f32);
            assert_eq!(c[CHUNK_SAMPLES - 1], (i * hop + CHUNK_SAMPLES - 1) as f32);
        }
    }

    #[test]
    fn short_clips_are_zero_padded() {
        let x = ramp(1000);
        for c in eval_chunks(&x) {
            assert_eq!(&c[..1000], &x[..]);
            assert!(c[1000..].iter().all(|&v| v == 0.0));
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let c = random_chunk(&x, &mut rng);
        assert_eq!(c.len(), CHUNK_SAMPLES);
        assert_eq!(&c[..1000], &x[..]);
    }

    #[test]
    fn random_chunk_is_a_contiguous_crop_inside_the_clip() {
        let x = ramp(200_000);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let starts: Vec<f32> = (0..20).map(|_| random_chunk(&x, &mut rng)[0]).collect();
        for s in &starts {
            assert!(*s >= 0.0 && *s as usize <= 200_000 - CHUNK_SAMPLES);
        }
        assert!(starts.iter().any(|s| *s != starts[0]), "crops should vary");
        let c = random_chunk(&x, &mut rng);
        assert!(c.windows(2).all(|w| w[1] == w[0] + 1.0));
    }

    #[test]
    fn tensor_layout_matches_the_vectors() {
        let x: Vec<f32> = (0..100_000).map(|i| (i % 97) as f32).collect();
        let t = eval_chunks_tensor(&x, Device::Cpu);
        assert_eq!(t.size(), vec![16, 80_000]);
        let chunks = eval_chunks(&x);
        let row5: Vec<f32> = Vec::try_from(t.get(5)).unwrap();
        assert_eq!(row5, chunks[5]);
    }
}
