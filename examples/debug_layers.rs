//! Prints the layers of one text file, for looking into what a stage did.
use whosaid::pipeline::{Pipeline, PipelineConfig};

fn main() {
    let path = std::env::args().nth(1).expect("usage: debug_layers FILE");
    let text = std::fs::read_to_string(path).expect("a UTF-8 file");
    let pipeline = Pipeline::new(PipelineConfig::default()).expect("model");
    let document = pipeline.analyse("debug", &text);
    let clean = &document.normalised.text;
    println!("cleaned view:\n{clean}\n");
    for sentence in &document.segmented.sentences {
        println!(
            "sentence (paragraph {}): {}",
            sentence.paragraph,
            &clean[sentence.start..sentence.end]
        );
    }
    for region in &document.regions {
        println!(
            "region standalone={}: {}",
            region.standalone,
            &clean[region.start..region.end]
        );
    }
}
