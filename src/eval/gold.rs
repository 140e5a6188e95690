//! The gold-standard data model and whosaid's own JSONL gold format.
//!
//! One JSON object per line:
//! `{"id": "...", "text": "...", "attributions": [{"content": [[s, e], ...], "source": [[s, e]] | null, "cue": [[s, e]] | null}]}`.
//! Offsets are Unicode code-point offsets into `text`, end exclusive, as everywhere in whosaid.

pub use crate::error::GoldError;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One contiguous piece of a possibly discontinuous span, in code points, end exclusive.
///
/// Serialised as a two-element array `[start, end]` to keep gold files compact and close to the
/// brat `start end` notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "(usize, usize)", into = "(usize, usize)")]
pub struct Piece {
    pub start: usize,
    pub end: usize,
}

impl Piece {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }
}

impl From<(usize, usize)> for Piece {
    fn from((start, end): (usize, usize)) -> Self {
        Self { start, end }
    }
}

impl From<Piece> for (usize, usize) {
    fn from(piece: Piece) -> Self {
        (piece.start, piece.end)
    }
}

/// One gold attribution: what was said (content), by whom (source) and the word that says so (cue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldAttribution {
    /// Never empty; `Content2` pieces of PolNeAR are merged in here.
    pub content: Vec<Piece>,
    /// `None` where the source is not in the text (PolNeAR's `Attribution-no-source`).
    #[serde(default)]
    pub source: Option<Vec<Piece>>,
    #[serde(default)]
    pub cue: Option<Vec<Piece>>,
}

impl GoldAttribution {
    /// Sorts the pieces of every role and drops exact duplicates, so that the first piece holds
    /// the first start and the last piece the last end.
    pub fn normalize(&mut self) {
        normalize_pieces(&mut self.content);
        for pieces in [&mut self.source, &mut self.cue].into_iter().flatten() {
            normalize_pieces(pieces);
        }
    }
}

pub(crate) fn normalize_pieces(pieces: &mut Vec<Piece>) {
    pieces.sort_unstable();
    pieces.dedup();
}

/// A gold document: its text and every attribution in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldDocument {
    pub id: String,
    pub text: String,
    pub attributions: Vec<GoldAttribution>,
}

impl GoldDocument {
    /// The text of `piece`, or `None` where the piece does not lie within the text.
    pub fn piece_text(&self, piece: Piece) -> Option<&str> {
        char_slice(&self.text, piece.start, piece.end)
    }

