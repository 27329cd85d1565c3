//! storyscore: match music to the emotion of a story.
//!
//! Data flows one way: files → datasets → front ends (mel, tokens) → models → embeddings →
//! index → search and the terminal app. The method is Won et al., "Emotion Embedding Spaces
//! for Matching Music to Stories" (ISMIR 2021).

pub mod audio;
pub mod cache;
pub mod config;
pub mod data;
pub mod emotion;
pub mod eval;
pub mod heap;
pub mod index;
pub mod logging;
pub mod model;
pub mod monitor;
pub mod text;
pub mod train;
pub mod tui;
