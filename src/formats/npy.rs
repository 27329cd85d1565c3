//! A reader for numpy `.npy` files: numeric arrays, `<U..` (UTF-32) strings and object arrays,
//! whose payload is a pickle of the array itself (read as data, never executed).

use std::io::Read;
use std::path::Path;

use super::pickle::{self, PickledArray};
use super::FormatError;

const MAGIC: &[u8] = b"\x93NUMPY";

/// What a `.npy` header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    pub descr: String,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
}

impl NpyHeader {
    /// Number of elements: the product of the shape (1 for a 0-d array).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The elements of an array, flattened in file order (C or Fortran, per the header).
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    Str(Vec<String>),
    Object(Vec<serde_pickle::Value>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub header: NpyHeader,
    pub data: NpyData,
}

/// Reads and parses one `.npy` file.
pub fn read(path: &Path) -> Result<NpyArray, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    parse(&bytes, path)
}

/// Parses the header; returns it with the offset where the data starts.
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<(NpyHeader, usize), FormatError> {
    let bad = |m: &str| FormatError::invalid(path, format!("not a valid .npy file: {m}"));
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("missing \\x93NUMPY magic"));
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(bad(&format!("unsupported format version {v}"))),
    };
    let end = start.checked_add(len).filter(|e| *e <= bytes.len()).ok_or_else(|| bad("truncated header"))?;
    let text = std::str::from_utf8(&bytes[start..end]).map_err(|_| bad("header is not text"))?;
    let descr = quoted_value(text, "descr").ok_or_else(|| bad("header has no 'descr'"))?;
    let fortran_order = match raw_value(text, "fortran_order") {
        Some(v) if v.starts_with("True") => true,
        Some(v) if v.starts_with("False") => false,
        _ => return Err(bad("header has no 'fortran_order'")),
    };
    let shape = parse_shape(text).ok_or_else(|| bad("header has no valid 'shape'"))?;
    shape.iter().try_fold(1usize, |acc, d| acc.checked_mul(*d)).ok_or_else(|| bad("shape overflows"))?;
    Ok((NpyHeader { descr, fortran_order, shape }, end))
}

/// Reads only the header from the start of `reader` (an open file), leaving the data unread.
/// → (header, data offset)
pub fn read_header(reader: &mut impl Read, path: &Path) -> Result<(NpyHeader, usize), FormatError> {
    let truncated = |_| FormatError::invalid(path, "not a valid .npy file: truncated header");
    let mut bytes = Vec::with_capacity(12);
    reader.by_ref().take(10).read_to_end(&mut bytes).map_err(|e| FormatError::io(path, e))?;
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return parse_header(&bytes, path); // says the magic is missing
    }
    let len = match bytes[6] {
        1 => usize::from(u16::from_le_bytes([bytes[8], bytes[9]])),
        2 | 3 => {
            bytes.resize(12, 0);
            reader.read_exact(&mut bytes[10..]).map_err(truncated)?;
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
        }
        // parse_header names what is wrong.
        _ => 0,
    };
    let start = bytes.len();
    bytes.resize(start + len, 0);
    reader.read_exact(&mut bytes[start..]).map_err(truncated)?;
    parse_header(&bytes, path)
}

/// Parses a whole `.npy` image; `path` only names the source in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<NpyArray, FormatError> {
    let (header, offset) = parse_header(bytes, path)?;
    let body = &bytes[offset..];
    let n = header.len();
    let descr = header.descr.as_str();
    let data = match descr {
        "<f4" => NpyData::F32(fixed(body, n, path, descr, f32::from_le_bytes)?),
        "<f8" => NpyData::F64(fixed(body, n, path, descr, f64::from_le_bytes)?),
        "<i4" => NpyData::I32(fixed(body, n, path, descr, i32::from_le_bytes)?),
        "<i8" => NpyData::I64(fixed(body, n, path, descr, i64::from_le_bytes)?),
        "|O" => NpyData::Object(objects(body, n, path)?),
        d if d.starts_with("<U") => {
            let width: usize =
                d[2..].parse().map_err(|_| FormatError::invalid(path, format!("bad dtype {d:?}")))?;
            NpyData::Str(utf32(body, n, width, path)?)
        }
        d => return Err(FormatError::invalid(path, format!("unsupported npy dtype {d:?}"))),
    };
    Ok(NpyArray { header, data })
}

