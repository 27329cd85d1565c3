//! Audio front end: decode (hound, symphonia, npy), downmix, resample to 16 kHz (rubato),
//! the paper's 5-s chunks, log-mel on tch, fast probing, and playback (cpal).
//!
//! The model side only ever sees [`load_mono_16k`] → [`chunk`] → [`MelFrontEnd::log_mel`].

mod batch;
pub mod chunk;
pub mod decode;
mod error;
pub mod mel;
mod open;
pub mod playback;
pub mod probe;
pub mod resample;
pub mod stream;

pub use batch::{decode_many, BatchDecode};
pub use chunk::{eval_chunks, eval_chunks_tensor, random_chunk, CHUNK_SAMPLES, EVAL_CHUNKS};
pub use decode::{decode, is_audio_file, load_mono_16k, Decoded};
pub use error::{brief, AudioError, ResampleError};
pub use mel::{LogScale, MelConfig, MelFrontEnd, MelScale};
pub use open::AUDIO_EXTENSIONS;
pub use playback::{list_output_devices, PlaybackStatus, Player};
pub use probe::{probe, ClipInfo};
pub use resample::{resample, StreamResampler};
pub use stream::{read_excerpts_16k, Excerpts, PcmStream};

/// The sample rate every model input uses (the original's 16 kHz).
pub const SAMPLE_RATE: u32 = 16_000;
