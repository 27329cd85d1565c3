//! musicnn on tch against the package's own TensorFlow outputs (`shared/reference/musicnn`):
//! the front end, every intermediate stage and the outputs of both taggers.

use crate::common;

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use ndarray_npy::{NpzReader, ReadNpyExt};
use storyscore::audio::MelFrontEnd;
use storyscore::model::musicnn::{Musicnn, MusicnnModel, PATCH_FRAMES};
use tch::{Device, Kind, Tensor};

const CLIPS: [&str; 3] = ["audioset_demo", "4q_MT0000004637", "4q_MT0001523435"];

fn npz(path: &Path) -> NpzReader<std::fs::File> {
    NpzReader::new(std::fs::File::open(path).unwrap()).unwrap()
}

fn array(reader: &mut NpzReader<std::fs::File>, name: &str) -> ArrayD<f32> {
    reader.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn tensor(a: &ArrayD<f32>) -> Tensor {
    let shape: Vec<i64> = a.shape().iter().map(|&d| d as i64).collect();
    Tensor::from_slice(a.as_standard_layout().as_slice().unwrap()).view(shape.as_slice())
}

fn array_of(t: &Tensor) -> ArrayD<f32> {
    let t = t.to_kind(Kind::Float).contiguous();
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let v = Vec::<f32>::try_from(t.view([-1])).unwrap();
    ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap()
}

/// Largest absolute difference, with matching shapes asserted.
fn max_diff(ours: &ArrayD<f32>, reference: &ArrayD<f32>, what: &str) -> f32 {
    assert_eq!(ours.shape(), reference.shape(), "{what}: shape");
    ours.iter().zip(reference.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
}

fn max_abs(a: &ArrayD<f32>) -> f32 {
    a.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

#[test]
fn slaney_filterbank_matches_librosa() {
    let Some(path) = common::shared("reference/musicnn/mel_filterbank_96.npy") else { return };
    let reference = ndarray::Array2::<f32>::read_npy(std::fs::File::open(path).unwrap()).unwrap();
    let ours = array_of(MelFrontEnd::musicnn(Device::Cpu).filterbank());
    let d = max_diff(&ours, &reference.into_dyn(), "filterbank");
    assert!(d < 1e-7, "filterbank differs by {d}");
}

#[test]
fn log_mel_and_patches_match_the_package() {
    let front = MelFrontEnd::musicnn(Device::Cpu);
    for clip in CLIPS {
        let Some(path) = common::shared(&format!("reference/musicnn/{clip}.input.npz")) else { return };
        let mut input = npz(&path);
        let samples = array(&mut input, "samples");
        let wave = tensor(&samples);
        // [1, 96, T] → [T, 96], the package's layout.
        let power = front.mel_power(&wave).unwrap().squeeze_dim(0).tr();
        let reference = array(&mut input, "mel_power");
        let d = max_diff(&array_of(&power), &reference, "mel_power");
        assert!(d <= 1e-4 * max_abs(&reference).max(1.0), "{clip}: mel power differs by {d}");
        let logmel = front.log_mel(&wave).unwrap().squeeze_dim(0).tr();
        let reference = array(&mut input, "logmel");
        let d = max_diff(&array_of(&logmel), &reference, "logmel");
        assert!(d <= 1e-3, "{clip}: log-mel differs by {d}");
        assert!(logmel.isfinite().all().int64_value(&[]) != 0, "{clip}: non-finite log-mel");
        let patches = array(&mut input, "patches");
        let n = patches.shape()[0] as i64;
        let ours = logmel.narrow(0, 0, n * PATCH_FRAMES).view([n, PATCH_FRAMES, 96]);
        let d = max_diff(&array_of(&ours), &patches, "patches");
        assert!(d <= 1e-3, "{clip}: patches differ by {d}");
    }
}

/// Every stage of `model` on the stored patches of every clip, within the stated tolerances
/// (outputs) or 1e-3 of the stage's scale (intermediate maps, which the reference does not bound).
fn check_model(model: MusicnnModel) {
    let Some(weights) = common::musicnn_weights(model.name()) else { return };
    let net = Musicnn::from_file(model, &weights, Device::Cpu).unwrap();
    assert_eq!(net.labels().len(), 50);
    for clip in CLIPS {
        let root = format!("reference/musicnn/{clip}");
        let Some(input) = common::shared(&format!("{root}.input.npz")) else { return };
        let Some(golden) = common::shared(&format!("{root}.{}.npz", model.name())) else { return };
        let patches = array(&mut npz(&input), "patches");
        let out = net.forward(&tensor(&patches)).unwrap();
        let mut golden = npz(&golden);
        let stages: [(&str, &Tensor, f32); 6] = [
            ("taggram", &out.taggram, 1e-4),
            ("penultimate", &out.penultimate, 1e-3),
            ("logits", &out.logits, 1e-3),
            ("max_pool", &out.max_pool, 1e-3),
            ("mean_pool", &out.mean_pool, 1e-3),
            ("timbral", &out.timbral, 1e-3),
        ];
        for (name, ours, tol) in stages {
            let reference = array(&mut golden, name);
            let scale = if tol < 1e-3 { 1.0 } else { max_abs(&reference).max(1.0) };
            let d = max_diff(&array_of(ours), &reference, name);
            assert!(d <= tol * scale, "{} {clip} {name}: differs by {d} (scale {scale})", model.name());
        }
        let reference = array(&mut golden, "temporal");
        let d = max_diff(&array_of(&out.temporal), &reference, "temporal");
        assert!(d <= 1e-3 * max_abs(&reference).max(1.0), "{clip} temporal: {d}");
        for (i, cnn) in out.cnn.iter().enumerate() {
            let reference = array(&mut golden, &format!("cnn{}", i + 1));
            let ours = array_of(&cnn.unsqueeze(-1));
            let d = max_diff(&ours, &reference, "cnn");
            assert!(d <= 1e-3 * max_abs(&reference).max(1.0), "{clip} cnn{}: {d}", i + 1);
        }
    }
}

#[test]
fn msd_musicnn_matches_tensorflow_at_every_stage() {
    check_model(MusicnnModel::Msd);
}

#[test]
fn mtt_musicnn_matches_tensorflow_at_every_stage() {
    check_model(MusicnnModel::Mtt);
}

#[test]
fn missing_or_damaged_weights_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("MSD_musicnn.safetensors");
    let e = Musicnn::from_file(MusicnnModel::Msd, &absent, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("MSD_musicnn.safetensors") && e.contains("scripts/setup"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    std::fs::write(&absent, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json").unwrap();
    let e = Musicnn::from_file(MusicnnModel::Msd, &absent, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("MSD_musicnn.safetensors") && e.contains("scripts/setup"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    let Some(real) = common::musicnn_weights("MSD_musicnn") else { return };
    let bytes = std::fs::read(real).unwrap();
    std::fs::write(&absent, &bytes[..bytes.len() / 2]).unwrap();
    let e = Musicnn::from_file(MusicnnModel::Msd, &absent, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("MSD_musicnn.safetensors"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

fn storyscore(args: &[&str], cache: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .args(args)
        .env("STORYSCORE_CACHE", cache)
        .output()
        .unwrap()
}

/// A cache dir under `dir` with no musicnn features; the encoded texts and decoded clips of
/// earlier runs are shared.
fn fresh_feature_cache(dir: &Path) -> std::path::PathBuf {
    let cache = dir.join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let real = storyscore::config::Dirs::resolve().unwrap().cache;
    for shared in ["text-features", "pcm16"] {
        std::fs::create_dir_all(real.join(shared)).unwrap();
        std::os::unix::fs::symlink(real.join(shared), cache.join(shared)).unwrap();
    }
    cache
}

/// Indexes the fixture's clips with the model in `run` into `dir/index`.
fn index_fixture(run: &Path, fixture: &Path, dir: &Path, cache: &Path) -> std::path::PathBuf {
    let index = dir.join("index");
    let audio = fixture.join("audio");
    let args = [
        "index",
        "--model",
        run.to_str().unwrap(),
        audio.to_str().unwrap(),
        "--out",
        index.to_str().unwrap(),
    ];
    let out = storyscore(&args, cache);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    index
}

fn npy_files(dir: &Path) -> Vec<(std::path::PathBuf, std::time::SystemTime)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(npy_files(&path));
        } else if path.extension().is_some_and(|e| e == "npy") {
            out.push((path.clone(), entry.metadata().unwrap().modified().unwrap()));
        }
    }
    out.sort();
    out
}

/// A musicnn model end to end on the authors' layout fixture (28 clips): training computes each
/// clip's feature rows once into the cache and a second run reuses them; the model directory
/// records the trunk and holds only the heads; eval runs on it; an index of the clips says what
/// each sounds like, in the tagger's own words.
#[test]
fn musicnn_trunk_trains_from_cached_features_and_explains_clips() {
    let Some(fixture) = common::shared("data/ttm_layout") else { return };
    let Some(_) = common::musicnn_weights("MSD_musicnn") else { return };
    let dir = tempfile::tempdir().unwrap();
    let cache = fresh_feature_cache(dir.path());
    let spec = format!("ttm:{}", fixture.display());
    let run = dir.path().join("run");
    let train = |run: &Path, steps: &str| {
        let args = [
            "train",
            "--space",
            "classify",
            "--audio-trunk",
            "musicnn",
            "--text",
            &spec,
            "--music",
            &spec,
            "--run-dir",
            run.to_str().unwrap(),
            "--steps",
            steps,
            "--batch-size",
            "8",
            "--eval-every",
            "10",
            "--lr",
            "1e-3",
        ];
        let out = storyscore(&args, &cache);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let log = train(&run, "20");
    assert!(log.contains("musicnn MSD_musicnn features of"), "{log}");
    let rows = npy_files(&cache.join("musicnn"));
    assert!(rows.len() >= 10, "{} cached clips", rows.len());
    let toml = std::fs::read_to_string(run.join("model.toml")).unwrap();
    assert!(
        toml.contains("trunk = \"musicnn-msd\"") && toml.contains("musicnn_features = \"penultimate\""),
        "{toml}"
    );
    assert!(toml.contains("n_mels = 96"), "{toml}");
    let weights = storyscore::model::weights::read_safetensors(&run.join("best.safetensors")).unwrap();
    assert!(weights.contains_key("musicnn_bn.running_mean"));
    assert!(!weights.keys().any(|k| k.contains("conv2d") || k.contains("kernel")), "tagger weights saved");
    // A second run reads every row from the cache: no file is written again.
    train(&dir.path().join("run2"), "2");
    assert_eq!(npy_files(&cache.join("musicnn")), rows, "cached rows were recomputed");

    let out = storyscore(
        &[
            "eval",
            "--model",
            run.to_str().unwrap(),
            "--text",
            &spec,
            "--music",
            &spec,
            "--json",
            "--mapping",
            "manual",
        ],
        &cache,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["rows"].as_array().is_some_and(|r| r.iter().any(|r| r["space"] == "classify")));

    let index = index_fixture(&run, &fixture, dir.path(), &cache);
    let out = storyscore(
        &[
            "search",
            "--index",
            index.to_str().unwrap(),
            "--top",
            "3",
            "--json",
            "Rain on the window, alone again.",
        ],
        &cache,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let labels: Vec<String> = serde_json::from_str(
        &serde_json::to_string(&Musicnn::load(MusicnnModel::Msd, Device::Cpu).unwrap().labels()).unwrap(),
    )
    .unwrap();
    let results = found["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for hit in results {
        let tags = hit["sounds_like"].as_array().expect("sounds_like in --json");
        assert_eq!(tags.len(), 10);
        let probs: Vec<f64> = tags.iter().map(|t| t[1].as_f64().unwrap()).collect();
        assert!(probs.windows(2).all(|w| w[0] >= w[1]) && probs.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!(tags.iter().all(|t| labels.contains(&t[0].as_str().unwrap().to_string())));
    }
    let out = storyscore(&["search", "--index", index.to_str().unwrap(), "--top", "2", "quiet"], &cache);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("sounds like: ").count(), 2, "{text}");
}

/// The two-tagger trunk: each tagger's feature row side by side, a song head on each block, and
/// the song side reading the mean of the heads' mood distributions; moods space only.
#[test]
fn two_tagger_trunk_puts_a_song_head_on_each_tagger_and_averages_them() {
    use storyscore::model::musicnn::FEATURE_DIM;
    use storyscore::model::{EmotionModel, ModelConfig, Space, TrunkKind};
    let (Some(_), Some(_)) = (common::musicnn_weights("MSD_musicnn"), common::musicnn_weights("MTT_musicnn"))
    else {
        return;
    };
    if common::minilm_dir().is_none() {
        return;
    }
    tch::manual_seed(11);
    let mut cfg = ModelConfig::story(&["joy", "sadness", "neutral"]).unwrap();
    cfg.set_trunk(TrunkKind::MusicnnBoth, None);
    let model = EmotionModel::new(cfg.clone(), Device::Cpu).unwrap();
    let names: Vec<String> = model.var_store().variables().into_keys().collect();
    for name in
        ["musicnn_bn.running_mean", "musicnn_m1_bn.running_mean", "song_fc1.weight", "song_m1_fc1.weight"]
    {
        assert!(names.iter().any(|n| n == name), "{name}");
    }
    assert!(!names.iter().any(|n| n.starts_with("song_m2") || n.starts_with("text_m1")), "{names:?}");
    // Rows: MSD's block, then MTT's.
    let trunk = model.musicnn().unwrap();
    assert_eq!(trunk.row_dim(), 2 * FEATURE_DIM);
    let mel = Tensor::randn([3, 96, PATCH_FRAMES], tch::kind::FLOAT_CPU);
    let rows = tch::no_grad(|| trunk.feature_rows(&mel));
    assert_eq!(rows.size(), [3, 2 * FEATURE_DIM]);
    let msd = Musicnn::load(MusicnnModel::Msd, Device::Cpu).unwrap();
    let own = tch::no_grad(|| msd.forward(&mel.transpose(1, 2)).unwrap().feature_row());
    assert!((rows.narrow(1, 0, FEATURE_DIM) - &own).abs().max().double_value(&[]) < 1e-6);
    // Head 0 reads MSD's block only, head 1 MTT's; the song side is their mean.
    let members = tch::no_grad(|| model.audio_member_outputs_from_rows(&rows, false)).unwrap();
    assert_eq!(members.len(), 2);
    let blanked =
        Tensor::cat(&[rows.narrow(1, 0, FEATURE_DIM), rows.narrow(1, FEATURE_DIM, FEATURE_DIM) * 0.0], 1);
    let changed = tch::no_grad(|| model.audio_member_outputs_from_rows(&blanked, false)).unwrap();
    assert_eq!((&changed[0] - &members[0]).abs().max().double_value(&[]), 0.0);
    assert!((&changed[1] - &members[1]).abs().max().double_value(&[]) > 1e-4);
    let m = cfg.moods.len() as i64;
    let emb = tch::no_grad(|| model.embed_feature_rows(&rows, false)).unwrap();
    assert!((emb.narrow(1, 0, m) - common::mean_softmax(&members)).abs().max().double_value(&[]) < 1e-6);
    // One FEATURE_DIM block is the wrong width for it.
    let err = model.audio_member_outputs_from_rows(&own, false).unwrap_err().to_string();
    assert!(err.contains(&(2 * FEATURE_DIM).to_string()), "{err}");
    // Averaging mood distributions is the moods space's; elsewhere the config names the field.
    let mut va = ModelConfig::paper(Space::Va).unwrap();
    va.set_trunk(TrunkKind::MusicnnBoth, None);
    let err = common::refusal(va);
    assert!(err.contains("audio.trunk musicnn-both is for the moods space"), "{err}");

    // Trained, indexed and searched from the CLI: the rows of both taggers are cached together,
    // and a clip sounds like the first tagger's (MSD's) words.
    let Some(fixture) = common::shared("data/ttm_layout") else { return };
    let dir = tempfile::tempdir().unwrap();
    let cache = fresh_feature_cache(dir.path());
    let spec = format!("ttm:{}", fixture.display());
    let run = dir.path().join("run");
    let args =
        ["train", "--space", "moods", "--audio-trunk", "musicnn-both", "--text", &spec, "--music", &spec];
    let steps =
        ["--steps", "2", "--batch-size", "8", "--eval-every", "2", "--run-dir", run.to_str().unwrap()];
    let out = storyscore(&[&args[..], &steps[..]].concat(), &cache);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("musicnn MSD_musicnn + MTT_musicnn features of"), "{log}");
    assert!(std::fs::read_dir(cache.join("musicnn"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("MSD_musicnn+MTT_musicnn-")));
    let toml = std::fs::read_to_string(run.join("model.toml")).unwrap();
    assert!(toml.contains("trunk = \"musicnn-both\""), "{toml}");
    let weights = storyscore::model::weights::read_safetensors(&run.join("best.safetensors")).unwrap();
    for name in ["musicnn_m1_bn.running_mean", "song_m1_fc2.weight", "text_fc2.weight"] {
        assert!(weights.contains_key(name), "{name}");
    }
    let index = index_fixture(&run, &fixture, dir.path(), &cache);
    let out =
        storyscore(&["search", "--index", index.to_str().unwrap(), "--json", "A quiet walk home."], &cache);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hit = &found["results"][0];
    assert_eq!(hit["sounds_like"].as_array().map(Vec::len), Some(10), "{hit}");
    assert!(hit["sounds_like"].as_array().unwrap().iter().all(|t| msd.labels().iter().any(|l| t[0] == *l)));
}

/// A model directory naming musicnn without the converted weights is one line naming the file and
/// the fix.
#[test]
fn musicnn_model_without_weights_says_to_run_setup() {
    let Some(fixture) = common::shared("data/ttm_layout") else { return };
    let Some(minilm) = common::minilm_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    // A data dir with MiniLM but without the converted taggers.
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("models")).unwrap();
    std::os::unix::fs::symlink(minilm, data.join("models/all-MiniLM-L6-v2")).unwrap();
    let spec = format!("ttm:{}", fixture.display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .args([
            "train",
            "--space",
            "classify",
            "--audio-trunk",
            "musicnn-mtt",
            "--text",
            &spec,
            "--music",
            &spec,
        ])
        .args(["--steps", "1", "--run-dir"])
        .arg(dir.path().join("run"))
        .env("STORYSCORE_DATA", &data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(last.contains("MTT_musicnn.safetensors") && last.contains("scripts/setup"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// The wheel `scripts/setup` downloaded, if present.
fn wheel() -> Option<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/wheels");
    let found = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("musicnn-0.1.0")));
    if found.is_none() && std::env::var("STORYSCORE_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("musicnn wheel missing in {} (run scripts/setup)", dir.display());
    }
    found
}

/// A copy of the wheel with `member` changed by `edit`.
fn edited_wheel(src: &Path, dst: &Path, member: &str, edit: impl Fn(&mut Vec<u8>)) {
    use std::io::{Read, Write};
    let mut zip = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let name = file.name().to_string();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        if name == member {
            edit(&mut bytes);
        }
        out.start_file(name, options).unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap();
}

fn convert(wheel: &Path, out: &Path) -> std::process::Output {
    std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/musicnn-convert"))
        .arg(wheel)
        .arg(out)
        .output()
        .unwrap()
}

/// The converter's bad input: a corrupted tensor, a truncated data file, a wheel that is not a
/// zip. Each is one line naming the wheel and the fix, exit 1, and nothing is written.
#[test]
fn converter_rejects_damaged_wheels_in_one_line() {
    let Some(wheel) = wheel() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = "musicnn/MSD_musicnn/.data-00000-of-00001";
    let flipped = dir.path().join("flipped.whl");
    // conv2d/kernel's bytes start at 81,176 in MSD_musicnn's data file.
    edited_wheel(&wheel, &flipped, data, |b| b[81_176 + 1000] ^= 0x40);
    let truncated = dir.path().join("truncated.whl");
    edited_wheel(&wheel, &truncated, data, |b| b.truncate(83_176));
    let junk = dir.path().join("junk.whl");
    std::fs::write(&junk, b"<html>not a wheel</html>").unwrap();
    for (bad, says) in [(&flipped, "CRC32C mismatch"), (&truncated, "needs bytes"), (&junk, "not a zip file")]
    {
        let out_dir = dir.path().join("out");
        let out = convert(bad, &out_dir);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.contains(says) && err.contains(&*bad.to_string_lossy()) && err.contains("scripts/setup"),
            "{err}"
        );
        assert!(!out_dir.join("MSD_musicnn.safetensors").exists());
    }
    // The intact wheel converts to the weights the parity tests use.
    let out_dir = dir.path().join("good");
    let out = convert(&wheel, &out_dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let net =
        Musicnn::from_file(MusicnnModel::Mtt, &out_dir.join("MTT_musicnn.safetensors"), Device::Cpu).unwrap();
    assert_eq!(net.labels()[0], "guitar");
}
