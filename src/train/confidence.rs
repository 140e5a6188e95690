//! The confidence model's recipe: run the pipeline on labelled documents, label each
//! attribution by whether it is an end-to-end match, and fit logistic regression to those
//! labels.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::attribute::Features;
use crate::confidence::ConfidenceModel;
use crate::error::Result;
use crate::eval::brat::read_brat_dir;
use crate::eval::gold::GoldDocument;
use crate::eval::metrics::match_predictions;
use crate::model_file;
use crate::pipeline::{Pipeline, PipelineConfig};

/// The features and end-to-end labels of every attribution the pipeline makes on `gold`.
pub fn labelled_attributions(pipeline: &Pipeline, gold: &[GoldDocument]) -> Vec<(Features, bool)> {
    gold.par_iter()
        .map(|document| {
            let analysed = pipeline.analyse(&document.id, &document.text);
            let record = analysed.to_record();
            let labels = match_predictions(document, &record);
            analysed
                .attributions
                .iter()
                .zip(labels)
                .map(|(attribution, right)| (attribution.features, right))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

/// Fits the confidence model on `gold`.
pub fn train_confidence(
    pipeline: &Pipeline,
    gold: &[GoldDocument],
    provenance: String,
) -> (ConfidenceModel, usize) {
    let examples = labelled_attributions(pipeline, gold);
    (ConfidenceModel::fit(&examples, provenance), examples.len())
}

/// `whosaid train confidence`: where to read and write.
#[derive(Debug, Clone)]
pub struct ConfidenceRecipe {
    /// The PolNeAR split (brat standoff) to fit on.
    pub polnear: PathBuf,
    pub output: PathBuf,
    /// Fit it for the rule stages' attributions rather than the learned stages'.
    pub rule_spans: bool,
    /// Fit it for interrupted quotes split at sentence ends (see
    /// [`crate::linker::Continuations`]).
    pub split_quotes: bool,
}

/// What a recipe did, for the person who ran it.
#[derive(Debug, Clone)]
pub struct Trained {
    pub output: PathBuf,
    pub summary: String,
}

impl ConfidenceRecipe {
    /// Fits the model and writes it, with the command that rebuilds it.
    pub fn run(&self, progress: &dyn Fn(&str)) -> Result<Trained> {
        if !self.rule_spans {
            let command = format!(
                "whosaid train confidence --polnear {} --output {}{}",
                self.polnear.display(),
                self.output.display(),
                if self.split_quotes {
                    " --split-quotes"
                } else {
                    ""
                }
            );
            let continuations = if self.split_quotes {
                crate::linker::Continuations::SplitAtSentences
            } else {
                crate::linker::Continuations::Joined
            };
            crate::train::linker::train_confidence_command(
                &self.polnear,
                &self.output,
                continuations,
                command,
                progress,
            )?;
            return Ok(Trained {
                output: self.output.clone(),
                summary: "fitted the confidence model of the learned stages".to_string(),
            });
        }
        let gold = read_brat_dir(&self.polnear)?;
        // Fit from features alone: the model in use only sets confidences, which the features
        // do not depend on. No time budget: training must see every document.
        let pipeline = Pipeline::new(PipelineConfig {
            budget: None,
            spans: crate::pipeline::SpanChoice::Rules,
            ..PipelineConfig::default()
        })?;
        let command = format!(
            "whosaid train confidence --rule-spans --polnear {} --output {}",
            self.polnear.display(),
            self.output.display()
        );
        let trained_on = format!(
            "PolNeAR {} ({} documents)",
            self.polnear.display(),
            gold.len()
        );
        let (model, examples) = train_confidence(
            &pipeline,
            &gold,
            model_file::provenance(&trained_on, &command),
        );
        model.save(&self.output)?;
        Ok(Trained {
            output: self.output.clone(),
            summary: format!(
                "fitted the confidence model on {examples} attributions from {} documents",
                gold.len()
            ),
        })
    }
}
