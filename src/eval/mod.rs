//! Evaluation against gold attributions: the gold model and formats, and the scores.

pub mod brat;
pub mod errors;
pub mod gold;
pub mod listing;
pub mod metrics;
pub mod report;
pub mod stance;
pub mod threshold;

pub use brat::{parse_ann, read_brat_dir};
pub use errors::{
    breakdown, count_by_kind, errors, most_confident_wrong, Breakdown, ErrorCase, ErrorCaseKind,
    GroupCounts, GroupRow, QuoteSpans,
};
pub use gold::{
    char_slice, read_gold_jsonl, write_gold_jsonl, GoldAttribution, GoldDocument, GoldError, Piece,
};
pub use metrics::{
    calibration_pairs, calibration_report, match_predictions, score, CalibrationBin,
    CalibrationReport, EvalReport, Prf, SubsetReport,
};
pub use threshold::{confidence_histogram, threshold_curve, HistogramBin, ThresholdPoint};
