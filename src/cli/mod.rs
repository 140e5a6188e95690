//! The command line: argument parsing, the options the subcommands share, and the terminal. Each
//! subcommand lives in a file of its own and only calls the library.

pub mod eval;
pub mod extract;
mod process;
pub mod render;
mod terminal;
pub mod train;
pub mod train_spans;
#[cfg(feature = "transformer")]
pub mod train_stance;
#[cfg(feature = "transformer")]
pub mod train_tagger;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use whosaid::linker::Continuations;
use whosaid::pipeline::{CueChoice, Pipeline, PipelineConfig, SpanChoice};
use whosaid::stage::Budget;
use whosaid::{Error, Result};

pub use process::set_threads;
pub use terminal::{stop_on_signals, Terminal};

#[derive(Parser)]
#[command(
    name = "whosaid",
    version,
    about = "Who said what in the news: quotes, speakers, cues and calibrated confidence."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Find the quotes in articles and who said them.
    Extract(extract::ExtractArgs),
    /// Score predictions against labelled quotes (brat standoff or whosaid's JSONL gold).
    Eval(eval::EvalArgs),
    /// Draw articles with their quotes and speakers as self-contained HTML pages.
    Render(render::RenderArgs),
    /// Fit a model from labelled data.
    Train {
        #[command(subcommand)]
        model: train::TrainCommand,
    },
}

/// How `extract` and `render` analyse the articles.
#[derive(clap::Args)]
pub struct AnalysisArgs {
    /// Keep only the quotes of this speaker (canonical name, alias, or surname); repeatable.
    #[arg(long)]
    pub speaker: Vec<String>,
    /// Threads to use (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// A confidence model to use instead of the shipped one.
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub cues: CueArgs,
    #[command(flatten)]
    pub spans: SpanArgs,
    #[command(flatten)]
    pub stance: StanceArgs,
    #[command(flatten)]
    pub budget: BudgetArgs,
}

impl AnalysisArgs {
    /// The pipeline these options ask for: fast mode, or the default mode with stance.
    pub fn pipeline(&self) -> Result<Pipeline> {
        #[cfg(feature = "transformer")]
        let stance = self.stance.config(self.threads)?;
        #[cfg(feature = "transformer")]
        if stance.is_some() {
            process::keep_freed_memory();
        }
        Pipeline::new(PipelineConfig {
            confidence_model: self.model.clone(),
            cues: self.cues.choice(),
            spans: self.spans.choice(),
            budget: self.budget.budget()?,
            #[cfg(feature = "transformer")]
            tagger: self.stance.tagger_config(self.threads),
            #[cfg(feature = "transformer")]
            stance,
        })
    }
}

/// What finds and links the quotes' spans.
#[derive(clap::Args)]
pub struct SpanArgs {
    /// Find and link quotes with the rule stages alone, not the learned tagger and linker.
    #[arg(long)]
    pub rule_spans: bool,
    /// A span tagger to use instead of the shipped one.
    #[arg(long, conflicts_with = "rule_spans")]
    pub span_model: Option<PathBuf>,
    /// A linker to use instead of the shipped one.
    #[arg(long, conflicts_with = "rule_spans")]
    pub linker_model: Option<PathBuf>,
    /// Make each piece of an interrupted quote after a sentence end a quote of its own with no
    /// cue, instead of one quote with its pieces listed, as PolNeAR annotates it.
    #[arg(long, conflicts_with = "rule_spans")]
    pub split_quotes: bool,
}

impl SpanArgs {
    pub fn choice(&self) -> SpanChoice {
        if self.rule_spans {
            SpanChoice::Rules
        } else if self.span_model.is_some() || self.linker_model.is_some() || self.split_quotes {
            SpanChoice::Models {
                tagger: self.span_model.clone(),
                linker: self.linker_model.clone(),
                continuations: if self.split_quotes {
                    Continuations::SplitAtSentences
                } else {
                    Continuations::Joined
                },
            }
        } else {
            SpanChoice::default()
        }
    }
}

/// Which cue detector quote finding uses.
#[derive(clap::Args)]
pub struct CueArgs {
    /// A cue model to use instead of the shipped one.
    #[arg(long)]
    pub cue_model: Option<PathBuf>,
    /// Detect cues with the hand-made word list instead of the learned model.
    #[arg(long, conflicts_with = "cue_model")]
    pub listed_cues: bool,
}

impl CueArgs {
    pub fn choice(&self) -> CueChoice {
        match (&self.cue_model, self.listed_cues) {
            (_, true) => CueChoice::Listed,
            (Some(path), false) => CueChoice::Model(path.clone()),
            (None, false) => CueChoice::Shipped,
        }
    }
}

