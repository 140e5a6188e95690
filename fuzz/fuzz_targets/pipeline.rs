//! The whole pipeline: every span in the record (quote content, cue, speaker mention, entity
//! mentions, stance targets) has start <= end <= the text's length in chars, and its `text` equals
//! the original's chars start..end (offsets are Unicode code points, see src/record.rs).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use whosaid::pipeline::{Pipeline, PipelineConfig};

static PIPELINE: OnceLock<Pipeline> = OnceLock::new();

fn check(chars: &[char], what: &str, start: usize, end: usize, text: &str) {
    assert!(
        start <= end && end <= chars.len(),
        "{what} {start}..{end} outside 0..{} (text {text:?})",
        chars.len()
    );
    let actual: String = chars[start..end].iter().collect();
    assert_eq!(actual, text, "{what} {start}..{end}: text does not match the original");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // No time budget: a slow input must show as a libFuzzer timeout, not as a timeout record.
    let pipeline = PIPELINE.get_or_init(|| {
        Pipeline::new(PipelineConfig {
            budget: None,
            ..PipelineConfig::default()
        })
        .unwrap()
    });
    let record = pipeline.extract("fuzz", text);
    // The pipeline turns a panic into an error record so that a batch goes on; here it is a bug.
    assert!(record.error.is_none(), "{:?}", record.error);
    let chars: Vec<char> = text.chars().collect();
    for (i, quote) in record.quotes.iter().enumerate() {
        let c = &quote.content;
        check(&chars, &format!("quote {i} content"), c.start, c.end, &c.text);
        for (j, piece) in quote.pieces.iter().enumerate() {
            check(&chars, &format!("quote {i} piece {j}"), piece.start, piece.end, &piece.text);
            assert!(c.start <= piece.start && piece.end <= c.end, "quote {i} piece {j} outside");
        }
        if let Some(cue) = &quote.cue {
            check(&chars, &format!("quote {i} cue"), cue.start, cue.end, &cue.text);
        }
        if let Some(mention) = quote.speaker.as_ref().and_then(|s| s.mention.as_ref()) {
            check(&chars, &format!("quote {i} speaker mention"), mention.start, mention.end, &mention.text);
        }
        for (j, target) in quote.targets.iter().flatten().enumerate() {
            let m = &target.mention;
            check(&chars, &format!("quote {i} target {j}"), m.start, m.end, &m.text);
        }
        assert!((0.0..=1.0).contains(&quote.confidence), "quote {i} confidence {}", quote.confidence);
    }
    for entity in &record.entities {
        for (j, m) in entity.mentions.iter().enumerate() {
            check(&chars, &format!("entity {} mention {j}", entity.id), m.start, m.end, &m.text);
        }
    }
});
