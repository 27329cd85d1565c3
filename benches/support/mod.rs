//! What the `--json` modes of the side-by-side benches share with each other and with the Python
//! peers in `../shared/bench` (`common.py`): argument lookup, thread setup, percentiles, CPU time.
#![allow(dead_code)]

use std::str::FromStr;

/// The value after `--name`, parsed; `Ok(None)` when the flag is absent.
pub fn flag<T: FromStr>(args: &[String], name: &str) -> Result<Option<T>, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .map(Some)
            .ok_or_else(|| format!("{name} needs a value")),
    }
}

/// Whether `--name` is present.
pub fn switch(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

/// Arguments that are neither flags nor flag values (`flags_with_values` name the flags that take
/// one), in order.
pub fn positional<'a>(args: &'a [String], flags_with_values: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if flags_with_values.contains(&a.as_str()) {
            skip = true;
        } else if !a.starts_with("--") {
            out.push(a.as_str());
        }
    }
    out
}

/// Sets libtorch's intra-op threads and the global rayon pool (the top-k kernel) to `threads`, as
/// the peer's `--threads` sets torch's and faiss's. 0 keeps the defaults. → threads in effect.
pub fn set_threads(threads: usize) -> Result<usize, String> {
    if threads > 0 {
        tch::set_num_threads(i32::try_from(threads).map_err(|e| e.to_string())?);
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().map_err(|e| e.to_string())?;
    }
    Ok(usize::try_from(tch::get_num_threads()).unwrap_or(0))
}

/// Criterion runs take their threads from `STORYSCORE_THREADS` (default 1); see [`set_threads`].
pub fn set_criterion_threads() -> Result<usize, String> {
    set_threads(std::env::var("STORYSCORE_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(1))
}

/// The `q`-th percentile of `seconds`, in ms, interpolated linearly (numpy's default, as the
/// peer's `common.percentile_ms`). `None` for no samples.
pub fn percentile_ms(seconds: &[f64], q: f64) -> Option<f64> {
    let mut xs = seconds.to_vec();
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let pos = q / 100.0 * (xs.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some((xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64)) * 1e3)
}

/// CPU seconds this process has used, all threads (Python's `time.process_time`).
pub fn process_cpu_s() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the call only fills it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The shared data folder beside the checkout (override with `STORYSCORE_SHARED`).
pub fn shared_root() -> std::path::PathBuf {
    std::env::var_os("STORYSCORE_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// A bench binary's entry point: `--json` runs `json` (one line for `scripts/bench`), otherwise
/// criterion runs `benches`; an error is printed as `<name> bench: …` and exits with status 2.
pub fn main(
    name: &str,
    json: fn(&[String]) -> Result<(), String>,
    benches: fn(&mut criterion::Criterion) -> Result<(), String>,
) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if switch(&args, "--json") {
        json(&args)
    } else {
        let mut c = criterion::Criterion::default().configure_from_args();
        let r = benches(&mut c);
        c.final_summary();
        r
    };
    if let Err(e) = result {
        eprintln!("{name} bench: {e}");
        std::process::exit(2);
    }
}

/// Runs `cmd` to completion. → (peak RSS in MB, wall seconds); an error when it fails.
pub fn peak_rss(mut cmd: std::process::Command) -> Result<(f64, f64), String> {
    let start = std::time::Instant::now();
    let child = cmd.stdout(std::process::Stdio::null()).spawn().map_err(|e| e.to_string())?;
    let pid = libc::pid_t::try_from(child.id()).map_err(|e| e.to_string())?;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 only writes into `status` and `usage`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; the pointers are valid for the call.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    if rc != pid {
        return Err(format!("wait4 on {cmd:?}: {}", std::io::Error::last_os_error()));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("{cmd:?} failed (wait status {status}; its stderr is above)"));
    }
    // Linux reports ru_maxrss in KiB.
    Ok((usage.ru_maxrss as f64 * 1024.0 / 1e6, wall))
}
