//! The one error type of the crate.

use std::path::PathBuf;

use crate::labels::ErrorKind;

/// Everything that can go wrong in whosaid.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("document {id}: {message}")]
    Document {
        id: String,
        kind: ErrorKind,
        message: String,
    },
    #[error("model {path}: {message}")]
    Model { path: PathBuf, message: String },
    #[error(transparent)]
    Gold(#[from] GoldError),
    #[error("{0}")]
    Usage(String),
    /// A bug inside whosaid, reported rather than crashing.
    #[error("internal error: {0}")]
    Internal(String),
    /// The HTML report could not be drawn.
    #[error("report: {0}")]
    Report(String),
}

impl Error {
    /// A model file (or folder) that cannot be read, parsed or used.
    pub fn model(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Error::Model {
            path: path.into(),
            message: message.to_string(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why gold data could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GoldError {
    #[error("cannot read or write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: not a gold document: {source}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "document {doc}{}: span {start}..{end} does not lie within the text ({text_len} characters)",
        line_suffix(*line)
    )]
    InvalidSpan {
        doc: String,
        line: Option<usize>,
        start: usize,
        end: usize,
        text_len: usize,
    },
    #[error("document {doc}{}: an attribution has no content piece", line_suffix(*line))]
    EmptyContent { doc: String, line: Option<usize> },
    #[error(
        "document {doc}{}: a source or cue is an empty list (write null for a missing one)",
        line_suffix(*line)
    )]
    EmptyRole { doc: String, line: Option<usize> },
    #[error("document {doc}: no annotation file {doc}_<annotator>.ann in {}", dir.display())]
    MissingAnnotation { doc: String, dir: PathBuf },
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|line| format!(" (line {line})"))
        .unwrap_or_default()
}
