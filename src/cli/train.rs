//! `whosaid train`: one subcommand per model; the recipes are in the library
//! ([`whosaid::train`]), which writes each model with the command that rebuilds it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

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
    /// Fit the stance head on NewsMTSC over all-MiniLM-L6-v2 states, and score it.
    #[cfg(feature = "transformer")]
    Stance(StanceTrainArgs),
}

/// Options of `whosaid train stance`.
#[cfg(feature = "transformer")]
#[derive(clap::Args)]
pub struct StanceTrainArgs {
    /// NewsMTSC training sentences.
    #[arg(long, default_value = "../shared/data/newsmtsc/train.jsonl")]
    newsmtsc: PathBuf,
    /// Labelled sentences to score the fitted head on.
    #[arg(long, default_value = "../shared/data/newsmtsc/devtest_mt.jsonl")]
    dev: PathBuf,
    #[arg(long, default_value = "models/stance-head.json")]
    output: PathBuf,
    #[arg(long, default_value_t = whosaid::train::StanceTrainOptions::default().hidden)]
    hidden: usize,
    #[arg(long, default_value_t = whosaid::train::StanceTrainOptions::default().epochs)]
    epochs: usize,
    #[arg(long, default_value_t = whosaid::train::StanceTrainOptions::default().seed)]
    seed: u64,
    /// The encoder folder (default: the one scripts/setup installed).
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// Hand-labelled quote tone to train on besides NewsMTSC.
    #[arg(long, default_value = "data/quote-stance-train.jsonl")]
    quotes: PathBuf,
    /// How many times each hand-labelled quote counts, against one NewsMTSC target.
    #[arg(long, default_value_t = 50)]
    quote_weight: usize,
    /// Epochs of fine-tuning the encoder's bias terms with a fresh head (BitFit) after the
    /// head over the frozen encoder is fitted; 0 keeps the encoder frozen.
    #[arg(long, default_value_t = 0)]
    fine_tune_epochs: usize,
    /// Learning rate of the encoder's bias terms when fine-tuning.
    #[arg(long, default_value_t = 1e-3)]
    encoder_learning_rate: f64,
    /// Read the encoder's states after this many of its layers instead of the last; fewer
    /// layers make the stance stage proportionally faster.
    #[arg(long)]
    encoder_layers: Option<usize>,
}

pub fn run(model: TrainCommand) -> Result<ExitCode> {
    let trained = match model {
        TrainCommand::Confidence {
            polnear,
            output,
            threads,
        } => {
            set_threads(threads)?;
            ConfidenceRecipe { polnear, output }.run()?
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
        TrainCommand::Stance(args) => stance_recipe(args).run()?,
    };
    report(&trained);
    Ok(ExitCode::SUCCESS)
}

fn report(trained: &Trained) {
    eprintln!(
        "whosaid: {}; wrote {}",
        trained.summary,
        trained.output.display()
    );
}

#[cfg(feature = "transformer")]
fn stance_recipe(args: StanceTrainArgs) -> whosaid::train::StanceRecipe {
    use whosaid::train::{StanceRecipe, StanceTrainOptions};
    let StanceTrainArgs {
        newsmtsc,
        dev,
        output,
        hidden,
        epochs,
        seed,
        encoder,
        quotes,
        quote_weight,
        fine_tune_epochs,
        encoder_learning_rate,
        encoder_layers,
    } = args;
    StanceRecipe {
        newsmtsc,
        dev,
        output,
        encoder,
        quotes,
        quote_weight,
        fine_tune_epochs,
        encoder_learning_rate,
        options: StanceTrainOptions {
            hidden,
            epochs,
            seed,
            encoder_layers,
            ..StanceTrainOptions::default()
        },
    }
}
