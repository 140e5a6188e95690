// Scratch: prints the tokens of a text between two byte offsets with their tags.
use whosaid::pipeline::{Pipeline, PipelineConfig, SpanChoice};
use whosaid::tagger::{self, SpanModel, Tag};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).unwrap();
    let model = SpanModel::load(std::path::Path::new(&args[2])).unwrap();
    let (from, to) = (
        args[3].parse::<usize>().unwrap(),
        args[4].parse::<usize>().unwrap(),
    );
    let rules = Pipeline::new(PipelineConfig {
        spans: SpanChoice::Rules,
        ..Default::default()
    })
    .unwrap();
    let analysed = rules.analyse("x", &text);
    let proposals = tagger::proposals(&analysed);
    let layers = tagger::layers(&analysed, &proposals, rules.cue_model());
    let features = tagger::features::token_features(&layers, model.table_bits());
    let spans = model.tag(&features, &analysed.segmented);
    let n = analysed.segmented.tokens.len();
    let mut tags = vec![[Tag::Outside; 3]; n];
    for s in &spans {
        for t in s.tokens.clone() {
            tags[t][s.role.index()] = if t == s.tokens.start {
                Tag::Begin
            } else {
                Tag::Inside
            };
        }
    }
    let c = |t: Tag| match t {
        Tag::Outside => '.',
        Tag::Begin => 'B',
        Tag::Inside => 'I',
    };
    let em = model.emissions(&features);
    for (i, tok) in analysed.segmented.tokens.iter().enumerate() {
        if tok.start < from || tok.start > to {
            continue;
        }
        let p: String = tags[i].iter().map(|&t| c(t)).collect();
        let sent = analysed.segmented.sentence_of(i).unwrap_or(0);
        println!(
            "{:5} s{:<3} {} {:>14} cueB={:6.2} srcB={:6.2} conB={:6.2}",
            i,
            sent,
            p,
            &analysed.normalised.text[tok.start..tok.end],
            em[i * 9 + 7],
            em[i * 9 + 4],
            em[i * 9 + 1]
        );
    }
}
