//! `whosaid train tagger`: fine-tunes the default mode's transformer tagger on PolNeAR.

use std::path::PathBuf;

use whosaid::tagger::transformer::TaggerSettings;
use whosaid::train::transformer::{StanceTask, TaggerTrainOptions};
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
    /// Train stance beside tagging on the same encoder (multi-task): NewsMTSC's targets and
    /// the hand-labelled quotes, read after `--stance-layer`.
    #[arg(long)]
    multi_task: bool,
    /// With --multi-task: NewsMTSC training sentences.
    #[arg(long, default_value = "../shared/data/newsmtsc/train.jsonl")]
    newsmtsc: PathBuf,
    /// With --multi-task: hand-labelled quote tone.
    #[arg(long, default_value = "data/quote-stance-train.jsonl")]
    quotes: PathBuf,
    /// With --multi-task: how many times each hand-labelled quote counts, against one NewsMTSC
    /// target (as in `train stance`).
    #[arg(long, default_value_t = 50)]
    quote_weight: usize,
    /// With --multi-task: the stance loss's weight against the tagging loss.
    #[arg(long, default_value_t = 0.5)]
    stance_weight: f64,
    /// With --multi-task: the layer whose states the throw-away stance head reads (the shipped
    /// tagger's is 3; the default mode's own head, fitted afterwards, reads layer 4).
    #[arg(long, default_value_t = 3)]
    stance_layer: usize,
    /// With --multi-task: stance texts per optimizer step.
    #[arg(long, default_value_t = 16)]
    stance_batch_size: usize,
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
    let stance = if args.multi_task {
        let sentences = whosaid::eval::stance::read_newsmtsc(&args.newsmtsc)?;
        let quotes = whosaid::eval::stance::read_quote_stance(&args.quotes)?;
        Some(StanceTask {
            texts: whosaid::train::stance::tuning_texts(
                &sentences,
                &quotes,
                args.quote_weight as f32,
            ),
            weight: args.stance_weight,
            layer: args.stance_layer,
            batch_size: args.stance_batch_size,
        })
    } else {
        None
    };
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
        stance,
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
    if args.multi_task {
        command.push_str(&format!(
            " --multi-task --newsmtsc {} --quotes {} --quote-weight {} --stance-weight {} \
             --stance-layer {} --stance-batch-size {}",
            args.newsmtsc.display(),
            args.quotes.display(),
            args.quote_weight,
            args.stance_weight,
            args.stance_layer,
            args.stance_batch_size
        ));
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
