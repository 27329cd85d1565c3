//! One writer per index: an advisory lock on `DIR/.writer.lock`, held for a whole indexing run
//! and released by the OS when the process ends, however it ends. Readers never take it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::store::IndexError;

/// The lock file inside an index directory; it says who holds it.
pub const LOCK_FILE: &str = ".writer.lock";

/// Holds the index's writer lock until dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the lock of `dir` (created if needed). When another process holds it: waits, after
    /// calling `waiting` once with who holds it ("pid 4242, since 2026-12-03 17:05:12 UTC"),
    /// or with `wait` false fails with [`IndexError::Locked`].
    pub fn acquire(dir: &Path, wait: bool, waiting: impl FnOnce(&str)) -> Result<Self, IndexError> {
        let path = dir.join(LOCK_FILE);
        let write_err = |source| IndexError::Write { path: path.clone(), source };
        std::fs::create_dir_all(dir)
            .map_err(|source| IndexError::Write { path: dir.to_path_buf(), source })?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(write_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = holder(&mut file);
                if !wait {
                    return Err(IndexError::Locked { dir: dir.to_path_buf(), holder });
                }
                waiting(&holder);
                file.lock().map_err(write_err)?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(write_err(e)),
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let stamp = format!("pid {}, since {}\n", std::process::id(), clock_utc(now));
        file.set_len(0).and_then(|()| file.seek(SeekFrom::Start(0))).map_err(write_err)?;
        file.write_all(stamp.as_bytes()).map_err(write_err)?;
        Ok(Self { _file: file })
    }
}

/// Who holds the lock, as its file says.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.read_to_string(&mut text));
    let text = text.trim();
    if text.is_empty() {
        "another storyscore process".into()
    } else {
        format!("another storyscore process ({text})")
    }
}

/// `2026-12-03 17:05:12 UTC` from seconds since the epoch.
fn clock_utc(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Temp files a killed writer left in `dir` (`NAME.PID.tmp` and `.NAME.PID.tmp`): removed by the
/// next writer, which holds the lock, so none of them can still be in use.
pub fn remove_leftovers(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let leftover = name
            .strip_suffix(".tmp")
            .and_then(|stem| stem.rsplit_once('.'))
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if leftover && std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_civil_utc() {
        assert_eq!(clock_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(clock_utc(1_796_317_512), "2026-12-03 17:05:12 UTC");
    }

    #[test]
    fn a_second_writer_waits_or_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(dir.path(), true, |_| panic!("nobody holds it")).unwrap();
        // Locks are per open file: a second handle in this process contends like another process.
        let err = WriterLock::acquire(dir.path(), false, |_| {}).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&format!("pid {}", std::process::id())), "{text}");
        drop(first);
        WriterLock::acquire(dir.path(), false, |_| {}).unwrap();
    }

    #[test]
    fn leftovers_of_killed_writers_go() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["embeddings.npy.123.tmp", ".index.toml.45.tmp", "clips.jsonl", "notes.tmp", "a.b.tmp"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let mut gone: Vec<String> = remove_leftovers(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        gone.sort();
        assert_eq!(gone, [".index.toml.45.tmp", "embeddings.npy.123.tmp"]);
    }
}
