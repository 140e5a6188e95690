//! Choosing a confidence cut-off: precision and recall of the quotes kept at each threshold, and
//! how the confidences spread over equal-width bins.
//!
//! Both take the `(confidence, correct)` pairs of [`super::calibration_pairs`], so a quote is
//! correct when it is an end-to-end match; a quote without a speaker mention is kept by a cut-off
//! like any other and is never correct.

use serde::{Deserialize, Serialize};

use super::metrics::{as_probability, Prf};

/// The scores of the quotes whose confidence is at least `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdPoint {
    pub threshold: f64,
    /// Quotes kept; `scores.tp` of them are correct.
    pub kept: usize,
    /// Precision over the kept quotes, recall over the gold.
    pub scores: Prf,
}

/// Precision, recall and F1 at the thresholds `0, 1/steps, ..., 1` (`steps` is at least 1), where
/// `gold` is the number of gold attributions a correct quote can match (the end-to-end `tp + fn`).
///
/// Confidences are read as the calibration reads them: NaN as 0, the rest clamped to [0, 1].
pub fn threshold_curve(pairs: &[(f64, bool)], gold: usize, steps: usize) -> Vec<ThresholdPoint> {
    let steps = steps.max(1);
    let mut sorted: Vec<(f64, bool)> = pairs
        .iter()
        .map(|&(confidence, correct)| (as_probability(confidence), correct))
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // correct_above[i]: correct quotes among sorted[i..].
    let mut correct_above = vec![0usize; sorted.len() + 1];
    for index in (0..sorted.len()).rev() {
        correct_above[index] = correct_above[index + 1] + usize::from(sorted[index].1);
    }
    (0..=steps)
        .map(|step| {
            let threshold = step as f64 / steps as f64;
            let first_kept = sorted.partition_point(|&(probability, _)| probability < threshold);
            let kept = sorted.len() - first_kept;
            let correct = correct_above[first_kept];
            ThresholdPoint {
                threshold,
                kept,
                scores: Prf::from_counts(correct, kept - correct, gold.saturating_sub(correct)),
            }
        })
        .collect()
}

/// One equal-width bin of confidences, split by correctness.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistogramBin {
    pub lower: f64,
    pub upper: f64,
    pub correct: usize,
    pub wrong: usize,
}

/// Counts of confidences in `bins` equal-width bins over [0, 1] (at least 1), binned as the
/// calibration bins them: bin `min(floor(p * bins), bins - 1)`, NaN as 0, the rest clamped.
pub fn confidence_histogram(pairs: &[(f64, bool)], bins: usize) -> Vec<HistogramBin> {
    let bins = bins.max(1);
    let mut histogram: Vec<HistogramBin> = (0..bins)
        .map(|bin| HistogramBin {
            lower: bin as f64 / bins as f64,
            upper: (bin + 1) as f64 / bins as f64,
            correct: 0,
            wrong: 0,
        })
        .collect();
    for &(confidence, correct) in pairs {
        // Float-to-int casts saturate, and the min keeps p = 1.0 in the top bin.
        let bin = ((as_probability(confidence) * bins as f64).floor() as usize).min(bins - 1);
        if correct {
            histogram[bin].correct += 1;
        } else {
            histogram[bin].wrong += 1;
        }
    }
    histogram
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_keeps_quotes_at_or_above_each_threshold() {
        let pairs = [
            (0.9, true),
            (0.8, false),
            (0.5, true),
            (0.2, false),
            (0.5, false),
        ];
        let curve = threshold_curve(&pairs, 4, 10);
        assert_eq!(curve.len(), 11);
        let at = |threshold: f64| {
            curve
                .iter()
                .find(|point| (point.threshold - threshold).abs() < 1e-9)
                .expect("a grid point")
        };
        let all = at(0.0);
        assert_eq!(
            (all.kept, all.scores.tp, all.scores.fp, all.scores.fn_),
            (5, 2, 3, 2)
        );
        assert!((all.scores.precision - 0.4).abs() < 1e-12);
        assert!((all.scores.recall - 0.5).abs() < 1e-12);
        // 0.5 itself is kept at threshold 0.5.
        let half = at(0.5);
        assert_eq!((half.kept, half.scores.tp), (4, 2));
        let high = at(0.9);
        assert_eq!((high.kept, high.scores.tp), (1, 1));
        assert_eq!(high.scores.precision, 1.0);
        assert!((high.scores.recall - 0.25).abs() < 1e-12);
        // Nothing kept: precision is 0 by the convention of Prf, not NaN.
        let top = at(1.0);
        assert_eq!(
            (top.kept, top.scores.precision, top.scores.recall),
            (0, 0.0, 0.0)
        );
        // Kept counts never grow with the threshold.
        assert!(curve.windows(2).all(|pair| pair[0].kept >= pair[1].kept));
    }

    #[test]
    fn curve_handles_odd_confidences_and_edge_sizes() {
        let pairs = [(f64::NAN, true), (-1.0, false), (2.0, true), (1.0, false)];
        let curve = threshold_curve(&pairs, 1, 0);
        assert_eq!(curve.len(), 2);
        assert_eq!(curve[0].kept, 4);
        // 2.0 and 1.0 clamp to 1.0 and stay above the top threshold.
        assert_eq!((curve[1].kept, curve[1].scores.tp), (2, 1));
        // More correct quotes than gold does not underflow.
        assert_eq!(curve[0].scores.fn_, 0);
        let empty = threshold_curve(&[], 0, 4);
        assert_eq!(empty.len(), 5);
        assert!(empty
            .iter()
            .all(|point| point.kept == 0 && point.scores.f1 == 0.0));
    }

    #[test]
    fn histogram_bins_like_the_calibration() {
        let pairs = [
            (0.0, true),
            (0.05, false),
            (0.1, true),
            (0.55, false),
            (0.999, true),
            (1.0, false),
            (f64::NAN, false),
            (7.0, true),
        ];
        let histogram = confidence_histogram(&pairs, 10);
        assert_eq!(histogram.len(), 10);
        let counts: Vec<(usize, usize)> = histogram
            .iter()
            .map(|bin| (bin.correct, bin.wrong))
            .collect();
        assert_eq!(counts[0], (1, 2));
        assert_eq!(counts[1], (1, 0));
        assert_eq!(counts[5], (0, 1));
        assert_eq!(counts[9], (2, 1));
        assert_eq!(
            counts.iter().map(|(c, w)| c + w).sum::<usize>(),
            pairs.len()
        );
        assert!(
            (histogram[3].lower - 0.3).abs() < 1e-12 && (histogram[3].upper - 0.4).abs() < 1e-12
        );
        let calibration = super::super::metrics::calibration_report(&pairs);
        for (bin, calibrated) in histogram.iter().zip(&calibration.bins) {
            assert_eq!(bin.correct + bin.wrong, calibrated.count);
        }
        assert_eq!(confidence_histogram(&pairs, 0).len(), 1);
    }
}
