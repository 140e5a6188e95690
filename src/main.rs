//! The `whosaid` command line: a thin layer over the library.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use whosaid::batch::{run_batch, BatchOptions, ChunkAnnotator, RecordSink};
use whosaid::eval::errors::elide;
use whosaid::eval::gold::{read_gold_jsonl, GoldDocument};
use whosaid::eval::report::{html_report, ReportInputs};
use whosaid::eval::{brat::read_brat_dir, count_by_kind, metrics, ErrorCase, QuoteSpans};
use whosaid::input::{read_inputs, InputFormat};
use whosaid::output::{prepare_resume, OutputFormat, RecordWriter};
use whosaid::pages::INDEX;
use whosaid::pages::{keep_texts, read_records, render_records, PageSink, PageWriter, TextQueue};
use whosaid::pipeline::{CueChoice, Pipeline, PipelineConfig};
use whosaid::record::{DocumentRecord, SpanRecord};
use whosaid::render::RenderOptions;
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
    /// Draw articles with their quotes and speakers as self-contained HTML pages.
    Render(RenderArgs),
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
    #[command(flatten)]
    analysis: AnalysisArgs,
    /// Continue a run that was stopped: keep the records already in --output (a JSONL file),
    /// skip their documents, and append the rest.
    #[arg(long, requires = "output")]
    resume: bool,
    /// Also write the run's summary to this file, as JSON.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Documents analysed together before their records are written.
    #[arg(long, default_value_t = BatchOptions::default().chunk_size)]
    chunk_size: usize,
    /// Seconds allowed to each document's rule stages; a document that takes longer gets a
    /// `timeout` error record and the batch goes on.
    #[arg(long)]
    doc_timeout: Option<f64>,
}

/// How `extract` and `render` analyse the articles.
#[derive(clap::Args)]
struct AnalysisArgs {
    /// Keep only the quotes of this speaker (canonical name, alias, or surname); repeatable.
    #[arg(long)]
    speaker: Vec<String>,
    /// Threads to use (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// A confidence model to use instead of the shipped one.
    #[arg(long)]
    model: Option<PathBuf>,
    #[command(flatten)]
    cues: CueArgs,
    #[command(flatten)]
    spans: SpanArgs,
    #[command(flatten)]
    stance: StanceArgs,
}

impl AnalysisArgs {
    /// The rule pipeline these options ask for.
    fn pipeline(&self) -> Result<Pipeline> {
        Pipeline::new(PipelineConfig {
            confidence_model: self.model.clone(),
            cues: self.cues.choice(),
            spans: self.spans.choice(),
        })
    }
}

/// What finds and links the quotes' spans.
#[derive(clap::Args)]
struct SpanArgs {
    /// Find and link quotes with the rule stages alone, not the learned tagger and linker.
    #[arg(long)]
    rule_spans: bool,
    /// A span tagger to use instead of the shipped one.
    #[arg(long, conflicts_with = "rule_spans")]
    span_model: Option<PathBuf>,
    /// A linker to use instead of the shipped one.
    #[arg(long, conflicts_with = "rule_spans")]
    linker_model: Option<PathBuf>,
    /// Keep every piece of an interrupted quote in one quote, as PolNeAR annotates it, instead
    /// of making a piece after a sentence end a quote of its own with no cue.
    #[arg(long, conflicts_with = "rule_spans")]
    joined_quotes: bool,
}

impl SpanArgs {
    fn choice(&self) -> whosaid::pipeline::SpanChoice {
        use whosaid::pipeline::SpanChoice;
        if self.rule_spans {
            SpanChoice::Rules
        } else if self.span_model.is_some() || self.linker_model.is_some() || self.joined_quotes {
            SpanChoice::Models {
                tagger: self.span_model.clone(),
                linker: self.linker_model.clone(),
                joined: self.joined_quotes,
            }
        } else {
            SpanChoice::default()
        }
    }
}

/// Which cue detector quote finding uses.
#[derive(clap::Args)]
struct CueArgs {
    /// A cue model to use instead of the shipped one.
    #[arg(long)]
    cue_model: Option<PathBuf>,
    /// Detect cues with the hand-made word list instead of the learned model.
    #[arg(long, conflicts_with = "cue_model")]
    listed_cues: bool,
}

