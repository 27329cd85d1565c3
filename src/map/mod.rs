//! The emotion space on a plane, for the Map tab and anyone drawing an index: a linear projection
//! (valence–arousal, or the first two principal components) and a UMAP layout of the clips, with
//! the model's mood anchors placed on both.

pub mod projection;
pub mod umap;

pub use projection::{MapData, Projection};
pub use umap::{UmapError, UmapLayout};
