//! `storyscore import FILE.ckpt --out DIR`: converts an authors' Lightning checkpoint
//! (`alm_cross.ckpt`, `isear_cross.ckpt`) into a model directory.

use std::path::PathBuf;

use storyscore::model::lightning::{import_lightning, ImportOptions};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Lightning checkpoint (read as data; nothing in it is executed).
    pub checkpoint: PathBuf,
    /// Model directory to write (model.toml, model.safetensors, text_encoder/config.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Text labels the model was trained on: isear (isear_cross.ckpt) or alm (alm_cross.ckpt).
    #[arg(long, default_value = "isear")]
    pub labels: String,
    /// DistilBERT attention heads (not recorded in the checkpoint); default hidden size / 64.
    #[arg(long)]
    pub heads: Option<i64>,
    /// Word vectors of the tag branch's width (e.g. 300-d word2vec) for explaining results
    /// with mood words; without them the mood words go through the text branch.
    #[arg(long)]
    pub word_vectors: Option<PathBuf>,
    /// Tokenizer directory or installed model name (uncased WordPiece).
    #[arg(long, default_value = storyscore::model::config::DEFAULT_ENCODER)]
    pub tokenizer: String,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let options = ImportOptions {
        n_heads: args.heads,
        text_vocabulary: args.labels,
        word_vectors: args.word_vectors,
        tokenizer: args.tokenizer,
    };
    let mut model = import_lightning(&args.checkpoint, &options, ctx.config.tch_device())?;
    let id = model.save(&args.out)?;
    println!("{} → {} (three-branch, id {id})", args.checkpoint.display(), args.out.display());
    Ok(())
}
