//! Batch runs: documents stream in, run in parallel chunks, and come out in input order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::input::InputDocument;
use crate::pipeline::Pipeline;
use crate::record::DocumentRecord;

/// Where finished records go, in input order.
pub trait RecordSink {
    fn write(&mut self, record: &DocumentRecord) -> Result<()>;
    fn finish(&mut self) -> Result<()>;
}

/// A stage that runs on a whole chunk of analysed documents at once, on the thread that drives
/// the batch: the stance model, whose encoder batches quotes across documents and is not `Sync`.
pub trait ChunkAnnotator {
    /// Adds a layer to each record, given its document's text.
    fn annotate(&self, documents: &mut [(&str, &mut DocumentRecord)]) -> Result<()>;
}

/// Options of a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Documents analysed in parallel before their records are written; bounds memory.
    pub chunk_size: usize,
    /// Keep only quotes whose speaker answers to one of these names (all when empty).
    pub speakers: Vec<String>,
    /// Set (by a signal handler) to stop after the chunk in flight; the run then ends as
    /// interrupted, with everything it finished written.
    pub stop: Option<Arc<AtomicBool>>,
    /// Ids whose records a killed run already wrote, with how many times: that many input
    /// documents with the id are skipped, in order, so that a resumed run writes the rest.
    pub already_done: HashMap<String, usize>,
    /// Time allowed to each document's rule stages; one that takes longer gets a time-out
    /// error record.
    pub doc_timeout: Option<std::time::Duration>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            chunk_size: 256,
            speakers: Vec::new(),
            stop: None,
            already_done: HashMap::new(),
            doc_timeout: None,
        }
    }
}

/// What a batch run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchSummary {
    pub documents_read: usize,
    /// Documents skipped because a resumed run found their records already written.
    pub documents_skipped: usize,
    pub documents_written: usize,
    pub documents_failed: usize,
    pub failures_by_kind: BTreeMap<String, usize>,
    pub quotes: usize,
    /// Input documents whose id an earlier document already had; both records are kept.
    pub duplicate_ids: usize,
    /// Whether the run stopped early on SIGINT or SIGTERM.
    pub interrupted: bool,
    pub seconds: f64,
}

impl BatchSummary {
    fn count(&mut self, record: &DocumentRecord) {
        self.documents_written += 1;
        self.quotes += record.quotes.len();
        if let Some(error) = &record.error {
            self.documents_failed += 1;
            let kind = serde_json::to_value(error.kind)
                .ok()
                .and_then(|value| value.as_str().map(str::to_string))
                .unwrap_or_else(|| format!("{:?}", error.kind));
            *self.failures_by_kind.entry(kind).or_default() += 1;
        }
    }
}

impl std::fmt::Display for BatchSummary {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "whosaid: {} documents read, {} written, {} failed",
            self.documents_read, self.documents_written, self.documents_failed
        )?;
        if !self.failures_by_kind.is_empty() {
            let kinds: Vec<String> = self
                .failures_by_kind
                .iter()
                .map(|(kind, count)| format!("{kind}: {count}"))
                .collect();
            write!(formatter, " ({})", kinds.join(", "))?;
        }
        if self.documents_skipped > 0 {
            write!(
                formatter,
                "; {} skipped as already done",
                self.documents_skipped
            )?;
        }
        if self.duplicate_ids > 0 {
            write!(formatter, "; {} duplicate ids", self.duplicate_ids)?;
        }
        write!(
            formatter,
            "; {} quotes in {:.2} s",
            self.quotes, self.seconds
        )?;
        if self.interrupted {
            write!(formatter, "; interrupted")?;
        }
        Ok(())
    }
}

/// Analyses one input document into its record, keeping its text for the chunk stages.
pub fn process(
    pipeline: &Pipeline,
    document: InputDocument,
    doc_timeout: Option<std::time::Duration>,
) -> (DocumentRecord, Option<String>) {
    let (mut record, text) = match document.text {
        Ok(text) => (
            pipeline.extract_within(&document.id, &text, doc_timeout),
            Some(text),
        ),
        Err(error) => (
            DocumentRecord::failed(&document.id, error.kind, error.message),
            None,
        ),
    };
    record.meta = document.meta;
    (record, text)
}

/// Runs `annotator` over a chunk. Should it fail on the chunk, each document is tried alone, so
/// that one document's failure is recorded on that document only.
fn annotate_chunk(
    annotator: &dyn ChunkAnnotator,
    analysed: &mut [(DocumentRecord, Option<String>)],
) {
    let mut documents: Vec<(&str, &mut DocumentRecord)> = analysed
        .iter_mut()
        .filter(|(record, text)| text.is_some() && record.error.is_none())
        .filter_map(|(record, text)| Some((text.as_deref()?, record)))
        .collect();
    if annotator.annotate(&mut documents).is_ok() {
        return;
    }
    for (text, record) in documents {
        let mut one = [(text, &mut *record)];
        if let Err(error) = annotator.annotate(&mut one) {
            record.error = Some(crate::record::ErrorRecord {
                kind: crate::record::ErrorKind::Internal,
                message: format!("the stance stage failed on this document: {error}"),
            });
        }
    }
}

/// Runs the pipeline over `inputs`, writing each record to `sink` in input order. `progress` is
/// told how many documents are done after each chunk.
pub fn run_batch(
    pipeline: &Pipeline,
    annotator: Option<&dyn ChunkAnnotator>,
    inputs: impl Iterator<Item = InputDocument>,
    sink: &mut dyn RecordSink,
    options: &BatchOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<BatchSummary> {
    let started = Instant::now();
    let mut summary = BatchSummary::default();
    let mut skip = options.already_done.clone();
    let mut seen: HashSet<String> = HashSet::new();
    let mut inputs = inputs.peekable();
    let chunk_size = options.chunk_size.max(1);
    while inputs.peek().is_some() {
        if options
            .stop
            .as_ref()
            .is_some_and(|stop| stop.load(Ordering::SeqCst))
        {
            summary.interrupted = true;
            break;
        }
        let mut chunk: Vec<InputDocument> = Vec::with_capacity(chunk_size);
        for document in inputs.by_ref() {
            summary.documents_read += 1;
            if !seen.insert(document.id.clone()) {
                summary.duplicate_ids += 1;
                eprintln!(
                    "whosaid: warning: document id {} appears again (input document {}); both records are kept",
                    document.id, summary.documents_read
                );
            }
            if let Some(remaining) = skip.get_mut(&document.id).filter(|count| **count > 0) {
                *remaining -= 1;
                summary.documents_skipped += 1;
                continue;
            }
            chunk.push(document);
            if chunk.len() == chunk_size {
                break;
            }
        }
        let mut analysed: Vec<(DocumentRecord, Option<String>)> = chunk
            .into_par_iter()
            .map(|document| process(pipeline, document, options.doc_timeout))
            .collect();
        if let Some(annotator) = annotator {
            annotate_chunk(annotator, &mut analysed);
        }
        for (record, _) in &mut analysed {
            if !options.speakers.is_empty() {
                record.keep_speakers(&options.speakers);
            }
            sink.write(record)?;
            summary.count(record);
        }
        progress(summary.documents_written);
    }
    sink.finish()?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
