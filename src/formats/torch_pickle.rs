//! A data-only reader for the pickles inside `torch.save` archives.
//!
//! Only the opcodes PyTorch writes for state dicts and Lightning checkpoints are understood, and
//! only a whitelist of globals (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
//! `torch._utils._rebuild_parameter`, the `torch.*Storage` classes) may be referenced. Nothing is
//! ever called: REDUCE on a whitelisted callable builds a plain [`Value`], anything else is an error.

use std::collections::HashMap;

use tch::Kind;

/// Why a pickle was not read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PickleError {
    #[error("pickle truncated at byte {0}")]
    Truncated(usize),
    #[error("pickle stack underflow at byte {0}")]
    Underflow(usize),
    /// A global outside the whitelist, or a call the reader will not make.
    #[error("refusing {0}")]
    Refused(String),
    #[error("unsupported pickle {0}")]
    Unsupported(String),
    #[error("malformed pickle: {0}")]
    Malformed(String),
}

fn malformed(what: impl Into<String>) -> PickleError {
    PickleError::Malformed(what.into())
}

/// A global the reader accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Global {
    OrderedDict,
    RebuildTensorV2,
    RebuildParameter,
    Storage(Kind),
}

/// A tensor as pickled: where its data lives and how it is laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorRef {
    /// Name of the storage file under the archive's `data/`.
    pub key: String,
    pub kind: Kind,
    /// Elements in the storage.
    pub storage_numel: i64,
    pub offset: i64,
    pub size: Vec<i64>,
    pub stride: Vec<i64>,
}

/// A decoded pickle value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(Global),
    Storage { key: String, kind: Kind, numel: i64 },
    Tensor(TensorRef),
    Mark,
}

impl Value {
    /// The value stored under string key `key` of a dict.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(items) => {
                items.iter().find(|(k, _)| matches!(k, Value::Str(s) if s == key)).map(|(_, v)| v)
            }
            _ => None,
        }
    }
}

fn global(module: &str, name: &str) -> Result<Global, PickleError> {
    let storage = |kind| Ok(Global::Storage(kind));
    match (module, name) {
        ("collections", "OrderedDict") => Ok(Global::OrderedDict),
        ("torch._utils", "_rebuild_tensor_v2") => Ok(Global::RebuildTensorV2),
        ("torch._utils", "_rebuild_parameter") => Ok(Global::RebuildParameter),
        ("torch", "FloatStorage") => storage(Kind::Float),
        ("torch", "DoubleStorage") => storage(Kind::Double),
        ("torch", "HalfStorage") => storage(Kind::Half),
        ("torch", "BFloat16Storage") => storage(Kind::BFloat16),
        ("torch", "LongStorage") => storage(Kind::Int64),
        ("torch", "IntStorage") => storage(Kind::Int),
        ("torch", "ShortStorage") => storage(Kind::Int16),
        ("torch", "CharStorage") => storage(Kind::Int8),
        ("torch", "ByteStorage") => storage(Kind::Uint8),
        ("torch", "BoolStorage") => storage(Kind::Bool),
        _ => Err(PickleError::Refused(format!(
            "pickled global {module}.{name} (only tensors and dicts are read)"
        ))),
    }
}

fn ints(v: &Value, what: &str) -> Result<Vec<i64>, PickleError> {
    match v {
        Value::Tuple(items) | Value::List(items) => items
            .iter()
            .map(|x| match x {
                Value::Int(i) => Ok(*i),
                _ => Err(malformed(format!("{what}: expected integers"))),
            })
            .collect(),
        _ => Err(malformed(format!("{what}: expected a tuple"))),
    }
}

