// Scratch: the linker's cue candidates and scores for each piece of a text.
use whosaid::linker::candidates::{cue_candidates, DocumentIndex, FeatureContext};
use whosaid::linker::{rule_links, Linker, SpanSet};
use whosaid::pipeline::{Pipeline, PipelineConfig, SpanChoice};
use whosaid::tagger::{self, SpanModel};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).unwrap();
    let model = SpanModel::load(std::path::Path::new(&args[2])).unwrap();
    let linker = Linker::load(std::path::Path::new(&args[3])).unwrap();
    let rules = Pipeline::new(PipelineConfig {
        spans: SpanChoice::Rules,
        ..Default::default()
    })
    .unwrap();
    let doc = rules.analyse("x", &text);
    let proposals = tagger::proposals(&doc);
    let layers = tagger::layers(&doc, &proposals, rules.cue_model());
    let features = tagger::features::token_features(&layers, model.table_bits());
    let spans =
        SpanSet::from_tagged(model.tag(&features, &doc.segmented)).with_rule_cues(&proposals);
    let clean = &doc.normalised.text;
    let index = DocumentIndex::new(
        clean,
        &doc.segmented,
        &spans.pieces,
        &spans.cues,
        &spans.sources,
    );
    let (rule_cue, rule_source) = rule_links(&proposals, &spans);
    let context = FeatureContext {
        text: clean,
        tokens: &doc.segmented.tokens,
        index: &index,
        pieces: &spans.pieces,
        cues: &spans.cues,
        cue_origin: &spans.cue_origin,
        rule_cue: &rule_cue,
        rule_source: &rule_source,
    };
    let toks = &doc.segmented.tokens;
    let show = |r: &std::ops::Range<usize>| {
        clean[toks[r.start].start..toks[r.end - 1].end]
            .chars()
            .take(60)
            .collect::<String>()
    };
    for piece in 0..spans.pieces.len() {
        println!("PIECE {}", show(&spans.pieces[piece]));
        for (candidate, rank) in cue_candidates(&context, piece) {
            let keys = context.cue_features(piece, candidate, rank, None).0;
            let label = match candidate {
                whosaid::linker::candidates::CueCandidate::Cue(c) => format!(
                    "cue {} (origin {})",
                    show(&spans.cues[c]),
                    spans.cue_origin[c]
                ),
                other => format!("{other:?}"),
            };
            println!("   {:8.2} {}", linker.score(&keys), label);
        }
    }
}
