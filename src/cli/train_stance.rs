//! `whosaid train stance`: its options, turned into the library's recipe
//! ([`whosaid::train::StanceRecipe`]).

use std::path::PathBuf;

/// Options of `whosaid train stance`.
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
    /// Read the states of this fine-tuned transformer tagger instead of the plain encoder's
    /// (after its last layer, or after --encoder-layers of them).
    #[arg(long)]
    tagger_model: Option<PathBuf>,
}

/// The library's stance recipe for these options.
pub fn recipe(args: StanceTrainArgs) -> whosaid::train::StanceRecipe {
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
        tagger_model,
    } = args;
    StanceRecipe {
        newsmtsc,
        dev,
        output,
        encoder,
        tagger: tagger_model,
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
