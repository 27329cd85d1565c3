//! Moving weights between files and var stores under the PyTorch reference names.

use std::collections::HashMap;
use std::path::Path;

use tch::nn::VarStore;
use tch::{Kind, Tensor};

use super::error::{ModelError, Result};

/// Named tensors as read from a weight file.
pub type NamedTensors = HashMap<String, Tensor>;

/// Reads every tensor of a safetensors file.
pub fn read_safetensors(path: &Path) -> Result<NamedTensors> {
    let tensors = Tensor::read_safetensors(path)
        .map_err(|e| ModelError::Read { path: path.into(), message: e.to_string() })?;
    Ok(tensors.into_iter().collect())
}

/// Copies tensors into every variable of `vs` whose name starts with `prefix`; the file's name of
/// variable `prefix + rest` is `source_prefix + rest`. Missing names and shape mismatches are errors
/// naming `path`; tensors of the file that the model does not use are ignored (e.g. BatchNorm's
/// `num_batches_tracked`, a BERT pooler).
pub fn copy_into(
    vs: &VarStore,
    prefix: &str,
    tensors: &NamedTensors,
    source_prefix: &str,
    path: &Path,
) -> Result<usize> {
    copy_matching(vs, tensors, path, |name| {
        name.strip_prefix(prefix).map(|rest| format!("{source_prefix}{rest}"))
    })
}

/// Copies into every variable for which `source` names a tensor of the file (`None` skips the
/// variable); errors as [`copy_into`].
pub fn copy_matching(
    vs: &VarStore,
    tensors: &NamedTensors,
    path: &Path,
    source: impl Fn(&str) -> Option<String>,
) -> Result<usize> {
    let mut copied = 0;
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, mut var) in vars {
        let Some(source) = source(&name) else { continue };
        let src = tensors
            .get(&source)
            .ok_or_else(|| ModelError::MissingTensor { path: path.into(), name: source.clone() })?;
        if src.size() != var.size() {
            return Err(ModelError::TensorShape {
                path: path.into(),
                name: source,
                expected: var.size(),
                got: src.size(),
            });
        }
        tch::no_grad(|| var.f_copy_(&src.to_kind(var.kind()).to_device(var.device())))?;
        copied += 1;
    }
    Ok(copied)
}

/// The variables of `vs` that `keep` accepts, plus a zero int64
/// `num_batches_tracked` beside every BatchNorm `running_mean`, so the file loads strictly into
/// the PyTorch reference modules.
pub fn state_dict(vs: &VarStore, keep: impl Fn(&str) -> bool) -> Vec<(String, Tensor)> {
    let mut out: Vec<(String, Tensor)> = Vec::new();
    for (name, t) in vs.variables() {
        if !keep(&name) {
            continue;
        }
        if let Some(bn) = name.strip_suffix(".running_mean") {
            out.push((
                format!("{bn}.num_batches_tracked"),
                Tensor::zeros([], (Kind::Int64, tch::Device::Cpu)),
            ));
        }
        out.push((name, t.detach().to_device(tch::Device::Cpu).contiguous()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Writes named tensors as safetensors, atomically (temp file + rename).
pub fn write_safetensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let err = |message: String| ModelError::Write { path: path.into(), message };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = Tensor::write_safetensors(tensors, &tmp)
        .map_err(|e| e.to_string())
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| e.to_string()));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

/// A short content hash of `config_text` and the float tensors of `tensors`.
pub fn content_id(config_text: &str, tensors: &[(String, Tensor)]) -> Result<String> {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(config_text.as_bytes());
    for (name, t) in tensors {
        if !t.is_floating_point() {
            continue;
        }
        h.update(name.as_bytes());
        h.update(format!("{:?}", t.size()).as_bytes());
        let values = Vec::<f32>::try_from(t.to_kind(Kind::Float).flatten(0, -1))?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        h.update(&bytes);
    }
    Ok(h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect())
}
