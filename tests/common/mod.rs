//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod adversarial;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use whosaid::record::{DocumentRecord, SpanRecord};

pub const SEED: &str = include_str!("../../data/000_86905691883c5ace.txt");

/// Runs the binary with these arguments and this standard input.
pub fn whosaid(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_whosaid"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("whosaid runs");
    let mut input = child.stdin.take().expect("stdin");
    // A run refused at the start (a bad option) exits without reading its input.
    if let Err(error) = input.write_all(stdin) {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    drop(input);
    child.wait_with_output().expect("whosaid finishes")
}

/// The text at a span's code-point offsets.
pub fn slice(text: &str, start: usize, end: usize) -> String {
    text.chars()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect()
}

/// Asserts that every span of a record indexes the original text.
pub fn assert_offsets(text: &str, record: &DocumentRecord) {
    let check = |span: &SpanRecord| {
        assert!(span.start <= span.end, "{span:?}");
        assert!(span.end <= text.chars().count(), "{span:?}");
        assert_eq!(slice(text, span.start, span.end), span.text, "{span:?}");
    };
    for quote in &record.quotes {
        check(&quote.content);
        for piece in &quote.pieces {
            check(piece);
            assert!(
                quote.content.start <= piece.start && piece.end <= quote.content.end,
                "{piece:?} lies outside {:?}",
                quote.content
            );
        }
        if let Some(cue) = &quote.cue {
            check(cue);
        }
        if let Some(mention) = quote
            .speaker
            .as_ref()
            .and_then(|speaker| speaker.mention.as_ref())
        {
            check(mention);
        }
        assert!((0.0..=1.0).contains(&quote.confidence));
        if let Some(stance) = &quote.stance {
            assert!((0.0..=1.0).contains(&stance.confidence), "{stance:?}");
        }
        for target in quote.targets.iter().flatten() {
            check(&target.mention);
            assert!((0.0..=1.0).contains(&target.confidence), "{target:?}");
            assert!(
                record
                    .entities
                    .iter()
                    .any(|entity| entity.id == target.entity),
                "{target:?} names no entity"
            );
        }
    }
    for entity in &record.entities {
        for mention in &entity.mentions {
            assert_eq!(slice(text, mention.start, mention.end), mention.text);
        }
    }
}

/// The PolNeAR data, or None with a message when this checkout has no ../shared.
pub fn polnear(split: &str) -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/polnear/data")
        .join(split);
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!(
            "skipped: {} is not here (no ../shared in this checkout)",
            path.display()
        );
        None
    }
}