    /// Checks every piece against the text; `line` goes into the error to help find the record.
    pub fn validate(&self, line: Option<usize>) -> Result<(), GoldError> {
        let text_len = self.text.chars().count();
        for attribution in &self.attributions {
            if attribution.content.is_empty() {
                return Err(GoldError::EmptyContent {
                    doc: self.id.clone(),
                    line,
                });
            }
            let roles = [
                Some(&attribution.content),
                attribution.source.as_ref(),
                attribution.cue.as_ref(),
            ];
            for pieces in roles.into_iter().flatten() {
                if pieces.is_empty() {
                    return Err(GoldError::EmptyRole {
                        doc: self.id.clone(),
                        line,
                    });
                }
                for piece in pieces {
                    check_piece(&self.id, line, *piece, text_len)?;
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn check_piece(
    doc: &str,
    line: Option<usize>,
    piece: Piece,
    text_len: usize,
) -> Result<(), GoldError> {
    if piece.start <= piece.end && piece.end <= text_len {
        Ok(())
    } else {
        Err(GoldError::InvalidSpan {
            doc: doc.to_owned(),
            line,
            start: piece.start,
            end: piece.end,
            text_len,
        })
    }
}

/// Slices `text` by code-point offsets, end exclusive; `None` where the range is not within it.
pub fn char_slice(text: &str, start: usize, end: usize) -> Option<&str> {
    if start > end {
        return None;
    }
    let byte_at = |offset: usize| {
        text.char_indices()
            .map(|(byte, _)| byte)
            .chain(std::iter::once(text.len()))
            .nth(offset)
    };
    let start_byte = byte_at(start)?;
    // Counting on from the start byte avoids walking the prefix twice.
    let end_byte = text[start_byte..]
        .char_indices()
        .map(|(byte, _)| start_byte + byte)
        .chain(std::iter::once(text.len()))
        .nth(end - start)?;
    Some(&text[start_byte..end_byte])
}

/// Reads a JSONL gold file, one [`GoldDocument`] per non-blank line, and checks every offset.
///
/// Pieces are returned sorted, whatever their order in the file.
pub fn read_gold_jsonl(path: &Path) -> Result<Vec<GoldDocument>, GoldError> {
    let io_error = |source| GoldError::Io {
        path: path.to_owned(),
        source,
    };
    let reader = BufReader::new(File::open(path).map_err(io_error)?);
    let mut documents = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line_number = index + 1;
        let line = line.map_err(io_error)?;
        if line.trim().is_empty() {
            continue;
        }
        let mut document: GoldDocument =
            serde_json::from_str(&line).map_err(|source| GoldError::Json {
                path: path.to_owned(),
                line: line_number,
                source,
            })?;
        document.validate(Some(line_number))?;
        for attribution in &mut document.attributions {
            attribution.normalize();
        }
        documents.push(document);
    }
    Ok(documents)
}

/// Writes documents as JSONL gold, one per line, in the order given.
pub fn write_gold_jsonl(path: &Path, documents: &[GoldDocument]) -> Result<(), GoldError> {
    let io_error = |source| GoldError::Io {
        path: path.to_owned(),
        source,
    };
    let mut writer = BufWriter::new(File::create(path).map_err(io_error)?);
    for document in documents {
        serde_json::to_writer(&mut writer, document).map_err(|source| GoldError::Io {
            path: path.to_owned(),
            source: source.into(),
        })?;
        writer.write_all(b"\n").map_err(io_error)?;
    }
    writer.flush().map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_document() -> GoldDocument {
        GoldDocument {
            id: "doc-1".into(),
            text: "“Höchst gut,” she said.".into(),
            attributions: vec![GoldAttribution {
                content: vec![Piece::new(0, 13)],
                source: Some(vec![Piece::new(14, 17)]),
                cue: None,
            }],
        }
    }

    #[test]
    fn char_slice_counts_code_points() {
        let text = "“Höchst gut,” she said.";
        assert_eq!(char_slice(text, 0, 13), Some("“Höchst gut,”"));
        assert_eq!(char_slice(text, 14, 17), Some("she"));
        assert_eq!(char_slice(text, 23, 23), Some(""));
        assert_eq!(char_slice(text, 0, 24), None);
        assert_eq!(char_slice(text, 5, 4), None);
    }

    #[test]
    fn pieces_serialise_as_pairs_and_missing_roles_as_null() {
        let json = serde_json::to_string(&sample_document()).expect("serialisable");
        assert_eq!(
            json,
            r#"{"id":"doc-1","text":"“Höchst gut,” she said.","attributions":[{"content":[[0,13]],"source":[[14,17]],"cue":null}]}"#
        );
    }

    #[test]
    fn jsonl_round_trip_and_normalisation() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("gold.jsonl");
        let document = sample_document();
        write_gold_jsonl(&path, std::slice::from_ref(&document)).expect("written");
        assert_eq!(read_gold_jsonl(&path).expect("read back"), vec![document]);

        // Out-of-order pieces and an omitted cue field are accepted and normalised.
        std::fs::write(
            &path,
            "\n{\"id\":\"d\",\"text\":\"abcdefghij\",\"attributions\":[{\"content\":[[6,9],[0,3]],\"source\":null}]}\n",
        )
        .expect("written");
        let documents = read_gold_jsonl(&path).expect("valid");
        assert_eq!(
            documents[0].attributions[0],
            GoldAttribution {
                content: vec![Piece::new(0, 3), Piece::new(6, 9)],
                source: None,
                cue: None,
            }
        );
    }

    #[test]
    fn offsets_beyond_the_text_name_document_and_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("gold.jsonl");
        std::fs::write(
            &path,
            concat!(
                "{\"id\":\"ok\",\"text\":\"éé\",\"attributions\":[{\"content\":[[0,2]]}]}\n",
                "{\"id\":\"bad\",\"text\":\"éé\",\"attributions\":[{\"content\":[[0,3]]}]}\n",
            ),
        )
        .expect("written");
        let error = read_gold_jsonl(&path).expect_err("span past the end");
        assert!(matches!(
            &error,
            GoldError::InvalidSpan { doc, line: Some(2), start: 0, end: 3, text_len: 2 } if doc == "bad"
        ));
        let message = error.to_string();
        assert!(
            message.contains("bad") && message.contains("line 2"),
            "{message}"
        );
    }

    #[test]
    fn malformed_records_are_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("gold.jsonl");
        let cases = [
            (
                r#"{"id":"a","text":"abc","attributions":[{"content":[]}]}"#,
                "no content",
            ),
            (
                r#"{"id":"a","text":"abc","attributions":[{"content":[[2,1]]}]}"#,
                "start > end",
            ),
            (
                r#"{"id":"a","text":"abc","attributions":[{"content":[[0,1]],"cue":[]}]}"#,
                "empty cue",
            ),
            (
                r#"{"id":"a","text":"abc","attributions":[{"content":[[0,1,2]]}]}"#,
                "triple",
            ),
            (r#"{"id":"a","attributions":[]}"#, "no text"),
        ];
        for (line, why) in cases {
            std::fs::write(&path, line).expect("written");
            assert!(read_gold_jsonl(&path).is_err(), "{why} should be rejected");
        }
        let missing = dir.path().join("missing.jsonl");
        assert!(matches!(
            read_gold_jsonl(&missing),
            Err(GoldError::Io { .. })
        ));
    }
}
