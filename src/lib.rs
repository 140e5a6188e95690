//! # whosaid: who said what in the news
//!
//! whosaid finds every quotation in a news article (direct, mixed, and indirect or reported
//! speech), the person or organisation who said it, the cue that introduces it, and a calibrated
//! probability that the attribution is right.
//!
//! ```
//! use whosaid::pipeline::{Pipeline, PipelineConfig};
//!
//! // Fast mode: rules and linear models only.
//! let pipeline = Pipeline::new(PipelineConfig::default())?;
//! let record = pipeline.extract("doc1", "“We are close,” U.S. Secretary of State John Kerry said.");
//! let quote = &record.quotes[0];
//! assert_eq!(quote.content.text, "“We are close,”");
//! assert_eq!(quote.speaker.as_ref().unwrap().name, "John Kerry");
//! assert_eq!(quote.cue.as_ref().unwrap().text, "said");
//! assert!((0.0..=1.0).contains(&quote.confidence));
//! # Ok::<(), whosaid::Error>(())
//! ```
//!
//! The core types:
//! - [`document::Document`] owns one text from input to output. Each stage adds a layer to it:
//!   the cleaned view ([`normalise`]), sentences and tokens ([`segment`]), quotes ([`quotes`],
//!   whose cues the learned model in [`cue`] detects), speakers ([`speakers`]), attributions
//!   ([`attribute`]) with their confidence ([`confidence`]), and stance ([`stance`]). Layers
//!   hold offsets into the cleaned view; [`document::Span`] is a span of the original text, and
//!   [`document::Document::to_record`], the last step, turns spans into the output's code points.
//! - [`pipeline::Pipeline`], built with `Pipeline::new(PipelineConfig)`, is an ordered list of
//!   stages ([`stage::Stage`]): per-document stages ([`stage::DocumentStage`]) run in parallel;
//!   batch stages ([`stage::BatchStage`]) run over a chunk at once, such as the encoder pass
//!   ([`encoder::EncoderStage`], which holds models that are not `Sync`). Its
//!   `predict(&[&str])` analyses many texts in parallel.
//! - [`record::DocumentRecord`] is the output: offsets are Unicode code points into the original
//!   text, and every span's `text` equals the original at its offsets.
//! - [`Error`] is the one error type.
//!
//! Every stage is linear in its input and checks a [`stage::Clock`] in its loops, so a document
//! past its time budget, or a run asked to stop, ends within moments.
//!
//! The default mode (cargo feature `transformer`, on by default) tags spans with a fine-tuned
//! transformer and adds the stance stage: [`pipeline::PipelineConfig::default_mode`]. The tagger
//! ([`tagger::transformer`]) is all-MiniLM-L6-v2's six layers fine-tuned on PolNeAR, a batch
//! stage between the rules' proposals and the linker, trained with a stance loss beside its
//! tagging loss; it keeps each word piece's states after the layer the stance head reads (the
//! fourth) in the document ([`document::Document::token_states`]), and the stance stage
//! ([`stance::TaggerStanceStage`]) pools each quote window's states from them, so each text is
//! encoded once (bfloat16 where the CPU has it). [`batch::run_batch`] streams a corpus through
//! the pipeline, with a reader and a writer thread beside the analysis.
//!
//! [`eval`] scores predictions against labelled quotes (PolNeAR brat standoff or whosaid's JSONL
//! gold); [`train`] fits every model. [`render`] draws a record and its text as a
//! self-contained HTML page (and a corpus index), which [`pages`] writes to a folder; [`html`]
//! escapes text for these pages and for the eval report.

pub mod attribute;
pub mod batch;
pub mod confidence;
pub mod cue;
pub mod document;
#[cfg(feature = "transformer")]
pub mod encoder;
pub mod error;
pub mod eval;
pub mod hash;
pub mod html;
pub mod input;
pub mod labels;
pub mod lexicon;
pub mod linker;
pub mod model_file;
pub mod names;
pub mod normalise;
pub mod offsets;
pub mod output;
pub mod pages;
pub mod pipeline;
pub mod quotes;
pub mod record;
pub mod render;
pub mod segment;
pub mod speakers;
pub mod stage;
pub mod stance;
pub mod tagger;
pub mod train;

pub use error::{Error, Result};
