//! `whosaid train spans`: trains fast mode's linear span tagger on PolNeAR.

use std::path::PathBuf;

use whosaid::tagger::LabelSet;
use whosaid::train::spans::SpanTrainOptions;
use whosaid::train::Trained;
use whosaid::{Error, Result};

/// Options of `whosaid train spans`.
#[derive(clap::Args)]
pub struct SpansTrainArgs {
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
}

/// The roles `train spans --joint-labels` decodes together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JointRoles {
    /// Content, source and cue.
    All,
    /// Source and cue; the content in a channel of its own.
    SourceCue,
}

pub fn run(args: SpansTrainArgs, progress: &dyn Fn(&str)) -> Result<Trained> {
    let SpansTrainArgs {
        polnear,
        dev,
        output,
        epochs,
        table_bits,
        seed,
        second_pass_folds,
        crf_rates,
        joint_labels,
    } = args;
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
        progress,
    )?;
    Ok(Trained {
        output,
        summary: "trained the span tagger".to_string(),
    })
}
