//! Progress lines for long feature computations ("encoded 4096 of 65410 texts, about 15 min
//! left"), shared by training and evaluation.

use std::time::Instant;

/// "encoded 4096 of 65410 texts, about 15 min left", or, at the end, "encoded 65410 texts in 17 min".
pub fn progress_line(verb: &str, what: &str, done: usize, total: usize, started: Instant) -> String {
    let spent = started.elapsed().as_secs_f64();
    if done >= total {
        return format!("{verb} {total} {what} in {}", minutes(spent));
    }
    let left = spent * (total - done) as f64 / done.max(1) as f64;
    format!("{verb} {done} of {total} {what}, about {} left", minutes(left))
}

/// A rough duration for a progress line: "40 s", "7 min".
fn minutes(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{:.0} s", seconds.max(1.0))
    } else {
        format!("{:.0} min", seconds / 60.0)
    }
}

/// Every 25th computed clip, and the last, as a progress line passed to `note`: the callback
/// [`super::clips::clip_feature_rows`] takes.
pub fn clip_progress(note: &dyn Fn(String)) -> impl Fn(usize, usize) + '_ {
    let started = Instant::now();
    move |done, total| {
        if done.is_multiple_of(25) || done == total {
            note(progress_line("computed the features of", "clips", done, total, started));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_give_the_count_then_the_total_time() {
        let line = progress_line("encoded", "texts", 10, 40, Instant::now());
        assert!(line.starts_with("encoded 10 of 40 texts, about "), "{line}");
        assert_eq!(minutes(600.0), "10 min");
        assert_eq!(minutes(0.2), "1 s");
        let done = progress_line("encoded", "texts", 40, 40, Instant::now());
        assert!(done.starts_with("encoded 40 texts in "), "{done}");
    }
}
