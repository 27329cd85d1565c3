//! Library-level tests: readers, front ends, models, metrics, training pieces, called in-process.
//!
//! One test binary per level, not one per file: each binary links libtorch, and linking is most
//! of a fresh `cargo test`.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/flac.rs"]
mod flac;

mod audio_bad_input;
mod audio_decode;
mod audio_flac;
mod audio_mel_parity;
mod audio_mp3;
mod audio_playback;
mod data_malformed;
mod data_music;
mod data_proptest;
mod data_text;
mod emotion_readers;
mod emotion_tables;
mod eval_baselines;
mod eval_metrics;
mod index_chunks;
mod index_records;
mod model_audio_cnn;
mod model_emotion_model;
mod model_heads;
mod model_lightning_ckpt;
mod model_losses;
mod model_musicnn;
mod model_windows;
mod story_probes;
mod text_encoder;
mod text_feature_cache;
mod text_input;
mod text_tokenizer;
mod train_run_dir;
mod train_spaces;
