//! Stance evaluation: NewsMTSC's target-dependent sentiment, and whosaid's hand-labelled quote
//! tone (`data/quote-stance.jsonl`).

use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::eval::metrics::{calibration_report, CalibrationReport};
use crate::stance::StanceLabel;

/// One NewsMTSC sentence with its labelled targets.
#[derive(Debug, Clone)]
pub struct StanceSentence {
    pub id: String,
    pub sentence: String,
    pub targets: Vec<StanceTarget>,
}

/// A labelled target: its byte range in the sentence and the gold stance toward it.
#[derive(Debug, Clone)]
pub struct StanceTarget {
    pub range: Range<usize>,
    pub label: StanceLabel,
}

#[derive(Deserialize)]
struct NewsMtscLine {
    primary_gid: Option<String>,
    sentence_normalized: String,
    targets: Vec<NewsMtscTarget>,
}

#[derive(Deserialize)]
struct NewsMtscTarget {
    from: usize,
    to: usize,
    polarity: f64,
}

/// The byte range of a non-empty range of code points, or `None` when it does not lie in the text.
fn byte_range(text: &str, start: usize, end: usize) -> Option<Range<usize>> {
    if start >= end || end > text.chars().count() {
        return None;
    }
    let bytes = crate::offsets::byte_offsets(text, &[start, end]);
    Some(bytes[0]..bytes[1])
}

/// Parses each non-empty line of a JSONL file with `parse`, which gets the line's record and a
/// maker of errors that name the file and the line.
fn read_jsonl<Line: serde::de::DeserializeOwned, Item>(
    path: &Path,
    mut parse: impl FnMut(Line, &dyn Fn(String) -> Error) -> Result<Item>,
) -> Result<Vec<Item>> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::io(path, error))?;
    let mut items = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad =
            |message: String| Error::Usage(format!("{}:{}: {message}", path.display(), number + 1));
        let parsed: Line = serde_json::from_str(line).map_err(|error| bad(error.to_string()))?;
        items.push(parse(parsed, &bad)?);
    }
    Ok(items)
}

/// Reads NewsMTSC JSONL (`sentence_normalized`, `targets[].from/to/polarity`, code-point
/// offsets). A malformed line is an error naming the file and the line.
pub fn read_newsmtsc(path: &Path) -> Result<Vec<StanceSentence>> {
    let mut number = 0;
    read_jsonl(path, |parsed: NewsMtscLine, bad| {
        number += 1;
        let mut targets = Vec::new();
        for target in &parsed.targets {
            let label = StanceLabel::from_polarity(target.polarity)
                .ok_or_else(|| bad(format!("polarity {} is not 2, 4 or 6", target.polarity)))?;
            match byte_range(&parsed.sentence_normalized, target.from, target.to) {
                Some(range) => targets.push(StanceTarget { range, label }),
                None => {
                    return Err(bad(format!(
                        "target {}..{} is outside the sentence",
                        target.from, target.to
                    )))
                }
            }
        }
        Ok(StanceSentence {
            id: parsed
                .primary_gid
                .unwrap_or_else(|| format!("record {number}")),
            sentence: parsed.sentence_normalized,
            targets,
        })
    })
}

/// A hand-labelled quote: the tone its speaker takes.
#[derive(Debug, Clone)]
pub struct QuoteStanceExample {
    pub id: String,
    /// The paragraph that holds the quote.
    pub text: String,
    /// Byte range of the quote's content in `text`.
    pub quote: Range<usize>,
    pub label: StanceLabel,
}

#[derive(Deserialize)]
struct QuoteStanceLine {
    id: String,
    text: String,
    quote: crate::record::SpanRecord,
    stance: StanceLabel,
}

/// Reads whosaid's quote-tone gold (`data/quote-stance.jsonl`): `id`, `text`, `quote` (a span
/// of code-point offsets into `text`) and `stance`.
pub fn read_quote_stance(path: &Path) -> Result<Vec<QuoteStanceExample>> {
    read_jsonl(path, |parsed: QuoteStanceLine, bad| {
        let quote = match byte_range(&parsed.text, parsed.quote.start, parsed.quote.end) {
            Some(range) if parsed.text[range.clone()] == parsed.quote.text => range,
            _ => return Err(bad("the quote's offsets do not give its text".into())),
        };
        Ok(QuoteStanceExample {
            id: parsed.id,
            text: parsed.text,
            quote,
            label: parsed.stance,
        })
    })
}

/// Whether a JSONL file holds NewsMTSC sentences rather than whosaid's quote-tone gold.
pub fn is_newsmtsc(path: &Path) -> Result<bool> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::io(path, error))?;
    Ok(text
        .lines()
        .find(|line| !line.trim().is_empty())
        .is_some_and(|line| line.contains("\"sentence_normalized\"")))
}

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    pub label: StanceLabel,
    pub gold: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Accuracy and macro-F1 of labels against gold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelAccuracy {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub labels: Vec<LabelScore>,
}

