//! `whosaid eval --report` and `--errors` end to end, on the repository's own gold.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::SEED;
use whosaid::record::{DocumentRecord, QuoteKind, QuoteRecord, SpanRecord, SpeakerRecord};

const SEED_ID: &str = "000_86905691883c5ace";

/// Runs the binary and asserts that it succeeded.
fn whosaid(args: &[&str], stdin: &[u8]) -> Output {
    let output = common::whosaid(args, stdin);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn seed_gold() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/seed-gold.jsonl")
}

/// The seed gold written as a prediction, so that the error listing's counts come from the
/// edits a test makes alone, whatever the models predict.
fn gold_as_prediction() -> DocumentRecord {
    let gold = whosaid::eval::gold::read_gold_jsonl(&seed_gold()).expect("the seed gold reads");
    let document = &gold[0];
    let span = |pieces: &[whosaid::eval::gold::Piece]| {
        let start = pieces.iter().map(|piece| piece.start).min().unwrap_or(0);
        let end = pieces.iter().map(|piece| piece.end).max().unwrap_or(0);
        SpanRecord {
            start,
            end,
            text: document
                .text
                .chars()
                .skip(start)
                .take(end - start)
                .collect(),
        }
    };
    let quotes = document
        .attributions
        .iter()
        .enumerate()
        .map(|(number, attribution)| {
            let content = span(&attribution.content);
            let kind = if content.text.starts_with(['“', '”', '"']) {
                QuoteKind::Direct
            } else {
                QuoteKind::Indirect
            };
            QuoteRecord {
                kind,
                content,
                pieces: Vec::new(),
                cue: attribution.cue.as_deref().map(span),
                speaker: attribution.source.as_deref().map(|source| {
                    let mention = span(source);
                    SpeakerRecord {
                        name: mention.text.clone(),
                        entity: format!("e{number}"),
                        mention: Some(mention),
                    }
                }),
                confidence: 0.9,
                stance: None,
                targets: None,
            }
        })
        .collect();
    DocumentRecord {
        id: SEED_ID.to_string(),
        quotes,
        entities: Vec::new(),
        meta: None,
        error: None,
    }
}

fn count_of(table: &str, label: &str) -> Option<usize> {
    table.lines().find_map(|line| {
        let count = line.strip_prefix(label)?.trim();
        count.parse().ok()
    })
}

#[test]
fn report_page_holds_the_tables_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let page_path = dir.path().join("report.html");
    whosaid(
        &[
            "eval",
            "--gold",
            seed_gold().to_str().unwrap(),
            "--report",
            page_path.to_str().unwrap(),
        ],
        b"",
    );
    let page = std::fs::read_to_string(&page_path).expect("the report is written");
    // The page's ECE is the one eval reports as JSON.
    let report: serde_json::Value = serde_json::from_slice(
        &whosaid(
            &["eval", "--gold", seed_gold().to_str().unwrap(), "--json"],
            b"",
        )
        .stdout,
    )
    .expect("eval --json gives JSON");
    let ece = report["calibration"]["ece"].as_f64().expect("an ECE");
    let ece_label = format!("ECE {:.1}%", 100.0 * ece);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.matches("<svg").count() >= 3, "plots");
    for needle in [
        "id=\"metrics\"",
        "content exact",
        "direct end-to-end",
        "also counted as quotation marks",
        "id=\"calibration\"",
        "id=\"thresholds\"",
        "quote type",
        "source kind",
        "id=\"error-kinds\"",
        ece_label.as_str(),
    ] {
        assert!(page.contains(needle), "{needle} missing");
    }
    // Self-contained: no scripts, stylesheets or images fetched.
    assert!(!page.contains("<script") && !page.contains("<link") && !page.contains("src="));
}

#[test]
fn errors_are_listed_by_kind_with_counts() {
    let mut record = gold_as_prediction();
    let quotes = &mut record.quotes;
    let indirect = quotes
        .iter()
        .position(|quote| quote.kind == QuoteKind::Indirect)
        .expect("the seed has an indirect quote");
    quotes.remove(indirect);
    let direct: Vec<usize> = (0..quotes.len())
        // These predictions are the gold, so a quote with a cue has a gold cue.
        .filter(|&index| quotes[index].kind == QuoteKind::Direct && quotes[index].cue.is_some())
        .collect();
    assert!(direct.len() >= 2, "the seed has direct quotes");
    quotes[direct[0]].speaker = None;
    quotes[direct[1]].cue = None;
    let headline: String = SEED.chars().take(16).collect();
    quotes.push(QuoteRecord {
        kind: QuoteKind::Indirect,
        content: SpanRecord {
            start: 0,
            end: 16,
            text: headline,
        },
        pieces: Vec::new(),
        cue: None,
        speaker: None,
        confidence: 0.9,
        stance: None,
        targets: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let predictions = dir.path().join("predictions.jsonl");
    std::fs::write(&predictions, serde_json::to_string(&record).unwrap() + "\n").unwrap();
    let errors_json = dir.path().join("errors.json");
    let output = whosaid(
        &[
            "eval",
            "--gold",
            seed_gold().to_str().unwrap(),
            "--predictions",
            predictions.to_str().unwrap(),
            "--errors",
            "--errors-json",
            errors_json.to_str().unwrap(),
        ],
        b"",
    );
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("end-to-end"), "{shown}");
    assert!(shown.contains("errors: 4 cases"), "{shown}");
    for label in [
        "missed indirect",
        "missing source",
        "missing cue",
        "spurious quote",
    ] {
        assert_eq!(count_of(&shown, label), Some(1), "{label} in\n{shown}");
        assert!(shown.contains(&format!("== {label} (1): ")), "{shown}");
    }
    assert!(shown.contains(&format!("{SEED_ID} @0")), "{shown}");
    assert!(shown.contains("context:   [[Despite progress]]"), "{shown}");

    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&errors_json).unwrap()).unwrap();
    let kinds: Vec<&str> = cases
        .as_array()
        .expect("an array of cases")
        .iter()
        .filter_map(|case| case["kind"].as_str())
        .collect();
    assert_eq!(kinds.len(), 4);
    for kind in [
        "missed_indirect",
        "missing_source",
        "missing_cue",
        "spurious_quote",
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }

    let json = whosaid(
        &[
            "eval",
            "--gold",
            seed_gold().to_str().unwrap(),
            "--predictions",
            predictions.to_str().unwrap(),
            "--errors",
            "--json",
        ],
        b"",
    );
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["error_counts"]["spurious_quote"], 1, "{value:#}");
    assert_eq!(value["errors"].as_array().map(Vec::len), Some(4));
}

#[test]
fn polnear_dev_report_when_the_data_is_here() {
    let Some(dev) = common::polnear("dev") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page_path = dir.path().join("report.html");
    let output = whosaid(
        &[
            "eval",
            "--gold",
            dev.to_str().unwrap(),
            "--errors",
            "--report",
            page_path.to_str().unwrap(),
        ],
        b"",
    );
    let shown = String::from_utf8_lossy(&output.stdout);
    for label in ["missed indirect", "content boundary off", "wrong source"] {
        assert!(
            count_of(&shown, label).is_some_and(|count| count > 0),
            "{label}"
        );
    }
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.matches("<svg").count() >= 3);
    assert!(page.contains("most confident wrong attributions"));
}
