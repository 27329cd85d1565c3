//! Loading Hugging Face safetensors into a `VarStore` by tensor name.

use std::collections::HashMap;
use std::path::Path;

use tch::{nn::VarStore, Tensor};

use super::error::{Result, TextError};

/// What a load matched: tensors the file had that the model does not use (pooler, MLM head…).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// The prefix stripped from the file's names (`bert.`, `distilbert.`), if any.
    pub prefix: String,
    pub unused: Vec<String>,
}

/// Copies every variable of `vs` from the safetensors file at `path`. A file name may carry one
/// of `prefixes` (e.g. `bert.` of a `BertFor…` head model); extra tensors are reported, not
/// loaded. Missing tensors and shape mismatches are errors naming the tensor.
pub fn load_safetensors(vs: &mut VarStore, path: &Path, prefixes: &[&str]) -> Result<LoadReport> {
    let bad = |message: String| TextError::Weights { path: path.into(), message };
    if !path.is_file() {
        return Err(bad("file not found".into()));
    }
    let file: HashMap<String, Tensor> =
        Tensor::read_safetensors(path).map_err(|e| bad(e.to_string()))?.into_iter().collect();
    let vars = vs.variables();
    // The prefix is the one under which the file has the model's first variable.
    let prefix = std::iter::once("")
        .chain(prefixes.iter().copied())
        .find(|pre| vars.keys().any(|k| file.contains_key(&format!("{pre}{k}"))))
        .unwrap_or("");
    let mut missing: Vec<String> = Vec::new();
    for (name, var) in &vars {
        let key = format!("{prefix}{name}");
        let Some(src) = file.get(&key) else {
            missing.push(key);
            continue;
        };
        if src.size() != var.size() {
            return Err(TextError::ShapeMismatch {
                path: path.into(),
                name: key,
                expected: var.size(),
                found: src.size(),
            });
        }
        let mut var = var.shallow_clone();
        tch::no_grad(|| var.f_copy_(&src.to_kind(var.kind())))?;
    }
    if !missing.is_empty() {
        missing.sort();
        return Err(TextError::MissingTensor {
            path: path.into(),
            count: missing.len(),
            first: missing.remove(0),
        });
    }
    let mut unused: Vec<String> = file
        .into_keys()
        .filter(|k| !k.strip_prefix(prefix).is_some_and(|rest| vars.contains_key(rest)))
        .collect();
    unused.sort();
    Ok(LoadReport { prefix: prefix.to_string(), unused })
}
