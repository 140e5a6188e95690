//! The pipeline: an ordered list of stages, run over chunks of documents.
//!
//! Per-document stages that follow one another run together, in parallel over the chunk's
//! documents (rayon). A batch stage runs over the whole chunk at once, on the calling thread.
//! Each document carries its own time budget and outcome: one that fails or runs out of time
//! gets an error record and skips the later stages, while the others go on.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::attribute::AttributeStage;
use crate::confidence::{ConfidenceModel, ConfidenceStage};
use crate::cue::CueModel;
use crate::document::{Document, Outcome};
use crate::error::Result;
use crate::labels::ErrorKind;
pub use crate::linker::SpanChoice;
use crate::linker::{LearnedSpans, TagAndLinkStage};
use crate::normalise::NormaliseStage;
use crate::quotes::QuoteStage;
use crate::record::DocumentRecord;
use crate::segment::SegmentStage;
use crate::speakers::SpeakerStage;
use crate::stage::{BatchStage, Budget, ChunkClock, DocumentStage, Halt, Stage};

/// How to build a [`Pipeline`].
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// A confidence model to use instead of the shipped one.
    pub confidence_model: Option<PathBuf>,
    pub cues: CueChoice,
    /// What finds and links the quotes: the learned tagger and linker, or the rules alone.
    pub spans: SpanChoice,
    /// Each document's time budget; `None` lets documents take as long as they take.
    pub budget: Option<Budget>,
    /// The stance stage (the default mode); `None` is fast mode.
    #[cfg(feature = "transformer")]
    pub stance: Option<crate::stance::StanceConfig>,
    /// The default mode's transformer tagger, in place of the linear tagger of the learned
    /// stages; `None` keeps the linear one (fast mode). Unused with the rules alone.
    #[cfg(feature = "transformer")]
    pub tagger: Option<crate::tagger::transformer::TransformerTaggerConfig>,
}

impl Default for PipelineConfig {
    /// Fast mode with the shipped models and the default time budget.
    fn default() -> Self {
        PipelineConfig {
            confidence_model: None,
            cues: CueChoice::default(),
            spans: SpanChoice::default(),
            budget: Some(Budget::default()),
            #[cfg(feature = "transformer")]
            stance: None,
            #[cfg(feature = "transformer")]
            tagger: None,
        }
    }
}

impl PipelineConfig {
    /// Fast mode with the shipped models: rules and linear models only, no stance.
    pub fn fast() -> Self {
        PipelineConfig::default()
    }

    /// The default mode's attribution with this transformer tagger, without stance and without
    /// a time budget: what training reads, since it must see every document whole.
    #[cfg(feature = "transformer")]
    pub fn training_with_tagger(tagger: &std::path::Path) -> Self {
        PipelineConfig {
            budget: None,
            tagger: Some(crate::tagger::transformer::TransformerTaggerConfig {
                weights: Some(tagger.to_path_buf()),
                ..Default::default()
            }),
            ..PipelineConfig::default()
        }
    }

    /// The default mode with the shipped models: the transformer tagger and the stance stage,
    /// their encoder read from the folder `scripts/setup` installed (or `$WHOSAID_ENCODER`).
    /// `threads` bounds the encoder's copies and libtorch's own threads (`None`: every core).
    #[cfg(feature = "transformer")]
    pub fn default_mode(threads: Option<usize>) -> Self {
        if let Some(threads) = threads {
            // libtorch's thread count is process-wide; the caller's bound must hold there too.
            tch::set_num_threads(threads.max(1) as i32);
        }
        let threads =
            threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        let tagger = crate::tagger::transformer::TransformerTaggerConfig {
            copies: threads,
            ..Default::default()
        };
        PipelineConfig {
            stance: Some(crate::stance::StanceConfig {
                encoder: crate::encoder::EncoderConfig::default(),
                head: None,
                encoder_threads: threads,
                tagger: Some(tagger.clone()),
            }),
            tagger: Some(tagger),
            ..PipelineConfig::default()
        }
    }

    /// This configuration with another time budget (`None`: none).
    pub fn with_budget(self, budget: Option<Budget>) -> Self {
        PipelineConfig { budget, ..self }
    }
}

