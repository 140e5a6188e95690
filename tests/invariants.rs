//! Properties that must hold for any input, checked over generated article-like text: quote
//! marks of every kind, names, cues, punctuation, line ends, and garbage.

mod common;

use proptest::prelude::*;
use whosaid::normalise::normalise;
use whosaid::pipeline::{Pipeline, PipelineConfig};
use whosaid::record::{DocumentRecord, QuoteKind};

const FRAGMENTS: &[&str] = &[
    "“",
    "”",
    "\"",
    "''",
    "‘",
    "’",
    "«",
    "»",
    "said",
    "says",
    "told reporters",
    "according to",
    "John Kerry",
    "Sergey Lavrov",
    "U.S. Secretary of State",
    "the minister",
    "officials",
    "he",
    "she",
    "they",
    "Mr.",
    "Dr.",
    ".",
    ",",
    "!",
    "?",
    ":",
    ";",
    "—",
    "(",
    ")",
    "\n",
    "\n\n",
    "\r\n",
    "We are close",
    "the talks",
    "that",
    "would",
    "will",
    "GENEVA (AP) —",
    "😀",
    "é",
    "e\u{301}",
    "مرحبا",
    "\0",
    "\t",
    "ABC",
    "123",
    "Talks resumed",
    "on Friday",
    "block",
    "A.",
];

/// Text built from the fragments, with now and then a run of arbitrary characters.
fn article() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => "\\PC{0,6}",
    ];
    proptest::collection::vec(piece, 0..120).prop_map(|pieces| {
        let mut text = String::new();
        for (index, piece) in pieces.iter().enumerate() {
            if index % 3 != 2 {
                text.push(' ');
            }
            text.push_str(piece);
        }
        text
    })
}

fn pipeline() -> &'static Pipeline {
    static PIPELINE: std::sync::OnceLock<Pipeline> = std::sync::OnceLock::new();
    PIPELINE.get_or_init(|| Pipeline::new(PipelineConfig::default()).expect("the pipeline builds"))
}

/// The marks the normaliser reads as quotation marks: the double prime `″` among them, which some
/// sources type for `"`.
fn is_quote_mark(character: char) -> bool {
    matches!(
        character,
        '"' | '“'
            | '”'
            | '„'
            | '‟'
            | '″'
            | '\''
            | '‘'
            | '’'
            | '«'
            | '»'
            | '‹'
            | '›'
            | '`'
            | '´'
    )
}

fn check_quotes(text: &str, record: &DocumentRecord) -> Result<(), TestCaseError> {
    common::assert_offsets(text, record);
    for quote in &record.quotes {
        if quote.kind == QuoteKind::Direct {
            let content = &quote.content.text;
            prop_assert!(
                content.chars().next().is_some_and(is_quote_mark)
                    && content.chars().last().is_some_and(is_quote_mark),
                "direct quote without its marks: {content:?}"
            );
        }
    }
    let mut spans: Vec<(usize, usize)> = record
        .quotes
        .iter()
        .map(|quote| (quote.content.start, quote.content.end))
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        prop_assert!(pair[0].1 <= pair[1].0, "quotes overlap: {pair:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn spans_index_the_text_and_quotes_neither_lose_their_marks_nor_overlap(text in article()) {
        let record = pipeline().extract("generated", &text);
        check_quotes(&text, &record)?;
    }

    #[test]
    fn the_offset_map_is_total_and_monotonic(text in article()) {
        let normalised = normalise(&text);
        let clean = &normalised.text;
        let mut previous_start = 0;
        let mut previous_end = 0;
        for boundary in (0..=clean.len()).filter(|&at| clean.is_char_boundary(at)) {
            let start = normalised.original_start(boundary);
            let end = normalised.original_end(boundary);
            prop_assert!(start <= text.len() && end <= text.len());
            prop_assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
            prop_assert!(start >= previous_start, "original_start goes back at {boundary}");
            prop_assert!(end >= previous_end, "original_end goes back at {boundary}");
            previous_start = start;
            previous_end = end;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn output_is_the_same_at_one_two_and_eight_threads(
        texts in proptest::collection::vec(article(), 1..24)
    ) {
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let records = pool.install(|| pipeline().predict(&texts));
            serde_json::to_string(&records).unwrap()
        };
        let one = run(1);
        prop_assert_eq!(&one, &run(2));
        prop_assert_eq!(&one, &run(8));
    }
}
