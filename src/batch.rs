//! Batch runs: documents stream in, run through the pipeline in chunks, and come out in input
//! order.
//!
//! Three threads share the work. A reader thread parses the input into chunks; the calling
//! thread runs the pipeline over one chunk at a time (its stages use rayon's threads); a writer
//! thread writes the records, which rayon's threads serialise where there are several of them
//! ([`RecordSink::serialiser`]). Bounded channels between them keep at most a few chunks in
//! memory, and records come out in input order whatever the thread count.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::document::{Document, Outcome};
use crate::error::{Error, Result};
use crate::input::InputDocument;
use crate::pipeline::{Pipeline, StageTime};
use crate::record::DocumentRecord;

/// Makes a record into the bytes a sink writes ([`RecordSink::serialiser`]).
pub type Serialiser = Box<dyn Fn(&DocumentRecord) -> Result<Vec<u8>> + Send + Sync>;

/// Where finished records go, in input order.
pub trait RecordSink: Send {
    /// Writes one record; `text` is the document's text when [`RecordSink::wants_text`] says so.
    fn write(&mut self, record: &DocumentRecord, text: Option<&str>) -> Result<()>;
    /// For a sink that writes bytes, how to make them from a record. With more than one analysis
    /// thread, each thread serialises the records of its own documents and the writer thread
    /// only writes them ([`RecordSink::write_serialised`]): serialising a whole chunk on the
    /// writer's one thread held up the start of the next chunk at two threads, and would bound
    /// a run at more. With one, the writer serialises beside the analysis. `None` (the default):
    /// every record comes to [`RecordSink::write`].
    fn serialiser(&self) -> Option<Serialiser> {
        None
    }
    /// Writes a record that the sink's [`RecordSink::serialiser`] made into `bytes`.
    fn write_serialised(&mut self, _bytes: &[u8]) -> Result<()> {
        Err(Error::Internal(
            "serialised records sent to a sink without a serialiser".into(),
        ))
    }
    /// Called after the last record of each chunk.
    fn chunk_done(&mut self) -> Result<()> {
        Ok(())
    }
    fn finish(&mut self) -> Result<()>;
    /// Whether `write` needs each document's text besides its record.
    fn wants_text(&self) -> bool {
        false
    }
}

/// Something worth telling the person running the batch, which does not stop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A document id that an earlier input document already had; both records are kept.
    DuplicateId { id: String, position: usize },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::DuplicateId { id, position } => write!(
                formatter,
                "document id {id} appears again (input document {position}); both records are kept"
            ),
        }
    }
}

/// Where a batch run tells what it is doing: the library never prints; the command line
/// implements this for the terminal.
pub trait Reporter: Sync {
    fn warning(&self, warning: &Warning);
    /// How many records have been written so far.
    fn progress(&self, documents_written: usize);
}

/// A reporter that drops everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Reporter for Silent {
    fn warning(&self, _warning: &Warning) {}
    fn progress(&self, _documents_written: usize) {}
}

/// Options of a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Documents analysed together before their records are written; bounds memory.
    pub chunk_size: usize,
    /// Keep only quotes whose speaker answers to one of these names (all when empty).
    pub speakers: Vec<String>,
    /// Set (by a signal handler) to stop the run: documents already finished are written, those
    /// in flight are dropped within moments, and the run ends as interrupted.
    pub stop: Option<Arc<AtomicBool>>,
    /// Ids whose records a killed run already wrote, with how many times: that many input
    /// documents with the id are skipped, in order, so that a resumed run writes the rest.
    pub already_done: HashMap<String, usize>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            chunk_size: 256,
            speakers: Vec::new(),
            stop: None,
            already_done: HashMap::new(),
        }
    }
}

