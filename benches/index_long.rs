//! Memory of indexing one long file: the peak resident set of a real `storyscore index` process
//! on a generated 44.1-kHz stereo FLAC of `--minutes` (default 180, a DJ mix), against the same
//! command on a 30-s FLAC (what the model, libtorch and the decoder cost alone). The indexer
//! embeds 16 windows per file, so the difference should stay small whatever the length.
//!
//! `cargo bench --bench index_long -- --json [--minutes M] [--runs N] [--model DIR] [--keep DIR]` prints one JSON line
//! `{"bench": "index_long", "rss_mb", "baseline_rss_mb", "over_baseline_mb", …}` for
//! `scripts/bench`. The model defaults to the one `storyscore` opens by default.

#[path = "../tests/common/flac.rs"]
mod flac;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use flac::{FlacWriter, BLOCK};
use support::peak_rss;

const RATE: u32 = 44_100;

/// A stereo FLAC of `seconds`: a slow chord whose loudness swells, plus a little noise, written
/// block by block (the bench itself stays small: a child's peak RSS starts from its parent's).
fn write_long_flac(path: &Path, seconds: u64) -> Result<(), String> {
    let total = seconds * RATE as u64;
    let file = std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| e.to_string())?);
    let mut w = FlacWriter::new(file, RATE, 2, total, &["TITLE=Long mix"]).map_err(|e| e.to_string())?;
    let (mut left, mut right) = (vec![0i16; BLOCK], vec![0i16; BLOCK]);
    let mut noise = 0x2545_F491_u32;
    let mut start = 0u64;
    while start < total {
        let len = BLOCK.min((total - start) as usize);
        for i in 0..len {
            let t = (start + i as u64) as f32 / RATE as f32;
            let swell = 0.5 + 0.4 * (t * 0.05).sin();
            let chord = (t * 220.0 * std::f32::consts::TAU).sin()
                + 0.6 * (t * 277.2 * std::f32::consts::TAU).sin()
                + 0.4 * (t * 329.6 * std::f32::consts::TAU).sin();
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            let hiss = (noise as f32 / u32::MAX as f32 - 0.5) * 0.05;
            left[i] = ((swell * chord / 2.0 + hiss) * 12_000.0) as i16;
            right[i] = ((swell * chord / 2.0 - hiss) * 12_000.0) as i16;
        }
        w.frame(&[&left[..len], &right[..len]]).map_err(|e| e.to_string())?;
        start += len as u64;
    }
    w.finish().map_err(|e| e.to_string())?;
    Ok(())
}

fn index(folder: &Path, model: &Path, out: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_storyscore"));
    cmd.arg("index").arg(folder).arg("--model").arg(model).arg("--out").arg(out).arg("--json");
    cmd
}

fn measure(args: &[String]) -> Result<(), String> {
    let minutes: u64 = support::flag(args, "--minutes")?.unwrap_or(180);
    let model: PathBuf = match support::flag(args, "--model")? {
        Some(dir) => dir,
        None => storyscore::config::Dirs::resolve().map_err(|e| e.to_string())?.default_model(),
    };
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    // `--keep DIR` writes the files there and leaves them (to look at by hand).
    let root: PathBuf = support::flag(args, "--keep")?.unwrap_or_else(|| tmp.path().to_path_buf());
    let (long, short) = (root.join("long"), root.join("short"));
    for dir in [&long, &short] {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let file = long.join("mix.flac");
    write_long_flac(&file, minutes * 60)?;
    write_long_flac(&short.join("clip.flac"), 30)?;
    let file_mb = std::fs::metadata(&file).map_or(f64::NAN, |m| m.len() as f64 / 1e6);
    eprintln!("index_long: wrote a {minutes}-minute FLAC ({file_mb:.0} MB)");
    // One process's peak varies by ±100 MB from run to run (thread timing in libtorch and the
    // loaders), so each side is the median of `--runs` fresh indexes.
    let runs: usize = support::flag(args, "--runs")?.unwrap_or(3).max(1);
    let median = |folder: &Path, name: &str| -> Result<(f64, f64), String> {
        let mut peaks = Vec::new();
        for run in 0..runs {
            let out = root.join(format!("{name}-{run}"));
            peaks.push(peak_rss(index(folder, &model, &out))?);
            let _ = std::fs::remove_dir_all(&out);
        }
        peaks.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mb: Vec<String> = peaks.iter().map(|p| format!("{:.0}", p.0)).collect();
        eprintln!("index_long: {name} peak RSS over {runs} runs: {} MB", mb.join(", "));
        Ok(peaks[peaks.len() / 2])
    };
    let (baseline, _) = median(&short, "index-short")?;
    let (rss, wall) = median(&long, "index-long")?;
    let line = serde_json::json!({
        "bench": "index_long",
        "minutes": minutes,
        "runs": runs,
        "file_mb": file_mb,
        "rss_mb": rss,
        "baseline_rss_mb": baseline,
        "over_baseline_mb": rss - baseline,
        "wall_s": wall,
        "x_realtime": (minutes * 60) as f64 / wall,
        "model": model,
    });
    println!("{line}");
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = measure(&args) {
        eprintln!("index_long bench: {e}");
        std::process::exit(2);
    }
}
