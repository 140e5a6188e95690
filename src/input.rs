//! Reading input documents: text files, directories of `.txt` files, and JSONL, from files or
//! standard input. Documents stream one at a time, so memory does not grow with the corpus.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::record::{ErrorKind, ErrorRecord};

/// One input document, or the reason it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct InputDocument {
    pub id: String,
    pub text: Result<String, ErrorRecord>,
    /// A JSONL record's other fields.
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
}

impl InputDocument {
    /// A document that cannot be analysed, with the reason as its error record.
    pub fn failed(id: String, kind: ErrorKind, message: String) -> Self {
        InputDocument {
            id,
            text: Err(ErrorRecord { kind, message }),
            meta: None,
        }
    }
}

/// How to read an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum InputFormat {
    /// JSONL for `.jsonl`/`.json` files; text for other files; for standard input, JSONL when
    /// it starts with `{`.
    #[default]
    Auto,
    Text,
    Jsonl,
}

/// Streams the documents of the given inputs in order. `-` is standard input.
pub fn read_inputs(
    paths: &[PathBuf],
    format: InputFormat,
) -> Result<Box<dyn Iterator<Item = InputDocument> + Send>> {
    let mut iterators: Vec<Box<dyn Iterator<Item = InputDocument> + Send>> = Vec::new();
    for path in paths {
        iterators.push(read_input(path, format)?);
    }
    Ok(Box::new(iterators.into_iter().flatten()))
}

fn read_input(
    path: &Path,
    format: InputFormat,
) -> Result<Box<dyn Iterator<Item = InputDocument> + Send>> {
    if path.as_os_str() == "-" {
        let mut stdin = BufReader::new(std::io::stdin());
        let is_jsonl = match format {
            InputFormat::Jsonl => true,
            InputFormat::Text => false,
            InputFormat::Auto => {
                let peeked = stdin.fill_buf().map_err(|source| Error::io("-", source))?;
                peeked
                    .iter()
                    .find(|byte| !byte.is_ascii_whitespace())
                    .is_some_and(|&byte| byte == b'{')
            }
        };
        return Ok(if is_jsonl {
            Box::new(JsonlReader::new(Box::new(stdin), "-".into()))
        } else {
            let mut bytes = Vec::new();
            let text = stdin
                .read_to_end(&mut bytes)
                .map_err(|source| Error::io("-", source))
                .map(|_| decode("stdin", bytes));
            Box::new(std::iter::once(InputDocument {
                id: "stdin".into(),
                text: text?,
                meta: None,
            }))
        });
    }
    let metadata = std::fs::metadata(path).map_err(|source| Error::io(path, source))?;
    if metadata.is_dir() {
        let mut files = Vec::new();
        collect_text_files(path, &mut files)?;
        files.sort();
        let root = path.to_path_buf();
        return Ok(Box::new(files.into_iter().map(move |file| {
            let id = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .with_extension("")
                .to_string_lossy()
                .into_owned();
            read_text_file(&file, id)
        })));
    }
    let is_jsonl = match format {
        InputFormat::Jsonl => true,
        InputFormat::Text => false,
        InputFormat::Auto => matches!(
            path.extension().and_then(|extension| extension.to_str()),
            Some("jsonl" | "json" | "ndjson")
        ),
    };
    if is_jsonl {
        let file = File::open(path).map_err(|source| Error::io(path, source))?;
        let name = path.display().to_string();
        Ok(Box::new(JsonlReader::new(
            Box::new(BufReader::new(file)),
            name,
        )))
    } else {
        let id = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(Box::new(std::iter::once(read_text_file(path, id))))
    }
}

fn collect_text_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::io(dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::io(dir, source))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|source| Error::io(&path, source))?;
        if file_type.is_dir() {
            collect_text_files(&path, files)?;
        } else if path.extension().is_some_and(|extension| extension == "txt") {
            files.push(path);
        }
    }
    Ok(())
}

fn read_text_file(path: &Path, id: String) -> InputDocument {
    let text = match std::fs::read(path) {
        Ok(bytes) => decode(&id, bytes),
        Err(error) => Err(ErrorRecord {
            kind: ErrorKind::Io,
            message: format!("cannot read {}: {error}", path.display()),
        }),
    };
    InputDocument {
        id,
        text,
        meta: None,
    }
}

/// The text of document `id` from its bytes, or the error record of bytes that are not UTF-8.
pub fn decode(id: &str, bytes: Vec<u8>) -> Result<String, ErrorRecord> {
    String::from_utf8(bytes).map_err(|error| ErrorRecord {
        kind: ErrorKind::InvalidUtf8,
        message: format!(
            "document {id} is not valid UTF-8 (first bad byte at offset {})",
            error.utf8_error().valid_up_to()
        ),
    })
}

/// Reads JSONL line by line as bytes, so that one bad line (invalid UTF-8, not JSON, no text)
/// becomes one error record and the rest of the file is still read.
pub struct JsonlReader {
    reader: Box<dyn BufRead + Send>,
    name: String,
    line_number: usize,
    buffer: Vec<u8>,
}

impl JsonlReader {
    pub fn new(reader: Box<dyn BufRead + Send>, name: String) -> Self {
        JsonlReader {
            reader,
            name,
            line_number: 0,
            buffer: Vec::new(),
        }
    }
}

