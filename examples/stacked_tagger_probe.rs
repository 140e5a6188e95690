//! A probe for fast mode's next tagger, not shipped: a second pass of the linear tagger that
//! also reads the first pass's tags (stacking). The second pass trains on first-pass tags of
//! PolNeAR train made by taggers of the other folds, as it would see them on new text, and is
//! scored on dev against the first pass alone (docs/EVALUATION.md, "Fast mode's tagger").
//! `MARGINS=1` also gives it the first pass's emission margins, bucketed.
//!
//!     cargo run --release --no-default-features --target-dir target/lean \
//!         --example stacked_tagger_probe

use std::ops::Range;
use std::path::Path;

use whosaid::pipeline::{Pipeline, PipelineConfig, SpanChoice};
use whosaid::tagger::Tag;
use whosaid::train::spans::{
    channel_tags, examples_from_gold, fit_span_model, score_examples, SpanExample, SpanTrainOptions,
};

fn tags_of(model: &whosaid::tagger::SpanModel, example: &SpanExample) -> ([Vec<Tag>; 3], Vec<f32>) {
    let emissions = model.emissions(&example.features);
    (channel_tags(model, &emissions, example), emissions)
}

fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0xcbf29ce484222325, |hash, &part| {
        whosaid::hash::mix(hash, part)
    })
}

fn bucket(distance: usize) -> u64 {
    match distance {
        0 => 0,
        1 => 1,
        2 => 2,
        3..=4 => 3,
        5..=8 => 4,
        9..=16 => 5,
        17..=32 => 6,
        _ => 7,
    }
}

fn tag_code(tag: Tag) -> u64 {
    match tag {
        Tag::Outside => 0,
        Tag::Begin => 1,
        Tag::Inside => 2,
    }
}

/// The example with the first pass's tags as more features of each token.
fn augmented(
    example: &SpanExample,
    first_pass: &([Vec<Tag>; 3], Vec<f32>),
    table_bits: u32,
) -> SpanExample {
    let (first, emissions) = first_pass;
    let margins = std::env::var_os("MARGINS").is_some();
    let mask = (1u64 << table_bits) - 1;
    let count = example.features.len();
    let segment_of = {
        let mut of = vec![usize::MAX; count];
        for (index, segment) in example.segments.iter().enumerate() {
            for token in segment.clone() {
                of[token] = index;
            }
        }
        of
    };
    // For each channel, the predicted span around each token, and the nearest spans' distances.
    let spans: Vec<Vec<Range<usize>>> = (0..3)
        .map(|channel| {
            let mut out = Vec::new();
            let mut start = None;
            for token in 0..=count {
                let tag = first[channel].get(token).copied().unwrap_or(Tag::Outside);
                if tag != Tag::Inside {
                    if let Some(begin) = start.take() {
                        out.push(begin..token);
                    }
                    if tag == Tag::Begin {
                        start = Some(token);
                    }
                }
            }
            out
        })
        .collect();
    let mut rows = Vec::new();
    let mut offsets = vec![0u32];
    for token in 0..count {
        rows.extend_from_slice(example.features.of(token));
        // The first pass's tag of a channel at an offset from the token, 3 past the paragraph.
        let tag_at = |channel: usize, offset: isize| -> u64 {
            token
                .checked_add_signed(offset)
                .filter(|&other| other < count && segment_of[other] == segment_of[token])
                .map_or(3, |other| tag_code(first[channel][other]))
        };
        let mut add = |parts: &[u64]| rows.push((hash(parts) & mask) as u32);
        for channel in 0..3usize {
            let code = channel as u64;
            for offset in -2isize..=2 {
                add(&[1000, code, offset as u64, tag_at(channel, offset)]);
            }
            add(&[
                1001,
                code,
                tag_at(channel, -1),
                tag_at(channel, 0),
                tag_at(channel, 1),
            ]);
            let found = &spans[channel];
            let next = found.partition_point(|span| span.end <= token);
            match found.get(next).filter(|span| span.start <= token) {
                Some(span) => add(&[
                    1002,
                    code,
                    bucket(token - span.start),
                    bucket(span.end - 1 - token),
                ]),
                None => {
                    let left = next
                        .checked_sub(1)
                        .map_or(9, |before| bucket(token - found[before].end));
                    let right = found.get(next).map_or(9, |span| bucket(span.start - token));
                    add(&[1003, code, left, right]);
                }
            }
            if margins {
                let scores = &emissions[token * 9 + channel * 3..token * 9 + channel * 3 + 3];
                let (outside, begin, inside) = (scores[0], scores[1], scores[2]);
                let step =
                    |margin: f32| ((margin / 2.0).round().clamp(-6.0, 6.0) as i64 + 6) as u64;
                add(&[1005, code, step(begin - outside), step(inside - outside)]);
            }
        }
        add(&[
            1004,
            tag_code(first[0][token]),
            tag_code(first[1][token]),
            tag_code(first[2][token]),
        ]);
        offsets.push(rows.len() as u32);
    }
    SpanExample {
        features: whosaid::tagger::features::TokenFeatures { rows, offsets },
        gold: example.gold.clone(),
        segments: example.segments.clone(),
    }
}

