//! The steps of a training epoch from audio files, against `benches/peers/train_epoch.py`: the
//! real trainer (`train::Trainer`, as `storyscore train` runs it) on ISEAR texts and 4Q clips,
//! three-branch space, paper CNN, batch 32, its loader threads decoding clips ahead of the step.
//!
//! Timed: from the trainer's `Started` event (setup done) to the end of step `--steps`, so the
//! loader's start and every clip decode are inside. The clip cache starts empty (a temporary
//! `STORYSCORE_CACHE`), so each clip is decoded from its OGG file when first drawn, as in a first
//! epoch; the frozen encoder's features of the texts come from the user's cache (`setup_s`
//! reports the setup, which computes them on a machine's first run). `--fine-tune-text` runs the
//! encoder with gradient at every step instead. No validation or checkpoint falls inside.
//!
//! `cargo bench --bench epoch -- --json [--threads T] [--steps N] [--fine-tune-text]
//! [--text SPEC] [--music SPEC]` prints one JSON line with the peer's keys for `scripts/bench`;
//! without `--json` it runs 5 steps and prints the same line.

mod support;

use std::time::Instant;

use storyscore::config::Dirs;
use storyscore::model::Space;
use storyscore::train::{TrainCommand, TrainConfig, TrainEvent, TrainRequest, Trainer};

fn run(args: &[String], default_steps: u64) -> Result<(), String> {
    let threads = support::set_threads(support::flag(args, "--threads")?.unwrap_or(0))?;
    let steps: u64 = support::flag(args, "--steps")?.unwrap_or(default_steps).max(1);
    let fine_tune = support::switch(args, "--fine-tune-text");
    let shared = support::shared_root();
    let text = support::flag::<String>(args, "--text")?
        .unwrap_or_else(|| format!("isear:{}", shared.join("data/isear/isear.csv").display()));
    let music = support::flag::<String>(args, "--music")?
        .unwrap_or_else(|| format!("4q:{}", shared.join("data/4q").display()));
    let dirs = Dirs::resolve().map_err(|e| e.to_string())?;
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let cache = tmp.path().join("cache");
    std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
    let features = dirs.cache.join("text-features");
    std::fs::create_dir_all(&features).map_err(|e| format!("{}: {e}", features.display()))?;
    std::os::unix::fs::symlink(&features, cache.join("text-features")).map_err(|e| e.to_string())?;
    // SAFETY: no other thread runs yet; the trainer reads the variable in its setup.
    unsafe { std::env::set_var("STORYSCORE_CACHE", &cache) };

    let mut config = TrainConfig::new(Space::ThreeBranch, &text, &music, dirs.minilm(), dirs.glove());
    config.freeze_text = !fine_tune;
    // One step past the timed ones: the trainer is stopped before it, so the run never reaches
    // its final validation and checkpoint.
    config.max_steps = Some(steps + 1);
    config.eval_every = u64::MAX;
    config.checkpoint_every = u64::MAX;
    let loader_threads = config.loader_threads;
    let request =
        TrainRequest { run_dir: tmp.path().join("run"), config, resume: false, alerts: Default::default() };
    let spawned = Instant::now();
    let cpu0 = support::process_cpu_s();
    let trainer = Trainer::spawn(request).map_err(|e| e.to_string())?;
    let (mut started, mut times, mut last_loss) = (None, Vec::new(), f64::NAN);
    let mut last = Instant::now();
    for event in trainer.events().iter() {
        match event {
            TrainEvent::Started { .. } => {
                last = Instant::now();
                started = Some(last);
            }
            TrainEvent::Step { step, loss, .. } => {
                let now = Instant::now();
                times.push(now.duration_since(last).as_secs_f64());
                (last, last_loss) = (now, loss);
                if step >= steps {
                    trainer.send(TrainCommand::Stop);
                    break;
                }
            }
            TrainEvent::Error(e) => return Err(e),
            TrainEvent::Finished { step } => return Err(format!("the trainer finished after {step} steps")),
            _ => {}
        }
    }
    let cpu_s = support::process_cpu_s() - cpu0;
    let started = started.ok_or("the trainer never started")?;
    let epoch_s = last.duration_since(started).as_secs_f64();
    let line = serde_json::json!({
        "bench": "train_epoch",
        "steps": times.len(),
        "epoch_s": epoch_s,
        "s_per_step": epoch_s / times.len() as f64,
        "samples_per_s": 32.0 * times.len() as f64 / epoch_s,
        "ms_per_step_p50": support::percentile_ms(&times, 50.0),
        "cpu_s": cpu_s,
        "setup_s": started.duration_since(spawned).as_secs_f64(),
        "threads": threads,
        "loader_threads": loader_threads,
        "fine_tune_text": fine_tune,
        "last_loss": last_loss,
    });
    println!("{line}");
    trainer.join();
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let default_steps = if support::switch(&args, "--json") { 20 } else { 5 };
    if let Err(e) = run(&args, default_steps) {
        eprintln!("epoch bench: {e}");
        std::process::exit(2);
    }
}
