//! # whosaid: who said what in the news
//!
//! whosaid finds every quotation in a news article (direct, mixed, and indirect or reported
//! speech), the person or organisation who said it, the cue that introduces it, and a calibrated
//! probability that the attribution is right.
//!
//! ```
//! use whosaid::pipeline::{Pipeline, PipelineConfig};
//!
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
//! - [`pipeline::Pipeline`], built with `Pipeline::new(PipelineConfig)`, runs the stages; its
//!   `predict(&[&str])` analyses many texts in parallel.
//! - [`pipeline::Document`] owns one text and the layers that the stages add, each a list of spans
//!   of offsets: the cleaned view ([`normalise`]), sentences and tokens ([`segment`]), quotes
//!   ([`quotes`], whose cues the learned model in [`cue`] detects), speakers ([`speakers`]) and
//!   attributions ([`attribute`]).
//! - [`record::DocumentRecord`] is the output: offsets are Unicode code points into the original
//!   text, and every span's `text` equals the original at its offsets.
//! - [`Error`] is the one error type.
//!
//! The stance stage (cargo feature `transformer`, on by default) is a separate model because
//! libtorch tensors are not `Sync`: `stance::StanceModel::new(StanceConfig)` loads
//! all-MiniLM-L6-v2 (installed by `scripts/setup`) and the trained head; its
//! `predict(&[&str])` gives each text's tone, `predict_targets` the stance toward target spans,
//! and `annotate` adds `stance` and `targets` to the quotes of many records at once, batching
//! their quotes through the encoder (three of MiniLM's six layers, bfloat16 where the CPU has it,
//! one encoder copy per thread over shared weights). [`batch::run_batch`] runs it on each chunk
//! of documents.
//!
//! [`eval`] scores predictions against labelled quotes (PolNeAR brat standoff or whosaid's JSONL
//! gold), and [`confidence`] holds the model that turns attribution features into probabilities.
//! [`render`] draws a record and its text as a self-contained HTML page (and a corpus index),
//! which [`pages`] writes to a folder.

pub mod attribute;
pub mod batch;
pub mod confidence;
pub mod cue;
#[cfg(feature = "transformer")]
pub mod encoder;
pub mod error;
pub mod eval;
pub mod hash;
pub mod input;
pub mod lexicon;
pub mod linker;
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
pub mod stance;
pub mod tagger;
pub mod train;

pub use error::{Error, Result};
