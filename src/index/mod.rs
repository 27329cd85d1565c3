//! Library indexing, the embedding store, top-k search, story search and soundtracks.

pub mod topk;