/// Applies a whitelisted callable to its argument tuple.
fn reduce(func: Value, args: Value) -> Result<Value, PickleError> {
    let Value::Tuple(args) = args else { return Err(malformed("REDUCE arguments are not a tuple")) };
    match func {
        Value::Global(Global::OrderedDict) if args.is_empty() => Ok(Value::Dict(Vec::new())),
        Value::Global(Global::RebuildTensorV2) if args.len() >= 4 => {
            let Value::Storage { key, kind, numel } = &args[0] else {
                return Err(malformed("_rebuild_tensor_v2: first argument is not a storage"));
            };
            let Value::Int(offset) = args[1] else {
                return Err(malformed("_rebuild_tensor_v2: bad storage offset"));
            };
            let size = ints(&args[2], "_rebuild_tensor_v2 size")?;
            let stride = ints(&args[3], "_rebuild_tensor_v2 stride")?;
            if size.len() != stride.len() || size.iter().any(|&d| d < 0) || stride.iter().any(|&s| s < 0) {
                return Err(malformed(format!("_rebuild_tensor_v2: bad size {size:?} / stride {stride:?}")));
            }
            Ok(Value::Tensor(TensorRef {
                key: key.clone(),
                kind: *kind,
                storage_numel: *numel,
                offset,
                size,
                stride,
            }))
        }
        Value::Global(Global::RebuildParameter) if !args.is_empty() => match &args[0] {
            Value::Tensor(_) => Ok(args[0].clone()),
            _ => Err(malformed("_rebuild_parameter: first argument is not a tensor")),
        },
        other => Err(PickleError::Refused(format!("to call {other:?} with {} arguments", args.len()))),
    }
}

