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
    /// Fit it for the default mode's attributions, with this transformer tagger. The tagger
    /// was trained on PolNeAR train, so fit on a split it has not seen (dev).
    #[cfg(feature = "transformer")]
    pub tagger: Option<PathBuf>,
    /// Recalibrate the shipped model of the learned stages (Platt) on fast mode's attributions
    /// of the split, which its taggers did not train on (dev), instead of fitting one.
    pub recalibrate: bool,
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
        #[cfg(feature = "transformer")]
        if let Some(tagger) = &self.tagger {
            return self.run_for_tagger(tagger, progress);
        }
        if self.recalibrate {
            let pipeline = Pipeline::new(PipelineConfig {
                budget: None,
                ..PipelineConfig::fast()
            })?;
            let command = format!(
                "whosaid train confidence --recalibrate --polnear {} --output {}",
                self.polnear.display(),
                self.output.display()
            );
            return self.recalibrate_on(&pipeline, "fast mode", command);
        }
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
        let pipeline = crate::train::spans::rules_pipeline()?;
        let command = format!(
            "whosaid train confidence --rule-spans --polnear {} --output {}",
            self.polnear.display(),
            self.output.display()
        );
        self.fit_with(&pipeline, command)
    }

    /// The default mode's model: fitted on what the pipeline with the transformer tagger makes.
    #[cfg(feature = "transformer")]
    fn run_for_tagger(&self, tagger: &std::path::Path, progress: &dyn Fn(&str)) -> Result<Trained> {
        let pipeline = Pipeline::new(PipelineConfig::training_with_tagger(tagger))?;
        progress(&format!(
            "analysing {} with the tagger {}",
            self.polnear.display(),
            tagger.display()
        ));
        let command = format!(
            "whosaid train confidence --tagger-model {} --polnear {} --output {}",
            tagger.display(),
            self.polnear.display(),
            self.output.display()
        );
        self.recalibrate_on(&pipeline, "the default mode", command)
    }

    /// Platt-scales the shipped model of the learned stages on what `pipeline` makes of the
    /// split, and writes it.
    fn recalibrate_on(&self, pipeline: &Pipeline, mode: &str, command: String) -> Result<Trained> {
        let gold = read_brat_dir(&self.polnear)?;
        let examples = labelled_attributions(pipeline, &gold);
        let trained_on = format!(
            "models/attribution-confidence.json recalibrated (Platt) on {mode}'s \
             attributions of PolNeAR {} ({} documents, {} attributions)",
            self.polnear.display(),
            gold.len(),
            examples.len()
        );
        let model = ConfidenceModel::shipped()?
            .recalibrated(&examples, model_file::provenance(&trained_on, &command));
        model.save(&self.output)?;
        Ok(Trained {
            output: self.output.clone(),
            summary: format!(
                "recalibrated the confidence model on {} attributions from {} documents",
                examples.len(),
                gold.len()
            ),
        })
    }

    /// Fits on what `pipeline` makes of the split, and writes the model.
    fn fit_with(&self, pipeline: &Pipeline, command: String) -> Result<Trained> {
        let gold = read_brat_dir(&self.polnear)?;
        // Fit from features alone: the model in use only sets confidences, which the features
        // do not depend on. No time budget: training must see every document.
        let trained_on = format!(
            "PolNeAR {} ({} documents)",
            self.polnear.display(),
            gold.len()
        );
        let (model, examples) = train_confidence(
            pipeline,
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
