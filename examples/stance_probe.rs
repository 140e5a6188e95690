//! Prints the stance probabilities of texts given on standard input, one per line, with the
//! quote (“…”) as the target, or else the whole line: a quick look at what the model makes of a sentence.
use std::io::BufRead;

use whosaid::stance::{StanceConfig, StanceModel, TargetedText};

fn main() -> whosaid::Result<()> {
    let model = StanceModel::new(StanceConfig::default())?;
    let lines: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .collect();
    let inputs: Vec<TargetedText> = lines
        .iter()
        .map(|line| match (line.find('“'), line.rfind('”')) {
            (Some(start), Some(end)) if start < end => {
                whosaid::stance::quote_target(line, start..end + '”'.len_utf8())
            }
            _ => TargetedText {
                text: line,
                targets: vec![std::ops::Range {
                    start: 0,
                    end: line.len(),
                }],
            },
        })
        .collect();
    for (line, probabilities) in lines.iter().zip(model.predict_probabilities(&inputs)?) {
        let [negative, neutral, positive] = probabilities[0];
        println!("neg {negative:.2} neu {neutral:.2} pos {positive:.2}  {line}");
        let _ = &inputs;
    }
    Ok(())
}
