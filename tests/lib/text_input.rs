//! Story input: validation, stdin, huge texts, sentence and paragraph splitting.
use crate::common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use storyscore::text::{
    input::MAX_STORY_BYTES, split_paragraphs, split_sentences, InputError, Pooling, SentenceEncoder,
    StoryText,
};

fn sentences(text: &str) -> Vec<String> {
    split_sentences(text).into_iter().map(|p| p.text).collect()
}

#[test]
fn wordless_texts_are_rejected_with_typed_errors() {
    assert!(matches!(StoryText::new("", "argument"), Err(InputError::Empty { .. })));
    assert!(matches!(StoryText::new(" \t\n ", "argument"), Err(InputError::Empty { .. })));
    for wordless in ["?!...", "— … —", "😀🎉💔", "  ❤️ !!! ", " á "] {
        let err = StoryText::new(wordless, "argument").unwrap_err();
        assert!(matches!(err, InputError::NoWords { .. }), "{wordless:?}: {err}");
        assert!(err.to_string().starts_with("argument: "), "{err}");
    }
    for ok in ["a", "42", "悲しい", "I'm sad 😢", "está"] {
        assert_eq!(StoryText::new(ok, "argument").unwrap().as_str(), ok);
    }
}

#[test]
fn invalid_utf8_reports_byte_offset_and_origin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("story.txt");
    std::fs::write(&path, b"The night was \xffdark").unwrap();
    let err = StoryText::from_file(&path).unwrap_err();
    assert!(matches!(err, InputError::InvalidUtf8 { offset: 14, .. }), "{err}");
    assert!(err.to_string().contains("story.txt") && err.to_string().contains("14"), "{err}");
    let err = StoryText::from_file(&dir.path().join("missing.txt")).unwrap_err();
    assert!(matches!(err, InputError::Io { .. }) && err.to_string().contains("missing.txt"), "{err}");
}

#[test]
fn oversized_input_is_refused_without_reading_it_all() {
    let endless = std::io::repeat(b'a').take(MAX_STORY_BYTES as u64 + 10);
    assert!(matches!(StoryText::from_reader(endless, "stdin"), Err(InputError::TooLarge { .. })));
}

/// Child half of `dash_reads_stdin`: runs only when spawned by it.
#[test]
fn stdin_child() {
    if std::env::var_os("STORYSCORE_STDIN_CHILD").is_none() {
        return;
    }
    match StoryText::from_arg("-") {
        Ok(t) => println!("CHILD-OK {}", t.as_str().len()),
        Err(e) => println!("CHILD-ERR {e}"),
    }
}

fn run_child(stdin: &[u8]) -> String {
    // The harness names a test by its path below the crate: `text_input::stdin_child`.
    let name = match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::stdin_child"),
        None => "stdin_child".to_string(),
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name.as_str(), "--nocapture", "--test-threads=1"])
        .env("STORYSCORE_STDIN_CHILD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    // The harness prints "test stdin_child ... " on the same line before the child's output.
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().find_map(|l| l.find("CHILD-").map(|at| &l[at..])) {
        Some(line) => line.to_string(),
        None => {
            format!("no child line; stdout {stdout:?}, stderr {:?}", String::from_utf8_lossy(&out.stderr))
        }
    }
}

#[test]
fn dash_reads_stdin() {
    assert_eq!(run_child("A storm broke over the hills.\n".as_bytes()), "CHILD-OK 30");
    assert_eq!(run_child(b"ok \xc3\x28 bad"), "CHILD-ERR stdin: invalid UTF-8 at byte offset 3");
    assert_eq!(run_child(b""), "CHILD-ERR stdin: the text is empty");
    assert_eq!(StoryText::from_arg("plain words").unwrap().as_str(), "plain words");
}

