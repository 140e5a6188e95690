//! Writing records: JSONL (one record per line, flushed after each chunk of documents) or one
//! pretty JSON array.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::batch::{RecordSink, Serialiser};
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
    /// One record's JSON, kept from record to record so that its memory is allocated once.
    json: Vec<u8>,
}

/// Serialises `record` into `bytes` as `format` writes it, without the separators between
/// records.
fn serialise_into(
    bytes: &mut Vec<u8>,
    format: OutputFormat,
    record: &DocumentRecord,
) -> Result<()> {
    match format {
        OutputFormat::Jsonl => serde_json::to_writer(bytes, record),
        OutputFormat::Json => serde_json::to_writer_pretty(bytes, record),
    }
    .map_err(|error| Error::io("output", std::io::Error::other(error)))
}

impl<W: Write> RecordWriter<W> {
    pub fn new(out: W, format: OutputFormat) -> Self {
        RecordWriter {
            out,
            format,
            written: 0,
            json: Vec::new(),
        }
    }

    fn io(error: std::io::Error) -> Error {
        Error::io("output", error)
    }

    /// Writes one serialised record, with the separator its place asks for.
    fn write_bytes(&mut self, json: &[u8]) -> Result<()> {
        let separator = match (self.format, self.written) {
            (OutputFormat::Jsonl, _) => "",
            (OutputFormat::Json, 0) => "[\n",
            (OutputFormat::Json, _) => ",\n",
        };
        self.out
            .write_all(separator.as_bytes())
            .and_then(|()| self.out.write_all(json))
            .map_err(Self::io)?;
        if self.format == OutputFormat::Jsonl {
            self.out.write_all(b"\n").map_err(Self::io)?;
        }
        self.written += 1;
        Ok(())
    }
}

impl<W: Write + Send> RecordSink for RecordWriter<W> {
    fn write(&mut self, record: &DocumentRecord, _text: Option<&str>) -> Result<()> {
        // The record is made whole before any of it is written, so that an error leaves no
        // half record in the output.
        let mut json = std::mem::take(&mut self.json);
        json.clear();
        let written =
            serialise_into(&mut json, self.format, record).and_then(|()| self.write_bytes(&json));
        self.json = json;
        written
    }

    fn serialiser(&self) -> Option<Serialiser> {
        let format = self.format;
        Some(Box::new(move |record| {
            let mut bytes = Vec::new();
            serialise_into(&mut bytes, format, record)?;
            Ok(bytes)
        }))
    }

    fn write_serialised(&mut self, bytes: &[u8]) -> Result<()> {
        self.write_bytes(bytes)
    }

    /// A chunk's records arrive together, so a reader of the output sees them as soon as when
    /// each was flushed by itself, and a stopped run leaves whole lines behind either way.
    fn chunk_done(&mut self) -> Result<()> {
        if self.format == OutputFormat::Jsonl {
            self.out.flush().map_err(Self::io)?;
        }
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

    /// Output that counts its flushes and keeps what was written.
    #[derive(Default)]
    struct Counted {
        bytes: Vec<u8>,
        flushes: usize,
    }

    impl Write for &mut Counted {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.bytes.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    fn record(id: &str) -> DocumentRecord {
        DocumentRecord {
            id: id.into(),
            quotes: Vec::new(),
            entities: Vec::new(),
            meta: None,
            error: None,
        }
    }

    #[test]
    fn jsonl_is_written_a_line_a_record_and_flushed_once_a_chunk() {
        let mut out = Counted::default();
        let mut writer = RecordWriter::new(&mut out, OutputFormat::Jsonl);
        for id in ["a", "b", "c"] {
            writer.write(&record(id), None).unwrap();
        }
        writer.chunk_done().unwrap();
        writer.write(&record("d"), None).unwrap();
        writer.chunk_done().unwrap();
        writer.finish().unwrap();
        drop(writer);
        let lines: Vec<serde_json::Value> = std::str::from_utf8(&out.bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let ids: Vec<&str> = lines
            .iter()
            .map(|line| line["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a", "b", "c", "d"]);
        assert_eq!(out.flushes, 3, "one a chunk, one at the end");
    }

    #[test]
    fn json_is_one_array_of_the_records() {
        let mut out = Counted::default();
        let mut writer = RecordWriter::new(&mut out, OutputFormat::Json);
        writer.write(&record("a"), None).unwrap();
        writer.chunk_done().unwrap();
        writer.write(&record("b"), None).unwrap();
        writer.finish().unwrap();
        drop(writer);
        let array: Vec<DocumentRecord> = serde_json::from_slice(&out.bytes).unwrap();
        let ids: Vec<&str> = array.iter().map(|record| record.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn records_serialised_elsewhere_are_written_as_the_writer_writes_records() {
        for format in [OutputFormat::Jsonl, OutputFormat::Json] {
            let records = [record("a"), record("b"), record("c")];
            let mut direct = Vec::new();
            let mut writer = RecordWriter::new(&mut direct, format);
            for record in &records {
                writer.write(record, None).unwrap();
            }
            writer.finish().unwrap();
            drop(writer);
            let mut serialised = Vec::new();
            let mut writer = RecordWriter::new(&mut serialised, format);
            let serialise = writer.serialiser().expect("the writer writes bytes");
            for record in &records {
                writer
                    .write_serialised(&serialise(record).unwrap())
                    .unwrap();
            }
            writer.finish().unwrap();
            drop(writer);
            assert_eq!(
                String::from_utf8(serialised).unwrap(),
                String::from_utf8(direct).unwrap(),
                "{format:?}"
            );
        }
    }

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