impl CueArgs {
    fn choice(&self) -> CueChoice {
        match (&self.cue_model, self.listed_cues) {
            (_, true) => CueChoice::Listed,
            (Some(path), false) => CueChoice::Model(path.clone()),
            (None, false) => CueChoice::Shipped,
        }
    }
}

#[derive(clap::Args)]
struct RenderArgs {
    /// The articles: text files, directories (searched for .txt), JSONL files of
    /// {"id","text",...}, or - for standard input. With --records, the texts of those records.
    #[arg(default_value = "-")]
    inputs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    input_format: InputFormat,
    /// Draw these saved records (whosaid JSONL or JSON output) instead of analysing the
    /// articles; each is paired with the input document of the same id.
    #[arg(long)]
    records: Option<PathBuf>,
    /// The folder to write to: one page per article, and index.html for more than one.
    #[arg(long)]
    out: PathBuf,
    /// Attributions with a confidence below this are drawn as uncertain.
    #[arg(long, default_value_t = whosaid::render::UNCERTAIN_BELOW)]
    uncertain_below: f64,
    #[command(flatten)]
    analysis: AnalysisArgs,
}

/// Options of the stance stage.
#[derive(clap::Args)]
struct StanceArgs {
    /// Skip the stance stage: no `stance` or `targets` in the output.
    #[arg(long)]
    no_stance: bool,
    /// Fast mode: no transformer anywhere, only rules and linear models. The output has the same
    /// schema, without `stance` and `targets`.
    #[arg(long)]
    fast: bool,
    /// The encoder folder (default: the one scripts/setup installed, or $WHOSAID_ENCODER).
    #[cfg(feature = "transformer")]
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// A stance head to use instead of the shipped one.
    #[cfg(feature = "transformer")]
    #[arg(long)]
    stance_head: Option<PathBuf>,
    /// The encoder's number type.
    #[cfg(feature = "transformer")]
    #[arg(long, value_enum, default_value_t)]
    precision: PrecisionArg,
}

/// The encoder's number type, as the command line names it.
#[cfg(feature = "transformer")]
#[derive(Clone, Copy, Default, clap::ValueEnum)]
enum PrecisionArg {
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

#[cfg(feature = "transformer")]
type StanceStage = whosaid::stance::StanceModel;

/// The machine's cores, the default thread count.
#[cfg(feature = "transformer")]
fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(feature = "transformer")]
fn stance_stage(args: StanceArgs, threads: Option<usize>) -> Result<Option<StanceStage>> {
    if args.no_stance || args.fast {
        return Ok(None);
    }
    if let Some(threads) = threads {
        tch::set_num_threads(threads.max(1) as i32);
    }
    let mut encoder = whosaid::encoder::EncoderConfig {
        precision: args.precision.into(),
        ..whosaid::encoder::EncoderConfig::default()
    };
    if let Some(dir) = args.encoder {
        encoder.model_dir = dir;
    }
    let model = whosaid::stance::StanceModel::new(whosaid::stance::StanceConfig {
        encoder,
        head: args.stance_head,
        encoder_threads: threads.unwrap_or_else(all_cores),
    })?;
    Ok(Some(model))
}

#[cfg(not(feature = "transformer"))]
type StanceStage = std::convert::Infallible;

