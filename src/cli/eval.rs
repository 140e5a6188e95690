//! `whosaid eval`: scores against gold attributions (brat standoff or whosaid's JSONL gold), or
//! the stance stage against NewsMTSC or hand-labelled quote tone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use whosaid::document::Document;
use whosaid::eval::gold::{read_gold_jsonl, GoldDocument};
use whosaid::eval::listing::{serde_name, write_error_listing};
use whosaid::eval::report::{html_report, ReportInputs};
use whosaid::eval::{brat::read_brat_dir, count_by_kind, metrics};
use whosaid::pipeline::{Pipeline, PipelineConfig};
use whosaid::record::DocumentRecord;
use whosaid::{Error, Result};

#[cfg(feature = "transformer")]
use super::PrecisionArg;
use super::{set_threads, CueArgs, SpanArgs};

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Gold: a brat directory in the PolNeAR layout (text/, attributions/) or a JSONL gold file.
    #[arg(long, required_unless_present = "stance")]
    gold: Option<PathBuf>,
    /// Score the stance stage instead: NewsMTSC JSONL (target sentiment) or whosaid's
    /// hand-labelled quote tone (data/quote-stance.jsonl).
    #[cfg(feature = "transformer")]
    #[arg(long, conflicts_with = "gold")]
    stance: Option<PathBuf>,
    /// With --stance: a stance head to score instead of the default mode's (which reads the
    /// transformer tagger's states; models/stance-head.json is the plain encoder's).
    #[cfg(feature = "transformer")]
    #[arg(long, requires = "stance")]
    stance_head: Option<PathBuf>,
    /// The transformer's number type, in the default mode and with --stance.
    #[cfg(feature = "transformer")]
    #[arg(long, value_enum, default_value_t)]
    precision: PrecisionArg,
    /// Predictions as whosaid JSONL; without it, eval runs the pipeline on the gold texts.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// List the false positives and false negatives with their context, grouped by kind, with
    /// the count of each kind.
    #[arg(long)]
    errors: bool,
    /// Characters of context shown on each side of an error.
    #[arg(long, default_value_t = whosaid::eval::errors::DEFAULT_CONTEXT_CHARS)]
    context: usize,
    /// Also write the error cases to this file, as a JSON array.
    #[arg(long)]
    errors_json: Option<PathBuf>,
    /// Also write a self-contained HTML report to this file: the tables, the calibration and
    /// threshold plots, the breakdowns by type and source kind, and the worst errors.
    #[arg(long)]
    report: Option<PathBuf>,
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long)]
    model: Option<PathBuf>,
    #[command(flatten)]
    cues: CueArgs,
    #[command(flatten)]
    spans: SpanArgs,
    /// Score fast mode's attribution (the linear tagger) instead of the default mode's
    /// (the transformer tagger).
    #[arg(long)]
    fast: bool,
    /// A transformer tagger to score instead of the shipped one.
    #[cfg(feature = "transformer")]
    #[arg(long, conflicts_with = "fast")]
    tagger_model: Option<PathBuf>,
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

/// The transformer tagger that `eval` scores (the shipped one unless `--tagger-model` names
/// another), with one copy per thread.
#[cfg(feature = "transformer")]
fn tagger_config(args: &EvalArgs) -> whosaid::tagger::transformer::TransformerTaggerConfig {
    whosaid::tagger::transformer::TransformerTaggerConfig {
        weights: args.tagger_model.clone(),
        precision: args.precision.into(),
        copies: args.threads.unwrap_or_else(super::process::all_cores),
        ..Default::default()
    }
}

