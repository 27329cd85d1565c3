//! Splitting a story into sentences and paragraphs, with byte offsets into the original text.
//!
//! ISEAR's texts carry `á` (U+00E1) where the original had line breaks, often mid-sentence. An
//! `á` standing alone between spaces is that artefact and is read as whitespace; an `á` inside a
//! word (`está`) is a letter.

use std::borrow::Cow;

/// A span of a story: `text` is `source[start..end]` with whitespace runs (and ISEAR line-break
/// artefacts) collapsed to single spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// Byte offset of the first character in the source text.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    pub text: String,
}

/// Titles and Latin shorthands whose period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "ft", "capt", "col", "gen", "lt", "sgt",
    "rev", "hon", "gov", "sen", "rep", "messrs", "mme", "mlle", "vs", "cf", "approx", "no", "nos", "vol",
    "fig", "p", "pp", "ca", "al", "inc", "ltd", "co",
];

fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？' | '‼' | '⁇' | '⁈' | '⁉')
}

/// Terminators that end a sentence without a following space (CJK punctuation).
fn is_wide_terminator(c: char) -> bool {
    matches!(c, '。' | '！' | '？')
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | '”' | '’' | ')' | ']' | '}' | '»' | '」' | '』' | '›')
}

/// Whether the `á` at byte `i` of `text` stands alone (the ISEAR line-break artefact).
fn is_artefact(text: &str, i: usize) -> bool {
    let Some(rest) = text.get(i..).and_then(|r| r.strip_prefix('á')) else { return false };
    let before = text[..i].chars().next_back();
    before.is_none_or(char::is_whitespace) && rest.chars().next().is_none_or(char::is_whitespace)
}

fn is_blank(text: &str, i: usize, c: char) -> bool {
    c.is_whitespace() || (c == 'á' && is_artefact(text, i))
}

/// Whether `text` has a word: a letter or digit in any script (not only punctuation, symbols,
/// emoji, whitespace or ISEAR artefacts).
pub fn has_words(text: &str) -> bool {
    text.char_indices().any(|(i, c)| c.is_alphanumeric() && !(c == 'á' && is_artefact(text, i)))
}

/// `text` with each ISEAR line-break artefact replaced by a space.
pub fn repair_line_breaks(text: &str) -> Cow<'_, str> {
    if !text.char_indices().any(|(i, c)| c == 'á' && is_artefact(text, i)) {
        return Cow::Borrowed(text);
    }
    text.char_indices().map(|(i, c)| if c == 'á' && is_artefact(text, i) { ' ' } else { c }).collect()
}

/// The passage of `text[start..end]` trimmed of blanks; `None` when it has no words.
fn passage(text: &str, start: usize, end: usize) -> Option<Passage> {
    let span = &text[start..end];
    let first = span.char_indices().find(|&(i, c)| !is_blank(text, start + i, c))?.0 + start;
    let (last, c) = span.char_indices().rev().find(|&(i, c)| !is_blank(text, start + i, c))?;
    let end = start + last + c.len_utf8();
    let mut clean = String::with_capacity(end - first);
    let mut pending_space = false;
    for (i, c) in text[first..end].char_indices() {
        if is_blank(text, first + i, c) {
            pending_space = true;
            continue;
        }
        if pending_space {
            clean.push(' ');
            pending_space = false;
        }
        clean.push(c);
    }
    has_words(&clean).then_some(Passage { start: first, end, text: clean })
}

/// Byte ranges of the paragraphs: runs of lines separated by blank lines.
fn paragraph_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let blank = line.char_indices().all(|(i, c)| is_blank(text, offset + i, c));
        match (blank, current.as_mut()) {
            (true, Some(_)) => ranges.extend(current.take()),
            (false, Some(range)) => range.1 = offset + line.len(),
            (false, None) => current = Some((offset, offset + line.len())),
            (true, None) => {}
        }
        offset += line.len();
    }
    ranges.extend(current);
    ranges
}

/// Paragraphs of `text`: separated by blank lines; wordless ones are left out.
pub fn split_paragraphs(text: &str) -> Vec<Passage> {
    paragraph_ranges(text).into_iter().filter_map(|(s, e)| passage(text, s, e)).collect()
}

/// Whether the period at byte `dot` closes an abbreviation or an initial (`Mr.`, `e.g.`, `J.`).
fn is_abbreviation(text: &str, dot: usize) -> bool {
    let word_start = text[..dot]
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &text[word_start..dot];
    let mut letters = word.chars();
    let single_letter = matches!((letters.next(), letters.next()), (Some(c), None) if c.is_alphabetic());
    single_letter
        || (word.contains('.') && !word.ends_with('.'))
        || ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
}

/// Sentences of `text`, never crossing a paragraph break. A sentence ends at `.`, `!`, `?` or
/// an ellipsis (with any closing quotes or brackets after it) followed by a space and a word that
/// does not start in lower case; a period after an abbreviation or an initial does not end one.
/// CJK full stops end a sentence wherever they are. Wordless pieces are left out.
pub fn split_sentences(text: &str) -> Vec<Passage> {
    let mut out = Vec::new();
    for (ps, pe) in paragraph_ranges(text) {
        let chars: Vec<(usize, char)> = text[ps..pe].char_indices().map(|(i, c)| (ps + i, c)).collect();
        let mut sentence_start = ps;
        let mut k = 0;
        while k < chars.len() {
            let (at, c) = chars[k];
            if !is_terminator(c) {
                k += 1;
                continue;
            }
            let run_start = k;
            while k < chars.len() && is_terminator(chars[k].1) {
                k += 1;
            }
            let single_period = k - run_start == 1 && c == '.';
            let wide = chars[run_start..k].iter().any(|&(_, c)| is_wide_terminator(c));
            while k < chars.len() && is_closer(chars[k].1) {
                k += 1;
            }
            let end = chars.get(k).map_or(pe, |&(i, _)| i);
            let next_word = chars[k..].iter().find(|&&(i, c)| !is_blank(text, i, c)).map(|&(_, c)| c);
            let followed_by_space = chars.get(k).is_none_or(|&(i, c)| is_blank(text, i, c));
            let boundary = wide
                || match next_word {
                    None => true,
                    Some(next) => {
                        followed_by_space
                            && !next.is_lowercase()
                            && !(single_period && is_abbreviation(text, at))
                    }
                };
            if boundary {
                out.extend(passage(text, sentence_start, end));
                sentence_start = end;
            }
        }
        out.extend(passage(text, sentence_start, pe));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_point_into_the_source() {
        let src = "  Café opened.  Then it rained!\n";
        for p in split_sentences(src) {
            assert_eq!(src[p.start..p.end].split_whitespace().collect::<Vec<_>>().join(" "), p.text);
        }
    }

    #[test]
    fn artefact_is_whitespace_but_accented_words_stay() {
        assert_eq!(repair_line_breaks("we met and á especially"), "we met and   especially");
        assert_eq!(repair_line_breaks("Ella está aquí"), "Ella está aquí");
        assert!(!has_words(" á "));
        assert!(has_words("está"));
    }

    #[test]
    fn abbreviation_detection() {
        assert!(is_abbreviation("Mr.", 2));
        assert!(is_abbreviation("see e.g.", 7));
        assert!(is_abbreviation("J.", 1));
        assert!(!is_abbreviation("home.", 4));
    }
}