impl BatchOptions {
    /// The default options, with the chunk size `pipeline` suggests: a chunk of the default
    /// mode holds its documents' encoder states, so it must be smaller than fast mode's.
    pub fn for_pipeline(pipeline: &Pipeline) -> Self {
        BatchOptions {
            chunk_size: pipeline.suggested_chunk_size(),
            ..BatchOptions::default()
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
    /// The time each stage took in this run, in stage order.
    pub stages: Vec<StageTime>,
}

impl BatchSummary {
    fn count(&mut self, tally: &Tally) {
        self.documents_written += 1;
        self.quotes += tally.quotes;
        if let Some(kind) = &tally.failure {
            self.documents_failed += 1;
            *self.failures_by_kind.entry(kind.clone()).or_default() += 1;
        }
    }
}

/// What the summary counts of a record: its quotes, and the kind of its error.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tally {
    quotes: usize,
    failure: Option<String>,
}

impl Tally {
    fn of(record: &DocumentRecord) -> Self {
        Tally {
            quotes: record.quotes.len(),
            failure: record.error.as_ref().map(|error| {
                serde_json::to_value(error.kind)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_string))
                    .unwrap_or_else(|| format!("{:?}", error.kind))
            }),
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

/// A chunk of input documents, with what reading it found.
#[derive(Default)]
struct ReadChunk {
    documents: Vec<InputDocument>,
    read: usize,
    skipped: usize,
    warnings: Vec<Warning>,
}

/// Reads chunks on the reader thread until the input ends, the run stops, or the receiver is
/// gone.
fn read_chunks(
    mut inputs: Box<dyn Iterator<Item = InputDocument> + Send>,
    chunk_size: usize,
    mut skip: HashMap<String, usize>,
    stop: Option<Arc<AtomicBool>>,
    chunks: SyncSender<ReadChunk>,
) {
    let mut seen: HashSet<String> = HashSet::new();
    let mut position = 0;
    let stopped = || {
        stop.as_ref()
            .is_some_and(|stop| stop.load(Ordering::SeqCst))
    };
    loop {
        let mut chunk = ReadChunk::default();
        let mut ended = true;
        while !stopped() {
            let Some(document) = inputs.next() else {
                break;
            };
            position += 1;
            chunk.read += 1;
            if !seen.insert(document.id.clone()) {
                chunk.warnings.push(Warning::DuplicateId {
                    id: document.id.clone(),
                    position,
                });
            }
            if let Some(remaining) = skip.get_mut(&document.id).filter(|count| **count > 0) {
                *remaining -= 1;
                chunk.skipped += 1;
                continue;
            }
            chunk.documents.push(document);
            if chunk.documents.len() == chunk_size {
                ended = false;
                break;
            }
        }
        if chunks.send(chunk).is_err() || ended || stopped() {
            return;
        }
    }
}

/// A finished document as the writer gets it: its record, or the record serialised by the
/// analysis thread that made it.
enum Written {
    Record(DocumentRecord),
    Serialised {
        bytes: Result<Vec<u8>>,
        tally: Tally,
    },
}

/// A chunk's finished documents, with their texts when the sink wants them.
type Finished = Vec<(Written, Option<String>)>;

/// Writes finished records on the writer thread; returns what was written.
fn write_records(
    records: Receiver<Finished>,
    sink: &mut dyn RecordSink,
    reporter: &dyn Reporter,
) -> Result<BatchSummary> {
    let mut written = BatchSummary::default();
    for chunk in records {
        for (finished, text) in chunk {
            match finished {
                Written::Record(record) => {
                    sink.write(&record, text.as_deref())?;
                    written.count(&Tally::of(&record));
                }
                Written::Serialised { bytes, tally } => {
                    sink.write_serialised(&bytes?)?;
                    written.count(&tally);
                }
            }
            reporter.progress(written.documents_written);
        }
        sink.chunk_done()?;
    }
    sink.finish()?;
    Ok(written)
}

/// Input documents as pipeline documents; one that could not be read is a failed document
/// carrying its error.
pub fn documents_of(chunk: Vec<InputDocument>) -> Vec<Document> {
    chunk
        .into_iter()
        .map(|input| {
            let mut document = match input.text {
                Ok(text) => Document::new(input.id, text),
                Err(error) => Document::failed(input.id, error),
            };
            document.meta = input.meta;
            document
        })
        .collect()
}

/// Runs the pipeline over `inputs`, writing each record to `sink` in input order.
pub fn run_batch(
    pipeline: &Pipeline,
    inputs: Box<dyn Iterator<Item = InputDocument> + Send>,
    sink: &mut dyn RecordSink,
    options: &BatchOptions,
    reporter: &dyn Reporter,
) -> Result<BatchSummary> {
    let started = Instant::now();
    let stage_times_before = pipeline.stage_times();
    let chunk_size = options.chunk_size.max(1);
    let wants_text = sink.wants_text();
    let serialiser = if rayon::current_num_threads() > 1 {
        sink.serialiser()
    } else {
        None
    };
    let stop = options.stop.clone();
    let stopped = || {
        stop.as_ref()
            .is_some_and(|stop| stop.load(Ordering::SeqCst))
    };
    let (chunk_sender, chunk_receiver) = sync_channel::<ReadChunk>(1);
    // Not scoped: a reader blocked on a silent standard input must not hold up a stopped run.
    let reader = {
        let (skip, stop) = (options.already_done.clone(), options.stop.clone());
        std::thread::Builder::new()
            .name("whosaid-reader".into())
            .spawn(move || read_chunks(inputs, chunk_size, skip, stop, chunk_sender))
            .map_err(|error| Error::io("reader thread", error))?
    };
    let mut summary = BatchSummary::default();
    let mut input_ended = true;
    let written = std::thread::scope(|scope| -> Result<BatchSummary> {
        let (record_sender, record_receiver) = sync_channel::<Finished>(1);
        let writer = std::thread::Builder::new()
            .name("whosaid-writer".into())
            .spawn_scoped(scope, move || {
                write_records(record_receiver, sink, reporter)
            })
            .map_err(|error| Error::io("writer thread", error))?;
        for chunk in chunk_receiver.iter() {
            summary.documents_read += chunk.read;
            summary.documents_skipped += chunk.skipped;
            summary.duplicate_ids += chunk.warnings.len();
            for warning in &chunk.warnings {
                reporter.warning(warning);
            }
            if stopped() {
                summary.interrupted = true;
                break;
            }
            // Each document becomes its record (code-point offsets, span texts) on rayon's
            // threads as soon as its stages are done; a stop marks the documents in flight.
            let mut finished: Vec<(Outcome, (Written, Option<String>))> =
                pipeline.run_into(documents_of(chunk.documents), stop.as_deref(), |document| {
                    let mut record = document.to_record();
                    if !options.speakers.is_empty() {
                        record.keep_speakers(&options.speakers);
                    }
                    let written = match &serialiser {
                        Some(serialise) => Written::Serialised {
                            bytes: serialise(&record),
                            tally: Tally::of(&record),
                        },
                        None => Written::Record(record),
                    };
                    (
                        document.outcome,
                        (written, wants_text.then_some(document.text)),
                    )
                });
            // Only the documents before the first one a stop cut short are written, so that the
            // output stays in input order and --resume picks up exactly where it ends.
            let done = finished
                .iter()
                .position(|(outcome, _)| *outcome == Outcome::Stopped)
                .unwrap_or(finished.len());
            let cut_short = done < finished.len();
            finished.truncate(done);
            let finished: Finished = finished.into_iter().map(|(_, record)| record).collect();
            if record_sender.send(finished).is_err() {
                // The writer failed; its error is the run's.
                input_ended = false;
                break;
            }
            if cut_short || stopped() {
                summary.interrupted = true;
                break;
            }
        }
        drop(record_sender);
        writer
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("the writer thread panicked".into())))
    });
    drop(chunk_receiver);
    if input_ended && !summary.interrupted {
        // The reader has sent its last chunk, or stops at its next send.
        let _ = reader.join();
    }
    let written = written?;
    summary.documents_written = written.documents_written;
    summary.documents_failed = written.documents_failed;
    summary.failures_by_kind = written.failures_by_kind;
    summary.quotes = written.quotes;
    summary.seconds = started.elapsed().as_secs_f64();
    summary.stages = pipeline
        .stage_times()
        .into_iter()
        .zip(stage_times_before)
        .map(|(after, before)| StageTime {
            seconds: after.seconds - before.seconds,
            ..after
        })
        .collect();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::PipelineConfig;

