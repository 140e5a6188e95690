//! The calibrated confidence of an attribution: logistic regression over the attribution's
//! features, fitted by `whosaid train confidence` on PolNeAR train, where an attribution counts
//! as right when it is an end-to-end match (content and source overlap a gold attribution).
//!
//! Logistic regression fitted by maximum likelihood is calibrated on its training distribution;
//! `docs/EVALUATION.md` gives its expected calibration error on PolNeAR dev.

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::attribute::{Features, Resolution};
use crate::document::Document;
use crate::error::Result;
use crate::labels::{MentionKind, QuoteKind};
use crate::model_file::{self, ModelFile};
use crate::quotes::Pattern;
use crate::stage::{Check, Clock, DocumentStage, Halt};

/// The names of the features, in the order of [`feature_vector`].
pub const FEATURE_NAMES: [&str; 27] = [
    "pattern_direct_cue_after",
    "pattern_direct_cue_before",
    "pattern_direct_floating",
    "pattern_indirect_cue_before",
    "pattern_indirect_cue_after",
    "pattern_according_to",
    "mention_name",
    "mention_pronoun",
    "mention_nominal",
    "no_speaker",
    "resolution_previous_speaker",
    "resolution_earlier_mention",
    "resolution_unresolved",
    "speech_cue",
    "log_content_words",
    "log_cue_distance",
    "source_after_cue",
    "log_sentences_since_speaker",
    "starts_with_that",
    "kind_mixed",
    "kind_indirect",
    "named_entity",
    "log_cues_in_sentence",
    "linker_quote_probability",
    "linker_source_probability",
    "linker_quote_log_odds",
    "linker_source_log_odds",
];

/// The model's input for one attribution.
pub fn feature_vector(features: &Features) -> [f64; FEATURE_NAMES.len()] {
    let flag = |on: bool| if on { 1.0 } else { 0.0 };
    let log = |count: usize| (1.0 + count as f64).ln();
    let pattern = |wanted: Pattern| flag(features.pattern == Some(wanted));
    let mention = |wanted: MentionKind| flag(features.mention_kind == Some(wanted));
    [
        pattern(Pattern::DirectCueAfter),
        pattern(Pattern::DirectCueBefore),
        pattern(Pattern::DirectFloating),
        pattern(Pattern::IndirectCueBefore),
        pattern(Pattern::IndirectCueAfter),
        pattern(Pattern::AccordingTo),
        mention(MentionKind::Name),
        mention(MentionKind::Pronoun),
        mention(MentionKind::Nominal),
        flag(features.mention_kind.is_none()),
        flag(features.resolution == Resolution::PreviousSpeaker),
        flag(features.resolution == Resolution::EarlierMention),
        flag(features.resolution == Resolution::Unresolved),
        flag(features.speech_cue),
        log(features.content_words),
        log(features.cue_distance),
        flag(features.source_after_cue),
        log(features.sentences_since_speaker),
        flag(features.starts_with_that),
        flag(features.quote_kind == Some(QuoteKind::Mixed)),
        flag(features.quote_kind == Some(QuoteKind::Indirect)),
        flag(features.named_entity),
        log(features.cues_in_sentence),
        // Where no linker decided, a rule did, and the rules' own features carry the rest.
        features.quote_probability.map_or(1.0, f64::from),
        features.source_probability.map_or(1.0, f64::from),
        log_odds(features.quote_probability),
        log_odds(features.source_probability),
    ]
}

/// A linker probability as log-odds, bounded so that a sure decision stays a finite input.
fn log_odds(probability: Option<f32>) -> f64 {
    let probability = probability.map_or(1.0, f64::from).clamp(1e-4, 1.0 - 1e-4);
    (probability / (1.0 - probability)).ln()
}

/// A fitted logistic regression over standardised features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceModel {
    pub format: String,
    pub version: u32,
    /// What the model was fitted on, and the command that fits it again.
    pub provenance: String,
    pub features: Vec<String>,
    pub means: Vec<f64>,
    pub scales: Vec<f64>,
    pub weights: Vec<f64>,
    pub bias: f64,
    /// Where each of `features` is in [`feature_vector`], found once, on first use.
    #[serde(skip)]
    columns: Columns,
}

/// A cache of what the model's fields already say, so it takes no part in comparing models.
#[derive(Debug, Clone, Default)]
struct Columns(OnceLock<Vec<usize>>);

impl PartialEq for Columns {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The models shipped in `models/`, built into the binary so that they run from anywhere: one
/// for the learned stages' attributions, one for the rule stages' alone (`--rule-spans`).
const SHIPPED_MODEL: &str = include_str!("../models/attribution-confidence.json");
const SHIPPED_RULE_MODEL: &str = include_str!("../models/rule-confidence.json");
const SHIPPED_TRANSFORMER_MODEL: &str = include_str!("../models/transformer-confidence.json");
const SHIPPED_FAST_MODEL: &str = include_str!("../models/fast-confidence.json");

impl ModelFile for ConfidenceModel {
    const FORMAT: &'static str = "whosaid-confidence-model";
    const VERSION: u32 = 1;