fn report(name: &str, scores: &[whosaid::train::spans::SpanScore; 3]) {
    eprintln!(
        "{name}: content {:.1} source {:.1} cue {:.1}",
        100.0 * scores[0].f1(),
        100.0 * scores[1].f1(),
        100.0 * scores[2].f1()
    );
}

fn main() {
    let folds = 4;
    let options = SpanTrainOptions {
        epochs: 8,
        table_bits: 16,
        seed: 17,
    };
    let rules = Pipeline::new(PipelineConfig {
        spans: SpanChoice::Rules,
        budget: None,
        ..PipelineConfig::default()
    })
    .expect("the shipped models load");
    let read = |split: &str| {
        let path = format!("../shared/data/polnear/data/{split}");
        whosaid::eval::brat::read_brat_dir(Path::new(&path)).unwrap_or_else(|error| {
            eprintln!("stacked_tagger_probe: cannot read {path}: {error}");
            std::process::exit(2)
        })
    };
    let (gold, dev_gold) = (read("train"), read("dev"));
    let train = examples_from_gold(&rules, &gold, options.table_bits);
    let dev = examples_from_gold(&rules, &dev_gold, options.table_bits);
    // First pass on all of train, last epoch (no early stopping, as the folds have none).
    let all: Vec<&SpanExample> = train.iter().collect();
    let first = fit_span_model(&all, &[], &options, String::new(), |_| {});
    report("first pass on dev", &score_examples(&first, &dev));
    let mut first_tags: Vec<([Vec<Tag>; 3], Vec<f32>)> = vec![Default::default(); train.len()];
    for fold in 0..folds {
        let part: Vec<&SpanExample> = train
            .iter()
            .enumerate()
            .filter(|(index, _)| index % folds != fold)
            .map(|(_, example)| example)
            .collect();
        let model = fit_span_model(&part, &[], &options, String::new(), |_| {});
        for (index, example) in train.iter().enumerate() {
            if index % folds == fold {
                first_tags[index] = tags_of(&model, example);
            }
        }
        eprintln!("fold {fold} done");
    }
    let train2: Vec<SpanExample> = train
        .iter()
        .zip(&first_tags)
        .map(|(example, tags)| augmented(example, tags, options.table_bits))
        .collect();
    let dev2: Vec<SpanExample> = dev
        .iter()
        .map(|example| augmented(example, &tags_of(&first, example), options.table_bits))
        .collect();
    let all2: Vec<&SpanExample> = train2.iter().collect();
    let _ = fit_span_model(&all2, &dev2, &options, String::new(), |epoch| {
        report(
            &format!("second pass, epoch {}", epoch.epoch),
            &epoch.scores,
        )
    });
}
