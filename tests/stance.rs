//! The stance stage on the real encoder: all-MiniLM-L6-v2 as `scripts/setup` installs it from
//! PyPI, and the shipped head.
#![cfg(feature = "transformer")]

mod common;

use std::sync::OnceLock;

use whosaid::encoder::{Encoder, EncoderConfig};
use whosaid::eval::stance::{read_quote_stance, StanceReport};
use whosaid::pipeline::{Pipeline, PipelineConfig};
use whosaid::record::DocumentRecord;
use whosaid::stance::{quote_target, StanceConfig, StanceLabel, StanceModel};

fn model() -> &'static std::sync::Mutex<StanceModel> {
    static MODEL: OnceLock<std::sync::Mutex<StanceModel>> = OnceLock::new();
    MODEL.get_or_init(|| {
        std::sync::Mutex::new(
            StanceModel::new(StanceConfig::default())
                .expect("the encoder installed by scripts/setup loads"),
        )
    })
}

/// The default mode: the rule stages, then the encoder pass and the stance head.
fn full_pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        Pipeline::new(PipelineConfig {
            stance: Some(StanceConfig::default()),
            ..PipelineConfig::default()
        })
        .expect("the encoder installed by scripts/setup loads")
    })
}

/// The default mode as the command line builds it: the transformer tagger, whose states the
/// stance head reads.
fn default_mode() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        Pipeline::new(PipelineConfig::default_mode(Some(2)))
            .expect("the encoder installed by scripts/setup loads")
    })
}

#[test]
fn the_default_mode_reads_stance_from_the_taggers_own_pass() {
    let pipeline = default_mode();
    let names = pipeline.stage_names();
    let tagging = names.iter().position(|name| *name == "transformer tagging");
    let stance = names
        .iter()
        .position(|name| *name == "stance from the tagger's states");
    assert!(tagging < stance && tagging.is_some(), "{names:?}");
    // One encoder pass: not the stance stage that encodes its windows again.
    assert!(!names.contains(&"stance"), "{names:?}");
    assert_eq!(pipeline.suggested_chunk_size(), 32);
    let record = pipeline.extract("seed", common::SEED);
    assert!(record.quotes.len() >= 8);
    for quote in &record.quotes {
        let stance = quote.stance.expect("every quote gets a stance");
        assert!((1.0 / 3.0..=1.0).contains(&stance.confidence), "{stance:?}");
    }
    // The states are dropped once read: records stay the same whether or not they are kept.
    let mut kept = [whosaid::document::Document::new("seed", common::SEED)];
    pipeline.run(&mut kept, None);
    assert!(kept[0].token_states.is_none());
    assert_eq!(kept[0].to_record(), record);
}

/// The default mode with each piece of an interrupted quote after a sentence end made a quote
/// of its own (`extract --split-quotes`).
fn default_mode_split() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        Pipeline::new(PipelineConfig {
            spans: whosaid::linker::SpanChoice::Models {
                tagger: None,
                linker: None,
                continuations: whosaid::linker::Continuations::SplitAtSentences,
            },
            ..PipelineConfig::default_mode(Some(2))
        })
        .expect("the encoder installed by scripts/setup loads")
    })
}

fn stance_of(record: &DocumentRecord, content: &str) -> whosaid::labels::StanceScore {
    let quote = record
        .quotes
        .iter()
        .find(|quote| quote.content.text.contains(content))
        .unwrap_or_else(|| panic!("no quote {content}"));
    quote.stance.expect("every quote gets a stance")
}

#[test]
fn the_seed_quote_on_growing_trust_is_positive_in_the_default_mode() {
    let record = default_mode().extract("seed", common::SEED);
    let stance = stance_of(&record, "The mutual trust is growing");
    assert_eq!(stance.label, StanceLabel::Positive, "{stance:?}");
}

#[test]
fn the_seed_quotes_that_look_forward_are_positive_read_piece_by_piece() {
    let record = default_mode_split().extract("seed", common::SEED);
    for content in [
        "We are close,",
        "The mutual trust is growing with every meeting.",
    ] {
        let stance = stance_of(&record, content);
        assert_eq!(stance.label, StanceLabel::Positive, "{content}: {stance:?}");
    }
    // Split, the piece after Kerry's cue is a quote of its own, and not positive: the positive
    // reading above is the first piece's, not the whole quote's.
    let rush = stance_of(&record, "But we are not going to rush");
    assert_ne!(rush.label, StanceLabel::Positive, "{rush:?}");
}