    fn expected_features() -> Vec<String> {
        FEATURE_NAMES.iter().map(|name| name.to_string()).collect()
    }
    /// A model may read any of the features this build computes, each once, so that a model
    /// fitted before a feature was added still runs; a feature this build does not compute is
    /// an error.
    fn reads_known_features(features: &[String]) -> bool {
        features.iter().enumerate().all(|(index, name)| {
            FEATURE_NAMES.contains(&name.as_str()) && !features[..index].contains(name)
        })
    }
    crate::model_file::header_fields!();
    fn validate(&self) -> std::result::Result<(), String> {
        let count = self.features.len();
        (self.means.len() == count && self.scales.len() == count && self.weights.len() == count)
            .then_some(())
            .ok_or_else(|| "its means, scales and weights are not one per feature".into())
    }
}

impl ConfidenceModel {
    /// The model shipped with whosaid, for the learned stages' attributions.
    pub fn shipped() -> Result<Self> {
        model_file::parse(
            SHIPPED_MODEL,
            Path::new("models/attribution-confidence.json"),
        )
    }

    /// The model shipped with whosaid for the rule stages' attributions.
    pub fn shipped_for_rules() -> Result<Self> {
        model_file::parse(SHIPPED_RULE_MODEL, Path::new("models/rule-confidence.json"))
    }

    /// The model shipped with whosaid for the default mode's attributions (the transformer
    /// tagger's spans, linked).
    pub fn shipped_for_transformer() -> Result<Self> {
        model_file::parse(
            SHIPPED_TRANSFORMER_MODEL,
            Path::new("models/transformer-confidence.json"),
        )
    }

    /// The model shipped with whosaid for fast mode's attributions (the learned stages with the
    /// shipped linear tagger): [`ConfidenceModel::shipped`] recalibrated on dev.
    pub fn shipped_for_fast() -> Result<Self> {
        model_file::parse(SHIPPED_FAST_MODEL, Path::new("models/fast-confidence.json"))
    }

    pub fn load(path: &Path) -> Result<Self> {
        model_file::load(path)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        model_file::save(self, path, true)
    }

    /// The probability that an attribution with these features is right.
    pub fn probability(&self, features: &Features) -> f64 {
        sigmoid(self.logit(features))
    }

    fn logit(&self, features: &Features) -> f64 {
        let vector = feature_vector(features);
        let columns = self.columns.0.get_or_init(|| {
            self.features
                .iter()
                .filter_map(|name| FEATURE_NAMES.iter().position(|known| known == name))
                .collect()
        });
        self.bias
            + columns
                .iter()
                .map(|&column| vector[column])
                .zip(&self.means)
                .zip(&self.scales)
                .zip(&self.weights)
                .map(|(((value, mean), scale), weight)| weight * (value - mean) / scale)
                .sum::<f64>()
    }

    /// This model rescaled to another attribution stage's outputs (Platt scaling): its logit
    /// `z` becomes `a·z + b`, with `a` and `b` fitted by gradient descent from (1, 0) on
    /// `examples`. Two numbers need far fewer examples than 23 weights, so a model fitted on
    /// many attributions of one stage can be carried to a stage with few labelled ones.
    pub fn recalibrated(&self, examples: &[(Features, bool)], provenance: String) -> Self {
        const ITERATIONS: usize = 2000;
        const LEARNING_RATE: f64 = 0.5;
        let logits: Vec<(f64, f64)> = examples
            .iter()
            .map(|(features, right)| (self.logit(features), if *right { 1.0 } else { 0.0 }))
            .collect();
        let count = logits.len().max(1) as f64;
        let (mut scale, mut shift) = (1.0, 0.0);
        for _ in 0..ITERATIONS {
            let (mut scale_gradient, mut shift_gradient) = (0.0, 0.0);
            for &(logit, label) in &logits {
                let error = sigmoid(scale * logit + shift) - label;
                scale_gradient += error * logit;
                shift_gradient += error;
            }
            scale -= LEARNING_RATE * scale_gradient / count;
            shift -= LEARNING_RATE * shift_gradient / count;
        }
        ConfidenceModel {
            provenance,
            weights: self.weights.iter().map(|weight| weight * scale).collect(),
            bias: self.bias * scale + shift,
            ..self.clone()
        }
    }