    struct Collect(Vec<DocumentRecord>);

    impl RecordSink for Collect {
        fn write(&mut self, record: &DocumentRecord, _text: Option<&str>) -> Result<()> {
            self.0.push(record.clone());
            Ok(())
        }

        fn finish(&mut self) -> Result<()> {
            Ok(())
        }
    }

    fn inputs(texts: &[&str]) -> Box<dyn Iterator<Item = InputDocument> + Send> {
        let documents: Vec<InputDocument> = texts
            .iter()
            .enumerate()
            .map(|(index, text)| InputDocument {
                id: index.to_string(),
                text: Ok(text.to_string()),
                meta: None,
            })
            .collect();
        Box::new(documents.into_iter())
    }

    #[test]
    fn options_for_a_pipeline_take_its_chunk_size() {
        let rules = Pipeline::new(PipelineConfig {
            spans: crate::pipeline::SpanChoice::Rules,
            ..PipelineConfig::default()
        })
        .expect("the shipped models load");
        let learned = Pipeline::new(PipelineConfig::fast()).expect("the shipped models load");
        for pipeline in [&rules, &learned] {
            let options = BatchOptions::for_pipeline(pipeline);
            assert_eq!(options.chunk_size, pipeline.suggested_chunk_size());
            assert!(options.speakers.is_empty() && options.already_done.is_empty());
        }
        assert_ne!(
            BatchOptions::for_pipeline(&rules).chunk_size,
            BatchOptions::for_pipeline(&learned).chunk_size
        );
    }

