//! Valence–arousal–dominance lexicons: NRC-VAD v1 and Warriner et al. (2013).

use std::collections::HashMap;
use std::path::Path;

use super::EmotionError;

/// The scale a lexicon file was written on; values are always returned on 0–1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaScale {
    /// NRC-VAD v1: TAB-separated `Word Valence Arousal Dominance`, already 0–1.
    NrcVad,
    /// Warriner 2013: CSV of `*.Mean.Sum` ratings on 1–9, normalised as `(x − 1) / 8`,
    /// which maps the rating scale's ends onto 0 and 1 and its midpoint 5 onto 0.5.
    Warriner,
}

/// Word → (valence, arousal, dominance) on a 0–1 scale.
#[derive(Debug, Clone)]
pub struct VaLexicon {
    pub scale: VaScale,
    entries: HashMap<String, [f32; 3]>,
}

impl VaLexicon {
    /// Reads either format, told apart by the header line.
    pub fn load(path: &Path) -> Result<Self, EmotionError> {
        let bytes = std::fs::read(path).map_err(|e| EmotionError::io(path, e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            EmotionError::format(path, format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()))
        })?;
        Self::parse(&text, path)
    }

    /// Parses lexicon text; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, EmotionError> {
        let mut lines = text.lines();
        let header = lines.next().ok_or_else(|| EmotionError::format(path, "empty lexicon file"))?;
        if header.starts_with("Word\t") {
            Self::parse_nrc(lines, path)
        } else if header.contains("V.Mean.Sum") {
            Self::parse_warriner(header, lines, path)
        } else {
            Err(EmotionError::line(
                path,
                1,
                "unknown lexicon header (expected NRC-VAD `Word<TAB>Valence…` or Warriner `,Word,V.Mean.Sum,…`)",
            ))
        }
    }

    fn parse_nrc<'a>(lines: impl Iterator<Item = &'a str>, path: &Path) -> Result<Self, EmotionError> {
        let mut entries = HashMap::new();
        for (i, line) in lines.enumerate() {
            let line_no = i + 2;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != 4 {
                return Err(EmotionError::line(
                    path,
                    line_no,
                    format!("{} fields, expected 4", fields.len()),
                ));
            }
            let vad = parse_scores(&fields[1..], path, line_no)?;
            entries.insert(fields[0].to_string(), vad);
        }
        Ok(Self { scale: VaScale::NrcVad, entries })
    }

    fn parse_warriner<'a>(
        header: &str,
        lines: impl Iterator<Item = &'a str>,
        path: &Path,
    ) -> Result<Self, EmotionError> {
        let names: Vec<&str> = header.split(',').collect();
        let column = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| EmotionError::line(path, 1, format!("missing column {name}")))
        };
        let word_col = column("Word")?;
        let cols = [column("V.Mean.Sum")?, column("A.Mean.Sum")?, column("D.Mean.Sum")?];
        let mut entries = HashMap::new();
        for (i, line) in lines.enumerate() {
            let line_no = i + 2;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != names.len() {
                let msg = format!("{} fields, expected {}", fields.len(), names.len());
                return Err(EmotionError::line(path, line_no, msg));
            }
            let raw = parse_scores(&cols.map(|c| fields[c]), path, line_no)?;
            entries.insert(fields[word_col].to_string(), raw.map(|x| (x - 1.0) / 8.0));
        }
        Ok(Self { scale: VaScale::Warriner, entries })
    }

    /// (valence, arousal, dominance) of `word` on 0–1; tries the word as given, then lower-cased.
    pub fn get(&self, word: &str) -> Option<(f32, f32, f32)> {
        self.entries.get(word).or_else(|| self.entries.get(&word.to_lowercase())).map(|v| (v[0], v[1], v[2]))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn parse_scores(fields: &[&str], path: &Path, line: usize) -> Result<[f32; 3], EmotionError> {
    let mut out = [0.0; 3];
    for (o, f) in out.iter_mut().zip(fields) {
        *o = f
            .trim()
            .parse::<f32>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| EmotionError::line(path, line, format!("score {f:?} is not a number")))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nrc_lines_with_spaces_in_words() {
        let lex = VaLexicon::parse(
            "Word\tValence\tArousal\tDominance\naltar boy\t0.5\t0.25\t0.125\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(lex.get("altar boy"), Some((0.5, 0.25, 0.125)));
        assert_eq!(lex.get("Altar Boy"), Some((0.5, 0.25, 0.125)));
    }

    #[test]
    fn warriner_is_normalised_to_unit_scale() {
        let text = ",Word,V.Mean.Sum,A.Mean.Sum,D.Mean.Sum\n1,calm,9,1,5\n";
        let lex = VaLexicon::parse(text, Path::new("w.csv")).unwrap();
        assert_eq!(lex.get("calm"), Some((1.0, 0.0, 0.5)));
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let err = VaLexicon::parse(
            "Word\tValence\tArousal\tDominance\nok\t1\t1\t1\nbad\t1\tx\t1\n",
            Path::new("l.txt"),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "l.txt:3: score \"x\" is not a number");
        assert!(VaLexicon::parse("foo,bar\n", Path::new("l.txt")).is_err());
        assert!(VaLexicon::parse("", Path::new("l.txt")).is_err());
    }
}
