//! `whosaid train`: one subcommand per model; the recipes are in the library
//! ([`whosaid::train`]), which writes each model with the command that rebuilds it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use whosaid::tagger::LabelSet;
use whosaid::train::linker::LinkerTrainOptions;
use whosaid::train::spans::SpanTrainOptions;
use whosaid::train::{ConfidenceRecipe, CueRecipe, Trained};
use whosaid::{Error, Result};

use super::set_threads;

#[derive(Subcommand)]
pub enum TrainCommand {
    /// Fit the attribution confidence model on PolNeAR (brat) data.
    Confidence {
        /// The PolNeAR split to fit on.
        #[arg(long, default_value = "../shared/data/polnear/data/train")]
        polnear: PathBuf,
        #[arg(long, default_value = "models/attribution-confidence.json")]
        output: PathBuf,
        #[arg(long)]
        threads: Option<usize>,
        /// Fit it for the rule stages' attributions rather than the learned stages'.
        #[arg(long)]
        rule_spans: bool,
        /// Fit it for interrupted quotes split at sentence ends (see `extract --split-quotes`).
        #[arg(long, conflicts_with = "rule_spans")]
        split_quotes: bool,
        /// Fit it for the default mode, with this transformer tagger (on a split it did not
        /// train on).
        #[cfg(feature = "transformer")]
        #[arg(long, conflicts_with_all = ["rule_spans", "split_quotes", "recalibrate"])]
        tagger_model: Option<PathBuf>,
        /// Recalibrate the shipped model (Platt) for fast mode, on a split its taggers did not
        /// train on (dev), instead of fitting one.
        #[arg(long, conflicts_with_all = ["rule_spans", "split_quotes"])]
        recalibrate: bool,
    },
    /// Fit the cue model on PolNeAR (brat) data.
    Cue {
        /// The PolNeAR split to fit on.
        #[arg(long, default_value = "../shared/data/polnear/data/train")]
        polnear: PathBuf,
        #[arg(long, default_value = "models/cue-model.json")]
        output: PathBuf,
        /// A candidate word is a cue when its probability reaches this.
        #[arg(long, default_value_t = whosaid::cue::CueTrainOptions::default().threshold)]
        threshold: f32,
    },
    /// Fit the span tagger of the learned stages on PolNeAR (brat) data.
    Spans {
        /// The PolNeAR split to fit on.
        #[arg(long, default_value = "../shared/data/polnear/data/train")]
        polnear: PathBuf,
        /// A split to score each epoch on; the epoch that scores best is kept.
        #[arg(long)]
        dev: Option<PathBuf>,
        #[arg(long, default_value = "models/span-tagger.bin")]
        output: PathBuf,
        #[arg(long, default_value_t = SpanTrainOptions::default().epochs)]
        epochs: usize,
        /// The weight table has 2^this rows.
        #[arg(long, default_value_t = SpanTrainOptions::default().table_bits)]
        table_bits: u32,
        #[arg(long, default_value_t = SpanTrainOptions::default().seed)]
        seed: u64,
        /// Add a second pass that also reads the first pass's tags, trained on first-pass tags
        /// from taggers fitted on this many other folds of the training split (0: none).
        #[arg(long, default_value_t = SpanTrainOptions::default().second_pass_folds)]
        second_pass_folds: usize,
        /// Train a linear-chain CRF with these learning rates of the content, source and cue
        /// channels (three numbers, comma-separated) instead of the averaged perceptron.
        #[arg(long, value_delimiter = ',')]
        crf_rates: Option<Vec<f32>>,
        /// Decode roles together, with one joint label a token (O, or B or I of a role), instead
        /// of in three channels apart: `all` the roles, or `source-cue` with the content apart;
        /// needs --crf-rates.
        #[arg(long, value_enum, requires = "crf_rates")]
        joint_labels: Option<JointRoles>,
    },
    /// Fit the linker of the learned stages on PolNeAR (brat) data, over a tagger's spans.
    Linker {
        /// The PolNeAR split to fit on.
        #[arg(long, default_value = "../shared/data/polnear/data/train")]
        polnear: PathBuf,
        /// A split to report the decisions' accuracy on, and to tune the bias of "not a quote".
        #[arg(long)]
        dev: Option<PathBuf>,
        /// The span tagger whose spans are candidates (default: the shipped one).
        #[arg(long)]
        span_model: Option<PathBuf>,
        #[arg(long, default_value = "models/linker.json")]
        output: PathBuf,
        #[arg(long, default_value_t = LinkerTrainOptions::default().epochs)]
        epochs: usize,
        #[arg(long, default_value_t = LinkerTrainOptions::default().seed)]
        seed: u64,
        /// The training documents are tagged by taggers trained on the other folds.
        #[arg(long, default_value_t = LinkerTrainOptions::default().folds)]
        folds: usize,
        /// Also learn from the gold spans.
        #[arg(long)]
        with_gold_spans: bool,
        /// With --dev: also choose the bias of "not a quote" for this transformer tagger's
        /// spans (the default mode's).
        #[cfg(feature = "transformer")]
        #[arg(long, requires = "dev")]
        tagger_model: Option<PathBuf>,
    },
    /// Fine-tune the default mode's transformer tagger on PolNeAR (brat) data, on CPU.
    #[cfg(feature = "transformer")]
    Tagger(super::train_tagger::TaggerTrainArgs),
    /// Fit the stance head on NewsMTSC over all-MiniLM-L6-v2 states, and score it.
    #[cfg(feature = "transformer")]
    Stance(super::train_stance::StanceTrainArgs),
}

