//! `whosaid train`: one subcommand per model; the recipes are in the library
//! ([`whosaid::train`]), which writes each model with the command that rebuilds it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use whosaid::train::linker::LinkerTrainOptions;
use whosaid::train::{ConfidenceRecipe, CueRecipe, Trained};
use whosaid::Result;

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
    Spans(super::train_spans::SpansTrainArgs),
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
        /// spans (the default mode's); with --transformer-spans, the tagger whose spans the
        /// linker learns from.
        #[cfg(feature = "transformer")]
        #[arg(long, requires = "dev")]
        tagger_model: Option<PathBuf>,
        /// Learn from the spans the transformer tagger (--tagger-model) finds in the training
        /// documents, not the fold taggers': the default mode's linker.
        #[cfg(feature = "transformer")]
        #[arg(long, requires = "tagger_model")]
        transformer_spans: bool,
        /// With --transformer-spans: also read the tagger's scores at the candidates' ends.
        #[cfg(feature = "transformer")]
        #[arg(long, requires = "transformer_spans")]
        tag_scores: bool,
        /// With --transformer-spans: also learn from the fold taggers' spans.
        #[cfg(feature = "transformer")]
        #[arg(long, requires = "transformer_spans")]
        also_fold_spans: bool,
    },
    /// Fine-tune the default mode's transformer tagger on PolNeAR (brat) data, on CPU.
    #[cfg(feature = "transformer")]
    Tagger(super::train_tagger::TaggerTrainArgs),
    /// Fit the stance head on NewsMTSC over all-MiniLM-L6-v2 states, and score it.
    #[cfg(feature = "transformer")]
    Stance(super::train_stance::StanceTrainArgs),
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
        TrainCommand::Spans(args) => super::train_spans::run(args, &progress)?,
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
            #[cfg(feature = "transformer")]
            transformer_spans,
            #[cfg(feature = "transformer")]
            tag_scores,
            #[cfg(feature = "transformer")]
            also_fold_spans,
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
            #[cfg(feature = "transformer")]
            for (set, flag) in [
                (transformer_spans, " --transformer-spans"),
                (tag_scores, " --tag-scores"),
                (also_fold_spans, " --also-fold-spans"),
            ] {
                if set {
                    command.push_str(flag);
                }
            }
            let options = LinkerTrainOptions {
                epochs,
                seed,
                folds,
                with_gold_spans,
                #[cfg(feature = "transformer")]
                transformer_tagger: tagger_model,
                #[cfg(feature = "transformer")]
                from_transformer_spans: transformer_spans,
                #[cfg(feature = "transformer")]
                with_tag_scores: tag_scores,
                #[cfg(feature = "transformer")]
                also_fold_spans,
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
