//! The optional onnxruntime backend (`--features ort`): the same engine as onnxruntime-Python, loaded at run
//! time from its shared library (`libonnxruntime.so` inside the PyPI wheel's `onnxruntime/capi/`), so its
//! outputs and speed are onnxruntime's.

use crate::tensor::Tensor;
use crate::ModelError;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

/// An onnxruntime session (runs take `&mut`, so it sits behind a lock).
pub struct OrtSession {
    session: Mutex<ort::session::Session>,
    outputs: Vec<String>,
}

impl std::fmt::Debug for OrtSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtSession").field("outputs", &self.outputs).finish()
    }
}

fn ort_err(what: &str, e: impl std::fmt::Display) -> ModelError {
    ModelError::Onnx(format!("onnxruntime: {what}: {e}"))
}

impl OrtSession {
    /// Loads onnxruntime from `lib` and the model from `model`, with `threads` intra-op threads (0 = its default).
    pub fn load(lib: &Path, model: &Path, threads: usize, outputs: Vec<String>) -> Result<OrtSession, ModelError> {
        let env = ort::init_from(lib)
            .map_err(|e| {
                ModelError::Onnx(format!(
                    "cannot load onnxruntime from {} ({e}); point --ort-lib at libonnxruntime.so from the PyPI \
                     onnxruntime wheel (site-packages/onnxruntime/capi/)",
                    lib.display()
                ))
            })?
            .build()
            .map_err(|e| ort_err("environment", e))?;
        // As onnxruntime-Python's defaults with intra_op_num_threads set: one inter-op thread.
        let mut b = ort::session::Session::builder(&env)
            .map_err(|e| ort_err("session", e))?
            .with_inter_threads(1)
            .map_err(|e| ort_err("threads", e))?;
        if threads > 0 {
            b = b.with_intra_threads(threads).map_err(|e| ort_err("threads", e))?;
        }
        let session = b.commit_from_file(model).map_err(|e| ort_err("loading the model", e))?;
        Ok(OrtSession { session: Mutex::new(session), outputs })
    }

    pub fn run(&self, input_name: &str, input: Tensor) -> Result<HashMap<String, Tensor>, ModelError> {
        let shape: Vec<i64> = input.shape.iter().map(|&d| d as i64).collect();
        let value = ort::value::Tensor::from_array((shape, input.to_f32())).map_err(|e| ort_err("input", e))?;
        let mut session = self.session.lock().map_err(|_| ModelError::Onnx("onnxruntime session poisoned".into()))?;
        let out = session.run(ort::inputs![input_name => value]).map_err(|e| ort_err("run", e))?;
        let mut result = HashMap::new();
        for name in &self.outputs {
            let v = out.get(name).ok_or_else(|| ort_err("outputs", format!("{name:?} missing")))?;
            let (shape, data) = v.try_extract_tensor::<f32>().map_err(|e| ort_err("output", e))?;
            let dims: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
            result.insert(name.clone(), Tensor::float(dims, data.to_vec()));
        }
        Ok(result)
    }
}