    /// Fits the model by full-batch gradient descent from zero, so that the same data always
    /// gives the same weights.
    pub fn fit(examples: &[(Features, bool)], provenance: String) -> Self {
        const ITERATIONS: usize = 3000;
        const LEARNING_RATE: f64 = 0.5;
        const L2: f64 = 1e-4;
        let dimensions = FEATURE_NAMES.len();
        let vectors: Vec<[f64; FEATURE_NAMES.len()]> = examples
            .iter()
            .map(|(features, _)| feature_vector(features))
            .collect();
        let count = vectors.len().max(1) as f64;
        let mut means = vec![0.0; dimensions];
        for vector in &vectors {
            for (mean, value) in means.iter_mut().zip(vector) {
                *mean += value / count;
            }
        }
        let mut scales = vec![0.0; dimensions];
        for vector in &vectors {
            for ((scale, value), mean) in scales.iter_mut().zip(vector).zip(&means) {
                *scale += (value - mean).powi(2) / count;
            }
        }
        for scale in &mut scales {
            *scale = if *scale > 1e-12 { scale.sqrt() } else { 1.0 };
        }
        let standardised: Vec<Vec<f64>> = vectors
            .iter()
            .map(|vector| {
                vector
                    .iter()
                    .zip(&means)
                    .zip(&scales)
                    .map(|((value, mean), scale)| (value - mean) / scale)
                    .collect()
            })
            .collect();
        let labels: Vec<f64> = examples
            .iter()
            .map(|&(_, right)| if right { 1.0 } else { 0.0 })
            .collect();
        let mut weights = vec![0.0; dimensions];
        let mut bias = 0.0;
        for _ in 0..ITERATIONS {
            let mut gradient = vec![0.0; dimensions];
            let mut bias_gradient = 0.0;
            for (row, label) in standardised.iter().zip(&labels) {
                let logit = bias + row.iter().zip(&weights).map(|(x, w)| x * w).sum::<f64>();
                let error = sigmoid(logit) - label;
                bias_gradient += error;
                for (slot, x) in gradient.iter_mut().zip(row) {
                    *slot += error * x;
                }
            }
            bias -= LEARNING_RATE * bias_gradient / count;
            for (weight, slot) in weights.iter_mut().zip(&gradient) {
                *weight -= LEARNING_RATE * (slot / count + L2 * *weight);
            }
        }
        ConfidenceModel {
            format: Self::FORMAT.to_string(),
            version: Self::VERSION,
            provenance,
            features: Self::expected_features(),
            means,
            scales,
            weights,
            bias,
            columns: Columns::default(),
        }
    }
}

fn sigmoid(logit: f64) -> f64 {
    1.0 / (1.0 + (-logit).exp())
}

/// The sixth stage: each attribution's calibrated probability of being right.
pub struct ConfidenceStage {
    pub model: ConfidenceModel,
}

impl DocumentStage for ConfidenceStage {
    fn name(&self) -> &'static str {
        "confidence"
    }