/// Which cue detector quote finding uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CueChoice {
    /// The learned model in `models/cue-model.json`.
    #[default]
    Shipped,
    /// A learned model from this file.
    Model(PathBuf),
    /// The hand-made word list, as before the model (for ablations).
    Listed,
}

/// The whole analysis, from text to [`DocumentRecord`].
pub struct Pipeline {
    stages: Vec<Stage>,
    budget: Option<Budget>,
    /// The cue model of quote finding (`None` for the hand-made word list), which training
    /// reads features with.
    cues: Option<Arc<CueModel>>,
    /// Documents a batch run should analyse together ([`Pipeline::suggested_chunk_size`]).
    chunk_size: usize,
    /// The time each stage (by position in `stages`) has taken in this pipeline's runs, in
    /// nanoseconds: summed over documents for a per-document stage, whichever threads ran
    /// them; a batch stage's wall time over its chunks.
    stage_nanos: Vec<AtomicU64>,
}

/// The time one stage took in a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StageTime {
    pub stage: &'static str,
    /// Summed over documents for a per-document stage (so, with several threads, more than
    /// the run's wall time); a batch stage's wall time.
    pub seconds: f64,
}

/// Documents per chunk where documents hold encoder states between stages: a few megabytes
/// each, and the default mode gains nothing from longer chunks.
#[cfg(feature = "transformer")]
const CHUNK_HOLDING_STATES: usize = 32;

/// Documents per chunk for the rule stages alone. They do so little per document that the
/// chunks queued between the reader, the analysis and the writer are most of the memory: at 256
/// the peak RSS was 130–132 MiB against 124–125 at 64, which is as fast at one thread and at two
/// (PolNeAR train+dev ×3, docs/BENCHMARKS.md). The learned stages keep 256: at 64 they scaled
/// worse from one thread to two.
const CHUNK_OF_RULES: usize = 64;

impl Pipeline {
    pub fn new(config: PipelineConfig) -> Result<Self> {
        #[cfg(feature = "transformer")]
        let transformer_tagged = config.tagger.is_some();
        #[cfg(not(feature = "transformer"))]
        let transformer_tagged = false;
        let confidence = match (&config.confidence_model, &config.spans) {
            (Some(path), _) => ConfidenceModel::load(path)?,
            (None, SpanChoice::Rules) => ConfidenceModel::shipped_for_rules()?,
            (None, _) if transformer_tagged => ConfidenceModel::shipped_for_transformer()?,
            // Recalibrated for the shipped models only: other taggers and linkers, and quotes
            // split at sentence ends, get the model fitted across folds of train.
            (None, SpanChoice::Learned) => ConfidenceModel::shipped_for_fast()?,
            (None, _) => ConfidenceModel::shipped()?,
        };
        let cues = match &config.cues {
            CueChoice::Shipped => Some(Arc::clone(CueModel::shipped_shared()?)),
            CueChoice::Model(path) => Some(Arc::new(CueModel::load(path)?)),
            CueChoice::Listed => None,
        };
        let learned = LearnedSpans::from_choice(&config.spans)?;
        #[cfg_attr(not(feature = "transformer"), allow(unused_mut))]
        let mut chunk_size = if learned.is_some() {
            crate::batch::BatchOptions::default().chunk_size
        } else {
            CHUNK_OF_RULES
        };
        #[cfg(feature = "transformer")]
        let learned = match learned {
            Some(learned) if transformer_tagged => {
                Some(learned.for_transformer_spans(&config.spans)?)
            }
            other => other,
        };
        #[cfg_attr(not(feature = "transformer"), allow(unused_mut))]
        let mut stages = vec![
            Stage::Document(Box::new(NormaliseStage) as Box<dyn DocumentStage>),
            Stage::Document(Box::new(SegmentStage)),
            Stage::Document(Box::new(QuoteStage { cues: cues.clone() })),
            Stage::Document(Box::new(SpeakerStage)),
        ];
        // The stance head decides whether the tagger keeps its states for stance to read.
        #[cfg(feature = "transformer")]
        let stance_head = match &config.stance {
            Some(stance) => Some(stance.load_head()?),
            None => None,
        };
        #[cfg(feature = "transformer")]
        let mut tagger_digest = None;
        #[cfg(feature = "transformer")]
        if let (Some(mut tagger), Some(learned)) = (config.tagger, &learned) {
            stages.push(Stage::Document(Box::new(crate::linker::ProposeStage)));
            if let Some(head) = stance_head
                .as_ref()
                .filter(|head| head.tagger_digest.is_some())
            {
                tagger.keep_states_after = Some(head.encoder_layers.unwrap_or(usize::MAX));
                chunk_size = CHUNK_HOLDING_STATES;
            }
            let stage = crate::tagger::transformer_stage::TransformerTagStage::new(
                tagger,
                cues.clone(),
                Some(learned.tagger.clone()),
            )?;
            tagger_digest = Some(stage.digest());
            stages.push(Stage::Batch(Box::new(stage)));
        }
        stages.push(Stage::Document(match learned {
            Some(learned) => Box::new(TagAndLinkStage {
                learned,
                cues: cues.clone(),
            }),
            None => Box::new(AttributeStage),
        }));
        stages.push(Stage::Document(Box::new(ConfidenceStage {
            model: confidence,
        })));
        #[cfg(feature = "transformer")]
        if let (Some(stance), Some(head)) = (config.stance, stance_head) {
            stages.extend(crate::stance::stance_stages(
                stance,
                head,
                tagger_digest.as_deref(),
            )?);
        }
        Ok(Pipeline {
            stage_nanos: stages.iter().map(|_| AtomicU64::new(0)).collect(),
            stages,
            budget: config.budget,
            cues,
            chunk_size,
        })
    }

