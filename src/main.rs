//! The `whosaid` command line: a thin layer over the library.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use whosaid::batch::{run_batch, BatchOptions, RecordSink};
use whosaid::eval::gold::{read_gold_jsonl, GoldDocument};
use whosaid::eval::{brat::read_brat_dir, metrics};
use whosaid::input::{read_inputs, InputFormat};
use whosaid::output::{OutputFormat, RecordWriter};
use whosaid::pipeline::{Pipeline, PipelineConfig};
use whosaid::record::DocumentRecord;
use whosaid::{Error, Result};

#[derive(Parser)]
#[command(
    name = "whosaid",
    version,
    about = "Who said what in the news: quotes, speakers, cues and calibrated confidence."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find the quotes in articles and who said them.
    Extract(ExtractArgs),
    /// Score predictions against labelled quotes (brat standoff or whosaid's JSONL gold).
    Eval(EvalArgs),
    /// Fit a model from labelled data.
    Train {
        #[command(subcommand)]
        model: TrainCommand,
    },
}

#[derive(clap::Args)]
struct ExtractArgs {
    /// Text files, directories (searched for .txt), JSONL files of {"id","text",...}, or - for
    /// standard input.
    #[arg(default_value = "-")]
    inputs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    input_format: InputFormat,
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Keep only the quotes of this speaker (canonical name, alias, or surname); repeatable.
    #[arg(long)]
    speaker: Vec<String>,
    /// Threads to use (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// A confidence model to use instead of the shipped one.
    #[arg(long)]
    model: Option<PathBuf>,
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Gold: a brat directory in the PolNeAR layout (text/, attributions/) or a JSONL gold file.
    #[arg(long)]
    gold: PathBuf,
    /// Predictions as whosaid JSONL; without it, eval runs the pipeline on the gold texts.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// List the false positives and false negatives, grouped by kind.
    #[arg(long)]
    errors: bool,
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long)]
    model: Option<PathBuf>,
}

#[derive(Subcommand)]
enum TrainCommand {
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Extract(args) => extract(args),
        Command::Eval(args) => eval(args),
        Command::Train { model } => train(model),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("whosaid: {error}");
            ExitCode::from(2)
        }
    }
}

fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(threads) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build_global()
            .map_err(|error| Error::Usage(error.to_string()))?;
    }
    Ok(())
}

fn extract(args: ExtractArgs) -> Result<ExitCode> {
    set_threads(args.threads)?;
    let pipeline = Pipeline::new(PipelineConfig {
        confidence_model: args.model,
    })?;
    let inputs = read_inputs(&args.inputs, args.input_format)?;
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(File::create(path).map_err(|source| {
            Error::Io {
                path: path.clone(),
                source,
            }
        })?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut sink: Box<dyn RecordSink> = Box::new(RecordWriter::new(out, args.format));
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} documents, {per_sec}, {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let options = BatchOptions {
        speakers: args.speaker,
        ..BatchOptions::default()
    };
    let summary = run_batch(&pipeline, inputs, sink.as_mut(), &options, &mut |done| {
        bar.set_position(done as u64)
    })?;
    bar.finish_and_clear();
    eprintln!("{summary}");
    Ok(if summary.documents_failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn read_gold(path: &Path) -> Result<Vec<GoldDocument>> {
    if path.is_dir() {
        Ok(read_brat_dir(path)?)
    } else {
        Ok(read_gold_jsonl(path)?)
    }
}

fn read_predictions(path: &Path) -> Result<Vec<DocumentRecord>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            serde_json::from_str(line).map_err(|error| {
                Error::Usage(format!(
                    "{} line {}: not a whosaid record: {error}",
                    path.display(),
                    number + 1
                ))
            })
        })
        .collect()
}

fn eval(args: EvalArgs) -> Result<ExitCode> {
    set_threads(args.threads)?;
    let gold = read_gold(&args.gold)?;
    let predictions = match &args.predictions {
        Some(path) => read_predictions(path)?,
        None => {
            let pipeline = Pipeline::new(PipelineConfig {
                confidence_model: args.model,
            })?;
            gold.par_iter()
                .map(|document| pipeline.extract_guarded(&document.id, &document.text))
                .collect()
        }
    };
    let report = metrics::score(&gold, &predictions);
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        let mut value =
            serde_json::to_value(&report).map_err(|error| Error::Usage(error.to_string()))?;
        if args.errors {
            value["errors"] = serde_json::to_value(metrics::errors(&gold, &predictions))
                .map_err(|error| Error::Usage(error.to_string()))?;
        }
        writeln!(out, "{value:#}")
    } else {
        let mut written = writeln!(out, "{report}");
        if args.errors {
            written = written.and_then(|()| print_errors(&mut out, &gold, &predictions));
        }
        written
    };
    written.map_err(|source| Error::io("stdout", source))?;
    Ok(ExitCode::SUCCESS)
}

fn print_errors(
    out: &mut impl Write,
    gold: &[GoldDocument],
    predictions: &[DocumentRecord],
) -> std::io::Result<()> {
    let mut cases: Vec<(String, metrics::ErrorCase)> = metrics::errors(gold, predictions)
        .into_iter()
        .map(|case| (format!("{:?}", case.kind), case))
        .collect();
    cases.sort_by(|left, right| left.0.cmp(&right.0));
    for group in cases.chunk_by(|left, right| left.0 == right.0) {
        writeln!(out, "\n== {} ({})", group[0].0, group.len())?;
        for (_, case) in group {
            writeln!(
                out,
                "{}: {}",
                case.doc_id,
                serde_json::to_string(case).unwrap_or_default()
            )?;
        }
    }
    Ok(())
}

fn train(model: TrainCommand) -> Result<ExitCode> {
    match model {
        TrainCommand::Confidence {
            polnear,
            output,
            threads,
        } => {
            set_threads(threads)?;
            let gold = read_brat_dir(&polnear)?;
            // Fit from features alone: the model in use only sets confidences, which the
            // features do not depend on.
            let pipeline = Pipeline::new(PipelineConfig::default())?;
            let command = format!(
                "whosaid train confidence --polnear {} --output {}",
                polnear.display(),
                output.display()
            );
            let trained_on = format!("PolNeAR {} ({} documents)", polnear.display(), gold.len());
            let (model, examples) =
                whosaid::train::train_confidence(&pipeline, &gold, trained_on, command);
            model.save(&output)?;
            eprintln!(
                "whosaid: fitted the confidence model on {examples} attributions from {} documents; wrote {}",
                gold.len(),
                output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
