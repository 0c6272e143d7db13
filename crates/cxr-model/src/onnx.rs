//! Reading ONNX model files: the protobuf wire format, decoded by hand for the messages a model needs
//! (`ModelProto` → `GraphProto` → nodes, initializers, inputs and outputs; `onnx/onnx.proto3`, IR ≥ 3).
//!
//! Every length and index is checked against the buffer, so a corrupt or truncated file is an error, never a
//! panic. External tensor data (`data_location = EXTERNAL`) is not supported: export models under 2 GB.

use crate::tensor::Tensor;
use crate::ModelError;
use std::collections::HashMap;

/// An attribute value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Float(f32),
    Int(i64),
    Str(String),
    Tensor(Tensor),
    Floats(Vec<f32>),
    Ints(Vec<i64>),
}

/// One operator application.
#[derive(Debug, Clone)]
pub struct Node {
    pub op: String,
    pub name: String,
    /// Input value names (`""` marks an omitted optional input).
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: HashMap<String, Attr>,
}

impl Node {
    pub fn int(&self, name: &str, default: i64) -> i64 {
        match self.attrs.get(name) {
            Some(Attr::Int(v)) => *v,
            _ => default,
        }
    }

    pub fn float(&self, name: &str, default: f32) -> f32 {
        match self.attrs.get(name) {
            Some(Attr::Float(v)) => *v,
            _ => default,
        }
    }

    pub fn ints(&self, name: &str) -> Option<&[i64]> {
        match self.attrs.get(name) {
            Some(Attr::Ints(v)) => Some(v),
            _ => None,
        }
    }

    pub fn string(&self, name: &str) -> Option<&str> {
        match self.attrs.get(name) {
            Some(Attr::Str(v)) => Some(v),
            _ => None,
        }
    }
}

/// A graph input or output: name and shape (`None` for a symbolic or unknown dimension).
#[derive(Debug, Clone, PartialEq)]
pub struct ValueInfo {
    pub name: String,
    pub shape: Option<Vec<Option<usize>>>,
}

/// A decoded model.
#[derive(Debug, Clone)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub initializers: HashMap<String, Tensor>,
    /// Inputs that are not initializers.
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
    /// Default-domain opset version.
    pub opset: i64,
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

enum Field<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

fn corrupt(what: &str) -> ModelError {
    ModelError::Onnx(format!("the protobuf data is corrupt or truncated ({what})"))
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, at: 0 }
    }

    fn varint(&mut self) -> Result<u64, ModelError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.at).ok_or_else(|| corrupt("varint past the end"))?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end =
            self.at.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or_else(|| corrupt("field past the end"))?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, ModelError> {
        if self.at >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => Field::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| corrupt("fixed64"))?)),
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| corrupt("length"))?;
                Field::Bytes(self.take(n)?)
            }
            5 => Field::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| corrupt("fixed32"))?)),
            w => return Err(corrupt(&format!("wire type {w}"))),
        };
        Ok(Some((key >> 3, field)))
    }
}

fn utf8(b: &[u8]) -> Result<String, ModelError> {
    String::from_utf8(b.to_vec()).map_err(|_| corrupt("a name is not UTF-8"))
}

/// Packed or repeated scalars of one field.
fn push_varints(f: Field, out: &mut Vec<i64>) -> Result<(), ModelError> {
    match f {
        Field::Varint(v) => out.push(v as i64),
        Field::Bytes(b) => {
            let mut r = Reader::new(b);
            while r.at < b.len() {
                out.push(r.varint()? as i64);
            }
        }
        _ => return Err(corrupt("integer list")),
    }
    Ok(())
}

fn push_floats(f: Field, out: &mut Vec<f32>) -> Result<(), ModelError> {
    match f {
        Field::Fixed32(v) => out.push(f32::from_bits(v)),
        Field::Bytes(b) => {
            if b.len() % 4 != 0 {
                return Err(corrupt("float list"));
            }
            out.extend(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        }
        _ => return Err(corrupt("float list")),
    }
    Ok(())
}

fn push_doubles(f: Field, out: &mut Vec<f64>) -> Result<(), ModelError> {
    match f {
        Field::Fixed64(v) => out.push(f64::from_bits(v)),
        Field::Bytes(b) => {
            if b.len() % 8 != 0 {
                return Err(corrupt("double list"));
            }
            out.extend(b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))));
        }
        _ => return Err(corrupt("double list")),
    }
    Ok(())
}

// TensorProto.DataType
const FLOAT: i64 = 1;
const UINT8: i64 = 2;
const INT8: i64 = 3;
const INT32: i64 = 6;
const INT64: i64 = 7;
const BOOL: i64 = 9;
const DOUBLE: i64 = 11;

