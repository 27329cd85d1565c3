//! Pickles as data: dicts, lists and numpy arrays, without executing anything.
//!
//! serde-pickle leaves numpy's globals (`numpy.core.multiarray._reconstruct`, or
//! `numpy._core.multiarray` from numpy ≥ 2, and `numpy.dtype`) unresolved; with
//! `replace_unresolved_globals` the `REDUCE`/`BUILD` pair of an array becomes its state tuple
//! `(version, shape, dtype, is_fortran, data)`, from which the array is rebuilt here. The dtype's
//! own state keeps only the byte order, so a raw buffer's element type is inferred from its
//! item size: the callers know which kind (float) they expect.

use std::path::Path;

use serde_pickle::{DeOptions, HashableValue, Value};

use super::FormatError;

/// Reads one pickle file as a value tree.
pub fn read_value(path: &Path) -> Result<Value, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    parse_value(&bytes, path)
}

/// Parses pickle bytes as a value tree; unknown globals become `None`.
pub fn parse_value(bytes: &[u8], path: &Path) -> Result<Value, FormatError> {
    serde_pickle::value_from_slice(bytes, DeOptions::new().replace_unresolved_globals())
        .map_err(|e| FormatError::invalid(path, format!("invalid pickle: {e}")))
}

/// A numpy array rebuilt from its pickled state tuple.
#[derive(Debug, Clone, PartialEq)]
pub struct PickledArray {
    pub shape: Vec<usize>,
    pub fortran_order: bool,
    /// The raw little-endian buffer of a numeric array.
    pub raw: Option<Vec<u8>>,
    /// The elements of an object array.
    pub objects: Option<Vec<Value>>,
}

impl PickledArray {
    /// Rebuilds an array from `(1, shape, dtype, is_fortran, data)`.
    pub fn from_state(state: &Value, path: &Path) -> Result<Self, FormatError> {
        let bad = |m: &str| FormatError::invalid(path, format!("not a numpy array pickle: {m}"));
        let Value::Tuple(parts) = state else {
            return Err(bad("expected the (version, shape, dtype, is_fortran, data) state tuple"));
        };
        let [_, Value::Tuple(dims), _, fortran, data] = parts.as_slice() else {
            return Err(bad("state tuple does not have 5 parts with a shape tuple"));
        };
        let shape = dims
            .iter()
            .map(|d| match d {
                Value::I64(x) => usize::try_from(*x).map_err(|_| bad("negative dimension")),
                _ => Err(bad("dimension is not an integer")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fortran_order = matches!(fortran, Value::Bool(true));
        let n =
            shape.iter().try_fold(1usize, |a, d| a.checked_mul(*d)).ok_or_else(|| bad("shape overflows"))?;
        match data {
            Value::Bytes(raw) => {
                if n == 0 || raw.len() % n != 0 {
                    return Err(bad(&format!("{} data bytes for {n} elements", raw.len())));
                }
                Ok(Self { shape, fortran_order, raw: Some(raw.clone()), objects: None })
            }
            Value::List(items) => Ok(Self { shape, fortran_order, raw: None, objects: Some(items.clone()) }),
            _ => Err(bad("data is neither bytes nor a list")),
        }
    }

    /// The elements as f32: 4-byte items are read as `<f4`, 8-byte items as `<f8`.
    pub fn to_f32(&self, path: &Path) -> Result<Vec<f32>, FormatError> {
        let raw = self
            .raw
            .as_deref()
            .ok_or_else(|| FormatError::invalid(path, "array holds objects, not floats"))?;
        let n: usize = self.shape.iter().product();
        match raw.len().checked_div(n) {
            Some(4) => {
                Ok(raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
            }
            Some(8) => Ok(raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
                .collect()),
            _ => Err(FormatError::invalid(path, format!("{} bytes for {n} floats", raw.len()))),
        }
    }
}

/// The string keys of a pickled dict, with their values.
pub fn dict_entries<'a>(value: &'a Value, path: &Path) -> Result<Vec<(&'a str, &'a Value)>, FormatError> {
    let Value::Dict(map) = value else {
        return Err(FormatError::invalid(path, "pickle does not hold a dict"));
    };
    map.iter()
        .map(|(k, v)| match k {
            HashableValue::String(s) => Ok((s.as_str(), v)),
            other => Err(FormatError::invalid(path, format!("dict key {other:?} is not a string"))),
        })
        .collect()
}

/// A list (or tuple) of floats or integers as f32.
pub fn numbers(value: &Value, path: &Path, what: &str) -> Result<Vec<f32>, FormatError> {
    let (Value::List(items) | Value::Tuple(items)) = value else {
        return Err(FormatError::invalid(path, format!("{what} is not a list or tuple")));
    };
    items
        .iter()
        .map(|x| match x {
            Value::F64(f) => Ok(*f as f32),
            Value::I64(i) => Ok(*i as f32),
            _ => Err(FormatError::invalid(path, format!("{what} holds a non-number {x:?}"))),
        })
        .collect()
}
