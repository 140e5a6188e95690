//! `whosaid render`: articles, or saved records with their articles, as HTML pages.

use std::path::PathBuf;
use std::process::ExitCode;

use whosaid::batch::{run_batch, BatchOptions};
use whosaid::input::{read_inputs, InputFormat};
use whosaid::pages::{read_records, render_records, PageSink, PageWriter, INDEX};
use whosaid::render::RenderOptions;
use whosaid::{Error, Result};

use super::{set_threads, stop_on_signals, AnalysisArgs, Terminal};

#[derive(clap::Args)]
pub struct RenderArgs {
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

pub fn run(args: RenderArgs) -> Result<ExitCode> {
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
    let terminal = Terminal::new();
    let written = match &args.records {
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
            let mut sink = PageSink::new(writer);
            let options = BatchOptions {
                speakers: args.analysis.speaker.clone(),
                stop: Some(stop_on_signals()),
                ..BatchOptions::for_pipeline(&pipeline)
            };
            run_batch(&pipeline, inputs, &mut sink, &options, &terminal)?;
            sink.written().clone()
        }
    };
    terminal.finish();
    for warning in &written.warnings {
        eprintln!("whosaid: warning: {warning}");
    }
    let pages = &written.pages;
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
