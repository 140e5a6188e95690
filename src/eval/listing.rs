//! The error cases as text, for `whosaid eval --errors`: the count of each kind, then every
//! case with its spans and context.

use std::io::Write;

use crate::record::SpanRecord;

use super::errors::elide;
use super::{count_by_kind, ErrorCase, QuoteSpans};

/// The count of each error kind, then the cases of each kind with their spans and context.
pub fn write_error_listing(out: &mut impl Write, cases: &[ErrorCase]) -> std::io::Result<()> {
    let counts = count_by_kind(cases);
    writeln!(out, "\nerrors: {} cases", cases.len())?;
    writeln!(out, "{:<30} {:>7}", "kind", "count")?;
    for (kind, count) in &counts {
        writeln!(out, "{:<30} {:>7}", kind.label(), count)?;
    }
    for (kind, count) in counts {
        writeln!(out, "\n== {kind} ({count}): {}", kind.description())?;
        for case in cases.iter().filter(|case| case.kind == kind) {
            let iou = case
                .content_iou
                .map_or_else(String::new, |iou| format!(" IoU {iou:.2}"));
            writeln!(out, "{} @{}{iou}", case.doc_id, case.position())?;
            if let Some(gold) = &case.gold {
                writeln!(out, "  gold:      {}", describe(gold))?;
            }
            if let Some(predicted) = &case.predicted {
                writeln!(out, "  predicted: {}", describe(predicted))?;
            }
            writeln!(out, "  context:   {}", case.context)?;
        }
    }
    Ok(())
}

/// Characters of a span printed in an error listing; its offsets and the context place the rest.
const SHOWN_SPAN_CHARS: usize = 160;

/// A unit enum's name as the JSON output writes it, so that text and JSON use the same words.
pub fn serde_name(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// One side of an error case on one line: type, content, source and cue, with offsets.
fn describe(spans: &QuoteSpans) -> String {
    let span = |span: Option<&SpanRecord>| {
        span.map_or_else(
            || "none".to_owned(),
            |span| {
                format!(
                    "{:?} {}..{}",
                    elide(&span.text, SHOWN_SPAN_CHARS),
                    span.start,
                    span.end
                )
            },
        )
    };
    let mut line = format!(
        "{} {}; source {}",
        serde_name(spans.kind),
        span(Some(&spans.content)),
        span(spans.source.as_ref())
    );
    if let Some(source_kind) = spans.source_kind {
        line.push_str(&format!(" ({})", serde_name(source_kind)));
    }
    if let Some(speaker) = &spans.speaker {
        line.push_str(&format!(" = {speaker:?}"));
    }
    line.push_str(&format!("; cue {}", span(spans.cue.as_ref())));
    if let Some(confidence) = spans.confidence {
        line.push_str(&format!("; confidence {confidence:.2}"));
    }
    line
}
