//! `soundtrack`: passages, offsets, no repeated clips, JSON and M3U output, long stories.
use crate::common;

use std::path::Path;
use std::process::Command;

use storyscore::index::{build_index, soundtrack, IndexOptions, Searcher};
use storyscore::model::{EmotionModel, ModelConfig, Space};
use storyscore::text::StoryText;
use tch::Device;

fn write_noise(path: &Path, seed: u32, seconds: f32) {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
    common::write_wav(path, 1, 16_000, (seconds * 16_000.0) as usize, |n, _| {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        let tone = (2.0 * std::f32::consts::PI * (100.0 * seed as f32) * n as f32 / 16_000.0).sin();
        ((s as i32 >> 20) as f32 * 0.5 + 3000.0 * tone) as i16
    });
}

const STORY: &str = "The sun rose over the quiet village. Birds sang.\n\n\
    Then the soldiers came. Houses burned. People ran. Children cried. Nobody was spared.\n\n\
    Years later, an old woman planted flowers where her house had stood.";

#[test]
fn soundtrack_follows_passages_without_repeats() {
    if common::minilm_dir().is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let (model_dir, lib, idx) = (work.path().join("model"), work.path().join("lib"), work.path().join("idx"));
    std::fs::create_dir(&lib).unwrap();
    tch::manual_seed(11);
    let mut model = EmotionModel::new(ModelConfig::paper(Space::ThreeBranch).unwrap(), Device::Cpu).unwrap();
    model.save(&model_dir).unwrap();
    for i in 0..5 {
        write_noise(&lib.join(format!("clip{i}.wav")), i + 1, 3.0);
    }
    build_index(&model, &model_dir, std::slice::from_ref(&lib), &idx, &IndexOptions::default()).unwrap();
    let searcher =
        Searcher::with_model(&idx, storyscore::index::ClipIndex::open(&idx).unwrap(), model).unwrap();

    let track = soundtrack(&searcher, &StoryText::new(STORY, "test").unwrap()).unwrap();
    // Paragraph 2 has five sentences: a window of four, then one.
    assert_eq!(track.passages.len(), 4, "{:?}", track.passages);
    let chars: Vec<char> = STORY.chars().collect();
    for p in &track.passages {
        let at: String = chars[p.start..].iter().take(p.text.chars().count()).collect();
        assert_eq!(at, p.text, "start is a char offset of the passage");
        assert_eq!(p.moods.len(), 3);
    }
    let mut clips: Vec<_> = track.passages.iter().map(|p| p.clip.clone()).collect();
    clips.sort();
    clips.dedup();
    assert_eq!(clips.len(), 4, "no clip repeats while the library has enough");
    assert!(track.notices.is_empty());

    // A long story is read in a bounded number of sections, with a notice.
    let long = "A short paragraph about rain.\n\n".repeat(34_000);
    assert!(long.len() > 1_000_000);
    let track = soundtrack(&searcher, &StoryText::new(long, "test").unwrap()).unwrap();
    assert_eq!(track.passages.len(), storyscore::index::soundtrack::MAX_PASSAGES);
    assert!(track.notices.iter().any(|n| n.contains("sections")), "{:?}", track.notices);
    assert!(track.notices.iter().any(|n| n.contains("repeat")), "{:?}", track.notices);

    // The command: JSON shape and the playlist.
    let story_file = work.path().join("story.txt");
    std::fs::write(&story_file, STORY).unwrap();
    let m3u = work.path().join("out.m3u");
    let out = Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .args(["soundtrack", "--index", idx.to_str().unwrap(), "--json", "--m3u", m3u.to_str().unwrap()])
        .arg(&story_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let passages = json["passages"].as_array().unwrap();
    assert_eq!(passages.len(), 4);
    for p in passages {
        assert!(
            p["start"].is_u64() && p["text"].is_string() && p["clip"].is_string() && p["score"].is_number()
        );
        assert!(p["moods"][0][0].is_string() && p["moods"][0][1].is_number());
    }
    let playlist = std::fs::read_to_string(&m3u).unwrap();
    let lines: Vec<&str> = playlist.lines().collect();
    assert_eq!(lines[0], "#EXTM3U");
    assert_eq!(lines.len(), 1 + 2 * 4);
    assert!(lines[1].starts_with("#EXTINF:3,") && lines[2] == passages[0]["clip"].as_str().unwrap());

    let out = Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .args(["soundtrack", "--index", idx.to_str().unwrap()])
        .arg(work.path().join("missing-story.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing-story.txt"));
}
