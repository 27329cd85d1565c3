//! Library indexing, the embedding store, top-k search, story search and soundtracks.

pub mod store;
pub mod topk;

pub use store::{ClipIndex, ClipRecord, IndexError, IndexMeta};