/// Decodes a pickle into a [`Value`]; errors say what is wrong and at which byte.
pub fn parse(data: &[u8]) -> Result<Value, PickleError> {
    Reader { data, pos: 0, stack: Vec::new(), memo: HashMap::new() }.run()
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    memo: HashMap<u32, Value>,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], PickleError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or(PickleError::Truncated(self.pos))?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn uint(&mut self, n: usize) -> Result<u64, PickleError> {
        Ok(self.take(n)?.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn line(&mut self) -> Result<String, PickleError> {
        let rest = &self.data[self.pos..];
        let len =
            rest.iter().position(|&b| b == b'\n').ok_or_else(|| malformed("unterminated GLOBAL name"))?;
        let s = String::from_utf8_lossy(&rest[..len]).into_owned();
        self.pos += len + 1;
        Ok(s)
    }

    fn text(&mut self, n: u64) -> Result<Value, PickleError> {
        let n = usize::try_from(n).map_err(|_| malformed("string too long"))?;
        String::from_utf8(self.take(n)?.to_vec())
            .map(Value::Str)
            .map_err(|_| malformed("invalid UTF-8 string"))
    }

    fn pop(&mut self) -> Result<Value, PickleError> {
        self.stack.pop().ok_or(PickleError::Underflow(self.pos))
    }

    fn top(&mut self) -> Result<&mut Value, PickleError> {
        let pos = self.pos;
        self.stack.last_mut().ok_or(PickleError::Underflow(pos))
    }

    /// Items above the topmost MARK, removing the mark.
    fn pop_mark(&mut self) -> Result<Vec<Value>, PickleError> {
        let at =
            self.stack.iter().rposition(|v| *v == Value::Mark).ok_or_else(|| malformed("MARK missing"))?;
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }

    fn memo_put(&mut self, key: u32) -> Result<(), PickleError> {
        let v = self.top()?.clone();
        self.memo.insert(key, v);
        Ok(())
    }

    fn memo_get(&mut self, key: u32) -> Result<(), PickleError> {
        let v = self.memo.get(&key).cloned().ok_or_else(|| malformed(format!("memo key {key} undefined")))?;
        self.stack.push(v);
        Ok(())
    }

    fn set_items(&mut self, items: Vec<Value>) -> Result<(), PickleError> {
        if !items.len().is_multiple_of(2) {
            return Err(malformed("SETITEMS with an odd number of items"));
        }
        let Value::Dict(dict) = self.top()? else { return Err(malformed("SETITEMS target is not a dict")) };
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            dict.push((k, v));
        }
        Ok(())
    }

    fn append(&mut self, items: Vec<Value>) -> Result<(), PickleError> {
        match self.top()? {
            Value::List(list) => {
                list.extend(items);
                Ok(())
            }
            _ => Err(malformed("APPEND target is not a list")),
        }
    }

    fn run(mut self) -> Result<Value, PickleError> {
        loop {
            let at = self.pos;
            let op = *self.take(1)?.first().ok_or_else(|| malformed("empty pickle"))?;
            match op {
                0x80 => {
                    let proto = self.uint(1)?;
                    if proto > 5 {
                        return Err(PickleError::Unsupported(format!("protocol {proto}")));
                    }
                }
                0x95 => {
                    self.uint(8)?; // FRAME: length of the next frame, data follows inline
                }
                b'.' => return self.pop(),
                b'(' => self.stack.push(Value::Mark),
                b'}' => self.stack.push(Value::Dict(Vec::new())),
                b']' => self.stack.push(Value::List(Vec::new())),
                b')' => self.stack.push(Value::Tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if self.stack.len() < n {
                        return Err(PickleError::Underflow(at));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.stack.push(Value::Tuple(items));
                }
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'K' => {
                    let v = self.uint(1)? as i64;
                    self.stack.push(Value::Int(v));
                }
                b'M' => {
                    let v = self.uint(2)? as i64;
                    self.stack.push(Value::Int(v));
                }
                b'J' => {
                    let v = self.uint(4)? as u32 as i32;
                    self.stack.push(Value::Int(v.into()));
                }
                0x8a => {
                    let n = self.uint(1)? as usize;
                    let bytes = self.take(n)?;
                    if n > 8 {
                        return Err(malformed(format!("LONG1 of {n} bytes is too large")));
                    }
                    let mut buf =
                        if bytes.last().is_some_and(|b| b & 0x80 != 0) { [0xff; 8] } else { [0; 8] };
                    buf[..n].copy_from_slice(bytes);
                    self.stack.push(Value::Int(i64::from_le_bytes(buf)));
                }
                b'G' => {
                    let bytes: [u8; 8] = self.take(8)?.try_into().map_err(|_| malformed("bad float"))?;
                    self.stack.push(Value::Float(f64::from_be_bytes(bytes)));
                }
                b'X' => {
                    let n = self.uint(4)?;
                    let v = self.text(n)?;
                    self.stack.push(v);
                }
                0x8c => {
                    let n = self.uint(1)?;
                    let v = self.text(n)?;
                    self.stack.push(v);
                }
                0x8d => {
                    let n = self.uint(8)?;
                    let v = self.text(n)?;
                    self.stack.push(v);
                }
                b'C' | b'B' => {
                    let n = if op == b'C' { self.uint(1)? } else { self.uint(4)? } as usize;
                    let bytes = self.take(n)?.to_vec();
                    self.stack.push(Value::Bytes(bytes));
                }
                b'q' => {
                    let k = self.uint(1)? as u32;
                    self.memo_put(k)?;
                }
                b'r' => {
                    let k = self.uint(4)? as u32;
                    self.memo_put(k)?;
                }
                0x94 => {
                    let k = self.memo.len() as u32;
                    self.memo_put(k)?;
                }
                b'h' => {
                    let k = self.uint(1)? as u32;
                    self.memo_get(k)?;
                }
                b'j' => {
                    let k = self.uint(4)? as u32;
                    self.memo_get(k)?;
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.stack.push(Value::Global(global(&module, &name)?));
                }
                0x93 => {
                    let (name, module) = (self.pop()?, self.pop()?);
                    let (Value::Str(module), Value::Str(name)) = (module, name) else {
                        return Err(malformed(format!("STACK_GLOBAL without names at byte {at}")));
                    };
                    self.stack.push(Value::Global(global(&module, &name)?));
                }
                b'Q' => {
                    let pid = self.pop()?;
                    self.stack.push(persistent_load(pid)?);
                }
                b'R' => {
                    let args = self.pop()?;
                    let func = self.pop()?;
                    self.stack.push(reduce(func, args)?);
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(items)?;
                }
                b'a' => {
                    let v = self.pop()?;
                    self.append(vec![v])?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                other => return Err(PickleError::Unsupported(format!("opcode 0x{other:02x} at byte {at}"))),
            }
        }
    }
}

/// `('storage', StorageClass, key, location, numel)` → a storage reference.
fn persistent_load(pid: Value) -> Result<Value, PickleError> {
    let Value::Tuple(items) = pid else { return Err(malformed("persistent id is not a tuple")) };
    match items.as_slice() {
        [Value::Str(tag), Value::Global(Global::Storage(kind)), Value::Str(key), _location, Value::Int(numel)]
            if tag == "storage" && *numel >= 0 =>
        {
            Ok(Value::Storage { key: key.clone(), kind: *kind, numel: *numel })
        }
        _ => Err(PickleError::Unsupported(format!("persistent id {items:?}"))),
    }
}
