//! The two kinds of stage, and the clock that bounds them.
//!
//! A [`DocumentStage`] reads and extends one [`Document`] at a time; it is `Sync`, and the
//! pipeline runs it on many documents in parallel. A [`BatchStage`] runs over a whole chunk of
//! documents at once, so that a model can batch their inputs; it may hold models that are not
//! `Sync` (one copy per worker inside it). The pipeline is an ordered list of both kinds
//! ([`Stage`]), so a model stage can sit between two rule stages.
//!
//! Every stage's long loops call a [`Check`] every so often. The pipeline passes a [`Clock`],
//! which stops a document that has used up its time budget, and every document once the run is
//! asked to stop; code that needs no bounds passes [`Unbounded`], which the compiler removes.

use std::cell::Cell;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::document::Document;
use crate::error::Result;
use crate::labels::ErrorKind;

/// A stage that works on one document at a time.
pub trait DocumentStage: Send + Sync {
    /// The stage's name, for error messages.
    fn name(&self) -> &'static str;
    /// Adds this stage's layer to `document`, calling `clock.check()` in every loop whose length
    /// depends on the input.
    fn run(&self, document: &mut Document, clock: &Clock) -> Result<(), Halt>;
}

/// A stage that works on a chunk of documents at once. A new model stage implements this one
/// trait and goes into the pipeline's list where its input layers are ready:
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// use whosaid::document::Document;
/// use whosaid::pipeline::{Pipeline, PipelineConfig};
/// use whosaid::stage::{BatchStage, ChunkClock, Stage};
///
/// /// Counts the tokens of each chunk (a toy: a real batch stage runs a model over the chunk).
/// struct CountTokens {
///     counts: Arc<Mutex<Vec<usize>>>,
/// }
///
/// impl BatchStage for CountTokens {
///     fn name(&self) -> &'static str {
///         "count tokens"
///     }
///
///     fn run(&self, documents: &mut [&mut Document], _clock: &ChunkClock) -> whosaid::Result<()> {
///         let tokens = documents
///             .iter()
///             .map(|document| document.segmented.tokens.len())
///             .sum();
///         self.counts.lock().unwrap().push(tokens);
///         Ok(())
///     }
/// }
///
/// let counts = Arc::new(Mutex::new(Vec::new()));
/// let mut pipeline = Pipeline::new(PipelineConfig::default())?;
/// // Stage 2 of the list: after the segmenter, whose tokens it reads.
/// pipeline.insert_stage(2, Stage::Batch(Box::new(CountTokens { counts: counts.clone() })));
/// assert_eq!(pipeline.stage_names()[..3], ["normalise", "segment", "count tokens"]);
/// pipeline.predict(&["He said so.", "“Yes,” she said."]);
/// // One chunk: "He said so ." and "“ Yes , ” she said ." make 4 + 7 tokens.
/// assert_eq!(*counts.lock().unwrap(), [11]);
/// # Ok::<(), whosaid::Error>(())
/// ```
pub trait BatchStage: Send + Sync {
    /// The stage's name, for error messages.
    fn name(&self) -> &'static str;
    /// Adds this stage's layer to each document of a chunk (only those still going: a document
    /// that failed or ran out of time in an earlier stage is not passed). Should it fail on the
    /// chunk, the pipeline runs it again on each document alone, so that the failure is recorded
    /// on the document that caused it.
    fn run(&self, documents: &mut [&mut Document], clock: &ChunkClock) -> Result<()>;
}

/// One entry of the pipeline's stage list.
pub enum Stage {
    Document(Box<dyn DocumentStage>),
    Batch(Box<dyn BatchStage>),
}

impl Stage {
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Document(stage) => stage.name(),
            Stage::Batch(stage) => stage.name(),
        }
    }
}

/// Why a stage stopped before the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// The document used up its time budget.
    TimedOut,
    /// The run was asked to stop (SIGINT or SIGTERM); the document is left for `--resume`.
    Stopped,
}

/// Something a stage's loops call to learn whether to go on.
pub trait Check {
    /// What stops the stage.
    type Stop;
    fn check(&self) -> Result<(), Self::Stop>;
}

/// No bounds: for callers that run a stage outside the pipeline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unbounded;