pub fn run(args: EvalArgs) -> Result<ExitCode> {
    set_threads(args.threads)?;
    #[cfg(feature = "transformer")]
    if let Some(path) = &args.stance {
        return eval_stance(
            path,
            args.stance_head.clone(),
            tagger_config(&args),
            args.json,
        );
    }
    let Some(gold_path) = &args.gold else {
        return Err(Error::Usage("eval needs --gold".into()));
    };
    let gold = read_gold(gold_path)?;
    let predictions = match &args.predictions {
        Some(path) => read_predictions(path)?,
        None => {
            // No time budget: every gold document must be scored.
            let pipeline = Pipeline::new(
                PipelineConfig {
                    confidence_model: args.model.clone(),
                    cues: args.cues.choice(),
                    spans: args.spans.choice(),
                    #[cfg(feature = "transformer")]
                    tagger: (!args.fast).then(|| tagger_config(&args)),
                    ..PipelineConfig::default()
                }
                .with_budget(None),
            )?;
            let mut documents: Vec<Document> = gold
                .iter()
                .map(|document| Document::new(document.id.clone(), document.text.clone()))
                .collect();
            pipeline.run(&mut documents, None);
            documents.iter().map(Document::to_record).collect()
        }
    };
    let report = metrics::score(&gold, &predictions);
    let needs_cases = args.errors || args.errors_json.is_some() || args.report.is_some();
    let cases = if needs_cases {
        whosaid::eval::errors(&gold, &predictions, args.context)
    } else {
        Vec::new()
    };
    if let Some(path) = &args.errors_json {
        let json = serde_json::to_string_pretty(&cases)
            .map_err(|error| Error::Usage(error.to_string()))?;
        std::fs::write(path, json + "\n").map_err(|source| Error::io(path, source))?;
    }
    if let Some(path) = &args.report {
        let pairs = metrics::calibration_pairs(&gold, &predictions);
        let breakdown = whosaid::eval::breakdown(&gold, &predictions);
        let predictions_label = args.predictions.as_ref().map_or_else(
            || "whosaid's pipeline, run on the gold texts".to_owned(),
            |path| path.display().to_string(),
        );
        let page = html_report(&ReportInputs {
            gold: &gold_path.display().to_string(),
            predictions: &predictions_label,
            report: &report,
            pairs: &pairs,
            breakdown: &breakdown,
            errors: &cases,
        })?;
        std::fs::write(path, page).map_err(|source| Error::io(path, source))?;
    }
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        let mut value =
            serde_json::to_value(&report).map_err(|error| Error::Usage(error.to_string()))?;
        if args.errors {
            let counts: serde_json::Map<String, serde_json::Value> = count_by_kind(&cases)
                .into_iter()
                .map(|(kind, count)| (serde_name(kind), count.into()))
                .collect();
            value["error_counts"] = counts.into();
            value["errors"] =
                serde_json::to_value(&cases).map_err(|error| Error::Usage(error.to_string()))?;
        }
        writeln!(out, "{value:#}")
    } else {
        let mut written = writeln!(out, "{report}");
        if args.errors {
            written = written.and_then(|()| write_error_listing(&mut out, &cases));
        }
        written
    };
    written.map_err(|source| Error::io("stdout", source))?;
    Ok(ExitCode::SUCCESS)
}

/// Scores the stance stage on NewsMTSC sentences or on hand-labelled quotes; the majority
/// baseline answers the label most frequent in NewsMTSC train (negative).
#[cfg(feature = "transformer")]
fn eval_stance(
    path: &Path,
    head: Option<PathBuf>,
    tagger: whosaid::tagger::transformer::TransformerTaggerConfig,
    json: bool,
) -> Result<ExitCode> {
    use whosaid::eval::stance::{is_newsmtsc, read_newsmtsc, read_quote_stance, StanceReport};
    use whosaid::stance::{quote_target, StanceConfig, StanceLabel, StanceModel, TargetedText};

    let model = StanceModel::new(StanceConfig {
        head,
        // The stance encoder, where the head reads one, runs as the tagger does.
        encoder: whosaid::encoder::EncoderConfig {
            precision: tagger.precision,
            ..whosaid::encoder::EncoderConfig::default()
        },
        encoder_threads: tagger.copies,
        tagger: Some(tagger),
    })?;
    let mut gold = Vec::new();
    let probabilities = if is_newsmtsc(path)? {
        let sentences = read_newsmtsc(path)?;
        let inputs: Vec<TargetedText> = sentences
            .iter()
            .map(|sentence| {
                gold.extend(sentence.targets.iter().map(|target| target.label));
                TargetedText {
                    text: &sentence.sentence,
                    targets: sentence
                        .targets
                        .iter()
                        .map(|target| target.range.clone())
                        .collect(),
                }
            })
            .collect();
        model.predict_probabilities(&inputs)?
    } else {
        let examples = read_quote_stance(path)?;
        gold.extend(examples.iter().map(|example| example.label));
        let inputs: Vec<TargetedText> = examples
            .iter()
            .map(|example| quote_target(&example.text, example.quote.clone()))
            .collect();
        model.predict_probabilities(&inputs)?
    };
    let predictions: Vec<(StanceLabel, [f64; 3])> = gold
        .into_iter()
        .zip(probabilities.into_iter().flatten())
        .collect();
    let report = StanceReport::new(&predictions, StanceLabel::Negative);
    let mut out = std::io::stdout().lock();
    let written = if json {
        let value =
            serde_json::to_value(&report).map_err(|error| Error::Usage(error.to_string()))?;
        writeln!(out, "{value:#}")
    } else {
        writeln!(out, "{report}")
    };
    written.map_err(|source| Error::io("stdout", source))?;
    Ok(ExitCode::SUCCESS)
}