#[test]
fn abbreviations_quotes_and_ellipses() {
    assert_eq!(
        sentences("Mr. Brown met Dr. Smith at 3.30 p.m. on the quay. They talked, e.g. about J. K. Rowling."),
        ["Mr. Brown met Dr. Smith at 3.30 p.m. on the quay.", "They talked, e.g. about J. K. Rowling."]
    );
    assert_eq!(
        sentences("He shouted, \"Run!\" Then silence. \"Why?\" she asked. 'Because,' he said."),
        ["He shouted, \"Run!\"", "Then silence.", "\"Why?\" she asked.", "'Because,' he said."]
    );
    assert_eq!(
        sentences("I waited... and waited… Nobody came. Really?! Yes."),
        ["I waited... and waited…", "Nobody came.", "Really?!", "Yes."]
    );
    assert_eq!(
        sentences("“It’s over.” She wept (quietly.) Dawn came"),
        ["“It’s over.”", "She wept (quietly.)", "Dawn came"]
    );
    assert_eq!(sentences("雨が降った。私は泣いた。"), ["雨が降った。", "私は泣いた。"]);
    assert_eq!(sentences("The end.  😀  ...  "), ["The end."], "wordless pieces are left out");
}

#[test]
fn isear_line_break_artefact_is_whitespace() {
    let row = "When I was going home alone one night in Paris and a man came up á behind me and asked \
               me if I was not afraid to be out alone so á late at night.";
    let got = split_sentences(row);
    assert_eq!(got.len(), 1);
    assert!(!got[0].text.contains('á') && got[0].text.contains("came up behind me"), "{}", got[0].text);
    let story = StoryText::new("Ella está aquí. á Then she left.", "argument").unwrap();
    assert_eq!(
        story.sentences().into_iter().map(|p| p.text).collect::<Vec<_>>(),
        ["Ella está aquí.", "Then she left."]
    );
    let Some(isear) = common::shared("data/isear/isear.csv") else { return };
    let raw = std::fs::read_to_string(isear).unwrap();
    let first_row = raw.lines().nth(1).unwrap();
    let sit: Vec<&str> = first_row.split('|').collect();
    let text = sit[40..sit.len() - 2].join("|");
    assert!(text.contains(" á "), "{text}");
    let got = split_sentences(&text);
    assert_eq!(got.len(), 1);
    assert!(got[0].text.contains("met and especially"), "{}", got[0].text);
}

#[test]
fn paragraphs_split_on_blank_lines_with_offsets() {
    let src = "First line\nstill first. Second sentence.\n\n  \t\nNew part á here.\r\n\r\nLast";
    let paras = split_paragraphs(src);
    let texts: Vec<&str> = paras.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["First line still first. Second sentence.", "New part here.", "Last"]);
    assert_eq!(&src[paras[1].start..paras[1].end], "New part á here.");
    assert_eq!(&src[paras[2].start..], "Last");
    let sents = split_sentences(src);
    assert_eq!(sents.len(), 4, "a sentence never crosses a paragraph: {sents:?}");
    assert_eq!(&src[sents[0].start..sents[0].end], "First line\nstill first.");
}

#[test]
fn one_megabyte_story_splits_and_encodes_truncated() {
    // One libtorch thread: parallel tests on 2 shared cores oversubscribe OpenMP otherwise.
    tch::set_num_threads(1);
    let sentence = "The old sailor smiled at the grey sea, remembering the storms of his youth. ";
    let (mut story, mut count) = (String::new(), 0);
    while story.len() < 1 << 20 {
        story.push_str(sentence);
        count += 1;
        if story.len() % 7 == 0 {
            story.push_str("\n\n");
        }
    }
    let story = StoryText::new(story, "argument").unwrap();
    assert_eq!(story.sentences().len(), count);
    assert!(story.paragraphs().len() > 1);
    let Some(dir) = common::minilm_dir() else { return };
    let enc = SentenceEncoder::load(&dir, tch::Device::Cpu).unwrap();
    let out = enc.encode(&[story.as_str(), sentence], Pooling::Mean).unwrap();
    assert_eq!(out.embeddings.size(), [2, 384]);
    assert_eq!(out.truncated, 1, "the story is cut at 256 tokens and reported");
}
