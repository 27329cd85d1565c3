//! The shipped default model reads short passages written for this test (four per quadrant,
//! tender, calm, hopeful and peaceful ones among them) in the right quadrant, and ranks the 4Q
//! development clips of that quadrant first. None of these texts is in any training set.
use crate::common;

use std::path::{Path, PathBuf};

use storyscore::audio::MelFrontEnd;
use storyscore::cache::PcmCache;
use storyscore::config::Dirs;
use storyscore::data::{DatasetSpec, Modality};
use storyscore::emotion::Quadrant;
use storyscore::eval::embed::clip_embeddings;
use storyscore::model::{EmotionModel, WindowMode};
use tch::{Device, Kind};

const PASSAGES: [(Quadrant, &str); 16] = [
    (
        Quadrant::Q1,
        "We won the championship! Everyone was cheering, jumping and hugging in the streets all night.",
    ),
    (Quadrant::Q1, "The carnival burst into colour as the children laughed and raced toward the rides."),
    (Quadrant::Q1, "She opened the letter and shrieked with joy: she had been accepted to her dream school."),
    (Quadrant::Q1, "The band kicked in and the whole crowd danced wildly under the fireworks."),
    (Quadrant::Q2, "He slammed the door, screaming that he would never forgive them for the betrayal."),
    (Quadrant::Q2, "Footsteps crept closer in the dark hallway and something scratched at the locked door."),
    (Quadrant::Q2, "The timer ticked down as the soldiers argued, sweating, over which wire to cut."),
    (Quadrant::Q2, "A furious mob smashed the windows and set the cars on fire."),
    (Quadrant::Q3, "At the funeral she stood alone in the rain, unable to stop crying for her brother."),
    (Quadrant::Q3, "The old man sat in the empty house, looking at photographs of the wife he had lost."),
    (Quadrant::Q3, "Nobody came to his birthday; he ate the cake alone and went to bed heartbroken."),
    (Quadrant::Q3, "The letter said the dog had died while she was away, and she never got to say goodbye."),
    (Quadrant::Q4, "She kissed him softly as the sun set over the quiet lake."),
    (Quadrant::Q4, "The village slept peacefully under the snow, and only the fire crackled in the hearth."),
    (Quadrant::Q4, "He held his newborn daughter gently, whispering how grateful he was that she was here."),
    (
        Quadrant::Q4,
        "After the long winter, the first green shoots gave them hope that better days were coming.",
    ),
];

/// The shipped default model, or the model (directory or run directory) named by
/// `STORYSCORE_PROBE_MODEL`, to probe a candidate (e.g. one fold of a cross-validation).
fn default_model() -> Option<EmotionModel> {
    common::minilm_dir()?;
    let dir = match std::env::var_os("STORYSCORE_PROBE_MODEL") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("data/default-model"),
    };
    let model = EmotionModel::load(&dir, Device::Cpu).unwrap();
    for kind in model.config().audio.trunk.musicnn_models() {
        common::musicnn_weights(kind.name())?;
    }
    Some(model)
}

/// The quadrant the default model reads each passage in.
fn readings(model: &EmotionModel) -> Vec<Quadrant> {
    let texts: Vec<&str> = PASSAGES.iter().map(|p| p.1).collect();
    let emb = model.embed_texts(&texts).unwrap();
    let read = model.quadrants_of(&emb).expect("the default model reads quadrants");
    let probs: Vec<Vec<f32>> =
        Vec::try_from(model.mood_probabilities(&emb).expect("mood probabilities")).unwrap();
    for (((q, text), r), p) in PASSAGES.iter().zip(&read).zip(&probs) {
        let mut moods: Vec<(f32, &String)> = p.iter().copied().zip(&model.config().moods).collect();
        moods.sort_by(|a, b| b.0.total_cmp(&a.0));
        let top: Vec<String> = moods.iter().take(3).map(|(p, m)| format!("{m} {p:.2}")).collect();
        eprintln!("{q} read as {r} ({}): {text}", top.join(", "));
    }
    read
}

#[test]
fn passages_read_in_their_quadrant() {
    let Some(model) = default_model() else { return };
    let read = readings(&model);
    let right = PASSAGES.iter().zip(&read).filter(|(p, q)| p.0 == **q).count();
    assert!(right >= 13, "{right} of 16 passages read in their quadrant: {read:?}");
}

