//! The cue model's recipe: every lower-case word outside quotation marks in labelled
//! documents, labelled by whether it lies in a gold cue.

use std::path::PathBuf;

use crate::cue::{fit_cue_model, CueExample, CueTrainOptions};
use crate::error::Result;
use crate::eval::brat::read_brat_dir;
use crate::eval::gold::GoldDocument;

use super::confidence::Trained;

/// The cue examples of a labelled document: every lower-case word outside quotation marks, as
/// quote finding scans them, labelled by whether it lies in a gold cue ("said" in "has said"
/// is a cue word, though the span starts at "has").
pub fn cue_examples(document: &GoldDocument) -> Vec<CueExample> {
    use crate::quotes::{quoted_regions, token_text};
    use crate::segment::{segment, TokenKind};

    let normalised = crate::normalise::normalise(&document.text);
    let clean = normalised.text.as_str();
    let segmented = segment(clean);
    let regions = quoted_regions(clean, &normalised, &segmented);
    let index = crate::offsets::CharIndex::new(&document.text);
    let mut cue_pieces: Vec<(usize, usize)> = document
        .attributions
        .iter()
        .filter_map(|attribution| attribution.cue.as_ref())
        .flat_map(|pieces| pieces.iter().map(|piece| (piece.start, piece.end)))
        .collect();
    cue_pieces.sort_unstable();
    let in_cue = |offset: usize| {
        let after = cue_pieces.partition_point(|&(start, _)| start <= offset);
        cue_pieces[..after]
            .iter()
            .rev()
            .take(8)
            .any(|&(_, end)| offset < end)
    };
    let mut quoted = vec![false; segmented.tokens.len()];
    for region in &regions {
        let end = region.tokens.end.min(quoted.len());
        let start = region.tokens.start.min(end);
        quoted[start..end].iter_mut().for_each(|flag| *flag = true);
    }
    let mut examples = Vec::new();
    for sentence in &segmented.sentences {
        for at in sentence.tokens.clone() {
            let token = &segmented.tokens[at];
            let word = token_text(clean, token);
            if token.kind != TokenKind::Word
                || quoted[at]
                || !word.chars().next().is_some_and(char::is_lowercase)
            {
                continue;
            }
            let original = index.char_offset(normalised.original_start(token.start));
            let features = crate::cue::cue_features(clean, &segmented.tokens, at, &sentence.tokens);
            examples.push((word.to_lowercase(), features, in_cue(original)));
        }
    }
    examples
}

/// `whosaid train cue`: where to read and write, and the decision threshold.
#[derive(Debug, Clone)]
pub struct CueRecipe {
    /// The PolNeAR split (brat standoff) to fit on.
    pub polnear: PathBuf,
    pub output: PathBuf,
    /// A candidate word is a cue when its probability reaches this.
    pub threshold: f32,
}

impl CueRecipe {
    /// Fits the model and writes it, with the command that rebuilds it.
    pub fn run(&self) -> Result<Trained> {
        let started = std::time::Instant::now();
        let gold = read_brat_dir(&self.polnear)?;
        let examples: Vec<CueExample> = gold.iter().flat_map(cue_examples).collect();
        let options = CueTrainOptions {
            threshold: self.threshold,
            ..Default::default()
        };
        let positives = examples.iter().filter(|(_, _, is_cue)| *is_cue).count();
        let provenance = format!(
            "PolNeAR {} ({} documents, {} words, {positives} of them cues); rebuild with: whosaid train cue --polnear {} --output {} --threshold {}",
            self.polnear.display(),
            gold.len(),
            examples.len(),
            self.polnear.display(),
            self.output.display(),
            self.threshold,
        );
        let model = fit_cue_model(&examples, &options, provenance);
        model.save(&self.output)?;
        Ok(Trained {
            output: self.output.clone(),
            summary: format!(
                "fitted the cue model on {} words ({positives} cues, {} candidate words, {} weights) in {:.1} s",
                examples.len(),
                model.candidates.len(),
                model.weights.len(),
                started.elapsed().as_secs_f64(),
            ),
        })
    }
}