    fn run(&self, document: &mut Document, clock: &Clock) -> Result<(), Halt> {
        for attribution in &mut document.attributions {
            clock.check()?;
            attribution.confidence = self.model.probability(&attribution.features);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(pattern: Pattern, right: bool) -> (Features, bool) {
        (
            Features {
                pattern: Some(pattern),
                ..Features::default()
            },
            right,
        )
    }

    /// A hundred cue-after and a hundred floating direct quotes, interleaved, of which the
    /// first `after_right` and `floating_right` of each are right.
    fn two_patterns(after_right: usize, floating_right: usize) -> Vec<(Features, bool)> {
        (0..100)
            .flat_map(|index| {
                [
                    example(Pattern::DirectCueAfter, index < after_right),
                    example(Pattern::DirectFloating, index < floating_right),
                ]
            })
            .collect()
    }

    #[test]
    fn fitted_probabilities_follow_the_label_rates() {
        let examples = two_patterns(90, 30);
        let model = ConfidenceModel::fit(&examples, model_file::provenance("test", "test"));
        let high = model.probability(&examples[0].0);
        let low = model.probability(&examples[1].0);
        assert!((high - 0.9).abs() < 0.02, "{high}");
        assert!((low - 0.3).abs() < 0.02, "{low}");
    }

    #[test]
    fn fitting_is_deterministic() {
        let examples: Vec<_> = (0..50)
            .map(|index| example(Pattern::IndirectCueBefore, index % 3 == 0))
            .collect();
        let first = ConfidenceModel::fit(&examples, model_file::provenance("a", "b"));
        let second = ConfidenceModel::fit(&examples, model_file::provenance("a", "b"));
        assert_eq!(first, second);
    }

    #[test]
    fn recalibration_carries_a_model_to_a_stage_that_is_right_more_often() {
        // Fitted where cue-after quotes are right 90% and floating ones 30% of the time...
        let examples = two_patterns(90, 30);
        let model = ConfidenceModel::fit(&examples, model_file::provenance("test", "test"));
        // ...and carried to a stage where they are right 97% and 60% of the time: the order
        // is kept and both move up, which two numbers can do.
        let better = two_patterns(97, 60);
        let carried = model.recalibrated(&better, model_file::provenance("carried", "test"));
        let high = carried.probability(&better[0].0);
        let low = carried.probability(&better[1].0);
        assert!(high > 0.92 && low > 0.45 && high > low, "{high} {low}");
        let mean = (high + low) / 2.0;
        assert!((mean - 0.785).abs() < 0.03, "{mean}");
        assert_eq!(
            carried.provenance,
            model_file::provenance("carried", "test")
        );
    }

    /// The model as a file that reads only `keep` of its features.
    fn reading_only(model: &ConfidenceModel, keep: &[&str]) -> String {
        let columns: Vec<usize> = keep
            .iter()
            .map(|name| {
                model
                    .features
                    .iter()
                    .position(|known| known == name)
                    .unwrap()
            })
            .collect();
        let pick = |values: &[f64]| -> Vec<f64> { columns.iter().map(|&at| values[at]).collect() };
        serde_json::to_string(&ConfidenceModel {
            features: keep.iter().map(|name| name.to_string()).collect(),
            means: pick(&model.means),
            scales: pick(&model.scales),
            weights: pick(&model.weights),
            columns: Columns::default(),
            ..model.clone()
        })
        .unwrap()
    }

    #[test]
    fn a_model_may_read_some_of_the_features_in_its_own_order_but_not_unknown_ones() {
        let examples = two_patterns(90, 30);
        let model = ConfidenceModel::fit(&examples, model_file::provenance("test", "test"));
        // The two features that tell the patterns apart, in the reverse of the build's order.
        let path = Path::new("models/subset.json");
        let subset: ConfidenceModel = model_file::parse(
            &reading_only(
                &model,
                &["pattern_direct_floating", "pattern_direct_cue_after"],
            ),
            path,
        )
        .expect("a model of known features loads");
        for (features, _) in &examples[..2] {
            let (all, some) = (model.probability(features), subset.probability(features));
            assert!((all - some).abs() < 1e-9, "{all} {some}");
        }
        for bad in [
            reading_only(
                &model,
                &["pattern_direct_floating", "pattern_direct_floating"],
            ),
            reading_only(&model, &["pattern_direct_floating"])
                .replace("pattern_direct_floating", "a_feature_this_build_lacks"),
        ] {
            let error = model_file::parse::<ConfidenceModel>(&bad, path)
                .expect_err("a repeated or unknown feature is refused")
                .to_string();
            assert!(error.contains("models/subset.json"), "{error}");
            assert!(error.contains("do not match"), "{error}");
        }
    }

    #[test]
    fn the_linker_s_probabilities_also_enter_as_bounded_log_odds() {
        let vector = |quote: Option<f32>| {
            feature_vector(&Features {
                quote_probability: quote,
                ..Features::default()
            })
        };
        let column = |name: &str| {
            FEATURE_NAMES
                .iter()
                .position(|known| *known == name)
                .unwrap()
        };
        let log_odds = column("linker_quote_log_odds");
        assert!(vector(Some(0.5))[log_odds].abs() < 1e-9);
        assert!((vector(Some(0.9))[log_odds] - 9f64.ln()).abs() < 1e-6);
        // A rule's decision (no probability) and a certain one are the same large finite value.
        let sure = vector(None)[log_odds];
        assert!(sure.is_finite() && sure > 9.0, "{sure}");
        assert_eq!(vector(Some(1.0))[log_odds], sure);
        assert!((vector(Some(0.0))[log_odds] + sure).abs() < 1e-9);
    }

    #[test]
    fn a_model_that_has_scored_still_equals_its_fresh_copy() {
        let examples = two_patterns(90, 30);
        let model = ConfidenceModel::fit(&examples, model_file::provenance("test", "test"));
        let fresh = model.clone();
        model.probability(&examples[0].0);
        assert_eq!(model, fresh);
    }

    #[test]
    fn every_shipped_model_loads() {
        for model in [
            ConfidenceModel::shipped(),
            ConfidenceModel::shipped_for_rules(),
            ConfidenceModel::shipped_for_transformer(),
            ConfidenceModel::shipped_for_fast(),
        ] {
            let model = model.expect("a shipped model loads");
            assert!((0.0..=1.0).contains(&model.probability(&Features::default())));
        }
    }

    #[test]
    fn shipped_model_loads_and_gives_probabilities() {
        let model = ConfidenceModel::shipped().expect("the shipped model loads");
        let probability = model.probability(&Features::default());
        assert!((0.0..=1.0).contains(&probability));
    }
}
