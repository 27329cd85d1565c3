//! `storyscore eval`: the paper-style table of models beside the random and label-prior baselines.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use storyscore::cache::Caches;
use storyscore::data::Modality;
use storyscore::eval::{self, EvalOptions, EvalReport, EvalSet};
use storyscore::model::{EmotionModel, WindowMode};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model directory (model.toml + model.safetensors) or training run directory; repeatable.
    #[arg(long = "model", required = true)]
    models: Vec<PathBuf>,
    /// Text dataset as KIND:PATH (isear, goemotions, emobank, ttm); several join with +
    /// (isear:A+goemotions:B+emobank:C).
    #[arg(long)]
    text: String,
    /// Music dataset as KIND:PATH (4q, ttm, folder).
    #[arg(long)]
    music: String,
    /// Only this mapping in the tag view (default: manual, va and w2v).
    #[arg(long, value_parser = ["manual", "va", "w2v"])]
    mapping: Option<String>,
    /// Evaluate every item instead of the test split.
    #[arg(long)]
    all: bool,
    /// Evaluation chunks per clip (the paper averages 16).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    chunks: u16,
    /// Compute each clip's chunks as the indexer does (overlapping chunks share the trunk's
    /// first layers; starts snapped to its grid) instead of one by one as the paper does.
    #[arg(long)]
    shared_windows: bool,
    /// Print {"rows": [...]} instead of the table.
    #[arg(long)]
    json: bool,
}

fn load(spec: &str, modality: Modality) -> anyhow::Result<storyscore::data::Dataset> {
    let (data, _) =
        storyscore::data::load_joined(spec, modality).with_context(|| format!("loading {spec}"))?;
    Ok(data)
}

/// Row names of the models: each directory's last path component, or as many trailing components
/// as it takes to tell apart directories that share it (`seed7/classify`, `seed42/classify`).
fn names_of(dirs: &[std::path::PathBuf]) -> Vec<String> {
    let tail = |dir: &Path, n: usize| -> String {
        let parts: Vec<String> =
            dir.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        parts[parts.len().saturating_sub(n)..].join("/")
    };
    dirs.iter()
        .map(|dir| {
            let depth = dir.components().count().max(1);
            (1..=depth)
                .map(|n| tail(dir, n))
                .find(|name| {
                    let n = name.matches('/').count() + 1;
                    dirs.iter().filter(|d| tail(d, n) == *name).count() <= 1
                })
                .unwrap_or_else(|| dir.display().to_string())
        })
        .collect()
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let text = load(&args.text, Modality::Text)?;
    let music = load(&args.music, Modality::Music)?;
    let mappings: Vec<String> = match &args.mapping {
        Some(m) => vec![m.clone()],
        None => ["manual", "va", "w2v"].map(String::from).to_vec(),
    };
    let opts = EvalOptions {
        mappings: mappings.clone(),
        chunks: usize::from(args.chunks),
        windows: if args.shared_windows { WindowMode::Shared } else { WindowMode::Exact },
        caches: Caches::new(&ctx.dirs.cache, &ctx.config),
        note: |line| eprintln!("{line}"),
    };
    let mut rows = Vec::new();
    // Baselines are shown once per distinct evaluation set (run directories carry their own splits).
    let mut sets: Vec<(EvalSet, String)> = Vec::new();
    let names = names_of(&args.models);
    for (dir, name) in args.models.iter().zip(&names) {
        let model = EmotionModel::load(dir, tch::Device::Cpu)
            .with_context(|| format!("loading model {}", dir.display()))?;
        let set = eval::eval_set_for(dir, &text, &music, args.all)?;
        if !args.json {
            eprintln!(
                "evaluating {} ({}): {} queries, {} clips",
                dir.display(),
                model.space(),
                set.queries.len(),
                set.clips.len()
            );
        }
        rows.extend(eval::model_rows(name, dir, &model, &set, &opts)?);
        if !sets.iter().any(|(s, _)| *s == set) {
            sets.push((set, name.clone()));
        }
    }
    let shared = sets.len() == 1;
    for (set, first) in &sets {
        let name = if shared { "baseline".to_string() } else { format!("baseline({first})") };
        rows.extend(eval::baseline_rows(&name, set, &opts)?);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&EvalReport { rows: &rows })?);
    } else {
        let names: Vec<&str> = mappings.iter().map(String::as_str).collect();
        print!("{}", eval::render(&rows, &names));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::names_of;
    use std::path::PathBuf;

    #[test]
    fn model_names_grow_until_they_differ() {
        let dirs: Vec<PathBuf> = ["data/default-model", "runs/seed7/classify", "runs/seed42/classify", "va"]
            .map(PathBuf::from)
            .to_vec();
        assert_eq!(names_of(&dirs), ["default-model", "seed7/classify", "seed42/classify", "va"]);
        let same = [PathBuf::from("a/m"), PathBuf::from("a/m")];
        assert_eq!(names_of(&same), ["a/m", "a/m"]);
    }
}