impl Check for Unbounded {
    type Stop = Infallible;

    #[inline(always)]
    fn check(&self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// The value of a computation that an [`Unbounded`] check cannot stop.
pub fn unbounded<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// How long each document may take: `base` plus `per_megabyte` for each megabyte of its text.
/// The default, 5 s plus 10 s per MB, is about fifty times what news takes in the default mode,
/// so it stops only runaway documents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub base: Duration,
    pub per_megabyte: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            base: Duration::from_secs(5),
            per_megabyte: Duration::from_secs(10),
        }
    }
}

impl Budget {
    /// A fixed budget per document, whatever its size.
    pub fn fixed(time: Duration) -> Self {
        Budget {
            base: time,
            per_megabyte: Duration::ZERO,
        }
    }

    /// The time allowed to a document of `bytes` bytes.
    pub fn for_bytes(&self, bytes: usize) -> Duration {
        self.base + self.per_megabyte.mul_f64(bytes as f64 / 1e6)
    }
}

/// How many checks pass between two readings of the time: reading it costs about as much as
/// a few dozen loop steps of a rule stage.
const CHECKS_PER_READING: u32 = 64;

/// The clock of one document in one per-document stage.
pub struct Clock<'a> {
    deadline: Option<Instant>,
    stop: Option<&'a AtomicBool>,
    checks: Cell<u32>,
}

impl<'a> Clock<'a> {
    /// A clock that stops at `deadline` (if any), or once `stop` is set (if given).
    pub fn new(deadline: Option<Instant>, stop: Option<&'a AtomicBool>) -> Self {
        Clock {
            deadline,
            stop,
            checks: Cell::new(0),
        }
    }

    /// A clock that never stops.
    pub fn unlimited() -> Clock<'static> {
        Clock::new(None, None)
    }
}

impl Clock<'_> {
    /// Reads the stop flag and the time at once, for a stage between steps whose loops have no
    /// checks of their own (each step linear in the document).
    pub fn check_now(&self) -> Result<(), Halt> {
        if self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
            return Err(Halt::Stopped);
        }
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(Halt::TimedOut),
            _ => Ok(()),
        }
    }
}

impl Check for Clock<'_> {
    type Stop = Halt;

    #[inline]
    fn check(&self) -> Result<(), Halt> {
        let checks = self.checks.get().wrapping_add(1);
        self.checks.set(checks);
        if !checks.is_multiple_of(CHECKS_PER_READING) {
            return Ok(());
        }
        if self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
            return Err(Halt::Stopped);
        }
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(Halt::TimedOut),
            _ => Ok(()),
        }
    }
}

/// What a batch stage needs to bound its work: the run's stop flag and each document's budget.
pub struct ChunkClock<'a> {
    pub(crate) budget: Option<Budget>,
    pub(crate) stop: Option<&'a AtomicBool>,
}

impl<'a> ChunkClock<'a> {
    pub fn new(budget: Option<Budget>, stop: Option<&'a AtomicBool>) -> Self {
        ChunkClock { budget, stop }
    }

    /// Whether the run has been asked to stop; a batch stage checks this between its batches.
    pub fn stopped(&self) -> bool {
        self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed))
    }

    /// The time `document` has left, or `None` without a budget.
    pub fn remaining(&self, document: &Document) -> Option<Duration> {
        let budget = self.budget?.for_bytes(document.text.len());
        Some(budget.saturating_sub(document.spent))
    }

    /// Marks a document that ran out of time during stage `stage`.
    pub fn time_out(&self, document: &mut Document, stage: &str) {
        let budget = self
            .budget
            .map(|budget| budget.for_bytes(document.text.len()))
            .unwrap_or_default();
        let message = format!(
            "document {} took longer than its budget of {:.3} s (stopped after {:.3} s, in the {stage} stage)",
            document.id,
            budget.as_secs_f64(),
            document.spent.as_secs_f64()
        );
        document.fail(ErrorKind::Timeout, message);
    }

    /// A clock for one document's per-document stage.
    pub fn for_document(&self, document: &Document) -> Clock<'a> {
        let deadline = self
            .remaining(document)
            .map(|remaining| Instant::now() + remaining);
        Clock::new(deadline, self.stop)
    }
}
