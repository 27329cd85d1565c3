//! `metrics.jsonl`: one JSON object per line, appended and flushed at every step.
//!
//! A crash can leave a torn last line; readers skip it and the writer cuts it off before appending.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::RunError;

/// One line of `metrics.jsonl`: a training step, a validation, or both.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetricsRecord {
    pub step: u64,
    pub epoch: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    /// Per-branch losses (`tag_text`, `tag_song`, `text_song`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub branch_losses: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_per_s: Option<f64>,
    /// Wall time of the step, waiting for its batch included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_at_5: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrr: Option<f64>,
    /// Milliseconds since the Unix epoch.
    #[serde(default)]
    pub unix_ms: u64,
}

/// Parses complete lines; a line that is not valid JSON is skipped (only a torn tail can be).
fn parse_lines(text: &str) -> Vec<MetricsRecord> {
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// Reads every complete record of a `metrics.jsonl`; a missing file has none.
pub fn read_metrics(path: &Path) -> Result<Vec<MetricsRecord>, RunError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_lines(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(RunError::io(path, e)),
    }
}

/// Appends records to `metrics.jsonl`.
pub struct MetricsLog {
    path: PathBuf,
    file: File,
}

impl MetricsLog {
    /// Opens for appending. Records after `keep_up_to_step` (steps a resumed run will redo) and a
    /// torn last line are removed first, so the file stays one valid object per line.
    pub fn open(path: &Path, keep_up_to_step: Option<u64>) -> Result<Self, RunError> {
        let mut text = String::new();
        if path.exists() {
            File::open(path)
                .and_then(|mut f| f.read_to_string(&mut text))
                .map_err(|e| RunError::io(path, e))?;
        }
        let complete = match text.rfind('\n') {
            Some(i) => &text[..=i],
            None => "",
        };
        let kept: Vec<&str> = complete
            .lines()
            .filter(|l| match serde_json::from_str::<MetricsRecord>(l) {
                Ok(r) => keep_up_to_step.is_none_or(|max| r.step <= max),
                Err(_) => false,
            })
            .collect();
        let rewritten: String = kept.iter().map(|l| format!("{l}\n")).collect();
        if rewritten != text {
            crate::config::write_atomic(path, rewritten.as_bytes()).map_err(|e| RunError::io(path, e))?;
        }
        let mut file =
            OpenOptions::new().create(true).append(true).open(path).map_err(|e| RunError::io(path, e))?;
        file.seek(SeekFrom::End(0)).map_err(|e| RunError::io(path, e))?;
        Ok(Self { path: path.into(), file })
    }

    /// Appends one record as a line and flushes it to the OS.
    pub fn append(&mut self, record: &MetricsRecord) -> Result<(), RunError> {
        let mut line = serde_json::to_string(record)
            .map_err(|e| RunError::Format { path: self.path.clone(), message: e.to_string() })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| RunError::io(&self.path, e))
    }
}

/// Follows a `metrics.jsonl` another process writes (for `storyscore monitor` and the app).
pub struct RunWatcher {
    path: PathBuf,
    offset: u64,
    partial: String,
    records: Vec<MetricsRecord>,
}

impl RunWatcher {
    pub fn new(run_dir: &Path) -> Self {
        Self {
            path: run_dir.join(super::METRICS_FILE),
            offset: 0,
            partial: String::new(),
            records: Vec::new(),
        }
    }

    /// Reads what was appended since the last poll and returns the new complete records. When the
    /// file shrank (a resumed run cut redone steps) everything is read again.
    pub fn poll(&mut self) -> Result<Vec<MetricsRecord>, RunError> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(RunError::io(&self.path, e)),
        };
        let len = file.metadata().map_err(|e| RunError::io(&self.path, e))?.len();
        if len < self.offset {
            self.offset = 0;
            self.partial.clear();
            self.records.clear();
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(|e| RunError::io(&self.path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| RunError::io(&self.path, e))?;
        self.offset += bytes.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&bytes));
        let Some(end) = self.partial.rfind('\n') else { return Ok(Vec::new()) };
        let rest = self.partial.split_off(end + 1);
        let fresh = parse_lines(&self.partial);
        self.partial = rest;
        self.records.extend(fresh.iter().cloned());
        Ok(fresh)
    }

    /// Every record seen so far.
    pub fn records(&self) -> &[MetricsRecord] {
        &self.records
    }
}