impl Iterator for JsonlReader {
    type Item = InputDocument;

    fn next(&mut self) -> Option<InputDocument> {
        loop {
            self.buffer.clear();
            self.line_number += 1;
            let read = self.reader.read_until(b'\n', &mut self.buffer);
            let fallback_id = format!("{}:{}", self.name, self.line_number);
            match read {
                Ok(0) => return None,
                Ok(_) => {}
                Err(error) => {
                    return Some(InputDocument {
                        id: fallback_id,
                        text: Err(ErrorRecord {
                            kind: ErrorKind::Io,
                            message: format!(
                                "cannot read line {} of {}: {error}",
                                self.line_number, self.name
                            ),
                        }),
                        meta: None,
                    })
                }
            }
            if self.buffer.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(parse_jsonl_line(&self.buffer, fallback_id));
        }
    }
}

/// One JSONL line as a document. A line without an id is named `FILE:LINE`.
pub fn parse_jsonl_line(line: &[u8], fallback_id: String) -> InputDocument {
    let failed = InputDocument::failed;
    let line = match std::str::from_utf8(line) {
        Ok(line) => line,
        Err(error) => {
            let message = format!(
                "line {fallback_id} is not valid UTF-8 (first bad byte at offset {})",
                error.valid_up_to()
            );
            return failed(fallback_id, ErrorKind::InvalidUtf8, message);
        }
    };
    let value: serde_json::Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(error) => {
            let message = format!("line {fallback_id} is not JSON: {error}");
            return failed(fallback_id, ErrorKind::InvalidJson, message);
        }
    };
    let serde_json::Value::Object(mut fields) = value else {
        let message = format!("line {fallback_id} is not a JSON object");
        return failed(fallback_id, ErrorKind::InvalidJson, message);
    };
    // An empty id would name nothing in the output; such a line is named like one with no id.
    let id = match fields.remove("id") {
        Some(serde_json::Value::String(id)) if !id.trim().is_empty() => id,
        Some(serde_json::Value::Number(number)) => number.to_string(),
        _ => fallback_id,
    };
    match fields.remove("text") {
        Some(serde_json::Value::String(text)) => InputDocument {
            id,
            text: Ok(text),
            meta: (!fields.is_empty()).then_some(fields),
        },
        Some(_) => {
            let message = format!("document {id}: the field \"text\" is not a string");
            failed(id, ErrorKind::MissingText, message)
        }
        None => {
            let message = format!("document {id} has no \"text\" field");
            failed(id, ErrorKind::MissingText, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_id_is_replaced_by_the_line_name() {
        // Found by fuzzing (fuzz/regressions/jsonl-empty-id).
        let input = b"{not json\n{\"id\":\"\"}\n{\"id\":\" \",\"text\":\"Hi.\"}\n";
        let documents: Vec<InputDocument> =
            JsonlReader::new(Box::new(&input[..]), "in.jsonl".into()).collect();
        let ids: Vec<&str> = documents
            .iter()
            .map(|document| document.id.as_str())
            .collect();
        assert_eq!(ids, ["in.jsonl:1", "in.jsonl:2", "in.jsonl:3"]);
        assert_eq!(documents[2].text.as_deref(), Ok("Hi."));
    }

    #[test]
    fn jsonl_lines_become_documents_or_errors() {
        let input = b"{\"id\":\"a\",\"text\":\"Hi.\",\"source\":\"x\"}\nnot json\n\xff\xfe\n{\"id\":7}\n\n{\"text\":\"no id\"}\n";
        let documents: Vec<InputDocument> =
            JsonlReader::new(Box::new(&input[..]), "in.jsonl".into()).collect();
        assert_eq!(documents.len(), 5);
        assert_eq!(documents[0].id, "a");
        assert_eq!(documents[0].text.as_deref(), Ok("Hi."));
        assert_eq!(documents[0].meta.as_ref().unwrap()["source"], "x");
        assert_eq!(
            documents[1].text.as_ref().unwrap_err().kind,
            ErrorKind::InvalidJson
        );
        assert_eq!(documents[1].id, "in.jsonl:2");
        assert_eq!(
            documents[2].text.as_ref().unwrap_err().kind,
            ErrorKind::InvalidUtf8
        );
        assert_eq!(documents[3].id, "7");
        assert_eq!(
            documents[3].text.as_ref().unwrap_err().kind,
            ErrorKind::MissingText
        );
        assert_eq!(documents[4].id, "in.jsonl:6");
    }

    #[test]
    fn directories_are_read_recursively_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.txt"), "B").unwrap();
        std::fs::write(dir.path().join("sub/a.txt"), "A").unwrap();
        std::fs::write(dir.path().join("skip.md"), "no").unwrap();
        std::fs::write(dir.path().join("bad.txt"), b"\xff").unwrap();
        let documents: Vec<InputDocument> =
            read_inputs(&[dir.path().to_path_buf()], InputFormat::Auto)
                .unwrap()
                .collect();
        let ids: Vec<&str> = documents
            .iter()
            .map(|document| document.id.as_str())
            .collect();
        assert_eq!(ids, ["b", "bad", "sub/a"]);
        assert_eq!(
            documents[1].text.as_ref().unwrap_err().kind,
            ErrorKind::InvalidUtf8
        );
    }
}
