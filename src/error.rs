//! The one error type of the crate.

use std::path::PathBuf;

use crate::record::ErrorKind;

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
    Gold(#[from] crate::eval::gold::GoldError),
    #[error("{0}")]
    Usage(String),
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
