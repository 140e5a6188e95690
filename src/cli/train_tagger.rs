//! `whosaid train tagger`: fine-tunes the default mode's transformer tagger on PolNeAR.

use std::path::PathBuf;

use whosaid::tagger::transformer::TaggerSettings;
use whosaid::train::transformer::TaggerTrainOptions;
use whosaid::train::Trained;
use whosaid::Result;

/// Options of `whosaid train tagger`.
#[derive(clap::Args)]
pub struct TaggerTrainArgs {
    /// The PolNeAR split to fine-tune on.
    #[arg(long, default_value = "../shared/data/polnear/data/train")]
    polnear: PathBuf,
    /// A split to score each epoch on; the epoch that scores best is kept.
    #[arg(long)]
    dev: Option<PathBuf>,
    #[arg(long, default_value = "models/transformer-tagger.safetensors")]
    output: PathBuf,
    /// Transformer layers kept of the encoder's six.
    #[arg(long, default_value_t = TaggerSettings::default().layers)]
    layers: usize,
    /// Word pieces per window, the two special tokens included (at most 512).
    #[arg(long, default_value_t = TaggerSettings::default().window)]
    window: usize,
    /// Word pieces that neighbouring windows share.
    #[arg(long, default_value_t = TaggerSettings::default().overlap)]
    overlap: usize,
    /// The head reads the encoder's states only, not the rule stages' evidence.
    #[arg(long)]
    no_evidence: bool,
    /// The head also reads fast mode's linear tagger (its tag probabilities; in training,
    /// from taggers fitted on the other folds).
    #[arg(long)]
    stacked: bool,
    #[arg(long, default_value_t = TaggerTrainOptions::default().epochs)]
    epochs: usize,
    /// Windows per optimizer step.
    #[arg(long, default_value_t = TaggerTrainOptions::default().batch_size)]
    batch_size: usize,
    #[arg(long, default_value_t = TaggerTrainOptions::default().learning_rate)]
    learning_rate: f64,
    #[arg(long, default_value_t = TaggerTrainOptions::default().head_learning_rate)]
    head_learning_rate: f64,
    #[arg(long, default_value_t = TaggerTrainOptions::default().seed)]
    seed: u64,
    /// libtorch threads; a rerun writes the same bytes with the same count.
    #[arg(long, default_value_t = TaggerTrainOptions::default().threads)]
    threads: usize,
    /// Train on the first this many documents of each split only (a quick trial).
    #[arg(long)]
    limit: Option<usize>,
    /// Stop after this many optimizer steps.
    #[arg(long)]
    max_steps: Option<usize>,
    /// The encoder folder (default: the one scripts/setup installed).
    #[arg(long)]
    encoder: Option<PathBuf>,
}

pub fn run(args: TaggerTrainArgs, progress: &dyn Fn(&str)) -> Result<Trained> {
    let settings = TaggerSettings {
        layers: args.layers,
        window: args.window,
        overlap: args.overlap,
        evidence: !args.no_evidence,
        stacked: args.stacked,
    };
    let defaults = TaggerTrainOptions::default();
    let options = TaggerTrainOptions {
        settings,
        encoder_dir: args.encoder.clone().unwrap_or(defaults.encoder_dir),
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        head_learning_rate: args.head_learning_rate,
        warmup: defaults.warmup,
        seed: args.seed,
        max_steps: args.max_steps,
        threads: args.threads,
    };
    let mut command = format!(
        "whosaid train tagger --polnear {} --output {} --layers {} --window {} --overlap {}{}{} \
         --epochs {} --batch-size {} --learning-rate {} --head-learning-rate {} --seed {} --threads {}",
        args.polnear.display(),
        args.output.display(),
        settings.layers,
        settings.window,
        settings.overlap,
        if settings.evidence { "" } else { " --no-evidence" },
        if settings.stacked { " --stacked" } else { "" },
        args.epochs,
        args.batch_size,
        args.learning_rate,
        args.head_learning_rate,
        args.seed,
        args.threads
    );
    if let Some(dev) = &args.dev {
        command.push_str(&format!(" --dev {}", dev.display()));
    }
    if let Some(limit) = args.limit {
        command.push_str(&format!(" --limit {limit}"));
    }
    if let Some(steps) = args.max_steps {
        command.push_str(&format!(" --max-steps {steps}"));
    }
    whosaid::train::transformer::train_command(
        &args.polnear,
        args.dev.as_deref(),
        &args.output,
        &options,
        args.limit,
        command,
        progress,
    )?;
    Ok(Trained {
        output: args.output,
        summary: "fine-tuned the transformer tagger".to_string(),
    })
}
