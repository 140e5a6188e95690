// Scratch: prints each token of a document with its tagged and gold tags.
use whosaid::pipeline::{Pipeline, PipelineConfig, SpanChoice};
use whosaid::tagger::{self, Role, SpanModel, Tag};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (dir, id, model, from, to) = (
        &args[1],
        &args[2],
        &args[3],
        args[4].parse::<usize>().unwrap(),
        args[5].parse::<usize>().unwrap(),
    );
    let gold = whosaid::eval::brat::read_brat_dir(std::path::Path::new(dir)).unwrap();
    let doc = gold.iter().find(|d| d.id.contains(id.as_str())).unwrap();
    let rules = Pipeline::new(PipelineConfig {
        spans: SpanChoice::Rules,
        ..Default::default()
    })
    .unwrap();
    let model = SpanModel::load(std::path::Path::new(model)).unwrap();
    let analysed = rules.analyse(&doc.id, &doc.text);
    let proposals = tagger::proposals(&analysed);
    let layers = tagger::layers(&analysed, &proposals, rules.cue_model());
    let features = tagger::features::token_features(&layers, model.table_bits());
    let spans = model.tag(&features, &analysed.segmented);
    let example = tagger::train::span_example(&analysed, &layers, doc, model.table_bits());
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
    let spans_char = tagger::train::token_char_spans(&analysed);
    let c = |t: Tag| match t {
        Tag::Outside => '.',
        Tag::Begin => 'B',
        Tag::Inside => 'I',
    };
    for (i, tok) in analysed.segmented.tokens.iter().enumerate() {
        if spans_char[i].0 < from || spans_char[i].0 > to {
            continue;
        }
        let g: String = Role::ALL
            .iter()
            .map(|r| c(example.gold[r.index()][i]))
            .collect();
        let p: String = Role::ALL.iter().map(|r| c(tags[i][r.index()])).collect();
        println!(
            "{:5} {} {} {}{}",
            i,
            g,
            p,
            &analysed.normalised.text[tok.start..tok.end],
            if g != p { "   <<<" } else { "" }
        );
    }
}
