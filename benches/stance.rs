//! Speed of the stance stage and of its encoder. Run with `scripts/bench-stance`, which also
//! times Python's sentence-transformers on the same texts; or alone:
//!
//!     cargo bench --bench stance -- encoder TEXTS.txt THREADS [unsorted] [bf16]
//!     cargo bench --bench stance -- stance POLNEAR_TEXT_DIR THREADS
//!
//! `encoder` encodes one text per line of TEXTS.txt (batches of 32, as sentence-transformers
//! does; all six layers, in float32 as Python does unless `bf16` is given); `stance` runs the rule stages on every .txt in the folder, then times the stance stage
//! alone over all their quotes. Each prints one JSON line.
use std::path::Path;
use std::time::Instant;

use whosaid::document::Document;
use whosaid::encoder::{Encoder, EncoderConfig, Precision};
use whosaid::pipeline::{Pipeline, PipelineConfig};
use whosaid::stance::{stance_stages, StanceConfig};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn encoder_bench(path: &Path, threads: i32, sorted: bool, precision: Precision) {
    tch::set_num_threads(threads);
    let text = std::fs::read_to_string(path).expect("the texts file reads");
    let texts: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let encoder = Encoder::new(EncoderConfig {
        sort_by_length: sorted,
        precision,
        batch_size: 32,
        ..EncoderConfig::default()
    })
    .expect("the encoder loads");
    encoder
        .embed(&texts[..texts.len().min(64)])
        .expect("warm-up");
    let started = Instant::now();
    let embeddings = encoder.embed(&texts).expect("encoding works");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"bench": "encoder", "texts": embeddings.len(), "threads": threads,
            "sorted_by_length": sorted, "precision": format!("{precision:?}"), "seconds": seconds,
            "texts_per_second": embeddings.len() as f64 / seconds, "peak_rss_mib": peak_rss_mib()})
    );
}

fn stance_bench(dir: &Path, threads: i32) {
    tch::set_num_threads(threads);
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("the text folder reads")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "txt"))
        .collect();
    paths.sort();
    let texts: Vec<String> = paths
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("a text reads"))
        .collect();
    let pipeline = Pipeline::new(PipelineConfig {
        budget: None,
        ..PipelineConfig::default()
    })
    .expect("the pipeline builds");
    let mut documents: Vec<Document> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| Document::new(index.to_string(), text.as_str()))
        .collect();
    pipeline.run(&mut documents, None);
    let quotes: usize = documents
        .iter()
        .map(|document| document.attributions.len())
        .sum();
    // As `whosaid extract --threads N` builds it: N encoders side by side, after the rule
    // stages, over chunks of 256 documents.
    let config = StanceConfig {
        encoder_threads: threads as usize,
        ..StanceConfig::default()
    };
    let head = config.load_head().expect("the shipped head loads");
    let stance = Pipeline::with_stages(
        stance_stages(config, head, None).expect("the stance model loads"),
        None,
    );
    let started = Instant::now();
    for chunk in documents.chunks_mut(256) {
        stance.run(chunk, None);
    }
    assert!(documents.iter().all(|document| document.stance.is_some()));
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"bench": "stance", "documents": texts.len(), "quotes": quotes,
            "threads": threads, "seconds": seconds, "quotes_per_second": quotes as f64 / seconds,
            "peak_rss_mib": peak_rss_mib()})
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| arg != "--bench")
        .collect();
    let threads = args
        .get(2)
        .and_then(|value| value.parse().ok())
        .unwrap_or(1);
    let options = args.get(3..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("encoder") => encoder_bench(
            Path::new(&args[1]),
            threads,
            !options.iter().any(|arg| arg == "unsorted"),
            if options.iter().any(|arg| arg == "bf16") {
                Precision::BFloat16
            } else {
                Precision::Float32
            },
        ),
        Some("stance") => stance_bench(Path::new(&args[1]), threads),
        _ => eprintln!(
            "usage: stance (encoder TEXTS.txt THREADS [unsorted] [bf16] | stance TEXT_DIR THREADS)"
        ),
    }
}