    /// How many documents a batch run should analyse together: [`BatchOptions`]'s default for
    /// the learned stages, fewer where documents hold encoder states between stages, or where
    /// the rule stages work alone.
    ///
    /// [`BatchOptions`]: crate::batch::BatchOptions
    pub fn suggested_chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// A pipeline of these stages alone, for running some stages apart from the rest (a
    /// benchmark of one stage, or a new stage tried on documents analysed before).
    pub fn with_stages(stages: Vec<Stage>, budget: Option<Budget>) -> Self {
        Pipeline {
            stage_nanos: stages.iter().map(|_| AtomicU64::new(0)).collect(),
            stages,
            budget,
            cues: None,
            chunk_size: crate::batch::BatchOptions::default().chunk_size,
        }
    }

    /// Drops the stage named `name` and every stage after it: to run the stages before it
    /// alone, as training does to read the transformer's spans before the linker links them.
    pub fn truncate_before(&mut self, name: &str) {
        if let Some(at) = self.stages.iter().position(|stage| stage.name() == name) {
            self.stages.truncate(at);
            self.stage_nanos.truncate(at);
        }
    }

    /// The learned cue model quote finding uses (`None` for the hand-made word list).
    pub fn cue_model(&self) -> Option<&CueModel> {
        self.cues.as_deref()
    }

