//! Long inputs, for slow paths: the input is repeated into a document of about 200 kB (the
//! first byte picks what joins the copies: nothing, a space, a line break or a full stop), and
//! the whole pipeline runs on it with no time budget. Every stage is linear, so this takes
//! milliseconds; run with a per-input time limit (`-timeout=10`) so that a super-linear path
//! shows as a timeout. The record must have no error, and its spans must index the text.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use whosaid::pipeline::{Pipeline, PipelineConfig};

static PIPELINE: OnceLock<Pipeline> = OnceLock::new();

/// The size of the document made from each input.
const DOCUMENT_BYTES: usize = 200_000;

fuzz_target!(|data: &[u8]| {
    let Some((&joiner, unit)) = data.split_first() else {
        return;
    };
    let Ok(unit) = std::str::from_utf8(unit) else {
        return;
    };
    if unit.is_empty() {
        return;
    }
    let joiner = match joiner % 4 {
        0 => "",
        1 => " ",
        2 => "\n",
        _ => ". ",
    };
    let copy = format!("{unit}{joiner}");
    let text = copy.repeat(DOCUMENT_BYTES / copy.len() + 1);
    let pipeline = PIPELINE.get_or_init(|| {
        Pipeline::new(PipelineConfig {
            budget: None,
            ..PipelineConfig::default()
        })
        .unwrap()
    });
    let record = pipeline.extract("fuzz", &text);
    assert!(record.error.is_none(), "{:?}", record.error);
    let chars: Vec<char> = text.chars().collect();
    for quote in &record.quotes {
        let content = &quote.content;
        assert!(content.start <= content.end && content.end <= chars.len());
        assert_eq!(
            chars[content.start..content.end].iter().collect::<String>(),
            content.text
        );
    }
});