/// The roles `train spans --joint-labels` decodes together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JointRoles {
    /// Content, source and cue.
    All,
    /// Source and cue; the content in a channel of its own.
    SourceCue,
}

pub fn run(model: TrainCommand) -> Result<ExitCode> {
    let trained = match model {
        TrainCommand::Confidence {
            polnear,
            output,
            threads,
            rule_spans,
            split_quotes,
            #[cfg(feature = "transformer")]
            tagger_model,
            recalibrate,
        } => {
            set_threads(threads)?;
            ConfidenceRecipe {
                polnear,
                output,
                rule_spans,
                split_quotes,
                #[cfg(feature = "transformer")]
                tagger: tagger_model,
                recalibrate,
            }
            .run(&progress)?
        }
        TrainCommand::Spans {
            polnear,
            dev,
            output,
            epochs,
            table_bits,
            seed,
            second_pass_folds,
            crf_rates,
            joint_labels,
        } => {
            let crf_rates = match crf_rates.as_deref() {
                None => None,
                Some(&[content, source, cue])
                    if [content, source, cue]
                        .iter()
                        .all(|rate| rate.is_finite() && *rate > 0.0) =>
                {
                    Some([content, source, cue])
                }
                Some(_) => {
                    return Err(Error::Usage(
                        "--crf-rates takes three positive numbers: content,source,cue".into(),
                    ))
                }
            };
            let mut command = format!(
                "whosaid train spans --polnear {} --output {} --epochs {epochs} --table-bits {table_bits} --seed {seed}",
                polnear.display(),
                output.display()
            );
            if let Some(dev) = &dev {
                command.push_str(&format!(" --dev {}", dev.display()));
            }
            if second_pass_folds >= 2 {
                command.push_str(&format!(" --second-pass-folds {second_pass_folds}"));
            }
            if let Some([content, source, cue]) = crf_rates {
                command.push_str(&format!(" --crf-rates {content},{source},{cue}"));
            }
            match joint_labels {
                Some(JointRoles::All) => command.push_str(" --joint-labels all"),
                Some(JointRoles::SourceCue) => command.push_str(" --joint-labels source-cue"),
                None => {}
            }
            let options = SpanTrainOptions {
                epochs,
                table_bits,
                seed,
                second_pass_folds,
                crf_rates,
                labels: match joint_labels {
                    Some(JointRoles::All) => LabelSet::Joint,
                    Some(JointRoles::SourceCue) => LabelSet::ContentApart,
                    None => LabelSet::Channels,
                },
            };
            whosaid::train::spans::train_command(
                &polnear,
                dev.as_deref(),
                &output,
                &options,
                command,
                &progress,
            )?;
            Trained {
                output,
                summary: "trained the span tagger".to_string(),
            }
        }
        TrainCommand::Linker {
            polnear,
            dev,
            span_model,
            output,
            epochs,
            seed,
            folds,
            with_gold_spans,
            #[cfg(feature = "transformer")]
            tagger_model,
        } => {
            let mut command = format!(
                "whosaid train linker --polnear {} --output {} --epochs {epochs} --seed {seed} --folds {folds}{}",
                polnear.display(),
                output.display(),
                if with_gold_spans { " --with-gold-spans" } else { "" }
            );
            if let Some(dev) = &dev {
                command.push_str(&format!(" --dev {}", dev.display()));
            }
            if let Some(path) = &span_model {
                command.push_str(&format!(" --span-model {}", path.display()));
            }
            #[cfg(feature = "transformer")]
            if let Some(path) = &tagger_model {
                command.push_str(&format!(" --tagger-model {}", path.display()));
            }
            let options = LinkerTrainOptions {
                epochs,
                seed,
                folds,
                with_gold_spans,
                #[cfg(feature = "transformer")]
                transformer_tagger: tagger_model,
                ..Default::default()
            };
            whosaid::train::linker::train_command(
                &polnear,
                dev.as_deref(),
                span_model.as_deref(),
                &output,
                &options,
                command,
                &progress,
            )?;
            Trained {
                output,
                summary: "trained the linker".to_string(),
            }
        }
        TrainCommand::Cue {
            polnear,
            output,
            threshold,
        } => CueRecipe {
            polnear,
            output,
            threshold,
        }
        .run()?,
        #[cfg(feature = "transformer")]
        TrainCommand::Tagger(args) => super::train_tagger::run(args, &progress)?,
        #[cfg(feature = "transformer")]
        TrainCommand::Stance(args) => super::train_stance::recipe(args).run()?,
    };
    report(&trained);
    Ok(ExitCode::SUCCESS)
}

fn progress(line: &str) {
    eprintln!("whosaid: {line}");
}

fn report(trained: &Trained) {
    eprintln!(
        "whosaid: {}; wrote {}",
        trained.summary,
        trained.output.display()
    );
}