    /// The stages' names, in order.
    pub fn stage_names(&self) -> Vec<&'static str> {
        self.stages.iter().map(Stage::name).collect()
    }

    /// Puts a stage at position `at` of the list (clamped to its length).
    pub fn insert_stage(&mut self, at: usize, stage: Stage) {
        let at = at.min(self.stages.len());
        self.stages.insert(at, stage);
        self.stage_nanos.insert(at, AtomicU64::new(0));
    }

    /// The time each stage has taken in this pipeline's runs so far, in stage order: what to
    /// look at first when a corpus runs slowly.
    pub fn stage_times(&self) -> Vec<StageTime> {
        self.stages
            .iter()
            .zip(&self.stage_nanos)
            .map(|(stage, nanos)| StageTime {
                stage: stage.name(),
                seconds: Duration::from_nanos(nanos.load(Ordering::Relaxed)).as_secs_f64(),
            })
            .collect()
    }

    /// Runs every stage over a chunk of documents. A document that fails or runs out of time
    /// is marked so and skips the later stages; once `stop` is set, the documents in flight are
    /// marked [`Outcome::Stopped`] within a few milliseconds of work.
    pub fn run(&self, documents: &mut [Document], stop: Option<&AtomicBool>) {
        self.run_keeping(documents, stop, true);
    }

    /// [`Pipeline::run`] for documents that only their records are wanted of: where the last
    /// stages are per-document, each document drops its working layers (tokens, quoted
    /// regions, proposed quotes, stance inputs) as soon as it is done, so that a chunk holds
    /// little more than its texts and results. The records are the same.
    pub fn run_for_records(&self, documents: &mut [Document], stop: Option<&AtomicBool>) {
        self.run_keeping(documents, stop, false);
    }

    fn run_keeping(&self, documents: &mut [Document], stop: Option<&AtomicBool>, keep: bool) {
        let clock = ChunkClock::new(self.budget, stop);
        self.run_stages(documents, &clock, 0..self.stages.len(), keep);
    }

    /// [`Pipeline::run_for_records`], handing each document to `finish` (which makes its
    /// record) as soon as it is done: where the list ends with per-document stages, in the same
    /// task as those stages, so that a document's layers go as soon as its record is made, and
    /// the chunk waits for its slowest document once instead of twice. The results come back
    /// in the documents' order.
    pub fn run_into<T: Send>(
        &self,
        mut documents: Vec<Document>,
        stop: Option<&AtomicBool>,
        finish: impl Fn(Document) -> T + Sync + Send,
    ) -> Vec<T> {
        let clock = ChunkClock::new(self.budget, stop);
        // The last run of per-document stages: everything after the last batch stage.
        let last_run = self
            .stages
            .iter()
            .rposition(|stage| matches!(stage, Stage::Batch(_)))
            .map_or(0, |batch| batch + 1);
        self.run_stages(&mut documents, &clock, 0..last_run, false);
        let run = self.document_run(last_run..self.stages.len());
        // Longest first, one document a task: the chunk then ends on short documents, and the
        // threads that finish early wait for a short one, not for a long one begun last.
        let mut numbered: Vec<(usize, Document)> = documents.into_iter().enumerate().collect();
        numbered.sort_by_key(|(place, document)| (std::cmp::Reverse(document.text.len()), *place));
        let mut finished: Vec<(usize, T)> = numbered
            .into_par_iter()
            .with_max_len(1)
            .map(|(place, mut document)| {
                run_document_stages(&run, &mut document, &clock);
                document.release_working_layers();
                (place, finish(document))
            })
            .collect();
        finished.sort_unstable_by_key(|(place, _)| *place);
        finished.into_iter().map(|(_, record)| record).collect()
    }

    /// The per-document stages of `range`, with their timers.
    fn document_run(&self, range: std::ops::Range<usize>) -> Vec<(&dyn DocumentStage, &AtomicU64)> {
        self.stages[range.clone()]
            .iter()
            .zip(&self.stage_nanos[range])
            .filter_map(|(stage, nanos)| match stage {
                Stage::Document(stage) => Some((stage.as_ref(), nanos)),
                Stage::Batch(_) => None,
            })
            .collect()
    }

    /// Runs the stages of `range` over a chunk: each run of per-document stages in one
    /// parallel pass, each batch stage over the whole chunk.
    fn run_stages(
        &self,
        documents: &mut [Document],
        clock: &ChunkClock,
        range: std::ops::Range<usize>,
        keep: bool,
    ) {
        let mut at = range.start;
        while at < range.end {
            let run_end = self.stages[at..range.end]
                .iter()
                .position(|stage| matches!(stage, Stage::Batch(_)))
                .map_or(range.end, |offset| at + offset);
            if run_end > at {
                let run = self.document_run(at..run_end);
                let last = run_end == self.stages.len();
                documents.par_iter_mut().for_each(|document| {
                    run_document_stages(&run, document, clock);
                    if last && !keep {
                        document.release_working_layers();
                    }
                });
                at = run_end;
            } else if let Stage::Batch(stage) = &self.stages[at] {
                let started = Instant::now();
                run_batch_stage(stage.as_ref(), documents, clock);
                add_time(&self.stage_nanos[at], started.elapsed());
                at += 1;
            }
        }
    }

    /// Runs every stage on one text.
    pub fn analyse(&self, id: &str, text: &str) -> Document {
        let mut documents = [Document::new(id, text)];
        self.run(&mut documents, None);
        let [document] = documents;
        document
    }

    /// Analyses one text into its output record. A document that cannot be analysed (a bug, or
    /// a time-out) gets an error record; this never panics.
    pub fn extract(&self, id: &str, text: &str) -> DocumentRecord {
        self.analyse(id, text).to_record()
    }

    /// Analyses many texts in parallel; the records come back in input order, with ids `0`, `1`…
    pub fn predict(&self, texts: &[&str]) -> Vec<DocumentRecord> {
        let mut documents: Vec<Document> = texts
            .iter()
            .enumerate()
            .map(|(index, text)| Document::new(index.to_string(), *text))
            .collect();
        self.run(&mut documents, None);
        documents.iter().map(Document::to_record).collect()
    }
}

