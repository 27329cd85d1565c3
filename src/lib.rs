//! storyscore: match music to the emotion of a story.
//!
//! Data flows one way: files → datasets → front ends (mel, tokens) → models → embeddings →
//! index → search and the terminal app. The method is Won et al., "Emotion Embedding Spaces
//! for Matching Music to Stories" (ISMIR 2021).
//!
//! The modules are layered; each may use only the layers below it ([`LAYERS`], lowest first;
//! a unit test fails on an upward `crate::` path):
//!
//! | layer | modules |
//! |---|---|
//! | 0 basics | `formats` (`.npy`, pickles), `heap`, `logging`, `config`, `metrics` |
//! | 1 front ends | `audio`, `cache`, `emotion`, `text`, `monitor` |
//! | 2 datasets and models | `data`, `model` |
//! | 3 computed once | `features` (cached text features, clip embeddings), `index`, `map` (PCA and UMAP of an index) |
//! | 4 training | `train` |
//! | 5 evaluation | `eval` (reads run directories) |
//! | 6 the app | `tui` (the CLI lives in the binary, above everything) |

pub mod audio;
pub mod cache;
pub mod config;
pub mod data;
pub mod emotion;
pub mod eval;
pub mod features;
pub mod formats;
pub mod heap;
pub mod index;
pub mod logging;
pub mod map;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod text;
pub mod train;
pub mod tui;

/// Library modules, lowest layer first: a module may use only modules listed before it.
pub const LAYERS: [&str; 18] = [
    "formats", "heap", "logging", "config", "metrics", "audio", "cache", "emotion", "text", "monitor",
    "data", "model", "features", "index", "map", "train", "eval", "tui",
];

#[cfg(test)]
mod layering {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The top-level modules named by `crate::` paths in `text` (`crate::a::b`, `crate::{a, b}`).
    fn imports(text: &str) -> BTreeSet<String> {
        names_after(text, "crate::")
    }

    /// The first names of the paths that follow `prefix` in `text` (`P::a::b`, `P::{a, b}`).
    fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (i, _) in text.match_indices(prefix) {
            if text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &text[i + prefix.len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => {
                    let mut depth = 0;
                    let end = group
                        .char_indices()
                        .find(|&(_, c)| {
                            depth += i32::from(c == '{') - i32::from(c == '}');
                            depth < 0
                        })
                        .map_or(group.len(), |(j, _)| j);
                    let mut parts = Vec::new();
                    let (mut depth, mut start) = (0, 0);
                    for (j, c) in group[..end].char_indices() {
                        match c {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            ',' if depth == 0 => {
                                parts.push(group[start..j].trim());
                                start = j + 1;
                            }
                            _ => {}
                        }
                    }
                    parts.push(group[start..end].trim());
                    parts
                }
                None => vec![rest],
            };
            for n in names {
                let ident: String = n.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !ident.is_empty() {
                    out.insert(ident);
                }
            }
        }
        out
    }

    fn sources(path: &Path, out: &mut Vec<std::path::PathBuf>) {
        if path.is_dir() {
            for e in std::fs::read_dir(path).unwrap().flatten() {
                sources(&e.path(), out);
            }
        } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
    }

    #[test]
    fn no_module_uses_a_layer_above_it() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let rank = |m: &str| super::LAYERS.iter().position(|l| *l == m);
        let mut upward = Vec::new();
        for (level, module) in super::LAYERS.iter().enumerate() {
            let mut files = Vec::new();
            sources(&src.join(module), &mut files);
            sources(&src.join(format!("{module}.rs")), &mut files);
            assert!(!files.is_empty(), "no sources for module {module}");
            for f in files {
                let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                for m in imports(&text) {
                    match rank(&m) {
                        Some(r) if r > level => upward.push(format!("{}: crate::{m}", f.display())),
                        None if src.join(&m).is_dir() || src.join(format!("{m}.rs")).is_file() => {
                            upward.push(format!("{}: crate::{m} (module missing from LAYERS)", f.display()))
                        }
                        _ => {}
                    }
                }
            }
        }
        assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
    }

    /// No two submodules of one module import each other (`crate::m::a` ↔ `crate::m::b`, or
    /// `super::` between files directly under `m`).
    #[test]
    fn no_two_submodules_import_each_other() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut loops = Vec::new();
        for module in super::LAYERS {
            let dir = src.join(module);
            if !dir.is_dir() {
                continue;
            }
            let mut files = Vec::new();
            sources(&dir, &mut files);
            // Each file counts for the child of `module` it lives in.
            let mut deps: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
            let children: BTreeSet<String> = files.iter().filter_map(|f| child(&dir, f)).collect();
            for f in &files {
                let Some(me) = child(&dir, f) else { continue };
                let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                let mut used = names_after(&text, &format!("crate::{module}::"));
                let direct = f.parent() == Some(dir.as_path()) && !f.ends_with("mod.rs");
                if direct {
                    used.extend(names_after(&text, "super::"));
                }
                used.retain(|m| *m != me && children.contains(m));
                deps.entry(me).or_default().extend(used);
            }
            for (a, used) in &deps {
                for b in used {
                    if a < b && deps.get(b).is_some_and(|d| d.contains(a)) {
                        loops.push(format!("{module}::{a} <-> {module}::{b}"));
                    }
                }
            }
        }
        assert!(loops.is_empty(), "submodules importing each other:\n{}", loops.join("\n"));
    }

    /// The child of `dir` that `file` belongs to (`dir/a.rs` or `dir/a/…` → `a`); none for
    /// `dir/mod.rs`.
    fn child(dir: &Path, file: &Path) -> Option<String> {
        let rel = file.strip_prefix(dir).ok()?;
        let first = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
        match first.strip_suffix(".rs") {
            Some("mod") => None,
            Some(name) => Some(name.to_string()),
            None => Some(first),
        }
    }

    #[test]
    fn import_scan_reads_paths_and_groups() {
        let found = imports("use crate::a::b;\nuse crate::{c::{d, e}, f};\nlet x = crate::g::h();");
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["a", "c", "f", "g"]);
    }
}
