//! Writing records: JSONL (one record per line, flushed as it goes) or one pretty JSON array.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

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

impl<W: Write + Send> RecordSink for RecordWriter<W> {
    fn write(&mut self, record: &DocumentRecord, _text: Option<&str>) -> Result<()> {
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

/// Gets a JSONL output file ready for a resumed run: counts the ids of the complete records in
/// it, and cuts off a last line that a killed run left unfinished, so that appending goes on
/// from the last whole record. A missing file is an empty one. A broken line that is not the
/// last is an error: then the file is not a killed run's output, and nothing is changed.
pub fn prepare_resume(path: &Path) -> Result<HashMap<String, usize>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(error) => return Err(Error::io(path, error)),
    };
    let mut done: HashMap<String, usize> = HashMap::new();
    let mut good_end = 0;
    let mut line_start = 0;
    let mut line_number = 0;
    while line_start < bytes.len() {
        line_number += 1;
        let newline = bytes[line_start..].iter().position(|&byte| byte == b'\n');
        let line_end = newline.map_or(bytes.len(), |at| line_start + at);
        let line = &bytes[line_start..line_end];
        let is_last = newline.is_none() || line_end + 1 == bytes.len();
        if newline.is_some() && line.iter().all(u8::is_ascii_whitespace) {
            good_end = line_end + 1;
        } else {
            // A record counts only with its newline: the writer adds that last, so a record
            // without one may have been cut exactly at its end.
            match (serde_json::from_slice::<DocumentRecord>(line), is_last) {
                (Ok(record), _) if newline.is_some() => {
                    *done.entry(record.id).or_default() += 1;
                    good_end = line_end + 1;
                }
                (_, true) => break,
                (parsed, false) => {
                    let problem = parsed
                        .err()
                        .map(|error| error.to_string())
                        .unwrap_or_default();
                    return Err(Error::Usage(format!(
                        "cannot resume: line {line_number} of {} is not a whosaid record ({problem}), and it is not the last line",
                        path.display()
                    )));
                }
            }
        }
        line_start = line_end + 1;
    }
    if good_end < bytes.len() {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|error| Error::io(path, error))?;
        file.set_len(good_end as u64)
            .map_err(|error| Error::io(path, error))?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_counts_whole_records_and_cuts_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let whole = "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"a\"}\n";
        std::fs::write(&path, format!("{whole}{{\"id\":\"c\",\"quo")).unwrap();
        let done = prepare_resume(&path).unwrap();
        assert_eq!(done["a"], 2);
        assert_eq!(done["b"], 1);
        assert!(!done.contains_key("c"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), whole);

        std::fs::write(&path, "{\"id\":\"a\"}\nnot a record\n{\"id\":\"b\"}\n").unwrap();
        assert!(prepare_resume(&path).is_err());
        assert_eq!(
            prepare_resume(&dir.path().join("absent.jsonl"))
                .unwrap()
                .len(),
            0
        );
    }
}