#[test]
fn a_head_trained_on_another_taggers_states_is_refused() {
    let mut head = whosaid::stance::StanceHead::shipped_for_tagger().expect("shipped");
    assert!(head.tagger_digest.is_some());
    head.tagger_digest = Some("0".repeat(64));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("head.json");
    head.save(&path).unwrap();
    let mut config = PipelineConfig::default_mode(Some(1));
    if let Some(stance) = config.stance.as_mut() {
        stance.head = Some(path.clone());
    }
    let message = Pipeline::new(config)
        .err()
        .expect("the head does not match the tagger")
        .to_string();
    assert!(
        message.contains("another transformer tagger") && message.contains("head.json"),
        "{message}"
    );
    // Without a transformer tagger (the linear one), such a head has no states to read.
    let linear = PipelineConfig {
        stance: Some(StanceConfig {
            head: Some(path),
            ..StanceConfig::default()
        }),
        ..PipelineConfig::default()
    };
    let message = Pipeline::new(linear).err().expect("no tagger").to_string();
    assert!(message.contains("no transformer tagger"), "{message}");
}

fn seed_with_stance() -> DocumentRecord {
    let record = full_pipeline().extract("seed", common::SEED);
    assert!(record.error.is_none(), "{:?}", record.error);
    record
}

#[test]
#[ignore = "known failure: the default mode reads Kerry's whole quote (“We are close,” … “But we are not going to rush …”) as neutral, and the plain encoder's head reads “We are close,” as neutral (issue 13 stays open; docs/STANCE.md, “Known failure”)"]
fn the_seed_quotes_that_look_forward_are_positive() {
    for record in [
        default_mode().extract("seed", common::SEED),
        seed_with_stance(),
    ] {
        for content in [
            "We are close,",
            "The mutual trust is growing with every meeting.",
        ] {
            let stance = stance_of(&record, content);
            assert_eq!(stance.label, StanceLabel::Positive, "{content}: {stance:?}");
        }
    }
}

#[test]
fn every_quote_gets_a_probability_and_its_targets_index_the_text() {
    let record = seed_with_stance();
    assert!(!record.quotes.is_empty());
    for quote in &record.quotes {
        assert!(
            quote.stance.is_some() && quote.targets.is_some(),
            "{quote:?}"
        );
    }
    common::assert_offsets(common::SEED, &record);
    // Kerry's report of agreeing "with Lavrov" names Lavrov, not Kerry himself.
    let agreed = record
        .quotes
        .iter()
        .find(|quote| quote.content.text.contains("vast majority"))
        .expect("the mixed quote");
    let targets = agreed.targets.as_ref().unwrap();
    let speaker = &agreed.speaker.as_ref().unwrap().entity;
    assert!(targets.iter().all(|target| &target.entity != speaker));
    assert!(targets.iter().any(|target| target.mention.text == "Lavrov"));
}

