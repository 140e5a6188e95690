//! The native half of the `whosaid` Python package: a pipeline that takes Python strings and
//! dicts, runs the Rust pipeline over them in parallel with the GIL released, and hands back
//! each record as the CLI's JSONL line, so that Python sees exactly the CLI's schema.
//!
//! It is built twice: `_fast` (no libtorch, always in the wheel) and, with the `full` feature,
//! `_full` (the default mode, which links the libtorch `scripts/setup` installed). The Python
//! side (`whosaid/__init__.py`) picks one and owns everything Pythonic: iteration, errors,
//! pandas and spaCy.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use whosaid::batch::documents_of;
use whosaid::input::{decode, parse_jsonl_line, InputDocument};
use whosaid::labels::ErrorKind;
use whosaid::pipeline::{Pipeline, PipelineConfig};

/// The models, loaded once, and the threads that run them.
#[pyclass(module = "whosaid", frozen)]
struct NativePipeline {
    analysis: Arc<Analysis>,
}

/// What a chunk's analysis needs, shared with the thread that runs it.
struct Analysis {
    pipeline: Pipeline,
    threads: rayon::ThreadPool,
    speakers: Vec<String>,
}

impl Analysis {
    /// The records of some documents, as JSON lines, in order.
    fn records(&self, inputs: Vec<InputDocument>) -> Vec<String> {
        self.threads.install(|| {
            let mut documents = documents_of(inputs);
            self.pipeline.run_for_records(&mut documents, None);
            documents
                .iter()
                .map(|document| {
                    let mut record = document.to_record();
                    if !self.speakers.is_empty() {
                        record.keep_speakers(&self.speakers);
                    }
                    serde_json::to_string(&record).unwrap_or_else(|error| {
                        // A record is plain data; this would be a bug, reported on the record.
                        internal_error_line(&record.id, &error.to_string())
                    })
                })
                .collect()
        })
    }
}

/// A chunk being analysed on a thread of its own, so that Python can read the next chunk and
/// write the last one's records meanwhile.
#[pyclass(module = "whosaid", frozen)]
struct PendingChunk {
    worker: Mutex<Option<JoinHandle<Vec<String>>>>,
}

#[pymethods]
impl PendingChunk {
    /// The chunk's records as JSON lines, once its analysis is done (the GIL is released while
    /// waiting).
    fn wait(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let worker = self
            .worker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this chunk's records were already taken"))?;
        py.allow_threads(|| worker.join())
            .map_err(|_| PyRuntimeError::new_err("the analysis thread panicked; please report it"))
    }
}

#[pymethods]
impl NativePipeline {
    #[new]
    #[pyo3(signature = (fast, threads=None, speakers=None))]
    fn new(fast: bool, threads: Option<usize>, speakers: Option<Vec<String>>) -> PyResult<Self> {
        let config = pipeline_config(fast, threads)?;
        let pipeline = Pipeline::new(config).map_err(|error| runtime_error(&error))?;
        let mut builder =
            rayon::ThreadPoolBuilder::new().thread_name(|index| format!("whosaid-{index}"));
        if let Some(threads) = threads {
            builder = builder.num_threads(threads.max(1));
        }
        let threads = builder
            .build()
            .map_err(|error| PyRuntimeError::new_err(error.to_string()))?;
        Ok(NativePipeline {
            analysis: Arc::new(Analysis {
                pipeline,
                threads,
                speakers: speakers.unwrap_or_default(),
            }),
        })
    }

    /// Analyses a chunk of documents and returns their records as JSON lines, in order.
    ///
    /// Each item is `(id, payload, is_line, meta)`: with `is_line`, `payload` is a JSONL line
    /// (bytes) and `id` names it when it has no id of its own, as the CLI names a line by its
    /// place; otherwise `payload` is the text (a `str`, or UTF-8 `bytes`, as a text file), and
    /// `meta` a JSON object of the record's other fields, if any.
    fn run(&self, py: Python<'_>, items: Vec<Item<'_>>) -> Vec<String> {
        let inputs = inputs_of(items);
        py.allow_threads(|| self.analysis.records(inputs))
    }

