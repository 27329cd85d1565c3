//! Models of the five emotion spaces: the audio CNN, the projection heads, the losses and
//! negative sampling, model directories, and the authors' Lightning checkpoints.

pub mod audio_cnn;
pub mod error;
pub mod head;
pub mod weights;

pub use audio_cnn::{AudioCnn, AudioCnnConfig};
pub use error::{ModelError, Result};
pub use head::Head;