fn tensor(b: &[u8]) -> Result<(String, Tensor), ModelError> {
    let mut r = Reader::new(b);
    let (mut dims, mut dtype, mut name) = (Vec::new(), 0i64, String::new());
    let (mut floats, mut ints, mut doubles, mut raw, mut external) = (Vec::new(), Vec::new(), Vec::new(), None, false);
    while let Some((tag, f)) = r.next()? {
        match (tag, f) {
            (1, f) => push_varints(f, &mut dims)?,
            (2, Field::Varint(v)) => dtype = v as i64,
            (4, f) => push_floats(f, &mut floats)?,
            (5, f) | (7, f) => push_varints(f, &mut ints)?,
            (8, Field::Bytes(s)) => name = utf8(s)?,
            (9, Field::Bytes(s)) => raw = Some(s),
            (10, f) => push_doubles(f, &mut doubles)?,
            (14, Field::Varint(1)) => external = true,
            _ => {}
        }
    }
    if external {
        return Err(ModelError::Onnx(format!(
            "tensor {name:?} keeps its data in an external file, which is not supported; export the model as one file"
        )));
    }
    let shape: Vec<usize> = dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| corrupt("negative dimension")))
        .collect::<Result<_, _>>()?;
    let n: usize =
        shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| corrupt("tensor too large"))?;
    let bad_len =
        || ModelError::Onnx(format!("tensor {name:?} holds a different number of values than its shape {shape:?}"));
    let t = match dtype {
        FLOAT | DOUBLE => {
            let values: Vec<f32> = match raw {
                Some(r) if dtype == FLOAT => {
                    r.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
                }
                Some(r) => {
                    r.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32).collect()
                }
                None if dtype == FLOAT => floats,
                None => doubles.into_iter().map(|d| d as f32).collect(),
            };
            if values.len() != n {
                return Err(bad_len());
            }
            Tensor::float(shape, values)
        }
        INT64 | INT32 | INT8 | UINT8 | BOOL => {
            let values: Vec<i64> = match raw {
                Some(r) => match dtype {
                    INT64 => r.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect(),
                    INT32 => r.chunks_exact(4).map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect(),
                    INT8 => r.iter().map(|&b| i64::from(b as i8)).collect(),
                    _ => r.iter().map(|&b| i64::from(b)).collect(),
                },
                None => ints,
            };
            if values.len() != n {
                return Err(bad_len());
            }
            Tensor::int(shape, values)
        }
        other => {
            return Err(ModelError::Onnx(format!(
                "tensor {name:?} has data type {other}, which the built-in runtime does not support (float, double and integers are)"
            )))
        }
    };
    Ok((name, t))
}

fn attribute(b: &[u8]) -> Result<(String, Option<Attr>), ModelError> {
    let mut r = Reader::new(b);
    let (mut name, mut f, mut i, mut s, mut t) = (String::new(), None, None, None, None);
    let (mut floats, mut ints) = (Vec::new(), Vec::new());
    let mut kind = 0;
    while let Some((tag, fld)) = r.next()? {
        match (tag, fld) {
            (1, Field::Bytes(v)) => name = utf8(v)?,
            (2, Field::Fixed32(v)) => f = Some(f32::from_bits(v)),
            (3, Field::Varint(v)) => i = Some(v as i64),
            (4, Field::Bytes(v)) => s = Some(String::from_utf8_lossy(v).into_owned()),
            (5, Field::Bytes(v)) => t = Some(tensor(v)?.1),
            (7, fld) => push_floats(fld, &mut floats)?,
            (8, fld) => push_varints(fld, &mut ints)?,
            (20, Field::Varint(v)) => kind = v,
            _ => {}
        }
    }
    // AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7.
    let attr = match kind {
        1 => f.map(Attr::Float),
        2 => i.map(Attr::Int),
        3 => s.map(Attr::Str),
        4 => t.map(Attr::Tensor),
        6 => Some(Attr::Floats(floats)),
        7 => Some(Attr::Ints(ints)),
        _ => None,
    };
    Ok((name, attr))
}

