//! `storyscore index` and `storyscore search` end to end on generated audio with a freshly
//! initialised model (structure and consistency, not mood quality), plus bad input.
use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use storyscore::config::Dirs;
use storyscore::index::{ClipIndex, SearchError, Searcher};
use storyscore::model::{EmotionModel, ModelConfig, Space};
use tch::Device;

fn storyscore(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        pipe.write_all(bytes).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// A data dir under `root` that shares the installed models (MiniLM, musicnn) and nothing else.
fn data_dir_with_models(root: &Path) -> std::path::PathBuf {
    let data = root.join("data");
    std::fs::create_dir_all(data.join("indexes")).unwrap();
    let models = Dirs::resolve().unwrap().minilm().parent().unwrap().to_path_buf();
    std::os::unix::fs::symlink(models, data.join("models")).unwrap();
    data
}

/// `storyscore` with its data dir (where the default index lives) set to `data`.
fn storyscore_with_data(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_storyscore")).args(args).env("STORYSCORE_DATA", data).output().unwrap()
}

/// `storyscore` with its data dir set to `data` and a config file whose `library` is `libraries`.
fn storyscore_with_library(data: &Path, libraries: &[&Path], args: &[&str]) -> Output {
    let config = data.join("config.toml");
    let listed: Vec<String> = libraries.iter().map(|p| format!("{:?}", p.display().to_string())).collect();
    std::fs::write(&config, format!("library = [{}]\n", listed.join(", "))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .args(args)
        .env("STORYSCORE_DATA", data)
        .env("STORYSCORE_CONFIG", &config)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_tone(path: &Path, freq: f32, seconds: f32) {
    common::write_wav(path, 1, 16_000, (seconds * 16_000.0) as usize, |n, _| {
        let t = n as f32 / 16_000.0;
        let env = 0.5 + 0.5 * (2.0 * std::f32::consts::PI * 2.0 * t).sin();
        (0.3 * env * (2.0 * std::f32::consts::PI * freq * t).sin() * 32767.0) as i16
    });
}

fn fresh_model(seed: i64, dir: &Path) -> EmotionModel {
    tch::manual_seed(seed);
    let mut model = EmotionModel::new(ModelConfig::paper(Space::ThreeBranch).unwrap(), Device::Cpu).unwrap();
    model.save(dir).unwrap();
    model
}

#[test]
fn index_then_search_text_stdin_and_like() {
    if common::minilm_dir().is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let (model_dir, lib, index) =
        (work.path().join("model"), work.path().join("lib"), work.path().join("idx"));
    std::fs::create_dir(&lib).unwrap();
    fresh_model(7, &model_dir);
    for (i, freq) in [110.0, 440.0, 1760.0, 3000.0].iter().enumerate() {
        write_tone(&lib.join(format!("tone{i}.wav")), *freq, 4.0 + i as f32);
    }
    std::fs::write(lib.join("corrupt.flac"), b"fLaC\0\0\0garbage").unwrap();
    let (m, l, x) = (model_dir.to_str().unwrap(), lib.to_str().unwrap(), index.to_str().unwrap());

    let out = storyscore(&["index", "--model", m, l, "--out", x, "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["clips"], 4);
    assert_eq!(summary["skipped"][0]["path"].as_str().unwrap(), lib.join("corrupt.flac").to_str().unwrap());

    // The paper's one-by-one cut gives the same clips, a small shift away (tests/lib/model_windows.rs).
    let exact = work.path().join("idx-exact");
    let out =
        storyscore(&["index", "--model", m, l, "--out", exact.to_str().unwrap(), "--exact-windows"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let (shared, exact) = (ClipIndex::open(&index).unwrap(), ClipIndex::open(&exact).unwrap());
    assert_eq!(exact.len(), 4);
    for i in 0..4 {
        let (a, b) = (shared.embedding(i).unwrap(), exact.embedding(i).unwrap());
        let cosine: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        assert!(cosine > 0.99, "clip {i}: cosine {cosine}");
        // Tones of at most 5 s are one window; the windows of the 6- and 7-s ones overlap.
        assert_eq!(a == b, i < 2, "clip {i}");
    }

    let out =
        storyscore(&["search", "--index", x, "--top", "3", "--json", "The storm broke over the ship."], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["query"], "The storm broke over the ship.");
    assert_eq!(r["space"], "three-branch");
    assert!(r["query_quadrant"].is_null(), "only the moods space has quadrants: {r}");
    let results = r["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for (i, hit) in results.iter().enumerate() {
        assert_eq!(hit["rank"], i + 1);
        assert!(hit["score"].as_f64().unwrap().abs() <= 1.0 + 1e-5);
        assert!(hit["path"].as_str().unwrap().ends_with(".wav"));
        let moods = hit["moods"].as_array().unwrap();
        assert_eq!(moods.len(), 3);
        assert!(moods[0][0].is_string() && moods[0][1].is_number());
    }
    let scores: Vec<f64> = results.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    // stdin, per-sentence and the table.
    let story = b"It was a dark night. The wolves howled.\n\nAt dawn the village sang.";
    let out = storyscore(&["search", "--index", x, "--per-sentence", "-"], Some(story));
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("reads as:") && table.contains("tone") && table.contains("cosine"), "{table}");

    // Music to music: a clip's own nearest neighbour is itself, at cosine 1.
    let tone2 = lib.join("tone2.wav");
    let out = storyscore(&["search", "--index", x, "--json", "--like", tone2.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["results"][0]["path"].as_str().unwrap(), tone2.to_str().unwrap());
    assert!((r["results"][0]["score"].as_f64().unwrap() - 1.0).abs() < 1e-4);

    // Without --index, search and soundtrack use the index the app searches (the data dir's
    // indexes/default).
    let data = data_dir_with_models(work.path());
    std::os::unix::fs::symlink(&index, data.join("indexes/default")).unwrap();
    let story = work.path().join("story.txt");
    std::fs::write(&story, "The storm broke over the ship.\n\nAt dawn the sea was calm.").unwrap();
    let given = storyscore(&["search", "--index", x, "--json", "The storm broke over the ship."], None);
    let default = storyscore_with_data(&data, &["search", "--json", "The storm broke over the ship."]);
    assert!(default.status.success(), "{}", stderr(&default));
    assert_eq!(default.stdout, given.stdout);
    let out = storyscore_with_data(&data, &["soundtrack", "--json", story.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["passages"].as_array().unwrap().len(), 2, "{r}");

    // A file outside the index is embedded on the fly, the same way the indexer does it.
    let outside = work.path().join("outside.wav");
    std::fs::copy(&tone2, &outside).unwrap();
    let searcher = Searcher::open(&index, Device::Cpu).unwrap();
    let fresh = searcher.like(&outside, 1).unwrap();
    assert_eq!(fresh.results[0].path, tone2);
    assert!((fresh.results[0].score - 1.0).abs() < 1e-4, "{}", fresh.results[0].score);

    // A megabyte story: searched, with a notice that only the beginning was read.
    let long = "The night was long and the rain would not stop. ".repeat(21_000);
    let out = storyscore(&["search", "--index", x, "--top", "1", "-"], Some(long.as_bytes()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("note:") && stderr(&out).contains("beginning"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("English"), "{}", stderr(&out));

    // A story in another language is still searched, and the user is told its reading is unreliable
    // (the note goes to stderr, and into --json's notices).
    for text in
        ["Sie küsste ihn sanft, als die Sonne über dem stillen See unterging.", "Он долго смотрел на море."]
    {
        let out = storyscore(&["search", "--index", x, "--top", "1", "--json", text], None);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("may not be English"), "{text}: {}", stderr(&out));
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(r["notices"][0].as_str().unwrap().contains("English"), "{r}");
    }

    // An index built by another model is refused with both ids named.
    let other = fresh_model(8, &work.path().join("other"));
    let err = Searcher::with_model(&index, ClipIndex::open(&index).unwrap(), other).err().unwrap();
    assert!(matches!(err, SearchError::ModelChanged { .. }));
    assert!(err.to_string().contains("rebuild the index"), "{err}");
}

#[test]
fn index_without_a_model_uses_the_default_and_says_how_to_search() {
    if common::minilm_dir().is_none() || common::musicnn_weights("MTT_musicnn").is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let (data, lib) = (data_dir_with_models(work.path()), work.path().join("my lib"));
    std::fs::create_dir(&lib).unwrap();
    write_tone(&lib.join("tone.wav"), 440.0, 4.0);
    let out = storyscore_with_data(&data, &["index", lib.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("1 clip in "), "{stdout}");
    // The index is named after the library under the data dir, built with the default model,
    // and the hint names it as one shell word.
    let made: Vec<_> = std::fs::read_dir(data.join("indexes")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(made.len(), 1, "{made:?}");
    let default = Dirs::resolve().unwrap().default_model();
    let model = EmotionModel::load(&default, Device::Cpu).unwrap();
    assert_eq!(ClipIndex::open(&made[0]).unwrap().model_id(), model.id());
    let hint = format!("search it: storyscore search --index {} ", made[0].display());
    assert!(stdout.contains(&hint), "{stdout}");
}

#[test]
fn a_first_search_indexes_the_configured_library_and_a_new_default_model_indexes_it_again() {
    if common::minilm_dir().is_none() || common::musicnn_weights("MTT_musicnn").is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // The installed encoder and taggers, and a copy of the default model this test can change
    // (an installed default model is found before the repository's).
    let (data, lib) = (work.path().join("data"), work.path().join("lib"));
    let models = Dirs::resolve().unwrap().minilm().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(data.join("models/default-model")).unwrap();
    for name in ["all-MiniLM-L6-v2", "musicnn"] {
        std::os::unix::fs::symlink(models.join(name), data.join("models").join(name)).unwrap();
    }
    let shipped = Dirs::resolve().unwrap().default_model();
    for name in ["model.toml", "model.safetensors"] {
        std::fs::copy(shipped.join(name), data.join("models/default-model").join(name)).unwrap();
    }
    std::fs::create_dir(&lib).unwrap();
    write_tone(&lib.join("low.wav"), 220.0, 4.0);
    write_tone(&lib.join("high.wav"), 880.0, 4.0);
    let search =
        || storyscore_with_library(&data, &[&lib], &["search", "--json", "A calm morning by the sea."]);
    let out = search();
    assert!(out.status.success(), "{}", stderr(&out));
    // stdout is the answer alone; the indexing is told on stderr.
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["results"].as_array().unwrap().len(), 2, "{r}");
    let told = stderr(&out);
    assert!(
        told.contains(&format!("indexing {}", lib.display())) && told.contains("indexed 2 clips"),
        "{told}"
    );
    let default = data.join("indexes/default");
    let model = EmotionModel::load(&data.join("models/default-model"), Device::Cpu).unwrap();
    assert_eq!(ClipIndex::open(&default).unwrap().model_id(), model.id());
    // The next search reuses it, and says nothing about indexing.
    let again = search();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stderr(&again).contains("indexing"), "{}", stderr(&again));
    assert_eq!(again.stdout, out.stdout);
    // A new default model (an update): the index is made again with it, once.
    let toml = data.join("models/default-model/model.toml");
    let changed = std::fs::read_to_string(&toml).unwrap().replace("prior_power = 0.5", "prior_power = 0.6");
    std::fs::write(&toml, changed).unwrap();
    let renewed = search();
    assert!(renewed.status.success(), "{}", stderr(&renewed));
    assert!(stderr(&renewed).contains("made by an earlier default model"), "{}", stderr(&renewed));
    let model = EmotionModel::load(&data.join("models/default-model"), Device::Cpu).unwrap();
    assert_eq!(ClipIndex::open(&default).unwrap().model_id(), model.id());
    assert!(!stderr(&search()).contains("indexing"));
}

#[test]
fn bad_queries_and_missing_index_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let m = missing.to_str().unwrap();
    for (text, expect) in [("", "empty"), ("   ", "empty"), ("?!… 🎻🎻", "no words")] {
        let out = storyscore(&["search", "--index", m, text], None);
        assert_eq!(out.status.code(), Some(1), "{text:?}");
        assert!(stderr(&out).contains(expect), "{text:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }
    let out = storyscore(&["search", "--index", m, "-"], Some(b"\n\t\n"));
    assert!(stderr(&out).contains("stdin") && stderr(&out).contains("empty"), "{}", stderr(&out));

    let out = storyscore(&["search", "--index", m, "a calm morning"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no index at") && stderr(&out).contains("nope"), "{}", stderr(&out));

    // No --index, no default index and no library to make one of: one line naming where the
    // default would be and what to do.
    let empty = dir.path().join("data");
    std::fs::create_dir_all(&empty).unwrap();
    let story = dir.path().join("story.txt");
    std::fs::write(&story, "A calm morning.").unwrap();
    for args in [&["search", "a calm morning"][..], &["soundtrack", story.to_str().unwrap()][..]] {
        let out = storyscore_with_library(&empty, &[], args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let default = empty.join("indexes").join("default");
        assert!(
            stderr(&out).contains(&format!("no default index at {}", default.display())),
            "{}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("storyscore index LIBRARY"), "{}", stderr(&out));
        assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
    }

    let out = storyscore(&["search", "--index", m, "--top", "0", "x"], None);
    assert_eq!(out.status.code(), Some(2), "usage error: {}", stderr(&out));

    // A damaged index: embeddings of the wrong shape.
    let idx = dir.path().join("idx");
    let index = ClipIndex::new("model-a", Space::ThreeBranch, 4);
    index.save(&idx).unwrap();
    std::fs::write(idx.join("embeddings.npy"), b"not numpy").unwrap();
    let out = storyscore(&["search", "--index", idx.to_str().unwrap(), "hello"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("embeddings.npy"), "{}", stderr(&out));

    let out = storyscore(&["index", "--model", m, "/definitely/not/here"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
}

/// A temp folder with a fresh model (`model/`) and an empty library folder (`lib/`), or `None`
/// (printed) without MiniLM.
fn model_and_library(seed: i64) -> Option<(tempfile::TempDir, std::path::PathBuf, std::path::PathBuf)> {
    common::minilm_dir()?;
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    fresh_model(seed, &model_dir);
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    Some((dir, model_dir, lib))
}

/// A `.npy` whose header dict does not parse (`{garbage}`), padded as numpy pads.
fn garbage_npy() -> Vec<u8> {
    let mut dict = b"{garbage}".to_vec();
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(b' ');
    }
    dict.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((dict.len() as u16).to_le_bytes());
    out.extend(dict);
    out.extend([0u8; 64]);
    out
}

#[test]
fn index_reports_every_bad_file_on_one_line() {
    let Some((dir, model_dir, lib)) = model_and_library(3) else { return };
    write_tone(&lib.join("good.wav"), 440.0, 2.0);
    std::fs::write(lib.join("empty.wav"), b"").unwrap();
    std::fs::write(lib.join("text.mp3"), b"Chapter one. It was a dark and stormy night.\n").unwrap();
    let noise: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(lib.join("noise.ogg"), noise).unwrap();
    write_tone(&lib.join("trunc.wav"), 330.0, 3.0);
    let whole = std::fs::read(lib.join("trunc.wav")).unwrap();
    std::fs::write(lib.join("trunc.wav"), &whole[..44 + 2 * 2400]).unwrap();
    std::fs::write(lib.join("bad.npy"), garbage_npy()).unwrap();
    let (m, l) = (model_dir.to_str().unwrap(), lib.to_str().unwrap());

    let out_dir = dir.path().join("idx");
    let out = storyscore(&["index", "--model", m, l, "--out", out_dir.to_str().unwrap(), "--json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["clips"], 2, "{report}");
    let listed = |key: &str| -> Vec<(String, String)> {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["path"].as_str().unwrap().to_string(), f["reason"].as_str().unwrap().to_string()))
            .collect()
    };
    let (skipped, warnings) = (listed("skipped"), listed("warnings"));
    let names = |files: &[(String, String)]| -> Vec<String> {
        files.iter().map(|(p, _)| Path::new(p).file_name().unwrap().to_string_lossy().into_owned()).collect()
    };
    assert_eq!(names(&skipped), ["bad.npy", "empty.wav", "noise.ogg", "text.mp3"], "{skipped:?}");
    assert_eq!(names(&warnings), ["trunc.wav"]);
    assert!(
        warnings[0].1.contains("header says 3.00 s, 0.15 s decodable; indexed what was there"),
        "{warnings:?}"
    );
    for (path, reason) in skipped.iter().chain(&warnings) {
        let name = Path::new(path).file_name().unwrap().to_string_lossy().into_owned();
        assert!(!reason.contains('\n') && !reason.contains(&name), "{path}: {reason:?}");
        assert!(!reason.is_empty() && reason.len() < 200, "{path}: {reason:?}");
    }

    // The text summary: one line per file, the path once.
    let out =
        storyscore(&["index", "--model", m, l, "--out", dir.path().join("idx2").to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for name in ["bad.npy", "empty.wav", "noise.ogg", "text.mp3", "trunc.wav"] {
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(name)).collect();
        assert_eq!(lines.len(), 1, "{name}: {text}");
        assert_eq!(lines[0].matches(name).count(), 1, "{name}: {text}");
    }

    // --on-damaged skip leaves the cut file out.
    let idx3 = dir.path().join("idx3");
    let args = ["index", "--model", m, l, "--out", idx3.to_str().unwrap(), "--json", "--on-damaged", "skip"];
    let out = storyscore(&args, None);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["clips"].as_u64(), report["skipped"].as_array().unwrap().len()),
        (Some(1), 5),
        "{report}"
    );
    assert!(report["warnings"].as_array().unwrap().is_empty());
}

/// Two writers on one index: a second run started while the first holds the lock waits for it
/// (or, with --no-wait, says who holds it and exits 1), and the index ends with both libraries.
#[test]
fn two_writers_on_one_index_take_turns() {
    if common::minilm_dir().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    fresh_model(4, &model_dir);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    for i in 0..24 {
        write_tone(&a.join(format!("a{i:02}.wav")), 200.0 + 20.0 * i as f32, 10.0);
    }
    for i in 0..2 {
        write_tone(&b.join(format!("b{i}.wav")), 700.0 + 50.0 * i as f32, 2.0);
    }
    let idx = dir.path().join("idx");
    let run = |lib: &Path, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_storyscore"))
            .args(["index", "--model", model_dir.to_str().unwrap(), lib.to_str().unwrap()])
            .args(["--out", idx.to_str().unwrap()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = run(&a, &[]);
    let stamp = format!("pid {}", first.id());
    let lock = idx.join(".writer.lock");
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&stamp)) {
        assert!(start.elapsed().as_secs() < 120, "the first writer never took the lock");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let refused = run(&b, &["--no-wait"]);
    let second = run(&b, &[]);
    let refused = refused.wait_with_output().unwrap();
    let (first, second) = (first.wait_with_output().unwrap(), second.wait_with_output().unwrap());
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(stderr(&second).contains("waiting"), "the second writer waited: {}", stderr(&second));
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let why = stderr(&refused);
    assert!(why.contains("being written by") && why.contains(&stamp), "{why}");
    assert_eq!(why.trim().lines().count(), 1, "{why}");
    let index = ClipIndex::open(&idx).unwrap();
    assert_eq!(index.len(), 26, "the index holds both libraries");
}

/// A write that fails mid-way (a file-size limit, as a full disk does) gives one clear line,
/// leaves the previous index as it was and no temp file behind.
#[test]
fn failed_write_keeps_the_previous_index_and_no_temp_file() {
    let Some((dir, model_dir, lib)) = model_and_library(5) else { return };
    for i in 0..2 {
        write_tone(&lib.join(format!("t{i}.wav")), 300.0 + 100.0 * i as f32, 2.0);
    }
    let idx = dir.path().join("idx");
    let (m, l, o) = (model_dir.to_str().unwrap(), lib.to_str().unwrap(), idx.to_str().unwrap());
    assert_eq!(storyscore(&["index", "--model", m, l, "--out", o], None).status.code(), Some(0));
    let before = ClipIndex::open(&idx).unwrap();
    for i in 2..40 {
        write_tone(&lib.join(format!("t{i}.wav")), 300.0 + 10.0 * i as f32, 2.0);
    }
    // 16 KB: the chunk embeddings of 40 clips (40 × 16 × 64 floats) do not fit.
    let script = format!(
        "ulimit -f 16 && exec '{}' index --model '{m}' '{l}' --out '{o}'",
        env!("CARGO_BIN_EXE_storyscore")
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let why = stderr(&out);
    assert!(why.contains("cannot write") && why.contains(o), "{why}");
    assert_eq!(why.trim().lines().count(), 1, "{why}");
    let after = ClipIndex::open(&idx).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after.embeddings(), before.embeddings());
    let temps: Vec<_> = std::fs::read_dir(&idx)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .map(|e| e.path())
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

/// Whether the shipped default model can run here: MiniLM and both musicnn taggers installed.
fn default_model_runs() -> bool {
    common::minilm_dir().is_some()
        && common::musicnn_weights("MTT_musicnn").is_some()
        && common::musicnn_weights("MSD_musicnn").is_some()
}

#[test]
fn the_default_model_says_which_quadrant_a_story_leans_to() {
    if !default_model_runs() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let (lib, index) = (work.path().join("lib"), work.path().join("idx"));
    std::fs::create_dir(&lib).unwrap();
    for (i, freq) in [220.0, 880.0].iter().enumerate() {
        write_tone(&lib.join(format!("tone{i}.wav")), *freq, 4.0);
    }
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/default-model");
    let (m, l, x) = (model.to_str().unwrap(), lib.to_str().unwrap(), index.to_str().unwrap());
    let out = storyscore(&["index", "--model", m, l, "--out", x], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let story = "At the funeral she stood alone in the rain, unable to stop crying for her brother.";
    let out = storyscore(&["search", "--index", x, "--json", story], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lean = &r["query_quadrant"];
    assert_eq!(lean["quadrant"], "Q3", "{r}");
    assert_eq!(lean["moods"], serde_json::json!(["sad", "melancholic"]), "{r}");
    let share = lean["share"].as_f64().unwrap();
    assert!(share > 0.25 && share <= 1.0, "{r}");
    let out = storyscore(&["search", "--index", x, story], None);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("leaning:  Q3 (sad, melancholic) 0."), "{table}");

    // A soundtrack says it per passage.
    let story_file = work.path().join("story.txt");
    std::fs::write(
        &story_file,
        format!("{story}\n\nThe crowd cheered and danced all night at the victory party.\n"),
    )
    .unwrap();
    let out = storyscore(&["soundtrack", "--index", x, "--json", story_file.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let track: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let leans: Vec<&str> = track["passages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["quadrant"]["quadrant"].as_str().unwrap())
        .collect();
    assert_eq!(leans, ["Q3", "Q1"], "{track}");
}

#[test]
fn clips_say_what_stands_out_in_their_library() {
    if !default_model_runs() {
        return;
    }
    let Some(fourq) = common::shared("data/4q") else { return };
    // Two 4Q clips of each quadrant: a library whose clips differ.
    let meta = std::fs::read_to_string(fourq.join("meta.csv")).unwrap();
    let mut picked: Vec<(String, String)> = Vec::new();
    for line in meta.lines().skip(1) {
        let mut fields = line.split(',');
        let (Some(id), Some(quadrant)) = (fields.next(), fields.next()) else { continue };
        if picked.iter().filter(|(_, q)| q == quadrant).count() < 2 {
            picked.push((id.to_string(), quadrant.to_string()));
        }
    }
    assert_eq!(picked.len(), 8);
    let work = tempfile::tempdir().unwrap();
    let (lib, index) = (work.path().join("lib"), work.path().join("idx"));
    std::fs::create_dir(&lib).unwrap();
    for (id, _) in &picked {
        std::fs::copy(fourq.join(format!("{id}.ogg")), lib.join(format!("{id}.ogg"))).unwrap();
    }
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/default-model");
    let (m, l, x) = (model.to_str().unwrap(), lib.to_str().unwrap(), index.to_str().unwrap());
    let out = storyscore(&["index", "--model", m, l, "--out", x], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let story = "Footsteps crept closer in the dark hallway and something scratched at the locked door.";
    let out = storyscore(&["search", "--index", x, "--json", "--top", "8", story], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let moods: Vec<String> = storyscore::model::ModelConfig::load(&model.join("model.toml")).unwrap().moods;
    let mut standing_out = 0;
    for hit in r["results"].as_array().unwrap() {
        let Some(list) = hit.get("stands_out") else { continue };
        let list = list.as_array().unwrap();
        let ratios: Vec<f64> = list.iter().map(|m| m[1].as_f64().unwrap()).collect();
        assert!(!list.is_empty() && list.len() <= 3, "{hit}");
        assert!(ratios.iter().all(|r| *r >= 1.25 - 1e-6), "{hit}");
        assert!(ratios.windows(2).all(|w| w[0] >= w[1]), "most first: {hit}");
        assert!(list.iter().all(|m| moods.iter().any(|x| x == m[0].as_str().unwrap())), "{hit}");
        standing_out += 1;
    }
    // In eight clips of four quadrants, most have a mood well above the library's average.
    assert!(standing_out >= 4, "{r}");
    let table =
        String::from_utf8_lossy(&storyscore(&["search", "--index", x, story], None).stdout).into_owned();
    assert!(table.contains("stands out here: "), "{table}");
    // A soundtrack says the same of the clip it picks.
    let story_file = work.path().join("story.txt");
    std::fs::write(&story_file, format!("{story}\n")).unwrap();
    let out = storyscore(&["soundtrack", "--index", x, "--json", story_file.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let track: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let passage = &track["passages"][0];
    let same = r["results"].as_array().unwrap().iter().find(|h| h["path"] == passage["clip"]).unwrap();
    assert_eq!(passage.get("stands_out"), same.get("stands_out"), "{passage} vs {same}");
}