fn fixed<T, const W: usize>(
    body: &[u8],
    n: usize,
    path: &Path,
    descr: &str,
    from: fn([u8; W]) -> T,
) -> Result<Vec<T>, FormatError> {
    let need = n.checked_mul(W).ok_or_else(|| FormatError::invalid(path, "array too large"))?;
    if body.len() < need {
        let msg = format!("truncated data: {n} × {descr} needs {need} bytes, file has {}", body.len());
        return Err(FormatError::invalid(path, msg));
    }
    Ok(body[..need].chunks_exact(W).map(|c| from(c.try_into().unwrap_or([0; W]))).collect())
}

fn utf32(body: &[u8], n: usize, width: usize, path: &Path) -> Result<Vec<String>, FormatError> {
    let item = width.checked_mul(4).ok_or_else(|| FormatError::invalid(path, "string width too large"))?;
    let need = n.checked_mul(item).ok_or_else(|| FormatError::invalid(path, "array too large"))?;
    if body.len() < need || item == 0 {
        return Err(FormatError::invalid(
            path,
            format!("truncated data: {n} strings of <U{width} need {need} bytes"),
        ));
    }
    body[..need]
        .chunks_exact(item)
        .enumerate()
        .map(|(i, chunk)| {
            chunk
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .take_while(|&c| c != 0)
                .map(|c| {
                    char::from_u32(c).ok_or_else(|| {
                        FormatError::invalid(path, format!("element {i}: invalid code point {c:#x}"))
                    })
                })
                .collect()
        })
        .collect()
}

fn objects(body: &[u8], n: usize, path: &Path) -> Result<Vec<serde_pickle::Value>, FormatError> {
    let value = pickle::parse_value(body, path)?;
    match PickledArray::from_state(&value, path)?.objects {
        Some(items) if items.len() == n => Ok(items),
        Some(items) => {
            let msg = format!("object array holds {} elements, header shape says {n}", items.len());
            Err(FormatError::invalid(path, msg))
        }
        None => Err(FormatError::invalid(path, "object array pickle does not hold a list of objects")),
    }
}

/// The text after `'key':` up to the next comma or closing brace, trimmed.
fn raw_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("'{key}':");
    let at = header.find(&pat)? + pat.len();
    Some(header[at..].trim_start())
}

fn quoted_value(header: &str, key: &str) -> Option<String> {
    let rest = raw_value(header, key)?;
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_string())
}

fn parse_shape(header: &str) -> Option<Vec<usize>> {
    let rest = raw_value(header, "shape")?.strip_prefix('(')?;
    let inner = &rest[..rest.find(')')?];
    inner.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.parse().ok()).collect()
}

impl NpyArray {
    /// The elements as f32 (from `<f4`, or `<f8` narrowed), or an error naming the dtype.
    pub fn into_f32(self, path: &Path) -> Result<Vec<f32>, FormatError> {
        match self.data {
            NpyData::F32(v) => Ok(v),
            NpyData::F64(v) => Ok(v.into_iter().map(|x| x as f32).collect()),
            _ => Err(self.wrong_dtype(path, "a float array (<f4 or <f8)")),
        }
    }

    /// The elements as i64 (from `<i8` or `<i4`).
    pub fn into_i64(self, path: &Path) -> Result<Vec<i64>, FormatError> {
        match self.data {
            NpyData::I64(v) => Ok(v),
            NpyData::I32(v) => Ok(v.into_iter().map(i64::from).collect()),
            _ => Err(self.wrong_dtype(path, "an integer array (<i8 or <i4)")),
        }
    }

    /// The elements as strings, from `<U..` or from an object array of `str`.
    pub fn into_strings(self, path: &Path) -> Result<Vec<String>, FormatError> {
        match self.data {
            NpyData::Str(v) => Ok(v),
            NpyData::Object(v) => v
                .into_iter()
                .enumerate()
                .map(|(i, x)| match x {
                    serde_pickle::Value::String(s) => Ok(s),
                    other => {
                        Err(FormatError::invalid(path, format!("element {i} is not a string: {other:?}")))
                    }
                })
                .collect(),
            _ => Err(self.wrong_dtype(path, "a string array (<U.. or object)")),
        }
    }

    fn wrong_dtype(&self, path: &Path, expected: &str) -> FormatError {
        FormatError::invalid(path, format!("dtype {:?}, expected {expected}", self.header.descr))
    }
}
