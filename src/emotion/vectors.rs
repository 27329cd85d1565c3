//! Word vectors: GloVe text, word2vec binary, and the `vectors.npy` + `vocab.txt` pair that
//! scripts/setup installs (GloVe 6B 50-d, float32, Fortran order).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::EmotionError;
use ndarray_npy::{ReadNpyError, ReadNpyExt};

/// Word → vector, all of one dimension, stored row-major in one buffer.
#[derive(Debug, Clone)]
pub struct WordVectors {
    dim: usize,
    words: Vec<String>,
    index: HashMap<String, usize>,
    data: Vec<f32>,
}

impl WordVectors {
    /// Loads a directory with `vectors.npy` + `vocab.txt`, a word2vec binary (`.bin`), or a
    /// GloVe / word2vec text file (an optional `count dim` header line is skipped).
    pub fn load(path: &Path) -> Result<Self, EmotionError> {
        if path.is_dir() {
            return Self::load_npy_dir(path);
        }
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("bin")) {
            return Self::load_word2vec_binary(path);
        }
        Self::load_text(path)
    }

    /// `vectors.npy` (`<f4`, 2-d, either order) and `vocab.txt` (one word per line, same count).
    pub fn load_npy_dir(dir: &Path) -> Result<Self, EmotionError> {
        let npy_path = dir.join("vectors.npy");
        let vocab_path = dir.join("vocab.txt");
        let vocab = std::fs::read_to_string(&vocab_path).map_err(|e| EmotionError::io(&vocab_path, e))?;
        let words: Vec<String> = vocab.lines().map(str::to_string).collect();
        let file = std::fs::File::open(&npy_path).map_err(|e| EmotionError::io(&npy_path, e))?;
        let array = ndarray::Array2::<f32>::read_npy(std::io::BufReader::new(file)).map_err(|e| {
            let message = match e {
                ReadNpyError::Io(e) => return EmotionError::io(&npy_path, e),
                ReadNpyError::WrongNdim(_, found) => format!("{found}-d array, expected [words, dim]"),
                ReadNpyError::WrongDescriptor(d) => {
                    format!("dtype {:?}, expected \"<f4\"", d.to_string().trim_matches('\''))
                }
                ReadNpyError::MissingData => "truncated data".to_string(),
                other => other.to_string(),
            };
            EmotionError::format(&npy_path, message)
        })?;
        let (rows, dim) = array.dim();
        if rows != words.len() {
            let msg = format!("{rows} vectors but {} has {} words", vocab_path.display(), words.len());
            return Err(EmotionError::format(&npy_path, msg));
        }
        // Row-major whichever order the file was written in.
        let data = array.as_standard_layout().iter().copied().collect();
        Self::from_parts(words, dim, data, &npy_path)
    }

    /// word2vec's binary format: `count dim\n`, then per word `word<space>` + dim × f32 LE
    /// (+ an optional `\n`).
    pub fn load_word2vec_binary(path: &Path) -> Result<Self, EmotionError> {
        let file = std::fs::File::open(path).map_err(|e| EmotionError::io(path, e))?;
        let mut reader = BufReader::new(file);
        let mut header = String::new();
        reader.read_line(&mut header).map_err(|e| EmotionError::io(path, e))?;
        let (count, dim) =
            parse_count_dim(&header).filter(|(_, d)| (1..=MAX_DIM).contains(d)).ok_or_else(|| {
                EmotionError::line(path, 1, format!("header {:?} is not `count dim`", header.trim()))
            })?;
        let mut words = Vec::with_capacity(count.min(1 << 20));
        let mut data = Vec::with_capacity(count.min(1 << 20) * dim);
        let mut buf = vec![0u8; dim * 4];
        for i in 0..count {
            let mut word = Vec::new();
            reader.read_until(b' ', &mut word).map_err(|e| EmotionError::io(path, e))?;
            if word.last() != Some(&b' ') {
                return Err(EmotionError::format(path, format!("truncated at word {i} of {count}")));
            }
            word.pop();
            while word.first() == Some(&b'\n') {
                word.remove(0);
            }
            let word = String::from_utf8(word)
                .map_err(|_| EmotionError::format(path, format!("word {i} is not UTF-8")))?;
            reader.read_exact(&mut buf).map_err(|_| {
                EmotionError::format(path, format!("truncated vector of word {i} ({word:?})"))
            })?;
            data.extend(buf.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])));
            words.push(word);
        }
        Self::from_parts(words, dim, data, path)
    }

    /// GloVe text (`word x1 … xd` per line) or word2vec text (the same after a `count dim` line).
    pub fn load_text(path: &Path) -> Result<Self, EmotionError> {
        let file = std::fs::File::open(path).map_err(|e| EmotionError::io(path, e))?;
        let mut words = Vec::new();
        let mut data = Vec::new();
        let mut dim = 0;
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| EmotionError::line(path, i + 1, format!("unreadable line: {e}")))?;
            if i == 0 && parse_count_dim(&line).is_some() {
                continue;
            }
            let mut parts = line.trim_end().split(' ');
            let Some(word) = parts.next().filter(|w| !w.is_empty()) else { continue };
            let start = data.len();
            for p in parts {
                let x: f32 = p
                    .parse()
                    .map_err(|_| EmotionError::line(path, i + 1, format!("{p:?} is not a number")))?;
                data.push(x);
            }
            let n = data.len() - start;
            if dim == 0 {
                dim = n;
            }
            if n != dim || n == 0 {
                return Err(EmotionError::line(path, i + 1, format!("{n} values, expected {dim}")));
            }
            words.push(word.to_string());
        }
        Self::from_parts(words, dim, data, path)
    }

    fn from_parts(words: Vec<String>, dim: usize, data: Vec<f32>, path: &Path) -> Result<Self, EmotionError> {
        if words.is_empty() || dim == 0 {
            return Err(EmotionError::format(path, "no word vectors"));
        }
        let mut index = HashMap::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            // Keep the first occurrence, as gensim does.
            index.entry(w.clone()).or_insert(i);
        }
        Ok(Self { dim, words, index, data })
    }

    /// Builds vectors from explicit pairs (e.g. the shipped mood vectors).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a [f32])>) -> Option<Self> {
        let mut words = Vec::new();
        let mut data = Vec::new();
        let mut dim = None;
        for (w, v) in pairs {
            if *dim.get_or_insert(v.len()) != v.len() {
                return None;
            }
            words.push(w.to_string());
            data.extend_from_slice(v);
        }
        Self::from_parts(words, dim?, data, Path::new("<pairs>")).ok()
    }

    pub fn get(&self, word: &str) -> Option<&[f32]> {
        let i = *self.index.get(word)?;
        self.data.get(i * self.dim..(i + 1) * self.dim)
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }
}

/// Far above any real embedding size; guards allocations against a corrupt header.
const MAX_DIM: usize = 1 << 16;

fn parse_count_dim(line: &str) -> Option<(usize, usize)> {
    let mut it = line.split_whitespace();
    let count = it.next()?.parse().ok()?;
    let dim = it.next()?.parse().ok()?;
    it.next().is_none().then_some((count, dim))
}