    /// [`Self::run`] on a thread of its own: returns at once, with the chunk in flight.
    fn submit(&self, items: Vec<Item<'_>>) -> PyResult<PendingChunk> {
        let inputs = inputs_of(items);
        let analysis = Arc::clone(&self.analysis);
        let worker = std::thread::Builder::new()
            .name("whosaid-chunk".into())
            .spawn(move || analysis.records(inputs))
            .map_err(|error| PyRuntimeError::new_err(error.to_string()))?;
        Ok(PendingChunk {
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Documents to analyse together: fewer where documents hold encoder states between stages.
    #[getter]
    fn suggested_chunk_size(&self) -> usize {
        self.analysis.pipeline.suggested_chunk_size()
    }

    /// The pipeline's stages, in order.
    #[getter]
    fn stage_names(&self) -> Vec<&'static str> {
        self.analysis.pipeline.stage_names()
    }
}

#[cfg(feature = "full")]
fn pipeline_config(fast: bool, threads: Option<usize>) -> PyResult<PipelineConfig> {
    Ok(if fast {
        PipelineConfig::fast()
    } else {
        PipelineConfig::default_mode(threads)
    })
}

#[cfg(not(feature = "full"))]
fn pipeline_config(fast: bool, _threads: Option<usize>) -> PyResult<PipelineConfig> {
    if fast {
        Ok(PipelineConfig::fast())
    } else {
        Err(PyRuntimeError::new_err(
            "this module holds fast mode only; the default mode is in whosaid._full",
        ))
    }
}

/// One document as Python hands it over: `(id, payload, is_line, meta)` (see
/// [`NativePipeline::run`]).
type Item<'py> = (String, Bound<'py, PyAny>, bool, Option<String>);

fn inputs_of(items: Vec<Item<'_>>) -> Vec<InputDocument> {
    items
        .into_iter()
        .map(|(id, payload, is_line, meta)| {
            let mut input = input_document(id, &payload, is_line);
            if let (Ok(_), Some(meta)) = (&input.text, meta) {
                // Python wrote this from a dict; an object is all it can be.
                if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(&meta) {
                    input.meta = (!fields.is_empty()).then_some(fields);
                }
            }
            input
        })
        .collect()
}

fn runtime_error(error: &whosaid::Error) -> PyErr {
    PyRuntimeError::new_err(error.to_string())
}

/// One input as the pipeline takes it; what cannot be a document becomes its error record,
/// as the CLI makes of an unreadable file or a bad JSONL line.
fn input_document(id: String, payload: &Bound<'_, PyAny>, is_line: bool) -> InputDocument {
    let failed = InputDocument::failed;
    if let Ok(bytes) = payload.downcast::<PyBytes>() {
        if is_line {
            return parse_jsonl_line(bytes.as_bytes(), id);
        }
        // As the CLI reads a text file.
        let text = decode(&id, bytes.as_bytes().to_vec());
        return InputDocument {
            id,
            text,
            meta: None,
        };
    }
    match payload.downcast::<PyString>() {
        Ok(text) => match text.to_cow() {
            Ok(text) => InputDocument {
                id,
                text: Ok(text.to_string()),
                meta: None,
            },
            // Python strings may hold lone surrogates, which no UTF-8 text can.
            Err(_) => {
                let message = format!(
                    "document {id} is not valid text: it holds a lone surrogate, which UTF-8 cannot encode"
                );
                failed(id, ErrorKind::InvalidUtf8, message)
            }
        },
        Err(_) => {
            let type_name = payload
                .get_type()
                .name()
                .map_or_else(|_| "object".to_string(), |name| name.to_string());
            let message = format!(
                "document {id} is a {type_name}, not a text (str) or a record with a \"text\" field"
            );
            failed(id, ErrorKind::MissingText, message)
        }
    }
}

fn internal_error_line(id: &str, message: &str) -> String {
    serde_json::json!({
        "id": id,
        "quotes": [],
        "entities": [],
        "error": {"kind": "internal", "message": format!("the record could not be written: {message}")},
    })
    .to_string()
}

fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<NativePipeline>()?;
    module.add_class::<PendingChunk>()?;
    module.add("FULL", cfg!(feature = "full"))?;
    Ok(())
}

#[cfg(not(feature = "full"))]
#[pymodule]
fn _fast(module: &Bound<'_, PyModule>) -> PyResult<()> {
    register(module)
}

#[cfg(feature = "full")]
#[pymodule]
fn _full(module: &Bound<'_, PyModule>) -> PyResult<()> {
    register(module)
}
