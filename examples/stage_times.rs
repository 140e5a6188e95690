// Scratch: CPU time of each stage over a JSONL corpus, one thread.
use std::time::Instant;
use whosaid::linker::LearnedSpans;
use whosaid::pipeline::{Pipeline, PipelineConfig, SpanChoice};
use whosaid::quotes::{find_quotes, quoted_regions, CueDetector};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let texts: Vec<String> = std::fs::read_to_string(&args[1])
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let learned = LearnedSpans::from_choice(&SpanChoice::Models {
        tagger: Some(args[2].clone().into()),
        linker: Some(args[3].clone().into()),
        joined: true,
    })
    .unwrap()
    .unwrap();
    let rules = Pipeline::new(PipelineConfig {
        spans: SpanChoice::Rules,
        ..Default::default()
    })
    .unwrap();
    let cues = rules.cue_model();
    let mut t = [0f64; 10];
    let names = [
        "normalise",
        "segment",
        "regions",
        "find_quotes",
        "find_speakers",
        "attribute",
        "features",
        "tag",
        "link",
        "to_record+json",
    ];
    for _ in 0..3 {
        for text in &texts {
            let mut clock = Instant::now();
            let mut lap = |i: usize, clock: &mut Instant| {
                t[i] += clock.elapsed().as_secs_f64();
                *clock = Instant::now();
            };
            let normalised = whosaid::normalise::normalise(text);
            lap(0, &mut clock);
            let clean = normalised.text.clone();
            let segmented = whosaid::segment::segment(&clean);
            lap(1, &mut clock);
            let regions = quoted_regions(&clean, &normalised, &segmented);
            lap(2, &mut clock);
            let quotes = find_quotes(
                &clean,
                &segmented,
                &regions,
                CueDetector::Learned(cues.unwrap()),
            );
            lap(3, &mut clock);
            let mut speakers = whosaid::speakers::find_speakers(&clean, &segmented, &regions);
            lap(4, &mut clock);
            let found = speakers.clone();
            let attributions =
                whosaid::attribute::attribute(&clean, &segmented, quotes, &mut speakers);
            lap(5, &mut clock);
            let mut document = whosaid::pipeline::Document {
                id: "x".into(),
                text: text.clone(),
                normalised,
                segmented,
                regions,
                speakers,
                attributions,
            };
            let proposals = whosaid::tagger::proposals(&document);
            let layers = whosaid::tagger::layers(&document, &proposals, cues);
            let features =
                whosaid::tagger::features::token_features(&layers, learned.tagger.table_bits());
            lap(6, &mut clock);
            let tagged = learned.tagger.tag(&features, &document.segmented);
            lap(7, &mut clock);
            let (a, s) =
                whosaid::linker::link_spans(&document, found, &proposals, tagged, &learned);
            lap(8, &mut clock);
            document.attributions = a;
            document.speakers = s;
            let record = document.to_record();
            let _ = serde_json::to_string(&record).unwrap();
            lap(9, &mut clock);
        }
    }
    let n = 3.0 * texts.len() as f64;
    let total: f64 = t.iter().sum();
    for (name, v) in names.iter().zip(t) {
        println!(
            "{name:16} {:7.1} us/doc {:5.1}%",
            1e6 * v / n,
            100.0 * v / total
        );
    }
    println!(
        "total {:.1} us/doc -> {:.0} docs/s",
        1e6 * total / n,
        n / total
    );
}