/// Each document's time budget.
#[derive(clap::Args)]
pub struct BudgetArgs {
    /// Seconds each document may take, plus --doc-timeout-per-mb for each megabyte of its text;
    /// a document past its budget gets a `timeout` error record and the batch goes on. 0 turns
    /// the budget off.
    #[arg(long, default_value_t = Budget::default().base.as_secs_f64())]
    pub doc_timeout: f64,
    /// Seconds added to each document's budget per megabyte of its text.
    #[arg(long, default_value_t = Budget::default().per_megabyte.as_secs_f64())]
    pub doc_timeout_per_mb: f64,
}

impl BudgetArgs {
    pub fn budget(&self) -> Result<Option<Budget>> {
        let seconds = |value: f64, name: &str| {
            if value.is_finite() && value >= 0.0 {
                Ok(Duration::from_secs_f64(value))
            } else {
                Err(Error::Usage(format!(
                    "--{name} must be a number of seconds, not {value}"
                )))
            }
        };
        let base = seconds(self.doc_timeout, "doc-timeout")?;
        let per_megabyte = seconds(self.doc_timeout_per_mb, "doc-timeout-per-mb")?;
        Ok((!base.is_zero()).then_some(Budget { base, per_megabyte }))
    }
}

/// Options of the stance stage.
#[derive(clap::Args)]
pub struct StanceArgs {
    /// Skip the stance stage: no `stance` or `targets` in the output.
    #[arg(long)]
    pub no_stance: bool,
    /// Fast mode: no transformer anywhere, only rules and linear models. The output has the same
    /// schema, without `stance` and `targets`.
    #[arg(long)]
    pub fast: bool,
    /// The encoder folder (default: the one scripts/setup installed, or $WHOSAID_ENCODER).
    #[cfg(feature = "transformer")]
    #[arg(long)]
    pub encoder: Option<PathBuf>,
    /// A stance head to use instead of the shipped one.
    #[cfg(feature = "transformer")]
    #[arg(long)]
    pub stance_head: Option<PathBuf>,
    /// The encoder's number type.
    #[cfg(feature = "transformer")]
    #[arg(long, value_enum, default_value_t)]
    pub precision: PrecisionArg,
    /// A transformer tagger to use instead of the shipped one (default mode).
    #[cfg(feature = "transformer")]
    #[arg(long)]
    pub tagger_model: Option<PathBuf>,
    /// Tag spans with fast mode's linear tagger in the default mode too.
    #[cfg(feature = "transformer")]
    #[arg(long, conflicts_with = "tagger_model")]
    pub linear_tagger: bool,
}

#[cfg(feature = "transformer")]
impl StanceArgs {
    /// The stance stage's configuration, or `None` in fast mode.
    pub fn config(&self, threads: Option<usize>) -> Result<Option<whosaid::stance::StanceConfig>> {
        if self.no_stance || self.fast {
            return Ok(None);
        }
        if let Some(threads) = threads {
            tch::set_num_threads(threads.max(1) as i32);
        }
        let mut encoder = whosaid::encoder::EncoderConfig {
            precision: self.precision.into(),
            ..whosaid::encoder::EncoderConfig::default()
        };
        if let Some(dir) = &self.encoder {
            encoder.model_dir = dir.clone();
        }
        Ok(Some(whosaid::stance::StanceConfig {
            encoder,
            head: self.stance_head.clone(),
            encoder_threads: threads.unwrap_or_else(process::all_cores),
            tagger: self.tagger_config(threads),
        }))
    }

    /// The default mode's transformer tagger, or `None` in fast mode and with the linear one.
    /// `threads` bounds its copies (`None`: every core).
    pub fn tagger_config(
        &self,
        threads: Option<usize>,
    ) -> Option<whosaid::tagger::transformer::TransformerTaggerConfig> {
        if self.no_stance || self.fast || self.linear_tagger {
            return None;
        }
        let mut config = whosaid::tagger::transformer::TransformerTaggerConfig {
            precision: self.precision.into(),
            copies: threads.unwrap_or_else(process::all_cores),
            ..Default::default()
        };
        if let Some(dir) = &self.encoder {
            config.encoder_dir = dir.clone();
        }
        if let Some(path) = &self.tagger_model {
            config.weights = Some(path.clone());
        }
        Some(config)
    }
}

/// The encoder's number type, as the command line names it.
#[cfg(feature = "transformer")]
#[derive(Clone, Copy, Default, clap::ValueEnum)]
pub enum PrecisionArg {
    /// bf16 where the CPU computes it natively (AVX-512 BF16), else f32.
    #[default]
    Auto,
    F32,
    Bf16,
}

#[cfg(feature = "transformer")]
impl From<PrecisionArg> for whosaid::encoder::Precision {
    fn from(precision: PrecisionArg) -> Self {
        match precision {
            PrecisionArg::Auto => whosaid::encoder::Precision::native(),
            PrecisionArg::F32 => whosaid::encoder::Precision::Float32,
            PrecisionArg::Bf16 => whosaid::encoder::Precision::BFloat16,
        }
    }
}
