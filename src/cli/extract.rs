//! `whosaid extract`: articles in, one record per article out.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use whosaid::batch::{run_batch, BatchOptions};
use whosaid::input::{read_inputs, InputFormat};
use whosaid::output::{prepare_resume, OutputFormat, RecordWriter};
use whosaid::{Error, Result};

use super::{set_threads, stop_on_signals, AnalysisArgs, Terminal};

#[derive(clap::Args)]
pub struct ExtractArgs {
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
    /// Documents analysed together before their records are written (default: 256 in fast
    /// mode, 32 in the default mode, whose documents hold their encoder states until stance
    /// has read them, and 64 with --rule-spans, whose chunks are most of its memory).
    #[arg(long)]
    chunk_size: Option<usize>,
}

pub fn run(args: ExtractArgs) -> Result<ExitCode> {
    set_threads(args.analysis.threads)?;
    let pipeline = args.analysis.pipeline()?;
    let inputs = read_inputs(&args.inputs, args.input_format)?;
    if args.resume && args.format != OutputFormat::Jsonl {
        return Err(Error::Usage("--resume needs JSONL output".into()));
    }
    let already_done = match (&args.output, args.resume) {
        (Some(path), true) => prepare_resume(path)?,
        _ => Default::default(),
    };
    let out = open_output(args.output.as_deref(), args.resume)?;
    let mut sink = RecordWriter::new(out, args.format);
    let defaults = BatchOptions::for_pipeline(&pipeline);
    let options = BatchOptions {
        speakers: args.analysis.speaker,
        chunk_size: args.chunk_size.unwrap_or(defaults.chunk_size),
        stop: Some(stop_on_signals()),
        already_done,
    };
    let terminal = Terminal::new();
    let summary = run_batch(&pipeline, inputs, &mut sink, &options, &terminal)?;
    terminal.finish();
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

/// Standard output, or the output file: truncated, or appended to when resuming.
fn open_output(path: Option<&Path>, resume: bool) -> Result<Box<dyn Write + Send>> {
    let Some(path) = path else {
        return Ok(Box::new(BufWriter::new(std::io::stdout())));
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
