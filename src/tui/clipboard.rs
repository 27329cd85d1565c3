//! Getting clip paths out of the app without audio: the terminal clipboard (OSC 52) and M3U.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("cannot write playlist {path}: {source}")]
pub struct PlaylistError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Asks the terminal to put `text` on the system clipboard (works over SSH in most terminals).
pub fn copy_osc52(text: &str) {
    let mut out = std::io::stdout();
    if out.is_terminal() {
        let _ = write!(out, "\x1b]52;c;{}\x07", base64(text.as_bytes()));
        let _ = out.flush();
    }
}

/// Writes an extended M3U of `(path, seconds, title)` entries; returns how many were written.
pub fn write_m3u(path: &Path, clips: &[(&Path, Option<f64>, &str)]) -> Result<usize, PlaylistError> {
    let mut text = String::from("#EXTM3U\n");
    for (p, secs, title) in clips {
        let secs = secs.map_or(-1, |s| s.round() as i64);
        text.push_str(&format!("#EXTINF:{secs},{title}\n{}\n", p.display()));
    }
    crate::config::write_atomic(path, text.as_bytes())
        .map_err(|source| PlaylistError { path: path.into(), source })?;
    Ok(clips.len())
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (raw, enc) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
    }

    #[test]
    fn m3u_lists_paths_with_durations_and_reports_unwritable_targets() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("list.m3u");
        let n = write_m3u(
            &out,
            &[(Path::new("/m/a.ogg"), Some(61.4), "a.ogg"), (Path::new("/m/b.ogg"), None, "b")],
        )
        .unwrap();
        assert_eq!(n, 2);
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text, "#EXTM3U\n#EXTINF:61,a.ogg\n/m/a.ogg\n#EXTINF:-1,b\n/m/b.ogg\n");
        let blocked = dir.path().join("list.m3u/inside.m3u");
        let err = write_m3u(&blocked, &[]).unwrap_err().to_string();
        assert!(err.contains("inside.m3u"), "{err}");
    }
}