#[cfg(not(feature = "transformer"))]
fn stance_stage(_args: StanceArgs, _threads: Option<usize>) -> Result<Option<StanceStage>> {
    Ok(None)
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Gold: a brat directory in the PolNeAR layout (text/, attributions/) or a JSONL gold file.
    #[arg(long, required_unless_present = "stance")]
    gold: Option<PathBuf>,
    /// Score the stance stage instead: NewsMTSC JSONL (target sentiment) or whosaid's
    /// hand-labelled quote tone (data/quote-stance.jsonl).
    #[cfg(feature = "transformer")]
    #[arg(long, conflicts_with = "gold")]
    stance: Option<PathBuf>,
    /// With --stance: a stance head to score instead of the shipped one.
    #[cfg(feature = "transformer")]
    #[arg(long, requires = "stance")]
    stance_head: Option<PathBuf>,
    /// With --stance: the encoder's number type.
    #[cfg(feature = "transformer")]
    #[arg(long, value_enum, default_value_t, requires = "stance")]
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
        /// Fit it for the rule stages' attributions rather than the learned stages'.
        #[arg(long)]
        rule_spans: bool,
        /// Fit it for quotes kept whole as PolNeAR annotates them (see `extract --joined-quotes`).
        #[arg(long, conflicts_with = "rule_spans")]
        joined_quotes: bool,
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
    /// Fit the span tagger of fast mode on PolNeAR (brat) data.
    Spans {
        /// The PolNeAR split to fit on.
        #[arg(long, default_value = "../shared/data/polnear/data/train")]
        polnear: PathBuf,
        /// A split to score each epoch on; the epoch that scores best is kept.
        #[arg(long)]
        dev: Option<PathBuf>,
        #[arg(long, default_value = "models/span-tagger.bin")]
        output: PathBuf,
        #[arg(long, default_value_t = whosaid::tagger::train::SpanTrainOptions::default().epochs)]
        epochs: usize,
        /// The weight table has 2^this rows.
        #[arg(long, default_value_t = whosaid::tagger::train::SpanTrainOptions::default().table_bits)]
        table_bits: u32,
        #[arg(long, default_value_t = whosaid::tagger::train::SpanTrainOptions::default().seed)]
        seed: u64,
    },
    /// Fit the linker of fast mode on PolNeAR (brat) data, over the spans of a tagger.
    Linker {
        /// The PolNeAR split to fit on.
        #[arg(long, default_value = "../shared/data/polnear/data/train")]
        polnear: PathBuf,
        /// A split to report the decisions' accuracy on.
        #[arg(long)]
        dev: Option<PathBuf>,
        /// The span tagger whose spans are candidates (default: the shipped one).
        #[arg(long)]
        span_model: Option<PathBuf>,
        #[arg(long, default_value = "models/linker.json")]
        output: PathBuf,
        #[arg(long, default_value_t = whosaid::linker::train::LinkerTrainOptions::default().epochs)]
        epochs: usize,
        #[arg(long, default_value_t = whosaid::linker::train::LinkerTrainOptions::default().seed)]
        seed: u64,
        /// The training documents are tagged by taggers trained on the other folds.
        #[arg(long, default_value_t = whosaid::linker::train::LinkerTrainOptions::default().folds)]
        folds: usize,
        /// Also learn from the gold spans.
        #[arg(long)]
        with_gold_spans: bool,
    },
    /// Fit the stance head on NewsMTSC over all-MiniLM-L6-v2 states, and score it.
    #[cfg(feature = "transformer")]
    Stance(StanceTrainArgs),
}

