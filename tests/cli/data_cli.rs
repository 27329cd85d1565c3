//! `storyscore data stats` end to end on the real shared data.
use crate::common;

use std::process::{Command, Output};

fn storyscore(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .args(args)
        .env("STORYSCORE_DATA", home.path().join("data"))
        .env("STORYSCORE_CONFIG", home.path().join("config.toml"))
        .env("STORYSCORE_CACHE", home.path().join("cache"))
        .output()
        .unwrap()
}

#[test]
fn stats_json_for_fourq() {
    let Some(dir) = common::shared("data/4q") else { return };
    let out = storyscore(&["data", "stats", &format!("4q:{}", dir.display()), "--json", "--durations"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kind"], "4q");
    assert_eq!(json["items"], 727);
    assert_eq!(json["labels"]["scary"], 63);
    assert_eq!(json["quadrants"]["Q2"], 187);
    assert_eq!(json["unlabelled"], 427);
    let splits = json["splits"].as_object().unwrap();
    assert_eq!(splits.values().map(|v| v.as_u64().unwrap()).sum::<u64>(), 727);
    assert_eq!(json["skipped_rows"], 0);
    // 727 clips, about 6.0 h; the two shortest are 10.04 s (README).
    let durations = &json["durations"];
    assert_eq!((durations["probed"].as_u64(), durations["failed"].as_u64()), (Some(727), Some(0)));
    let hours = durations["total_s"].as_f64().unwrap() / 3600.0;
    assert!((5.9..6.1).contains(&hours), "{hours}");
    assert!((durations["spread_s"]["min"].as_f64().unwrap() - 10.044).abs() < 0.01);
}

#[test]
fn stats_table_for_isear() {
    let Some(path) = common::shared("data/isear/isear.csv") else { return };
    let out = storyscore(&["data", "stats", &format!("isear:{}", path.display())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("6428 items (Text)"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("  joy") && l.contains("947") && l.contains('█')));
    assert!(text.contains("splits  test 644  train 5140  valid 644"));
    assert!(text.contains("text length (words)  min"));
    assert!(text.contains("skipped rows: 113"));
}

#[test]
fn stats_json_for_ttm_has_both_datasets() {
    let Some(dir) = common::shared("data/ttm_layout") else { return };
    let out = storyscore(&["data", "stats", &format!("ttm:{}", dir.display()), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["items"], 6541);
    assert_eq!(json["datasets"][1]["items"], 28);
    assert_eq!(json["datasets"][1]["splits"]["train"], 14);
}

#[test]
fn bad_path_and_unknown_kind_fail_with_one_line() {
    let out = storyscore(&["data", "stats", "isear:/no/such/file.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("no such file or directory: /no/such/file.csv"), "{err}");

    let out = storyscore(&["data", "stats", "audioset:/tmp"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown dataset kind \"audioset\""));
}

/// `storyscore cache` lists each cache with its limit from the config, and `--clear NAME`
/// empties that one only.
#[test]
fn cache_command_shows_and_clears_each_cache() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    for (dir, files, len) in
        [("pcm16", 3, 32_000), ("musicnn/MSD_musicnn-abc", 2, 1000), ("text-features", 1, 500)]
    {
        std::fs::create_dir_all(cache.join(dir)).unwrap();
        for i in 0..files {
            std::fs::write(cache.join(dir).join(format!("{i}.bin")), vec![0u8; len]).unwrap();
        }
    }
    std::fs::write(home.path().join("config.toml"), "audio_cache_gb = 0.5\n").unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_storyscore"))
            .args(args)
            .env("STORYSCORE_DATA", home.path().join("data"))
            .env("STORYSCORE_CONFIG", home.path().join("config.toml"))
            .env("STORYSCORE_CACHE", &cache)
            .output()
            .unwrap()
    };
    let out = run(&["cache", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = json["caches"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|r| r["name"] == name).unwrap().clone();
    assert_eq!((row("audio")["files"].as_u64(), row("audio")["bytes"].as_u64()), (Some(3), Some(96_000)));
    assert_eq!(row("audio")["limit_bytes"].as_u64(), Some(500_000_000));
    assert_eq!((row("musicnn")["files"].as_u64(), row("musicnn")["bytes"].as_u64()), (Some(2), Some(2000)));
    assert_eq!(row("text")["bytes"].as_u64(), Some(500));
    let table = String::from_utf8(run(&["cache"]).stdout).unwrap();
    assert!(table.contains("96 KB of 500 MB"), "{table}");

    let out = run(&["cache", "--clear", "audio"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cleared"));
    assert!(
        !cache.join("pcm16").exists()
            && cache.join("musicnn").exists()
            && cache.join("text-features").exists()
    );

    let out = run(&["cache", "--clear", "mel"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown cache \"mel\""), "{err}");

    assert!(run(&["cache", "--clear"]).status.success());
    assert!(!cache.join("musicnn").exists() && !cache.join("text-features").exists());
    assert!(run(&["cache", "--clear"]).status.success(), "clearing an empty cache is fine");
}

/// A bad value in the config file is one line naming the file, the place and the field's problem.
#[test]
fn a_bad_config_value_is_one_line() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(&config, "volume = 0.5\naudio_cache_gb = \"lots\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .arg("cache")
        .env("STORYSCORE_CONFIG", &config)
        .env("STORYSCORE_CACHE", home.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("config.toml: line 2, column 18: invalid type: string \"lots\", expected f64"),
        "{err}"
    );
}
