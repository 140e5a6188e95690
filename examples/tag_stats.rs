// Scratch: boundary error statistics of the tagger's content pieces on a split.
use std::collections::BTreeMap;
use whosaid::pipeline::{Pipeline, PipelineConfig, SpanChoice};
use whosaid::tagger::{self, Role, SpanModel};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let gold = whosaid::eval::brat::read_brat_dir(std::path::Path::new(&args[1])).unwrap();
    let model = SpanModel::load(std::path::Path::new(&args[2])).unwrap();
    let rules = Pipeline::new(PipelineConfig {
        spans: SpanChoice::Rules,
        ..Default::default()
    })
    .unwrap();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for doc in &gold {
        let analysed = rules.analyse(&doc.id, &doc.text);
        let proposals = tagger::proposals(&analysed);
        let layers = tagger::layers(&analysed, &proposals, rules.cue_model());
        let features = tagger::features::token_features(&layers, model.table_bits());
        let spans = model.tag(&features, &analysed.segmented);
        let example = tagger::train::span_example(&analysed, &layers, doc, model.table_bits());
        for role in Role::ALL {
            let pred: Vec<_> = spans
                .iter()
                .filter(|s| s.role == role)
                .map(|s| s.tokens.clone())
                .collect();
            let gold: Vec<_> = tagger::spans_of(&example.gold[role.index()], role)
                .into_iter()
                .map(|s| s.tokens)
                .collect();
            for g in &gold {
                let kind = if pred.contains(g) {
                    "exact"
                } else if pred.iter().any(|p| p.start == g.start) {
                    "start ok, end off"
                } else if pred.iter().any(|p| p.end == g.end) {
                    "end ok, start off"
                } else if pred.iter().any(|p| p.start < g.end && g.start < p.end) {
                    "overlap only"
                } else {
                    "missed"
                };
                *counts.entry(format!("{role:?} gold {kind}")).or_default() += 1;
                if role == Role::Content && std::env::var("SHOW").as_deref() == Ok(kind) {
                    let toks = &analysed.segmented.tokens;
                    let t = &analysed.normalised.text;
                    let near: Vec<_> = pred
                        .iter()
                        .filter(|p| p.start < g.end + 3 && g.start < p.end + 3)
                        .collect();
                    let show = |r: &std::ops::Range<usize>| {
                        t[toks[r.start].start..toks[r.end - 1].end].replace('\n', " ")
                    };
                    let ctx = |r: &std::ops::Range<usize>| {
                        let a = toks[r.start.saturating_sub(8)].start;
                        let b = toks[(r.end + 8).min(toks.len()) - 1].end;
                        t[a..b].replace('\n', " ")
                    };
                    println!("GOLD: {}\n  CTX: {}", show(g), ctx(g));
                    for p in near {
                        println!("  PRED: {}", show(p));
                    }
                }
                if role == Role::Cue && kind == "missed" {
                    let toks = &analysed.segmented.tokens;
                    let t = &analysed.normalised.text[toks[g.start].start..toks[g.end - 1].end];
                    *counts
                        .entry(format!("missed cue: {}", t.to_lowercase()))
                        .or_default() += 1;
                }
            }
            for p in &pred {
                if !gold.iter().any(|g| p.start < g.end && g.start < p.end) {
                    *counts.entry(format!("{role:?} spurious")).or_default() += 1;
                }
            }
        }
    }
    for (k, v) in counts {
        println!("{k:40} {v}");
    }
}