    #[test]
    fn the_summary_times_each_stage_of_its_own_run() {
        let pipeline = Pipeline::new(PipelineConfig::fast()).expect("the shipped models load");
        let mut sink = Collect(Vec::new());
        let texts = ["“We are close,” Kerry said. Lavrov said the talks would go on."; 3];
        let summary = run_batch(
            &pipeline,
            inputs(&texts),
            &mut sink,
            &BatchOptions::default(),
            &Silent,
        )
        .expect("the batch runs");
        assert_eq!(sink.0.len(), 3);
        let names: Vec<&str> = summary.stages.iter().map(|time| time.stage).collect();
        assert_eq!(names, pipeline.stage_names());
        assert!(summary.stages.iter().all(|time| time.seconds >= 0.0));
        assert!(summary.stages.iter().any(|time| time.seconds > 0.0));

        // A second run of the same pipeline reports its own time, not the total so far.
        let empty = run_batch(
            &pipeline,
            inputs(&[]),
            &mut Collect(Vec::new()),
            &BatchOptions::default(),
            &Silent,
        )
        .expect("the batch runs");
        assert_eq!(empty.stages.len(), names.len());
        assert!(empty.stages.iter().all(|time| time.seconds == 0.0));
    }

    /// Records written as JSON lines, each counted by the way it came.
    #[derive(Default)]
    struct Lines {
        bytes: Vec<u8>,
        through_write: usize,
        serialised: usize,
    }

    impl RecordSink for Lines {
        fn write(&mut self, record: &DocumentRecord, _text: Option<&str>) -> Result<()> {
            self.through_write += 1;
            let bytes = serde_json::to_vec(record).expect("a record serialises");
            self.bytes.extend(bytes);
            self.bytes.push(b'\n');
            Ok(())
        }

        fn serialiser(&self) -> Option<Serialiser> {
            Some(Box::new(|record| {
                Ok(serde_json::to_vec(record).expect("a record serialises"))
            }))
        }

        fn write_serialised(&mut self, bytes: &[u8]) -> Result<()> {
            self.serialised += 1;
            self.bytes.extend_from_slice(bytes);
            self.bytes.push(b'\n');
            Ok(())
        }

        fn finish(&mut self) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn several_analysis_threads_serialise_the_records_and_one_leaves_it_to_the_writer() {
        let pipeline = Pipeline::new(PipelineConfig::fast()).expect("the shipped models load");
        let texts: Vec<String> = (0..40)
            .map(|index| {
                format!(
                    "“Point {index} stands,” Kerry said. {} Lavrov said the talks would go on.",
                    "More words here. ".repeat(index % 7)
                )
            })
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        // The documents, and one that could not be read, in the middle.
        let documents = || -> Box<dyn Iterator<Item = InputDocument> + Send> {
            let mut documents: Vec<InputDocument> = inputs(&texts).collect();
            documents.insert(
                20,
                InputDocument::failed(
                    "unread".into(),
                    crate::labels::ErrorKind::InvalidUtf8,
                    "not UTF-8".into(),
                ),
            );
            Box::new(documents.into_iter())
        };
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            let mut sink = Lines::default();
            let options = BatchOptions {
                chunk_size: 7,
                ..BatchOptions::default()
            };
            let summary = pool
                .install(|| run_batch(&pipeline, documents(), &mut sink, &options, &Silent))
                .expect("the batch runs");
            (sink, summary)
        };
        let (one, one_summary) = run(1);
        let (two, two_summary) = run(2);
        assert_eq!((one.through_write, one.serialised), (41, 0));
        assert_eq!((two.through_write, two.serialised), (0, 41));
        assert_eq!(one.bytes, two.bytes, "the same records, in input order");
        for summary in [&one_summary, &two_summary] {
            assert_eq!(summary.documents_written, 41);
            assert_eq!(summary.documents_failed, 1);
            assert_eq!(summary.failures_by_kind.values().sum::<usize>(), 1);
        }
        assert!(one_summary.quotes >= 40);
        assert_eq!(two_summary.quotes, one_summary.quotes);
        assert_eq!(two_summary.failures_by_kind, one_summary.failures_by_kind);
    }
}
