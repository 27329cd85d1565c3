//! Text front end: tokenizer and transformer encoders (BERT, DistilBERT) on libtorch, pooling
//! into sentence embeddings, and story input handling (validation, sentence and paragraph split).

pub mod attention;
pub mod bert;
pub mod distilbert;
pub mod encoder;
pub mod error;
pub mod input;
pub mod language;
pub mod passages;
pub mod pooling;
pub mod sentence;
pub mod tokenizer;
pub mod weights;

pub use bert::{Bert, BertConfig};
pub use distilbert::{DistilBert, DistilBertConfig};
pub use encoder::{EncoderConfig, TextEncoder};
pub use error::TextError;
pub use input::{InputError, StoryText};
pub use language::looks_english;
pub use passages::{has_words, repair_line_breaks, split_paragraphs, split_sentences, Passage};
pub use pooling::{l2_normalize, Pooling};
pub use sentence::{SentenceEmbeddings, SentenceEncoder};
pub use tokenizer::{TextTokenizer, TokenBatch, Tokens};
pub use weights::{load_safetensors, LoadReport};
