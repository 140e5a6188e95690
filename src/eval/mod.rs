//! Evaluation against gold attributions: the gold model and formats, and the scores.

pub mod brat;
pub mod gold;
pub mod metrics;
pub mod stance;

pub use brat::{parse_ann, read_brat_dir};
pub use gold::{
    char_slice, read_gold_jsonl, write_gold_jsonl, GoldAttribution, GoldDocument, GoldError, Piece,
};
pub use metrics::{
    calibration_pairs, errors, match_predictions, score, CalibrationBin, CalibrationReport,
    ErrorCase, ErrorCaseKind, EvalReport, Prf, QuoteSpans, SubsetReport,
};