impl LabelAccuracy {
    pub fn of(pairs: &[(StanceLabel, StanceLabel)]) -> Self {
        let total = pairs.len().max(1) as f64;
        let right = pairs
            .iter()
            .filter(|(gold, predicted)| gold == predicted)
            .count();
        let labels: Vec<LabelScore> = StanceLabel::ALL
            .iter()
            .map(|&label| {
                let gold = pairs.iter().filter(|(gold, _)| *gold == label).count();
                let predicted = pairs
                    .iter()
                    .filter(|(_, predicted)| *predicted == label)
                    .count();
                let hits = pairs
                    .iter()
                    .filter(|(gold, predicted)| *gold == label && *predicted == label)
                    .count();
                let precision = if predicted == 0 {
                    0.0
                } else {
                    hits as f64 / predicted as f64
                };
                let recall = if gold == 0 {
                    0.0
                } else {
                    hits as f64 / gold as f64
                };
                let f1 = if precision + recall == 0.0 {
                    0.0
                } else {
                    2.0 * precision * recall / (precision + recall)
                };
                LabelScore {
                    label,
                    gold,
                    precision,
                    recall,
                    f1,
                }
            })
            .collect();
        LabelAccuracy {
            accuracy: right as f64 / total,
            macro_f1: labels.iter().map(|score| score.f1).sum::<f64>() / labels.len() as f64,
            labels,
        }
    }
}

/// A stance model's scores on labelled targets, beside those of always answering the label
/// most frequent in the training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StanceReport {
    pub examples: usize,
    pub model: LabelAccuracy,
    /// Calibration of the confidence in the predicted label.
    pub calibration: CalibrationReport,
    pub majority_label: StanceLabel,
    pub majority: LabelAccuracy,
}

impl StanceReport {
    /// `predictions` pairs each gold label with the model's probabilities over
    /// [`StanceLabel::ALL`].
    pub fn new(predictions: &[(StanceLabel, [f64; 3])], majority_label: StanceLabel) -> Self {
        let mut labelled = Vec::with_capacity(predictions.len());
        let mut confidences = Vec::with_capacity(predictions.len());
        for (gold, probabilities) in predictions {
            let score = crate::stance::StanceScore::from_probabilities(*probabilities);
            labelled.push((*gold, score.label));
            confidences.push((score.confidence, score.label == *gold));
        }
        let majority: Vec<(StanceLabel, StanceLabel)> = predictions
            .iter()
            .map(|(gold, _)| (*gold, majority_label))
            .collect();
        StanceReport {
            examples: predictions.len(),
            model: LabelAccuracy::of(&labelled),
            calibration: calibration_report(&confidences),
            majority_label,
            majority: LabelAccuracy::of(&majority),
        }
    }
}

impl std::fmt::Display for StanceReport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(formatter, "{} labelled targets", self.examples)?;
        writeln!(formatter, "{:<28} {:>9} {:>9}", "", "accuracy", "macro-F1")?;
        writeln!(
            formatter,
            "{:<28} {:>9.1} {:>9.1}",
            "model",
            100.0 * self.model.accuracy,
            100.0 * self.model.macro_f1
        )?;
        writeln!(
            formatter,
            "{:<28} {:>9.1} {:>9.1}",
            format!("majority class ({:?})", self.majority_label).to_lowercase(),
            100.0 * self.majority.accuracy,
            100.0 * self.majority.macro_f1
        )?;
        for score in &self.model.labels {
            writeln!(
                formatter,
                "  {:<10} gold {:>5}  P {:>5.1}  R {:>5.1}  F1 {:>5.1}",
                format!("{:?}", score.label).to_lowercase(),
                score.gold,
                100.0 * score.precision,
                100.0 * score.recall,
                100.0 * score.f1
            )?;
        }
        match (self.calibration.ece, self.calibration.brier) {
            (Some(ece), Some(brier)) => write!(
                formatter,
                "confidence: ECE {:.1}%, Brier {:.3}",
                100.0 * ece,
                brier
            ),
            _ => write!(formatter, "confidence: no predictions"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StanceLabel::*;

    #[test]
    fn accuracy_and_macro_f1_on_known_numbers() {
        let pairs = [
            (Positive, Positive),
            (Negative, Positive),
            (Neutral, Neutral),
            (Negative, Negative),
        ];
        let scores = LabelAccuracy::of(&pairs);
        assert!((scores.accuracy - 0.75).abs() < 1e-12);
        // negative P 1 R .5 F1 2/3; neutral 1; positive P .5 R 1 F1 2/3.
        assert!((scores.macro_f1 - (2.0 / 3.0 + 1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn quote_stance_gold_is_checked_against_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        std::fs::write(&path, r#"{"id":"a","text":"Ré: “Fine,” he said.","quote":{"start":4,"end":11,"text":"“Fine,”"},"stance":"positive"}"#).unwrap();
        let examples = read_quote_stance(&path).unwrap();
        assert_eq!(&examples[0].text[examples[0].quote.clone()], "“Fine,”");
        assert_eq!(examples[0].label, Positive);
        assert!(!is_newsmtsc(&path).unwrap());
        std::fs::write(&path, r#"{"id":"a","text":"Ré: “Fine,” he said.","quote":{"start":3,"end":11,"text":"“Fine,”"},"stance":"positive"}"#).unwrap();
        assert!(read_quote_stance(&path).is_err());
    }

    #[test]
    fn newsmtsc_offsets_become_byte_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(
            &path,
            r#"{"primary_gid":"a","sentence_normalized":"Café owner Müller said no.","targets":[{"from":11,"to":17,"polarity":2.0}]}"#,
        )
        .unwrap();
        let sentences = read_newsmtsc(&path).unwrap();
        let target = &sentences[0].targets[0];
        assert_eq!(&sentences[0].sentence[target.range.clone()], "Müller");
        assert_eq!(target.label, Negative);
        assert!(is_newsmtsc(&path).unwrap());
        std::fs::write(
            &path,
            r#"{"sentence_normalized":"x","targets":[{"from":0,"to":9,"polarity":2.0}]}"#,
        )
        .unwrap();
        let error = read_newsmtsc(&path).unwrap_err().to_string();
        assert!(error.contains("t.jsonl:1"), "{error}");
    }
}
