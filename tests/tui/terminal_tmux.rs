//! The real binary in a real terminal (tmux): open, browse, switch tabs, help, resize, quit, and
//! the shell gets a sane terminal back.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    /// A private tmux server running a plain shell in a 120×40 window; `None` without tmux.
    fn start(home: &Path) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            if std::env::var("STORYSCORE_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
                panic!("tmux is required for this test (STORYSCORE_REQUIRE_SHARED=1)");
            }
            eprintln!("skipping: tmux not installed");
            return None;
        }
        // One tmux server per test: tests run in parallel in this process.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("storyscore-test-{}-{n}", std::process::id());
        let t = Self { socket };
        let env = [
            format!("STORYSCORE_CONFIG={}", home.join("config/config.toml").display()),
            format!("STORYSCORE_DATA={}", home.join("data").display()),
            format!("STORYSCORE_CACHE={}", home.join("cache").display()),
        ];
        let mut args = vec!["-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40", "-s", "main"];
        for e in &env {
            args.extend(["-e", e.as_str()]);
        }
        args.extend(["env", "PS1=READY$ ", "TERM=xterm-256color", "bash", "--norc", "--noprofile"]);
        let out = t.tmux(&args);
        assert!(out.status.success(), "tmux new-session failed: {}", String::from_utf8_lossy(&out.stderr));
        t.wait_for("READY$", "the shell prompt");
        Some(t)
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("running tmux")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend(keys);
        assert!(self.tmux(&args).status.success());
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "main"]).stdout).into_owned()
    }

    /// Waits until the screen contains `needle`; fails with the last screen otherwise.
    fn wait_for(&self, needle: &str, what: &str) -> String {
        self.wait_until(&format!("{what} ({needle:?})"), Duration::from_secs(120), |s| s.contains(needle))
    }

    /// Waits until `done` holds for the screen; fails with the last screen otherwise.
    fn wait_until(&self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "never saw {what}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// After the app quits: a fresh prompt, a cooked terminal (icanon, echo), no alternate screen.
    fn assert_restored(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.screen().matches("READY$").count() < 2 {
            assert!(Instant::now() < deadline, "no fresh prompt after q:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(100));
        }
        // The marker is computed by the shell so the typed command line cannot match it.
        self.keys(&["clear; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo; echo STTY-$((40+2))", "Enter"]);
        let screen = self.wait_for("STTY-42", "stty output");
        let words: Vec<&str> = screen.split_whitespace().collect();
        assert!(words.contains(&"icanon") && words.contains(&"echo"), "terminal left raw:\n{screen}");
        assert!(!words.contains(&"-icanon") && !words.contains(&"-echo"), "terminal left raw:\n{screen}");
        let alt = self.tmux(&["display-message", "-p", "-t", "main", "#{alternate_on}"]);
        assert_eq!(String::from_utf8_lossy(&alt.stdout).trim(), "0", "alternate screen still on");
    }

    fn resize(&self, w: u16, h: u16) {
        let (w, h) = (w.to_string(), h.to_string());
        let out = self.tmux(&["resize-window", "-t", "main", "-x", &w, "-y", &h]);
        assert!(out.status.success(), "resize: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

#[test]
fn app_opens_browses_resizes_quits_and_restores_the_terminal() {
    let Some(_) = common::wesnoth_music() else { return };
    let home = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start(home.path()) else { return };
    t.keys(&[env!("CARGO_BIN_EXE_storyscore"), "Enter"]);

    let screen = t.wait_for("1 Dataset", "the tab bar");
    assert!(
        screen.contains("2 Train") && screen.contains("3 Search") && screen.contains("4 Map"),
        "{screen}"
    );
    t.wait_for("battle.ogg", "a Wesnoth track in the Dataset tab");
    let screen = t.wait_for("41 items", "the probed library");
    assert!(screen.contains("5:18"), "battle.ogg's duration is shown:\n{screen}");

    t.keys(&["2"]);
    t.wait_for("No training run attached", "the Train tab");
    t.wait_for("CPU", "system metrics on the Train tab");
    t.keys(&["3"]);
    t.wait_for("Results", "the Search tab");
    t.keys(&["4"]);
    t.wait_for("Emotion space", "the Map tab");
    t.keys(&["1"]);
    t.wait_for("battle.ogg", "back on the Dataset tab");

    t.keys(&["?"]);
    t.wait_for("Keys (esc closes)", "the help popup");
    t.keys(&["Escape"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.screen().contains("Keys (esc closes)") {
        assert!(Instant::now() < deadline, "help did not close");
        std::thread::sleep(Duration::from_millis(100));
    }

    t.resize(20, 5);
    t.wait_for("too small", "the small-terminal notice");
    t.resize(120, 40);
    t.wait_for("battle.ogg", "the full layout after growing again");

    t.keys(&["q"]);
    t.assert_restored();
}

#[test]
fn ctrl_z_hands_the_shell_a_sane_terminal_and_fg_takes_it_back() {
    let Some(_) = common::wesnoth_music() else { return };
    let home = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start(home.path()) else { return };
    t.keys(&[env!("CARGO_BIN_EXE_storyscore"), "Enter"]);
    t.wait_for("41 items", "the probed library");

    t.keys(&["C-z"]);
    t.wait_for("Stopped", "the shell's job-control notice");
    // The shell reads every key while the app is stopped, in a cooked terminal.
    t.keys(&[
        "clear; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; echo SUSP-$((40+2))",
        "Enter",
    ]);
    let screen = t.wait_for("SUSP-42", "the shell's answer while the app is stopped");
    assert!(screen.split_whitespace().any(|w| w == "icanon"), "terminal left raw while stopped:\n{screen}");
    let alt = t.tmux(&["display-message", "-p", "-t", "main", "#{alternate_on}"]);
    assert_eq!(String::from_utf8_lossy(&alt.stdout).trim(), "0", "alternate screen on while stopped");

    t.keys(&["clear", "Enter"]);
    t.wait_until("a cleared screen", Duration::from_secs(10), |s| !s.contains("SUSP-42"));
    t.keys(&["fg", "Enter"]);
    t.wait_for("battle.ogg", "the app redrawn after fg");
    t.keys(&["2"]);
    t.wait_for("No training run attached", "keys reaching the app after fg");
    t.keys(&["q"]);
    t.assert_restored();
}

#[test]
fn typed_story_gets_ranked_clips_and_the_map_shows_braille_points() {
    let Some(wesnoth) = common::wesnoth_music() else { return };
    let Some(minilm) = common::minilm_dir() else { return };
    let home = tempfile::tempdir().unwrap();
    // The app runs on a temp data dir: the sentence encoder is linked in from the real one.
    std::fs::create_dir_all(home.path().join("data/models")).unwrap();
    std::os::unix::fs::symlink(&minilm, home.path().join("data/models/all-MiniLM-L6-v2")).unwrap();
    // A fresh default model in the data dir and a three-track library: the app indexes it on start.
    tch::manual_seed(5);
    let config = storyscore::model::ModelConfig::paper(storyscore::model::Space::ThreeBranch).unwrap();
    let mut model = storyscore::model::EmotionModel::new(config, tch::Device::Cpu).unwrap();
    model.save(&home.path().join("data/models/default-model")).unwrap();
    let lib = home.path().join("music");
    std::fs::create_dir(&lib).unwrap();
    for track in ["victory.ogg", "defeat.ogg", "defeat2.ogg"] {
        std::fs::copy(wesnoth.join(track), lib.join(track)).unwrap();
    }
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    let toml = format!("library = [{:?}]\ndevice = \"cpu\"\n", lib.display().to_string());
    std::fs::write(home.path().join("config/config.toml"), toml).unwrap();
    let Some(t) = Tmux::start(home.path()) else { return };
    t.keys(&[env!("CARGO_BIN_EXE_storyscore"), "Enter"]);
    t.wait_for("1 Dataset", "the tab bar");
    t.keys(&["3"]);
    t.wait_for("3 clips, three-branch space", "the indexed library on the Search tab");
    t.keys(&["/", "The knight rode home in triumph.", "Enter"]);
    let screen = t.wait_for("the story reads as", "ranked results");
    assert!(
        screen.contains("Victory") && screen.contains("Defeat") && screen.contains("closest moods"),
        "{screen}"
    );
    t.keys(&["4"]);
    let screen = t.wait_for("Emotion space: 3 clips", "the Map tab");
    assert!(screen.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)), "no braille points:\n{screen}");
    assert!(screen.contains("query"), "{screen}");
    t.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while t.screen().matches("READY$").count() < 2 {
        assert!(Instant::now() < deadline, "no fresh prompt after q:\n{}", t.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `N` of the Train tab's "step N/TOTAL" line.
fn train_step(screen: &str) -> Option<u64> {
    let at = screen.find("step ")?;
    let digits: String = screen[at + 5..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The loss chart's cells: the rows from its title down to the System panel, left of the
/// Validation panel.
fn loss_chart(screen: &str) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    let Some(top) = lines.iter().position(|l| l.contains("Loss per branch")) else { return String::new() };
    let width = lines[top].find("┌ Validation").map_or(usize::MAX, |b| lines[top][..b].chars().count());
    lines[top..]
        .iter()
        .take_while(|l| !l.contains("System"))
        .map(|l| l.chars().take(width).collect::<String>() + "\n")
        .collect()
}

#[test]
fn run_form_starts_a_mel_stats_run_whose_loss_chart_moves_pauses_and_stops() {
    let Some(isear) = common::shared("data/isear/isear.csv") else { return };
    let Some(minilm) = common::minilm_dir() else { return };
    let real = storyscore::config::Dirs::resolve().unwrap();
    let home = tempfile::tempdir().unwrap();
    // Isolated data, config and cache dirs; the sentence encoder and word vectors are linked in,
    // and so are the text-feature and decoded-audio caches (filled on a machine's first run).
    for (from, to) in [
        (minilm, "data/models/all-MiniLM-L6-v2"),
        (real.glove(), "data/vectors/glove-6b-50d"),
        (real.cache.join("text-features"), "cache/text-features"),
        (real.cache.join("pcm16"), "cache/pcm16"),
    ] {
        let to = home.path().join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::create_dir_all(&from).unwrap();
        std::os::unix::fs::symlink(&from, &to).unwrap();
    }
    // No library: nothing to index while training.
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(home.path().join("config/config.toml"), "library = []\ndevice = \"cpu\"\n").unwrap();
    let Some(t) = Tmux::start(home.path()) else { return };
    let shared = isear.parent().unwrap().parent().unwrap().parent().unwrap().display().to_string();
    t.keys(&[&format!("STORYSCORE_SHARED={shared} {}", env!("CARGO_BIN_EXE_storyscore")), "Enter"]);
    t.wait_for("1 Dataset", "the tab bar");
    t.keys(&["2"]);
    t.wait_for("No training run attached", "the Train tab");
    t.keys(&["n"]);
    let form = t.wait_for("New training run", "the run form");
    assert!(
        form.contains("‹ classify ›") && form.contains("‹ mel-stats ›") && form.contains("300"),
        "{form}"
    );
    t.keys(&["Enter"]);
    // The first run on a machine fills the caches first; then a step takes about a second. A
    // capture can land while a frame is being written, so each wait is for a whole chart (its
    // step axis drawn), not just the header above it.
    let first = t.wait_until("the first step", Duration::from_secs(600), |s| {
        s.contains("/300 · epoch") && train_step(s).is_some_and(|n| n >= 1) && loss_chart(s).contains("step")
    });
    let n1 = train_step(&first).unwrap();
    let later = t.wait_until("two more steps", Duration::from_secs(60), |s| {
        train_step(s).is_some_and(|n| n >= n1 + 2) && loss_chart(s).contains("step")
    });
    let n2 = train_step(&later).unwrap();
    assert!(n2 > n1);
    let (c1, c2) = (loss_chart(&first), loss_chart(&later));
    assert!(c1.contains("step") && c2.contains("step"), "no chart:\n{first}\n{later}");
    assert_ne!(c1, c2, "the loss chart did not move from step {n1} to {n2}");
    t.keys(&["p"]);
    let paused = t.wait_for("paused (p resumes)", "the paused run");
    let held = train_step(&paused);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(train_step(&t.screen()), held, "steps went on while paused");
    t.keys(&["p"]);
    t.wait_until("a step after resuming", Duration::from_secs(60), |s| train_step(s) > held);
    t.keys(&["x"]);
    let stopped = t.wait_for("finished at step", "the stopped run");
    assert!(train_step(&stopped).is_some_and(|n| n < 300), "{stopped}");
    let run = std::fs::read_dir(home.path().join("data/runs")).unwrap().next().unwrap().unwrap().path();
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(
        config.contains("space = \"classify\"") && config.contains("audio_trunk = \"mel-stats\""),
        "{config}"
    );
    t.keys(&["q"]);
    t.assert_restored();
}

/// `storyscore monitor A B` follows two run directories written by two real short runs: both are
/// listed with their state and best validation, and their loss curves share the chart.
#[test]
fn monitor_follows_two_real_runs_in_one_list() {
    let Some(fixture) = common::shared("data/ttm_layout") else { return };
    let home = tempfile::tempdir().unwrap();
    let spec = format!("ttm:{}", fixture.display());
    for (name, lr) in [("run-a", "1e-3"), ("run-b", "3e-3")] {
        let out = Command::new(env!("CARGO_BIN_EXE_storyscore"))
            .args(["train", "--text", &spec, "--music", &spec, "--run-dir"])
            .arg(home.path().join(name))
            .args(["--steps", "4", "--batch-size", "8", "--eval-every", "2", "--lr", lr])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let Some(t) = Tmux::start(home.path()) else { return };
    let cmd = format!(
        "{} monitor {} {}",
        env!("CARGO_BIN_EXE_storyscore"),
        home.path().join("run-a").display(),
        home.path().join("run-b").display()
    );
    t.keys(&[&cmd, "Enter"]);
    let screen = t.wait_until("both runs finished in the list", Duration::from_secs(60), |s| {
        s.contains("■ run-a") && s.contains("■ run-b") && s.matches("finished").count() >= 2
    });
    assert!(screen.contains("Runs (a follows more)"), "{screen}");
    assert!(screen.contains("best P@5"), "{screen}");
    t.keys(&["q"]);
    t.assert_restored();
}
