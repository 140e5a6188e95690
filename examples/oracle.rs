// Scratch: the linker on gold spans (an upper bound of the tagger's share of the errors).
use whosaid::linker::{self, LearnedSpans};
use whosaid::pipeline::{Pipeline, PipelineConfig, SpanChoice};
use whosaid::tagger::{self, Role, TaggedSpan};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let gold = whosaid::eval::brat::read_brat_dir(std::path::Path::new(&args[1])).unwrap();
    let learned = LearnedSpans::from_choice(&SpanChoice::Models {
        tagger: Some(args[2].clone().into()),
        linker: Some(args[3].clone().into()),
        joined: args.len() > 4,
    })
    .unwrap()
    .unwrap();
    let rules = Pipeline::new(PipelineConfig {
        spans: SpanChoice::Rules,
        ..Default::default()
    })
    .unwrap();
    let mut records = Vec::new();
    for doc in &gold {
        let mut analysed = rules.analyse(&doc.id, &doc.text);
        let found = whosaid::speakers::find_speakers(
            &analysed.normalised.text,
            &analysed.segmented,
            &analysed.regions,
        );
        let proposals = tagger::proposals(&analysed);
        let layers = tagger::layers(&analysed, &proposals, rules.cue_model());
        let example =
            tagger::train::span_example(&analysed, &layers, doc, learned.tagger.table_bits());
        let mut spans: Vec<TaggedSpan> = Vec::new();
        for role in Role::ALL {
            spans.extend(tagger::spans_of(&example.gold[role.index()], role));
        }
        let (attributions, speakers) =
            linker::link_spans(&analysed, found, &proposals, spans, &learned);
        analysed.attributions = attributions;
        analysed.speakers = speakers;
        records.push(analysed.to_record());
    }
    println!("{}", whosaid::eval::metrics::score(&gold, &records));
}