/// Options of `whosaid train stance`.
#[cfg(feature = "transformer")]
#[derive(clap::Args)]
struct StanceTrainArgs {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Extract(args) => extract(args),
        Command::Eval(args) => eval(args),
        Command::Render(args) => render(args),
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
    set_threads(args.analysis.threads)?;
    let pipeline = args.analysis.pipeline()?;
    let stance = stance_stage(args.analysis.stance, args.analysis.threads)?;
    let inputs = read_inputs(&args.inputs, args.input_format)?;
    if args.resume && args.format != OutputFormat::Jsonl {
        return Err(Error::Usage("--resume needs JSONL output".into()));
    }
    let already_done = match (&args.output, args.resume) {
        (Some(path), true) => prepare_resume(path)?,
        _ => Default::default(),
    };
    let out = open_output(args.output.as_deref(), args.resume)?;
    let mut sink: Box<dyn RecordSink> = Box::new(RecordWriter::new(out, args.format));
    let options = BatchOptions {
        speakers: args.analysis.speaker,
        chunk_size: args.chunk_size,
        stop: Some(stop_on_signals()),
        already_done,
        doc_timeout: doc_timeout(args.doc_timeout)?,
    };
    let bar = progress_bar();
    let summary = run_batch(
        &pipeline,
        stance_annotator(stance.as_ref()),
        inputs,
        sink.as_mut(),
        &options,
        &mut |done| bar.set_position(done as u64),
    )?;
    bar.finish_and_clear();
    eprintln!("{summary}");
    if let Some(path) = &args.summary {
        let json = serde_json::to_string_pretty(&summary)
            .map_err(|error| Error::Usage(error.to_string()))?;
        std::fs::write(path, json + "\n").map_err(|source| Error::io(path, source))?;
    }
    Ok(if summary.interrupted {
        ExitCode::from(130)
    } else if summary.documents_failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(args: RenderArgs) -> Result<ExitCode> {
    set_threads(args.analysis.threads)?;
    if !(0.0..=1.0).contains(&args.uncertain_below) {
        return Err(Error::Usage(format!(
            "--uncertain-below must be between 0 and 1, not {}",
            args.uncertain_below
        )));
    }
    let options = RenderOptions {
        uncertain_below: args.uncertain_below,
    };
    let mut writer = PageWriter::new(&args.out, options)?;
    let inputs = read_inputs(&args.inputs, args.input_format)?;
    let pages = match &args.records {
        Some(path) => {
            let mut records = read_records(path)?;
            if !args.analysis.speaker.is_empty() {
                records
                    .iter_mut()
                    .for_each(|record| record.keep_speakers(&args.analysis.speaker));
            }
            render_records(records, inputs, &mut writer)?;
            writer.finish()?
        }
        None => {
            let pipeline = args.analysis.pipeline()?;
            let stance = stance_stage(args.analysis.stance, args.analysis.threads)?;
            let texts = TextQueue::default();
            let mut sink = PageSink::new(writer, texts.clone());
            let options = BatchOptions {
                speakers: args.analysis.speaker,
                stop: Some(stop_on_signals()),
                ..BatchOptions::default()
            };
            run_batch(
                &pipeline,
                stance_annotator(stance.as_ref()),
                keep_texts(inputs, &texts),
                &mut sink,
                &options,
                &mut |_| {},
            )?;
            sink.pages().to_vec()
        }
    };
    let failed = pages.iter().filter(|page| page.error.is_some()).count();
    let index = if pages.len() > 1 {
        format!(" and {}", args.out.join(INDEX).display())
    } else {
        String::new()
    };
    eprintln!(
        "whosaid: wrote {} page{} to {}{index}; {failed} documents failed",
        pages.len(),
        if pages.len() == 1 { "" } else { "s" },
        args.out.display()
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Standard output, or the output file: truncated, or appended to when resuming.
fn open_output(path: Option<&Path>, resume: bool) -> Result<Box<dyn Write>> {
    let Some(path) = path else {
        return Ok(Box::new(BufWriter::new(std::io::stdout().lock())));
    };
    let file = if resume {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    } else {
        File::create(path)
    };
    Ok(Box::new(BufWriter::new(
        file.map_err(|source| Error::io(path, source))?,
    )))
}

/// A spinner with documents per second when stderr is a terminal.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} documents, {per_sec}, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

fn doc_timeout(seconds: Option<f64>) -> Result<Option<std::time::Duration>> {
    match seconds {
        Some(seconds) if seconds.is_finite() && seconds >= 0.0 => {
            Ok(Some(std::time::Duration::from_secs_f64(seconds)))
        }
        Some(seconds) => Err(Error::Usage(format!(
            "--doc-timeout must be a number of seconds, not {seconds}"
        ))),
        None => Ok(None),
    }
}

/// A flag that the first SIGINT or SIGTERM sets, so that the chunk in flight finishes and is
/// written; a second signal ends the process at once (a resumed run then picks up from the
/// last whole record).
fn stop_on_signals() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let handler_stop = Arc::clone(&stop);
    let installed = ctrlc::set_handler(move || {
        if handler_stop.swap(true, Ordering::SeqCst) {
            // `_exit`, not `exit`: `exit` runs C++ static destructors (libtorch's) under the
            // threads still using them, which crashed or hung the process.
            // SAFETY: `_exit` takes no pointers and does not return.
            unsafe { libc::_exit(130) };
        }
        eprintln!("whosaid: stopping after the documents in flight (signal again to quit now)");
    });
    if let Err(error) = installed {
        eprintln!("whosaid: warning: cannot catch SIGINT/SIGTERM ({error}); a signal will stop the run at once");
    }
    stop
}

#[cfg(feature = "transformer")]
fn stance_annotator(stance: Option<&StanceStage>) -> Option<&dyn ChunkAnnotator> {
    stance.map(|model| model as &dyn ChunkAnnotator)
}

#[cfg(not(feature = "transformer"))]
fn stance_annotator(_stance: Option<&StanceStage>) -> Option<&dyn ChunkAnnotator> {
    None
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
    #[cfg(feature = "transformer")]
    if let Some(path) = &args.stance {
        return eval_stance(path, args.stance_head, args.precision, args.json);
    }
    let Some(gold_path) = &args.gold else {
        return Err(Error::Usage("eval needs --gold".into()));
    };
    let gold = read_gold(gold_path)?;
    let predictions = match &args.predictions {
        Some(path) => read_predictions(path)?,
        None => {
            let pipeline = Pipeline::new(PipelineConfig {
                confidence_model: args.model.clone(),
                cues: args.cues.choice(),
                spans: args.spans.choice(),
            })?;
            gold.par_iter()
                .map(|document| pipeline.extract_guarded(&document.id, &document.text))
                .collect()
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
            written = written.and_then(|()| print_errors(&mut out, &cases));
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
    precision: PrecisionArg,
    json: bool,
) -> Result<ExitCode> {
    use whosaid::eval::stance::{is_newsmtsc, read_newsmtsc, read_quote_stance, StanceReport};
    use whosaid::stance::{quote_target, StanceConfig, StanceLabel, StanceModel, TargetedText};

    let model = StanceModel::new(StanceConfig {
        head,
        encoder: whosaid::encoder::EncoderConfig {
            precision: precision.into(),
            ..whosaid::encoder::EncoderConfig::default()
        },
        encoder_threads: all_cores(),
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

/// The count of each error kind, then the cases of each kind with their spans and context.
fn print_errors(out: &mut impl Write, cases: &[ErrorCase]) -> std::io::Result<()> {
    let counts = count_by_kind(cases);
    writeln!(out, "\nerrors: {} cases", cases.len())?;
    writeln!(out, "{:<30} {:>7}", "kind", "count")?;
    for (kind, count) in &counts {
        writeln!(out, "{:<30} {:>7}", kind.label(), count)?;
    }
    for (kind, count) in counts {
        writeln!(out, "\n== {kind} ({count}): {}", kind.description())?;
        for case in cases.iter().filter(|case| case.kind == kind) {
            let iou = case
                .content_iou
                .map_or_else(String::new, |iou| format!(" IoU {iou:.2}"));
            writeln!(out, "{} @{}{iou}", case.doc_id, case.position())?;
            if let Some(gold) = &case.gold {
                writeln!(out, "  gold:      {}", describe(gold))?;
            }
            if let Some(predicted) = &case.predicted {
                writeln!(out, "  predicted: {}", describe(predicted))?;
            }
            writeln!(out, "  context:   {}", case.context)?;
        }
    }
    Ok(())
}

/// Characters of a span printed in an error listing; its offsets and the context place the rest.
const SHOWN_SPAN_CHARS: usize = 160;

/// A unit enum's name as the JSON output writes it, so that text and JSON use the same words.
fn serde_name(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// One side of an error case on one line: type, content, source and cue, with offsets.
fn describe(spans: &QuoteSpans) -> String {
    let span = |span: Option<&SpanRecord>| {
        span.map_or_else(
            || "none".to_owned(),
            |span| {
                format!(
                    "{:?} {}..{}",
                    elide(&span.text, SHOWN_SPAN_CHARS),
                    span.start,
                    span.end
                )
            },
        )
    };
    let mut line = format!(
        "{} {}; source {}",
        serde_name(spans.kind),
        span(Some(&spans.content)),
        span(spans.source.as_ref())
    );
    if let Some(source_kind) = spans.source_kind {
        line.push_str(&format!(" ({})", serde_name(source_kind)));
    }
    if let Some(speaker) = &spans.speaker {
        line.push_str(&format!(" = {speaker:?}"));
    }
    line.push_str(&format!("; cue {}", span(spans.cue.as_ref())));
    if let Some(confidence) = spans.confidence {
        line.push_str(&format!("; confidence {confidence:.2}"));
    }
    line
}

fn train(model: TrainCommand) -> Result<ExitCode> {
    match model {
        TrainCommand::Confidence {
            polnear,
            output,
            threads,
            rule_spans,
            joined_quotes,
        } => {
            set_threads(threads)?;
            if !rule_spans {
                let command = format!(
                    "whosaid train confidence --polnear {} --output {}{}",
                    polnear.display(),
                    output.display(),
                    if joined_quotes { " --joined-quotes" } else { "" }
                );
                let continuations = if joined_quotes {
                    whosaid::linker::Continuations::Joined
                } else {
                    whosaid::linker::Continuations::SplitAtSentences
                };
                whosaid::linker::train::train_confidence_command(
                    &polnear,
                    &output,
                    continuations,
                    command,
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            let gold = read_brat_dir(&polnear)?;
            // Fit from features alone: the model in use only sets confidences, which the
            // features do not depend on.
            let pipeline = Pipeline::new(PipelineConfig {
                spans: whosaid::pipeline::SpanChoice::Rules,
                ..PipelineConfig::default()
            })?;
            let command = format!(
                "whosaid train confidence --rule-spans --polnear {} --output {}",
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
        TrainCommand::Cue {
            polnear,
            output,
            threshold,
        } => {
            let started = std::time::Instant::now();
            let gold = read_brat_dir(&polnear)?;
            let examples: Vec<whosaid::cue::CueExample> =
                gold.iter().flat_map(whosaid::train::cue_examples).collect();
            let options = whosaid::cue::CueTrainOptions {
                threshold,
                ..Default::default()
            };
            let positives = examples.iter().filter(|(_, _, is_cue)| *is_cue).count();
            let provenance = format!(
                "PolNeAR {} ({} documents, {} words, {positives} of them cues); rebuild with: whosaid train cue --polnear {} --output {} --threshold {threshold}",
                polnear.display(),
                gold.len(),
                examples.len(),
                polnear.display(),
                output.display(),
            );
            let model = whosaid::cue::fit_cue_model(&examples, &options, provenance);
            model.save(&output)?;
            eprintln!(
                "whosaid: fitted the cue model on {} words ({positives} cues, {} candidate words, {} weights) in {:.1} s; wrote {}",
                examples.len(),
                model.candidates.len(),
                model.weights.len(),
                started.elapsed().as_secs_f64(),
                output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        TrainCommand::Spans {
            polnear,
            dev,
            output,
            epochs,
            table_bits,
            seed,
        } => {
            let mut command = format!(
                "whosaid train spans --polnear {} --output {} --epochs {epochs} --table-bits {table_bits} --seed {seed}",
                polnear.display(),
                output.display()
            );
            if let Some(dev) = &dev {
                command.push_str(&format!(" --dev {}", dev.display()));
            }
            let options = whosaid::tagger::train::SpanTrainOptions {
                epochs,
                table_bits,
                seed,
            };
            whosaid::tagger::train::train_command(
                &polnear,
                dev.as_deref(),
                &output,
                &options,
                command,
            )?;
            Ok(ExitCode::SUCCESS)
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
            let options = whosaid::linker::train::LinkerTrainOptions {
                epochs,
                seed,
                folds,
                with_gold_spans,
                ..Default::default()
            };
            whosaid::linker::train::train_command(
                &polnear,
                dev.as_deref(),
                span_model.as_deref(),
                &output,
                &options,
                command,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "transformer")]
        TrainCommand::Stance(args) => train_stance(args),
    }
}

#[cfg(feature = "transformer")]
fn train_stance(args: StanceTrainArgs) -> Result<ExitCode> {
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
    let options = StanceTrainOptions {
        hidden,
        epochs,
        seed,
        encoder_layers,
        ..StanceTrainOptions::default()
    };
    use whosaid::encoder::{Encoder, EncoderConfig};
    use whosaid::eval::stance::{read_newsmtsc, read_quote_stance, StanceReport};
    use whosaid::stance::quote_target;
    use whosaid::stance::StanceLabel;
    use whosaid::train::{
        fine_tune_stance, fit_stance_head, quote_examples, stance_examples, StanceTrainOptions,
        TuningText,
    };

    let started = std::time::Instant::now();
    // Float32 whatever the CPU, so that the head file is the same on every machine; the
    // extractor may then run the encoder in bfloat16, whose states differ by about 1%.
    // Batches of 32, fixed: the features differ in the ninth decimal with the batches, and 40
    // epochs of training turn that into a different head, so the file is only reproducible
    // with the batches it was made with.
    let mut config = EncoderConfig {
        layers: encoder_layers,
        precision: whosaid::encoder::Precision::Float32,
        batch_size: 32,
        ..EncoderConfig::default()
    };
    if let Some(dir) = encoder {
        config.model_dir = dir;
    }
    let encoder = Encoder::new(config)?;
    let sentences = read_newsmtsc(&newsmtsc)?;
    let mut examples = stance_examples(&encoder, &sentences)?;
    let labelled_quotes = read_quote_stance(&quotes)?;
    for example in quote_examples(&encoder, &labelled_quotes, sentences.len())? {
        examples.extend(std::iter::repeat_n(example, quote_weight));
    }
    eprintln!(
        "whosaid: encoded {} sentences ({} targets) in {:.1} s",
        sentences.len(),
        examples.len(),
        started.elapsed().as_secs_f64()
    );
    let command = format!(
        "whosaid train stance --newsmtsc {} --quotes {} --quote-weight {quote_weight} --dev {} --output {} --hidden {} --epochs {} --seed {}{}",
        newsmtsc.display(),
        quotes.display(),
        dev.display(),
        output.display(),
        options.hidden,
        options.epochs,
        options.seed,
        encoder_layers
            .map(|layers| format!(" --encoder-layers {layers}"))
            .unwrap_or_default(),
    );
    let provenance = format!(
        "NewsMTSC {} ({} sentences) and {} ({} hand-labelled quotes, each counted {quote_weight} times): {} examples; every 10th sentence or quote held back for temperature scaling; rebuild with: {command}",
        newsmtsc.display(),
        sentences.len(),
        quotes.display(),
        labelled_quotes.len(),
        examples.len()
    );
    let mut encoder = encoder;
    let mut head = fit_stance_head(&examples, &options, provenance);
    if fine_tune_epochs > 0 {
        let mut texts: Vec<TuningText> = sentences
            .iter()
            .map(|sentence| TuningText {
                text: sentence.sentence.clone(),
                targets: sentence
                    .targets
                    .iter()
                    .map(|target| (target.range.clone(), target.label, 1.0))
                    .collect(),
            })
            .collect();
        texts.extend(labelled_quotes.iter().map(|quote| {
            let input = quote_target(&quote.text, quote.quote.clone());
            TuningText {
                text: input.text.to_string(),
                targets: vec![(input.targets[0].clone(), quote.label, quote_weight as f32)],
            }
        }));
        head = fine_tune_stance(
            &mut encoder,
            &texts,
            &head,
            &StanceTrainOptions {
                epochs: fine_tune_epochs,
                batch_size: 16,
                ..options.clone()
            },
            encoder_learning_rate,
            2,
        )?;
        head.provenance = head.provenance.replace(
            "rebuild with: whosaid train stance",
            &format!("then {fine_tune_epochs} epochs of BitFit; rebuild with: whosaid train stance --fine-tune-epochs {fine_tune_epochs} --encoder-learning-rate {encoder_learning_rate}"),
        );
    }
    head.save(&output)?;
    let mut counts = [0usize; 3];
    for (_, label, _) in &examples {
        counts[label.index()] += 1;
    }
    let majority = StanceLabel::ALL[(0..3).max_by_key(|&index| counts[index]).unwrap_or(0)];
    let dev_sentences = read_newsmtsc(&dev)?;
    let dev_examples = stance_examples(&encoder, &dev_sentences)?;
    let predictions: Vec<(StanceLabel, [f64; 3])> = dev_examples
        .iter()
        .map(|(features, label, _)| (*label, head.probabilities(features)))
        .collect();
    let report = StanceReport::new(&predictions, majority);
    eprintln!(
        "whosaid: wrote {} in {:.1} s; on {}:\n{report}",
        output.display(),
        started.elapsed().as_secs_f64(),
        dev.display()
    );
    Ok(ExitCode::SUCCESS)
}
