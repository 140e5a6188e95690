//! Fitting the confidence model: run the pipeline on labelled documents, label each attribution
//! by whether it is an end-to-end match, and fit logistic regression to those labels.

use rayon::prelude::*;

use crate::attribute::Features;
use crate::confidence::ConfidenceModel;
use crate::eval::gold::GoldDocument;
use crate::eval::metrics::match_predictions;
use crate::pipeline::Pipeline;

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
    trained_on: String,
    command: String,
) -> (ConfidenceModel, usize) {
    let examples = labelled_attributions(pipeline, gold);
    (
        ConfidenceModel::fit(&examples, trained_on, command),
        examples.len(),
    )
}