/// For each quadrant: how many of the top-5 places of its four passages, over the 727 4Q
/// development clips, are clips of that quadrant (and how many places).
fn top5_shares() -> Option<Vec<(Quadrant, usize, usize)>> {
    let (Some(model), Some(fourq)) = (default_model(), common::shared("data/4q")) else { return None };
    let texts: Vec<&str> = PASSAGES.iter().map(|p| p.1).collect();
    let emb = model.embed_texts(&texts).unwrap();
    let spec: DatasetSpec = format!("4q:{}", fourq.display()).parse().unwrap();
    let (music, _) = spec.load(Modality::Music).unwrap();
    let paths: Vec<PathBuf> =
        music.items.iter().filter_map(|i| i.content.audio_path().map(Path::to_path_buf)).collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    // The real cache: the clips' musicnn features are computed once (minutes) and reused.
    let cache = Dirs::resolve().unwrap().cache;
    let front: MelFrontEnd = model.front_end();
    let pcm = PcmCache::new(&cache.join("pcm16"), None);
    let clips = clip_embeddings(&model, &front, &pcm, &refs, 16, WindowMode::Exact, &|_, _| {}).unwrap();
    let sim = model.similarity(&emb.to_kind(Kind::Float), &clips).unwrap();
    let top: Vec<Vec<i64>> = Vec::<Vec<i64>>::try_from(sim.topk(5, 1, true, true).1).unwrap();
    let mut shares = Vec::new();
    for (row, (q, text)) in top.iter().zip(&PASSAGES) {
        let found: Vec<String> = row
            .iter()
            .map(|&c| music.items[c as usize].quadrant.map_or("-".into(), |q| q.to_string()))
            .collect();
        eprintln!("{q} passage's top 5: {} ({text})", found.join(" "));
    }
    for quadrant in Quadrant::ALL {
        let rows = top.iter().zip(&PASSAGES).filter(|(_, p)| p.0 == quadrant).map(|(row, _)| row);
        let places: Vec<Option<Quadrant>> =
            rows.flatten().map(|&c| music.items[c as usize].quadrant).collect();
        let hits = places.iter().filter(|q| **q == Some(quadrant)).count();
        eprintln!("{quadrant}: {hits} of the top-{} places are {quadrant} clips", places.len());
        shares.push((quadrant, hits, places.len()));
    }
    Some(shares)
}

#[test]
fn angry_scary_sad_and_joyful_passages_find_mostly_their_clips() {
    let Some(shares) = top5_shares() else { return };
    for (quadrant, hits, total) in shares.into_iter().filter(|s| s.0 != Quadrant::Q4) {
        assert!(2 * hits > total, "{quadrant}: only {hits} of the top-{total} places are {quadrant} clips");
    }
}

#[test]
fn tender_calm_and_hopeful_passages_find_mostly_q4_clips() {
    let Some(shares) = top5_shares() else { return };
    let (_, hits, total) = shares[3];
    assert!(2 * hits > total, "only {hits} of the top-{total} places of the Q4 passages are Q4 clips");
}

#[test]
fn neutral_and_odd_texts_read_near_the_centre_without_panicking() {
    let Some(model) = default_model() else { return };
    let odd = [
        "The meeting is scheduled for Tuesday at 10 am in room 4.",
        "Der Zug fährt um acht Uhr ab.",
        "table",
        "",
        "1234 5678",
    ];
    let emb = model.embed_texts(&odd).unwrap();
    let va = model.valence_arousal(&emb).expect("the default model reads valence and arousal");
    let va: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(va).unwrap();
    let probs = model.mood_probabilities(&emb).expect("mood probabilities");
    let top: Vec<f32> = Vec::<f32>::try_from(probs.amax([1i64].as_slice(), false)).unwrap();
    for ((text, va), p) in odd.iter().zip(&va).zip(&top) {
        eprintln!("{text:?}: valence {:.2} arousal {:.2}, top mood {p:.2}", va[0], va[1]);
        assert!(va.iter().all(|x| x.is_finite()));
        assert!(*p < 0.6, "{text:?} read with a confident mood ({p:.2})");
    }
    let neutral = &va[0];
    assert!((neutral[0] - 0.5).abs() < 0.25 && (neutral[1] - 0.5).abs() < 0.25, "{neutral:?}");
}