fn add_time(nanos: &AtomicU64, elapsed: Duration) {
    let elapsed = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
    nanos.fetch_add(elapsed, Ordering::Relaxed);
}

/// Runs a run of per-document stages on one document, catching a panic (a bug) so that one
/// document never stops the batch.
fn run_document_stages(
    stages: &[(&dyn DocumentStage, &AtomicU64)],
    document: &mut Document,
    clock: &ChunkClock,
) {
    for &(stage, nanos) in stages {
        if !document.is_going() {
            return;
        }
        let document_clock = clock.for_document(document);
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            stage.run(document, &document_clock)
        }));
        let elapsed = started.elapsed();
        document.spent += elapsed;
        add_time(nanos, elapsed);
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(Halt::TimedOut)) => clock.time_out(document, stage.name()),
            Ok(Err(Halt::Stopped)) => document.outcome = Outcome::Stopped,
            Err(_) => document.fail(
                ErrorKind::Internal,
                format!(
                    "the analysis failed on this document at the {} stage; please report it",
                    stage.name()
                ),
            ),
        }
    }
}

/// Runs a batch stage over the documents still going. Should it fail (or panic) on the chunk,
/// each document is tried alone, so that one document's failure is recorded on it only.
fn run_batch_stage(stage: &dyn BatchStage, documents: &mut [Document], clock: &ChunkClock) {
    let mut going: Vec<&mut Document> = documents
        .iter_mut()
        .filter(|document| document.is_going())
        .collect();
    if going.is_empty() {
        return;
    }
    let attempt = |documents: &mut [&mut Document]| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stage.run(documents, clock)))
            .unwrap_or_else(|_| {
                Err(crate::Error::Internal(format!(
                    "the {} stage panicked; please report it",
                    stage.name()
                )))
            })
    };
    if attempt(&mut going).is_ok() {
        return;
    }
    for document in going {
        if !document.is_going() {
            continue;
        }
        if let Err(error) = attempt(&mut [&mut *document]) {
            document.fail(
                ErrorKind::Internal,
                format!(
                    "the {} stage failed on this document: {error}",
                    stage.name()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_stages_alone_take_smaller_chunks_than_the_learned_ones() {
        let rules = Pipeline::new(PipelineConfig {
            spans: SpanChoice::Rules,
            ..PipelineConfig::default()
        })
        .expect("the shipped models load");
        let learned = Pipeline::new(PipelineConfig::fast()).expect("the shipped models load");
        assert_eq!(rules.suggested_chunk_size(), CHUNK_OF_RULES);
        assert_eq!(
            learned.suggested_chunk_size(),
            crate::batch::BatchOptions::default().chunk_size
        );
        assert!(CHUNK_OF_RULES < learned.suggested_chunk_size());
    }

    #[test]
    fn pipelines_share_the_shipped_models_instead_of_copying_them() {
        // Each copy of the cue model alone is megabytes of strings and hashes; the stages and
        // pipelines that hold a model share the one built into the binary.
        let first = Pipeline::new(PipelineConfig::fast()).expect("the shipped models load");
        let second = Pipeline::new(PipelineConfig::fast()).expect("the shipped models load");
        let shipped = CueModel::shipped().expect("the shipped cue model");
        for pipeline in [&first, &second] {
            let cues = pipeline.cue_model().expect("fast mode scores cues");
            assert!(std::ptr::eq(cues, shipped));
        }
        let learned = crate::linker::LearnedSpans::from_choice(&SpanChoice::Learned)
            .expect("the shipped models load")
            .expect("learned spans");
        assert!(std::ptr::eq(
            learned.tagger.as_ref(),
            crate::tagger::SpanModel::shipped().unwrap()
        ));
        assert!(std::ptr::eq(
            learned.linker.as_ref(),
            crate::linker::Linker::shipped().unwrap()
        ));
    }

    #[test]
    fn a_chunk_comes_back_in_input_order_though_its_longest_documents_run_first() {
        let pipeline = Pipeline::new(PipelineConfig::fast()).expect("the shipped models load");
        let lengths = [3usize, 40, 1, 0, 40, 12, 7, 25];
        let chunk = || -> Vec<Document> {
            lengths
                .iter()
                .enumerate()
                .map(|(place, &sentences)| {
                    let text = "“We are close,” Kerry said. ".repeat(sentences);
                    Document::new(format!("d{place}"), text)
                })
                .collect()
        };
        let finished = pipeline.run_into(chunk(), None, |document| {
            (
                document.id.clone(),
                document.text.len(),
                document.to_record(),
            )
        });
        for (place, (id, bytes, record)) in finished.iter().enumerate() {
            assert_eq!(*id, format!("d{place}"));
            assert_eq!(record.id, *id);
            assert_eq!(
                *bytes,
                lengths[place] * "“We are close,” Kerry said. ".len()
            );
        }
        // The same records as each document analysed alone.
        for (document, (_, _, record)) in chunk().into_iter().zip(&finished) {
            let alone = pipeline.run_into(vec![document], None, |document| document.to_record());
            assert_eq!(
                serde_json::to_string(&alone[0]).unwrap(),
                serde_json::to_string(record).unwrap()
            );
        }
        // On one thread, the work goes longest first.
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a pool of one thread");
        let order = std::sync::Mutex::new(Vec::new());
        one.install(|| {
            pipeline.run_into(chunk(), None, |document| {
                order
                    .lock()
                    .expect("not poisoned")
                    .push(document.text.len())
            })
        });
        let order = order.into_inner().expect("not poisoned");
        let mut longest_first = order.clone();
        longest_first.sort_by(|left, right| right.cmp(left));
        assert_eq!(order, longest_first);
    }

    #[test]
    fn records_are_the_same_whether_working_layers_are_kept_or_dropped() {
        let pipeline = Pipeline::new(PipelineConfig::default()).expect("the shipped models load");
        let texts = [
            "“We are close,” Kerry said. “But not yet.” Lavrov said the talks would go on.",
            "Officials said the plan, which he called “a first step”, would pass.",
            "",
        ];
        let documents = || -> Vec<Document> {
            texts
                .iter()
                .enumerate()
                .map(|(index, text)| Document::new(index.to_string(), *text))
                .collect()
        };
        let mut kept = documents();
        pipeline.run(&mut kept, None);
        let mut dropped = documents();
        pipeline.run_for_records(&mut dropped, None);
        assert!(!kept[0].segmented.tokens.is_empty());
        assert!(dropped[0].segmented.tokens.is_empty());
        for (kept, dropped) in kept.iter().zip(&dropped) {
            assert_eq!(kept.to_record(), dropped.to_record());
        }
        assert!(!kept[0].to_record().quotes.is_empty());

        // Made in the stages' own pass, the records are the same, in the documents' order, and
        // the documents reach `finish` without their working layers.
        for config in [PipelineConfig::default(), PipelineConfig::fast()] {
            let pipeline = Pipeline::new(config).expect("the shipped models load");
            let mut whole = documents();
            pipeline.run(&mut whole, None);
            let made = pipeline.run_into(documents(), None, |document| {
                assert!(document.segmented.tokens.is_empty());
                (document.id.clone(), document.to_record())
            });
            let ids: Vec<&str> = made.iter().map(|(id, _)| id.as_str()).collect();
            assert_eq!(ids, ["0", "1", "2"]);
            for ((_, record), document) in made.iter().zip(&whole) {
                assert_eq!(record, &document.to_record());
            }
        }
    }
}