fn node(b: &[u8]) -> Result<Node, ModelError> {
    let mut r = Reader::new(b);
    let mut n = Node { op: String::new(), name: String::new(), inputs: vec![], outputs: vec![], attrs: HashMap::new() };
    let mut domain = String::new();
    while let Some((tag, f)) = r.next()? {
        if let Field::Bytes(v) = f {
            match tag {
                1 => n.inputs.push(utf8(v)?),
                2 => n.outputs.push(utf8(v)?),
                3 => n.name = utf8(v)?,
                4 => n.op = utf8(v)?,
                5 => {
                    if let (k, Some(a)) = attribute(v)? {
                        n.attrs.insert(k, a);
                    }
                }
                7 => domain = utf8(v)?,
                _ => {}
            }
        }
    }
    if !domain.is_empty() && domain != "ai.onnx" {
        return Err(ModelError::Unsupported(format!("operator {}::{} (node {:?})", domain, n.op, n.name)));
    }
    Ok(n)
}

fn value_info(b: &[u8]) -> Result<ValueInfo, ModelError> {
    let mut r = Reader::new(b);
    let mut v = ValueInfo { name: String::new(), shape: None };
    while let Some((tag, f)) = r.next()? {
        match (tag, f) {
            (1, Field::Bytes(s)) => v.name = utf8(s)?,
            (2, Field::Bytes(ty)) => {
                // TypeProto.tensor_type (1) → shape (2) → dim (1) → dim_value (1) | dim_param (2).
                let mut rt = Reader::new(ty);
                while let Some((1, Field::Bytes(tt))) = rt.next()? {
                    let mut rs = Reader::new(tt);
                    while let Some((tag, f)) = rs.next()? {
                        if let (2, Field::Bytes(shape)) = (tag, f) {
                            let mut dims = Vec::new();
                            let mut rd = Reader::new(shape);
                            while let Some((tag, f)) = rd.next()? {
                                if let (1, Field::Bytes(dim)) = (tag, f) {
                                    let mut value = None;
                                    let mut rv = Reader::new(dim);
                                    while let Some((tag, f)) = rv.next()? {
                                        if let (1, Field::Varint(d)) = (tag, f) {
                                            value = usize::try_from(d).ok().filter(|&d| d > 0);
                                        }
                                    }
                                    dims.push(value);
                                }
                            }
                            v.shape = Some(dims);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(v)
}

/// Decodes a model file's bytes.
pub fn parse_model(bytes: &[u8]) -> Result<Graph, ModelError> {
    let mut r = Reader::new(bytes);
    let mut graph_bytes = None;
    let mut opset = None;
    while let Some((tag, f)) = r.next()? {
        match (tag, f) {
            (7, Field::Bytes(g)) => graph_bytes = Some(g),
            (8, Field::Bytes(o)) => {
                let (mut domain, mut version) = (String::new(), 0);
                let mut ro = Reader::new(o);
                while let Some((tag, f)) = ro.next()? {
                    match (tag, f) {
                        (1, Field::Bytes(d)) => domain = utf8(d)?,
                        (2, Field::Varint(v)) => version = v as i64,
                        _ => {}
                    }
                }
                if domain.is_empty() || domain == "ai.onnx" {
                    opset = Some(version);
                }
            }
            _ => {}
        }
    }
    let g = graph_bytes.ok_or_else(|| ModelError::Onnx("no graph in the file (is it an ONNX model?)".into()))?;
    let mut rg = Reader::new(g);
    let mut graph = Graph {
        nodes: Vec::new(),
        initializers: HashMap::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        opset: opset.unwrap_or(1),
    };
    let mut inputs = Vec::new();
    while let Some((tag, f)) = rg.next()? {
        if let Field::Bytes(v) = f {
            match tag {
                1 => graph.nodes.push(node(v)?),
                5 => {
                    let (name, t) = tensor(v)?;
                    graph.initializers.insert(name, t);
                }
                11 => inputs.push(value_info(v)?),
                12 => graph.outputs.push(value_info(v)?),
                _ => {}
            }
        }
    }
    graph.inputs = inputs.into_iter().filter(|i| !graph.initializers.contains_key(&i.name)).collect();
    if graph.inputs.is_empty() || graph.outputs.is_empty() {
        return Err(ModelError::Onnx("the graph declares no inputs or no outputs".into()));
    }
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncation_are_errors() {
        assert!(parse_model(b"").is_err());
        assert!(parse_model(&[0xff; 20]).is_err());
        let model = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/misc_ops.onnx")).unwrap();
        assert!(parse_model(&model).is_ok());
        for cut in [1, 10, model.len() / 3, model.len() / 2, model.len() - 1] {
            assert!(parse_model(&model[..cut]).is_err(), "cut at {cut}");
        }
        // Flipped bytes may still parse, but must never panic.
        for i in (0..model.len()).step_by(97) {
            let mut m = model.clone();
            m[i] ^= 0x5a;
            let _ = parse_model(&m);
        }
    }
}
