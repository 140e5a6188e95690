//! Writing records: JSONL (one record per line, flushed as it goes) or one pretty JSON array.

use std::io::Write;

use crate::batch::RecordSink;
use crate::error::{Error, Result};
use crate::record::DocumentRecord;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Jsonl,
    Json,
}

/// Writes records to a stream.
pub struct RecordWriter<W: Write> {
    out: W,
    format: OutputFormat,
    written: usize,
}

impl<W: Write> RecordWriter<W> {
    pub fn new(out: W, format: OutputFormat) -> Self {
        RecordWriter {
            out,
            format,
            written: 0,
        }
    }

    fn io(error: std::io::Error) -> Error {
        Error::io("output", error)
    }
}

impl<W: Write> RecordSink for RecordWriter<W> {
    fn write(&mut self, record: &DocumentRecord) -> Result<()> {
        let json = match self.format {
            OutputFormat::Jsonl => serde_json::to_string(record),
            OutputFormat::Json => serde_json::to_string_pretty(record),
        }
        .map_err(|error| Error::io("output", std::io::Error::other(error)))?;
        let separator = match (self.format, self.written) {
            (OutputFormat::Jsonl, _) => "",
            (OutputFormat::Json, 0) => "[\n",
            (OutputFormat::Json, _) => ",\n",
        };
        self.out
            .write_all(separator.as_bytes())
            .and_then(|()| self.out.write_all(json.as_bytes()))
            .map_err(Self::io)?;
        if self.format == OutputFormat::Jsonl {
            self.out.write_all(b"\n").map_err(Self::io)?;
            self.out.flush().map_err(Self::io)?;
        }
        self.written += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        if self.format == OutputFormat::Json {
            let closing: &[u8] = if self.written == 0 { b"[]\n" } else { b"\n]\n" };
            self.out.write_all(closing).map_err(Self::io)?;
        }
        self.out.flush().map_err(Self::io)
    }
}
