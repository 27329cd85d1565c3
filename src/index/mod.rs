//! Library indexing, the embedding store, top-k search, story search and soundtracks.

pub mod chunks;
mod clip_file;
pub mod fingerprint;
pub mod indexer;
pub mod lock;
pub mod moods;
mod persist;
pub mod records;
pub mod search;
pub mod soundtrack;
pub mod store;
pub mod topk;

pub use indexer::{build_index, default_index_dir, DamagePolicy, IndexEvent, IndexOptions, IndexReport};
pub use moods::{sounds_like_text, stands_out_text, LibraryMoods, MoodAnchors};
pub use persist::remove_index;
pub use records::SoundsLikeMap;
pub use search::{
    best_chunk, best_chunk_of, clock, Preview, QueryMode, SearchError, SearchHit, SearchResults, Searcher,
};
pub use soundtrack::{soundtrack, Soundtrack, SoundtrackPassage};
pub use store::{ClipIndex, ClipRecord, IndexError, IndexMeta};