#[test]
fn probabilities_sum_to_one_for_every_target() {
    let model = model().lock().unwrap();
    let text = "Critics say the deal is a disaster, but Lavrov praised Kerry.";
    let targets = vec![
        text.find("Lavrov").unwrap()..text.find("Lavrov").unwrap() + 6,
        text.find("Kerry").unwrap()..text.find("Kerry").unwrap() + 5,
        0..text.len(),
    ];
    let probabilities = model
        .predict_probabilities(&[whosaid::stance::TargetedText { text, targets }])
        .unwrap();
    assert_eq!(probabilities[0].len(), 3);
    for distribution in &probabilities[0] {
        assert!(distribution.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!((distribution.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}

#[test]
fn batching_and_padding_do_not_change_token_states() {
    let encoder = Encoder::new(EncoderConfig {
        batch_size: 4,
        ..EncoderConfig::default()
    })
    .unwrap();
    let texts = [
        "Short.",
        "A somewhat longer sentence about talks in Geneva between two ministers.",
        "",
        "“We are close,” U.S. Secretary of State John Kerry said.",
        "Ünïcödé and emoji 😀 do not shift the offsets.",
    ];
    let together = encoder.encode(&texts).unwrap();
    for (text, batched) in texts.iter().zip(&together) {
        let alone = &encoder.encode(&[text]).unwrap()[0];
        assert_eq!(alone.offsets, batched.offsets, "{text}");
        let largest = alone
            .states
            .iter()
            .zip(&batched.states)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(largest < 1e-4, "{text}: states differ by {largest}");
        for range in batched.offsets.iter().flatten() {
            assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        }
    }
    let embedding = &encoder.embed(&[texts[1]]).unwrap()[0];
    let norm: f32 = embedding.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4);
}

#[test]
fn hand_labelled_quotes_beat_the_majority_class() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/quote-stance.jsonl");
    let examples = read_quote_stance(&path).unwrap();
    assert!(examples.len() >= 30);
    let model = model().lock().unwrap();
    let inputs: Vec<_> = examples
        .iter()
        .map(|example| quote_target(&example.text, example.quote.clone()))
        .collect();
    let probabilities = model.predict_probabilities(&inputs).unwrap();
    let predictions: Vec<_> = examples
        .iter()
        .zip(probabilities)
        .map(|(example, targets)| (example.label, targets[0]))
        .collect();
    let report = StanceReport::new(&predictions, StanceLabel::Negative);
    assert!(
        report.model.macro_f1 > report.majority.macro_f1 + 0.2,
        "{report}"
    );
}

#[test]
fn a_missing_encoder_is_an_error_that_names_the_folder() {
    let result = StanceModel::new(StanceConfig {
        encoder: EncoderConfig {
            model_dir: "/nonexistent/encoder".into(),
            ..EncoderConfig::default()
        },
        head: None,
        encoder_threads: 2,
        tagger: None,
    });
    let message = result.err().expect("no model there").to_string();
    assert!(message.contains("/nonexistent/encoder"), "{message}");
}

#[test]
fn fine_tuning_moves_only_bias_terms_and_the_head_carries_them() {
    use whosaid::stance::StanceHead;
    use whosaid::train::{fine_tune_stance, StanceTrainOptions, TuningText};

    // As `whosaid train stance` does: gradients need float32 weights, and the encoder has the
    // layers the head reads.
    let mut encoder = Encoder::new(EncoderConfig {
        precision: whosaid::encoder::Precision::Float32,
        layers: StanceHead::shipped().unwrap().encoder_layers,
        ..EncoderConfig::default()
    })
    .unwrap();
    let weight_name = "encoder.layer.0.attention.self.query.weight";
    let bias_name = "encoder.layer.0.attention.self.query.bias";
    let snapshot = |encoder: &Encoder, name: &str| {
        Vec::<f32>::try_from(&encoder.variables()[name].detach().contiguous().view(-1)).unwrap()
    };
    let (weight_before, bias_before) = (
        snapshot(&encoder, weight_name),
        snapshot(&encoder, bias_name),
    );
    let sentences = [
        (
            "Critics called Smith's plan a disaster.",
            StanceLabel::Negative,
        ),
        (
            "Smith won praise for a brilliant plan.",
            StanceLabel::Positive,
        ),
        ("Smith met the committee on Tuesday.", StanceLabel::Neutral),
    ];
    let texts: Vec<TuningText> = (0..12)
        .map(|index| {
            let (text, label) = sentences[index % 3];
            let start = text.find("Smith").unwrap();
            TuningText {
                text: text.to_string(),
                targets: vec![(start..start + 5, label, 1.0)],
            }
        })
        .collect();
    let start = StanceHead::shipped().unwrap();
    let options = StanceTrainOptions {
        epochs: 1,
        batch_size: 4,
        ..StanceTrainOptions::default()
    };
    let tuned = fine_tune_stance(&mut encoder, &texts, &start, &options, 1e-2, 1).unwrap();
    assert_eq!(snapshot(&encoder, weight_name), weight_before);
    assert_ne!(snapshot(&encoder, bias_name), bias_before);
    assert!(!tuned.encoder_biases.is_empty());
    assert!(tuned
        .encoder_biases
        .keys()
        .all(|name| name.ends_with(".bias")));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("head.json");
    tuned.save(&path).unwrap();
    let model = StanceModel::new(StanceConfig {
        head: Some(path),
        ..StanceConfig::default()
    })
    .expect("a fine-tuned head loads with its biases");
    let scores = model.predict(&["Smith won praise."]).unwrap();
    assert!((0.0..=1.0).contains(&scores[0].confidence));
}

#[test]
fn an_encoder_pool_gives_the_states_of_one_encoder() {
    use whosaid::encoder::{EncoderPool, Precision};

    let config = EncoderConfig {
        batch_size: 2,
        precision: Precision::Float32,
        ..EncoderConfig::default()
    };
    let texts: Vec<String> = (0..9)
        .map(|index| format!("Sentence {index} says {} things.", "many ".repeat(index)))
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let single = Encoder::new(config.clone())
        .unwrap()
        .encode(&texts)
        .unwrap();
    let pool = EncoderPool::new(config, 3, |_| Ok(())).unwrap();
    let pooled = pool.encode(&texts).unwrap();
    assert_eq!(single.len(), pooled.len());
    for ((text, one), many) in texts.iter().zip(&single).zip(&pooled) {
        assert_eq!(one.offsets, many.offsets, "{text}");
        let largest = one
            .states
            .iter()
            .zip(&many.states)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(largest < 1e-4, "{text}: states differ by {largest}");
    }
}
