//! Scoring predictions against gold, following the conventions in `docs/GOLD_FORMAT.md` (which
//! repeat those of the held-out measurement, so that numbers agree).
//!
//! All offsets are read against the gold text; predicted offsets outside it are clamped, so a
//! broken prediction simply fails to match.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::gold::{GoldAttribution, GoldDocument, Piece};
use crate::lexicon::{DOUBLE_QUOTATION_DIGRAPHS, SCORED_DOUBLE_QUOTATION_MARKS};
use crate::record::{DocumentRecord, QuoteKind, QuoteRecord, SpanRecord};

/// The least intersection-over-union for an overlap match, of contents and of sources.
pub const MIN_OVERLAP_IOU: f64 = 0.5;
/// Equal-width confidence bins for the expected calibration error.
pub const CALIBRATION_BINS: usize = 10;

/// Precision, recall and F1 with the counts they come from.
///
/// A ratio whose denominator is zero is 0.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Prf {
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    pub fn from_counts(tp: usize, fp: usize, fn_: usize) -> Self {
        let ratio = |numerator: usize, denominator: usize| {
            if denominator == 0 {
                0.0
            } else {
                numerator as f64 / denominator as f64
            }
        };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Self {
            tp,
            fp,
            fn_,
            precision,
            recall,
            f1,
        }
    }
}

/// Content and end-to-end scores on the direct-quote subset.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SubsetReport {
    pub gold_attributions: usize,
    pub predicted_quotes: usize,
    pub content_exact: Prf,
    pub content_overlap: Prf,
    pub end_to_end: Prf,
}

/// One equal-width confidence bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    /// `None` for an empty bin.
    pub mean_confidence: Option<f64>,
    pub accuracy: Option<f64>,
}

/// How well confidences match end-to-end correctness; `None` when there is no prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    pub predictions: usize,
    pub correct: usize,
    pub ece: Option<f64>,
    pub brier: Option<f64>,
    pub bins: Vec<CalibrationBin>,
}

/// Every measure over a set of documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub gold_documents: usize,
    /// All predicted documents given, matched or not.
    pub predicted_documents: usize,
    /// Gold documents that have a prediction.
    pub matched_documents: usize,
    /// Gold documents without a prediction; all their gold counts as missed.
    pub missing_documents: usize,
    /// Predicted documents whose id is not in the gold (or repeats an id already used).
    pub ignored_documents: usize,
    pub gold_attributions: usize,
    /// Predicted quotes in matched documents.
    pub predicted_quotes: usize,
    pub content_exact: Prf,
    pub content_overlap: Prf,
    pub source: Prf,
    pub cue: Prf,
    pub end_to_end: Prf,
    pub direct: SubsetReport,
    /// The direct-quote subset with two apostrophes or two backticks also counted as a double
    /// quotation mark on the gold side. The convention's subset ([`EvalReport::direct`]) leaves
    /// them out, but New York Times texts quote with them, so the quotes whosaid rightly types
    /// direct there count against it; this subset shows by how much.
    #[serde(default)]
    pub direct_with_digraphs: SubsetReport,
    pub calibration: CalibrationReport,
}

/// Scores `predicted` against `gold`: documents are matched by id, see the module docs.
pub fn score(gold: &[GoldDocument], predicted: &[DocumentRecord]) -> EvalReport {
    let (pairs, ignored_documents) = pair_documents(gold, predicted);
    let mut totals = Totals::default();
    for (gold_doc, pred_doc) in &pairs {
        let quotes = pred_doc.map_or(&[][..], |doc| doc.quotes.as_slice());
        totals.add_document(gold_doc, quotes);
    }
    let matched_documents = pairs.iter().filter(|(_, pred)| pred.is_some()).count();
    EvalReport {
        gold_documents: gold.len(),
        predicted_documents: predicted.len(),
        matched_documents,
        missing_documents: gold.len() - matched_documents,
        ignored_documents,
        gold_attributions: totals.gold_attributions,
        predicted_quotes: totals.calibration.len(),
        content_exact: totals.content_exact.prf(),
        content_overlap: totals.content_overlap.prf(),
        source: totals.source.prf(),
        cue: totals.cue.prf(),
        end_to_end: totals.end_to_end.prf(),
        direct: totals.direct.report(),
        direct_with_digraphs: totals.direct_with_digraphs.report(),
        calibration: calibration_report(&totals.calibration),
    }
}

/// For each predicted quote of `pred_doc`, in order, whether it is an end-to-end match with a
/// gold attribution of `gold_doc` (content and source overlap, one-to-one). Ids are not checked.
pub fn match_predictions(gold_doc: &GoldDocument, pred_doc: &DocumentRecord) -> Vec<bool> {
    let scored = ScoredDocument::new(gold_doc, &pred_doc.quotes);
    let mut correct = vec![false; pred_doc.quotes.len()];
    for (_, pred) in scored.end_to_end_matches(&scored.all_gold(), &scored.all_predicted()) {
        correct[pred] = true;
    }
    correct
}

/// `(confidence, correct)` for every predicted quote of every document that has gold, in
/// document and quote order; the confidence is passed on as predicted, unclamped.
pub fn calibration_pairs(gold: &[GoldDocument], predicted: &[DocumentRecord]) -> Vec<(f64, bool)> {
    let (pairs, _) = pair_documents(gold, predicted);
    pairs
        .into_iter()
        .filter_map(|(gold_doc, pred_doc)| Some((gold_doc, pred_doc?)))
        .flat_map(|(gold_doc, pred_doc)| {
            let correct = match_predictions(gold_doc, pred_doc);
            pred_doc
                .quotes
                .iter()
                .map(|quote| quote.confidence)
                .zip(correct)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Pairs each gold document with the first prediction of the same id, and counts the predicted
/// documents left unused.
pub(super) fn pair_documents<'g, 'p>(
    gold: &'g [GoldDocument],
    predicted: &'p [DocumentRecord],
) -> (Vec<(&'g GoldDocument, Option<&'p DocumentRecord>)>, usize) {
    let mut first_by_id: HashMap<&str, usize> = HashMap::new();
    for (index, doc) in predicted.iter().enumerate() {
        first_by_id.entry(doc.id.as_str()).or_insert(index);
    }
    let mut used = HashSet::new();
    let pairs = gold
        .iter()
        .map(|doc| {
            let index = first_by_id.get(doc.id.as_str()).copied();
            used.extend(index);
            (doc, index.map(|index| &predicted[index]))
        })
        .collect();
    (pairs, predicted.len() - used.len())
}

/// A set of characters as sorted, disjoint, non-empty half-open intervals.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Region {
    intervals: Vec<(usize, usize)>,
}

impl Region {
    fn from_intervals(mut intervals: Vec<(usize, usize)>) -> Self {
        intervals.retain(|(start, end)| start < end);
        intervals.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(intervals.len());
        for (start, end) in intervals {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Self { intervals: merged }
    }

    fn len(&self) -> usize {
        self.intervals.iter().map(|(start, end)| end - start).sum()
    }

    pub(super) fn intersection_len(&self, other: &Region) -> usize {
        let (mut i, mut j, mut total) = (0, 0, 0);
        while let (Some(&(a_start, a_end)), Some(&(b_start, b_end))) =
            (self.intervals.get(i), other.intervals.get(j))
        {
            let start = a_start.max(b_start);
            let end = a_end.min(b_end);
            total += end.saturating_sub(start);
            if a_end <= b_end {
                i += 1;
            } else {
                j += 1;
            }
        }
        total
    }

    pub(super) fn iou(&self, other: &Region) -> f64 {
        let intersection = self.intersection_len(other);
        let union = self.len() + other.len() - intersection;
        if union == 0 {
            0.0
        } else {
            intersection as f64 / union as f64
        }
    }
}

/// `start..end` clamped to the text and with surrounding whitespace removed; may come out empty.
pub(super) fn stripped(chars: &[char], start: usize, end: usize) -> (usize, usize) {
    let mut end = end.min(chars.len());
    let mut start = start.min(end);
    while start < end && chars[start].is_whitespace() {
        start += 1;
    }
    while end > start && chars[end - 1].is_whitespace() {
        end -= 1;
    }
    (start, end)
}

/// The whitespace-stripped first start..last end of some pieces; `None` when nothing is left.
pub(super) fn pieces_extent(chars: &[char], pieces: &[Piece]) -> Option<(usize, usize)> {
    let start = pieces.iter().map(|piece| piece.start).min()?;
    let end = pieces.iter().map(|piece| piece.end).max()?;
    non_empty(stripped(chars, start, end))
}

pub(super) fn non_empty((start, end): (usize, usize)) -> Option<(usize, usize)> {
    (start < end).then_some((start, end))
}

/// The characters of some pieces, each stripped, gaps between them left out.
fn pieces_region(chars: &[char], pieces: &[Piece]) -> Region {
    Region::from_intervals(
        pieces
            .iter()
            .map(|piece| stripped(chars, piece.start, piece.end))
            .collect(),
    )
}

pub(super) fn span_region(chars: &[char], start: usize, end: usize) -> Region {
    Region::from_intervals(vec![stripped(chars, start, end)])
}

pub(super) struct GoldItem {
    pub(super) content: Region,
    pub(super) content_extent: Option<(usize, usize)>,
    pub(super) source: Option<Region>,
    pub(super) direct: bool,
    /// Direct when two apostrophes or backticks count as a quotation mark too.
    pub(super) direct_with_digraphs: bool,
}

pub(super) struct PredictedItem {
    pub(super) content: Region,
    pub(super) content_extent: Option<(usize, usize)>,
    /// `None` where the quote has no speaker mention: such quotes are left out of end-to-end.
    pub(super) mention: Option<Region>,
    pub(super) direct: bool,
}

/// One document's gold and predictions, reduced to what matching needs.
pub(super) struct ScoredDocument {
    pub(super) gold: Vec<GoldItem>,
    pub(super) predicted: Vec<PredictedItem>,
}

/// A candidate pair for greedy matching: (gold index, predicted index, primary, secondary key).
pub(super) type Candidate = (usize, usize, f64, f64);

impl ScoredDocument {
    pub(super) fn new(gold_doc: &GoldDocument, quotes: &[QuoteRecord]) -> Self {
        let chars: Vec<char> = gold_doc.text.chars().collect();
        let gold = gold_doc
            .attributions
            .iter()
            .map(|attribution| {
                let direct = is_direct(&chars, attribution);
                GoldItem {
                    content: pieces_region(&chars, &attribution.content),
                    content_extent: pieces_extent(&chars, &attribution.content),
                    source: attribution
                        .source
                        .as_ref()
                        .map(|pieces| pieces_region(&chars, pieces)),
                    direct,
                    direct_with_digraphs: direct || has_digraph_mark(&chars, attribution),
                }
            })
            .collect();
        let predicted = quotes
            .iter()
            .map(|quote| {
                let (start, end) = (quote.content.start, quote.content.end);
                PredictedItem {
                    content: span_region(&chars, start, end),
                    content_extent: non_empty(stripped(&chars, start, end)),
                    mention: quote
                        .speaker
                        .as_ref()
                        .and_then(|speaker| speaker.mention.as_ref())
                        .map(|mention| span_region(&chars, mention.start, mention.end)),
                    direct: matches!(quote.kind, QuoteKind::Direct | QuoteKind::Mixed),
                }
            })
            .collect();
        Self { gold, predicted }
    }

    pub(super) fn all_gold(&self) -> Vec<usize> {
        (0..self.gold.len()).collect()
    }

    pub(super) fn all_predicted(&self) -> Vec<usize> {
        (0..self.predicted.len()).collect()
    }

    fn gold_where(&self, keep: impl Fn(&GoldItem) -> bool) -> Vec<usize> {
        (0..self.gold.len())
            .filter(|&i| keep(&self.gold[i]))
            .collect()
    }

    fn direct_gold(&self) -> Vec<usize> {
        self.gold_where(|item| item.direct)
    }

    fn direct_gold_with_digraphs(&self) -> Vec<usize> {
        self.gold_where(|item| item.direct_with_digraphs)
    }

    fn direct_predicted(&self) -> Vec<usize> {
        (0..self.predicted.len())
            .filter(|&i| self.predicted[i].direct)
            .collect()
    }

    /// Pairs with the same stripped content extent, one-to-one.
    fn content_exact_matches(&self, gold: &[usize], predicted: &[usize]) -> Vec<(usize, usize)> {
        let mut candidates = Vec::new();
        for &g in gold {
            for &p in predicted {
                let extent = self.gold[g].content_extent;
                if extent.is_some() && extent == self.predicted[p].content_extent {
                    candidates.push((g, p, 1.0, 0.0));
                }
            }
        }
        greedy_one_to_one(candidates)
    }

    /// Pairs whose contents overlap with IoU >= 0.5, one-to-one, greedy by best IoU.
    pub(super) fn content_overlap_matches(
        &self,
        gold: &[usize],
        predicted: &[usize],
    ) -> Vec<(usize, usize)> {
        let mut candidates = Vec::new();
        for &g in gold {
            for &p in predicted {
                let iou = self.gold[g].content.iou(&self.predicted[p].content);
                if iou >= MIN_OVERLAP_IOU {
                    candidates.push((g, p, iou, 0.0));
                }
            }
        }
        greedy_one_to_one(candidates)
    }

    pub(super) fn source_iou(&self, gold: usize, predicted: usize) -> Option<f64> {
        let source = self.gold[gold].source.as_ref()?;
        let mention = self.predicted[predicted].mention.as_ref()?;
        Some(source.iou(mention))
    }

    /// Pairs whose contents and sources both overlap with IoU >= 0.5, one-to-one, greedy by best
    /// content IoU and then best source IoU.
    pub(super) fn end_to_end_matches(
        &self,
        gold: &[usize],
        predicted: &[usize],
    ) -> Vec<(usize, usize)> {
        let mut candidates = Vec::new();
        for &g in gold {
            for &p in predicted {
                let Some(source_iou) = self.source_iou(g, p) else {
                    continue;
                };
                let content_iou = self.gold[g].content.iou(&self.predicted[p].content);
                if content_iou >= MIN_OVERLAP_IOU && source_iou >= MIN_OVERLAP_IOU {
                    candidates.push((g, p, content_iou, source_iou));
                }
            }
        }
        greedy_one_to_one(candidates)
    }

    fn gold_with_source(&self, gold: &[usize]) -> usize {
        gold.iter()
            .filter(|&&g| self.gold[g].source.is_some())
            .count()
    }

    fn predicted_with_mention(&self, predicted: &[usize]) -> usize {
        predicted
            .iter()
            .filter(|&&p| self.predicted[p].mention.is_some())
            .count()
    }
}

/// The characters of each piece of a gold content, clamped to the text.
fn content_pieces<'a>(
    chars: &'a [char],
    attribution: &'a GoldAttribution,
) -> impl Iterator<Item = &'a [char]> + 'a {
    attribution.content.iter().map(move |piece| {
        let end = piece.end.min(chars.len());
        &chars[piece.start.min(end)..end]
    })
}

fn is_direct(chars: &[char], attribution: &GoldAttribution) -> bool {
    content_pieces(chars, attribution).any(|piece| {
        piece
            .iter()
            .any(|c| SCORED_DOUBLE_QUOTATION_MARKS.contains(c))
    })
}

/// Whether a gold content holds a double quotation mark spelt with two characters (`''`, as the
/// New York Times writes it, or two backticks).
fn has_digraph_mark(chars: &[char], attribution: &GoldAttribution) -> bool {
    content_pieces(chars, attribution).any(|piece| {
        piece.windows(2).any(|pair| {
            DOUBLE_QUOTATION_DIGRAPHS
                .iter()
                .any(|digraph| digraph.chars().eq(pair.iter().copied()))
        })
    })
}

/// Takes candidates best first (ties to the earlier gold, then the earlier prediction), keeping a
/// pair only while neither side is taken.
pub(super) fn greedy_one_to_one(mut candidates: Vec<Candidate>) -> Vec<(usize, usize)> {
    candidates.sort_by(|a, b| {
        b.2.total_cmp(&a.2)
            .then(b.3.total_cmp(&a.3))
            .then(a.0.cmp(&b.0))
            .then(a.1.cmp(&b.1))
    });
    let mut gold_taken = HashSet::new();
    let mut predicted_taken = HashSet::new();
    let mut matches = Vec::new();
    for (g, p, _, _) in candidates {
        if !gold_taken.contains(&g) && !predicted_taken.contains(&p) {
            gold_taken.insert(g);
            predicted_taken.insert(p);
            matches.push((g, p));
        }
    }
    matches
}

#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Tally {
    fn add(&mut self, matched: usize, gold: usize, predicted: usize) {
        self.tp += matched;
        self.fp += predicted.saturating_sub(matched);
        self.fn_ += gold.saturating_sub(matched);
    }

    fn prf(self) -> Prf {
        Prf::from_counts(self.tp, self.fp, self.fn_)
    }
}

#[derive(Default)]
struct Totals {
    gold_attributions: usize,
    content_exact: Tally,
    content_overlap: Tally,
    source: Tally,
    cue: Tally,
    end_to_end: Tally,
    direct: SubsetTotals,
    direct_with_digraphs: SubsetTotals,
    calibration: Vec<(f64, bool)>,
}

/// The tallies of a subset of the gold against a subset of the predictions.
#[derive(Default)]
struct SubsetTotals {
    gold: usize,
    predicted: usize,
    content_exact: Tally,
    content_overlap: Tally,
    end_to_end: Tally,
}

impl SubsetTotals {
    fn add(&mut self, scored: &ScoredDocument, gold: &[usize], predicted: &[usize]) {
        self.gold += gold.len();
        self.predicted += predicted.len();
        let exact = scored.content_exact_matches(gold, predicted);
        self.content_exact
            .add(exact.len(), gold.len(), predicted.len());
        let overlap = scored.content_overlap_matches(gold, predicted);
        self.content_overlap
            .add(overlap.len(), gold.len(), predicted.len());
        let end_to_end = scored.end_to_end_matches(gold, predicted);
        self.end_to_end.add(
            end_to_end.len(),
            scored.gold_with_source(gold),
            scored.predicted_with_mention(predicted),
        );
    }

    fn report(&self) -> SubsetReport {
        SubsetReport {
            gold_attributions: self.gold,
            predicted_quotes: self.predicted,
            content_exact: self.content_exact.prf(),
            content_overlap: self.content_overlap.prf(),
            end_to_end: self.end_to_end.prf(),
        }
    }
}

impl Totals {
    fn add_document(&mut self, gold_doc: &GoldDocument, quotes: &[QuoteRecord]) {
        let scored = ScoredDocument::new(gold_doc, quotes);
        let (gold, predicted) = (scored.all_gold(), scored.all_predicted());
        self.gold_attributions += gold.len();

        let exact = scored.content_exact_matches(&gold, &predicted);
        self.content_exact
            .add(exact.len(), gold.len(), predicted.len());
        let overlap = scored.content_overlap_matches(&gold, &predicted);
        self.content_overlap
            .add(overlap.len(), gold.len(), predicted.len());
        let end_to_end = scored.end_to_end_matches(&gold, &predicted);
        self.end_to_end.add(
            end_to_end.len(),
            scored.gold_with_source(&gold),
            scored.predicted_with_mention(&predicted),
        );

        let direct_predicted = scored.direct_predicted();
        self.direct
            .add(&scored, &scored.direct_gold(), &direct_predicted);
        self.direct_with_digraphs.add(
            &scored,
            &scored.direct_gold_with_digraphs(),
            &direct_predicted,
        );

        let chars: Vec<char> = gold_doc.text.chars().collect();
        add_span_sets(
            &mut self.source,
            &chars,
            gold_doc
                .attributions
                .iter()
                .filter_map(|attribution| attribution.source.as_deref()),
            quotes
                .iter()
                .filter_map(|quote| quote.speaker.as_ref()?.mention.as_ref()),
        );
        add_span_sets(
            &mut self.cue,
            &chars,
            gold_doc
                .attributions
                .iter()
                .filter_map(|attribution| attribution.cue.as_deref()),
            quotes.iter().filter_map(|quote| quote.cue.as_ref()),
        );

        let mut correct = vec![false; quotes.len()];
        for (_, p) in end_to_end {
            correct[p] = true;
        }
        self.calibration
            .extend(quotes.iter().map(|quote| quote.confidence).zip(correct));
    }
}

/// Scores the distinct gold spans of a role against the distinct predicted spans, by exact
/// stripped extent. A predicted span with nothing left inside the text is a false positive.
fn add_span_sets<'a>(
    tally: &mut Tally,
    chars: &[char],
    gold: impl Iterator<Item = &'a [Piece]>,
    predicted: impl Iterator<Item = &'a SpanRecord>,
) {
    let gold: HashSet<(usize, usize)> = gold
        .filter_map(|pieces| pieces_extent(chars, pieces))
        .collect();
    let mut valid = HashSet::new();
    let mut invalid = HashSet::new();
    for span in predicted {
        match non_empty(stripped(chars, span.start, span.end)) {
            Some(extent) => valid.insert(extent),
            None => invalid.insert((span.start, span.end)),
        };
    }
    let matched = valid.intersection(&gold).count();
    tally.add(matched, gold.len(), valid.len() + invalid.len());
}

/// A probability as used for calibration: NaN counts as 0, everything else is clamped to [0, 1].
pub(super) fn as_probability(confidence: f64) -> f64 {
    if confidence.is_nan() {
        0.0
    } else {
        confidence.clamp(0.0, 1.0)
    }
}

/// ECE (10 equal-width bins), Brier score and the bins, of (confidence, correct) pairs.
pub fn calibration_report(pairs: &[(f64, bool)]) -> CalibrationReport {
    let mut counts = [0usize; CALIBRATION_BINS];
    let mut confidence_sums = [0.0f64; CALIBRATION_BINS];
    let mut correct_counts = [0usize; CALIBRATION_BINS];
    let mut squared_error_sum = 0.0;
    for &(confidence, correct) in pairs {
        let probability = as_probability(confidence);
        // Float-to-int casts saturate, and the clamp keeps p = 1.0 in the top bin.
        let bin =
            ((probability * CALIBRATION_BINS as f64).floor() as usize).min(CALIBRATION_BINS - 1);
        counts[bin] += 1;
        confidence_sums[bin] += probability;
        correct_counts[bin] += usize::from(correct);
        let outcome = if correct { 1.0 } else { 0.0 };
        squared_error_sum += (probability - outcome).powi(2);
    }

    let total = pairs.len();
    let bins: Vec<CalibrationBin> = (0..CALIBRATION_BINS)
        .map(|bin| {
            let count = counts[bin];
            let mean = |sum: f64| (count > 0).then(|| sum / count as f64);
            CalibrationBin {
                lower: bin as f64 / CALIBRATION_BINS as f64,
                upper: (bin + 1) as f64 / CALIBRATION_BINS as f64,
                count,
                mean_confidence: mean(confidence_sums[bin]),
                accuracy: mean(correct_counts[bin] as f64),
            }
        })
        .collect();
    let ece = (total > 0).then(|| {
        bins.iter()
            .filter_map(|bin| {
                let gap = (bin.mean_confidence? - bin.accuracy?).abs();
                Some(bin.count as f64 / total as f64 * gap)
            })
            .sum()
    });
    CalibrationReport {
        predictions: total,
        correct: correct_counts.iter().sum(),
        ece,
        brier: (total > 0).then(|| squared_error_sum / total as f64),
        bins,
    }
}

fn percent(value: f64) -> String {
    format!("{:.1}", value * 100.0)
}

impl EvalReport {
    /// The rows of the metric table, named as the table names them.
    pub fn rows(&self) -> [(&'static str, &Prf); 8] {
        [
            ("content exact", &self.content_exact),
            ("content overlap", &self.content_overlap),
            ("source", &self.source),
            ("cue", &self.cue),
            ("end-to-end", &self.end_to_end),
            ("direct content exact", &self.direct.content_exact),
            ("direct content overlap", &self.direct.content_overlap),
            ("direct end-to-end", &self.direct.end_to_end),
        ]
    }

    /// The rows of [`EvalReport::direct_with_digraphs`].
    pub fn digraph_rows(&self) -> [(&'static str, &Prf); 3] {
        [
            (
                "direct+'' content exact",
                &self.direct_with_digraphs.content_exact,
            ),
            (
                "direct+'' overlap",
                &self.direct_with_digraphs.content_overlap,
            ),
            (
                "direct+'' end-to-end",
                &self.direct_with_digraphs.end_to_end,
            ),
        ]
    }
}

/// Says what the `direct+''` rows are, under the table.
pub const DIGRAPH_ROWS_NOTE: &str = "direct+'': the direct subset with '' and `` also counted as quotation marks in gold contents (New York Times texts quote with ''; the convention's subset above leaves them out)";

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "documents: {} gold, {} predicted, {} matched, {} without prediction, {} predictions ignored",
            self.gold_documents,
            self.predicted_documents,
            self.matched_documents,
            self.missing_documents,
            self.ignored_documents
        )?;
        writeln!(
            f,
            "attributions: {} gold ({} direct), {} predicted ({} direct or mixed)",
            self.gold_attributions,
            self.direct.gold_attributions,
            self.predicted_quotes,
            self.direct.predicted_quotes
        )?;
        writeln!(
            f,
            "{:<24} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7}",
            "measure", "P", "R", "F1", "tp", "fp", "fn"
        )?;
        for (name, prf) in self.rows().into_iter().chain(self.digraph_rows()) {
            writeln!(
                f,
                "{:<24} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7}",
                name,
                percent(prf.precision),
                percent(prf.recall),
                percent(prf.f1),
                prf.tp,
                prf.fp,
                prf.fn_
            )?;
        }
        writeln!(f, "{DIGRAPH_ROWS_NOTE}")?;
        let calibration = &self.calibration;
        match (calibration.ece, calibration.brier) {
            (Some(ece), Some(brier)) => write!(
                f,
                "calibration over {} predictions ({} correct): ECE {}%, Brier {:.3}",
                calibration.predictions,
                calibration.correct,
                percent(ece),
                brier
            ),
            _ => write!(f, "calibration: no predictions"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::errors::{errors, ErrorCaseKind, DEFAULT_CONTEXT_CHARS};
    use crate::record::SpeakerRecord;

    const TEXT: &str =
        "“We will win,” Smith said, “and soon.” Officials said taxes rise. He added more.";

    fn span(start: usize, end: usize) -> SpanRecord {
        let text = super::super::gold::char_slice(TEXT, start, end)
            .unwrap_or_default()
            .to_owned();
        SpanRecord { start, end, text }
    }

    fn quote(
        kind: QuoteKind,
        content: (usize, usize),
        mention: Option<(usize, usize)>,
        cue: Option<(usize, usize)>,
        confidence: f64,
    ) -> QuoteRecord {
        QuoteRecord {
            kind,
            content: span(content.0, content.1),
            pieces: Vec::new(),
            cue: cue.map(|(start, end)| span(start, end)),
            speaker: mention.map(|(start, end)| SpeakerRecord {
                name: "someone".into(),
                entity: "e1".into(),
                mention: Some(span(start, end)),
            }),
            confidence,
            stance: None,
            targets: None,
        }
    }

    fn prediction(id: &str, quotes: Vec<QuoteRecord>) -> DocumentRecord {
        DocumentRecord {
            id: id.into(),
            quotes,
            entities: Vec::new(),
            meta: None,
            error: None,
        }
    }

    fn pieces(pairs: &[(usize, usize)]) -> Vec<Piece> {
        pairs
            .iter()
            .map(|&(start, end)| Piece::new(start, end))
            .collect()
    }

    /// Offsets in TEXT: “We will win,” 0..14, Smith 15..20, said 21..25, “and soon.” 27..38,
    /// Officials 39..48, said 49..53, taxes rise 54..64, He 66..68, added 69..74, more 75..79.
    fn gold_document() -> GoldDocument {
        GoldDocument {
            id: "d1".into(),
            text: TEXT.into(),
            attributions: vec![
                GoldAttribution {
                    content: pieces(&[(0, 14), (27, 38)]),
                    source: Some(pieces(&[(15, 20)])),
                    cue: Some(pieces(&[(21, 25)])),
                },
                GoldAttribution {
                    content: pieces(&[(54, 64)]),
                    source: Some(pieces(&[(39, 48)])),
                    cue: Some(pieces(&[(49, 53)])),
                },
                GoldAttribution {
                    content: pieces(&[(75, 79)]),
                    source: None,
                    cue: Some(pieces(&[(69, 74)])),
                },
            ],
        }
    }

    #[test]
    fn text_offsets_in_fixture_are_as_documented() {
        let cut = |start, end| span(start, end).text;
        assert_eq!(cut(0, 14), "“We will win,”");
        assert_eq!(cut(15, 20), "Smith");
        assert_eq!(cut(27, 38), "“and soon.”");
        assert_eq!(cut(39, 48), "Officials");
        assert_eq!(cut(54, 64), "taxes rise");
        assert_eq!(cut(69, 74), "added");
        assert_eq!(cut(75, 79), "more");
    }

    #[test]
    fn region_iou_leaves_gaps_out() {
        let gold = Region::from_intervals(vec![(0, 10), (20, 30)]);
        let whole = Region::from_intervals(vec![(0, 30)]);
        // 20 shared characters over a union of 30.
        assert!((gold.iou(&whole) - 2.0 / 3.0).abs() < 1e-12);
        let first = Region::from_intervals(vec![(0, 10)]);
        assert!((gold.iou(&first) - 0.5).abs() < 1e-12);
        assert_eq!(gold.iou(&Region::default()), 0.0);
        let merged = Region::from_intervals(vec![(5, 8), (0, 6), (8, 9), (3, 3)]);
        assert_eq!(merged.intervals, vec![(0, 9)]);
    }

    #[test]
    fn perfect_prediction_scores_full_marks() {
        let gold = vec![gold_document()];
        let predicted = vec![prediction(
            "d1",
            vec![
                quote(
                    QuoteKind::Direct,
                    (0, 38),
                    Some((15, 20)),
                    Some((21, 25)),
                    0.9,
                ),
                quote(
                    QuoteKind::Indirect,
                    (54, 64),
                    Some((39, 48)),
                    Some((49, 53)),
                    0.8,
                ),
                quote(QuoteKind::Indirect, (75, 79), None, Some((69, 74)), 0.3),
            ],
        )];
        let report = score(&gold, &predicted);
        for prf in [
            &report.content_exact,
            &report.content_overlap,
            &report.source,
            &report.cue,
            &report.end_to_end,
        ] {
            assert_eq!((prf.fp, prf.fn_), (0, 0), "{report}");
            assert_eq!(prf.f1, 1.0);
        }
        assert_eq!(report.content_exact.tp, 3);
        // The third gold has no source and the third quote no mention: both left out.
        assert_eq!(report.end_to_end.tp, 2);
        assert_eq!(report.direct.gold_attributions, 1);
        assert_eq!(report.direct.predicted_quotes, 1);
        assert_eq!(report.direct.end_to_end.tp, 1);
        assert_eq!(
            match_predictions(&gold[0], &predicted[0]),
            vec![true, true, false]
        );
        assert_eq!(
            calibration_pairs(&gold, &predicted),
            vec![(0.9, true), (0.8, true), (0.3, false)]
        );
        assert!(errors(&gold, &predicted, DEFAULT_CONTEXT_CHARS).is_empty());
    }

    #[test]
    fn exact_needs_same_stripped_boundaries_overlap_needs_half() {
        let gold = vec![gold_document()];
        let predicted = vec![prediction(
            "d1",
            vec![
                // Surrounding whitespace does not matter for exactness: 26..39 strips to 27..38,
                // and the gap of gold's discontinuous content is left out of the overlap.
                quote(QuoteKind::Direct, (0, 39), Some((15, 20)), None, 0.5),
                // "taxes" of "taxes rise": IoU 5/10, just enough for overlap, not exact.
                quote(QuoteKind::Indirect, (54, 59), Some((39, 48)), None, 0.5),
                // "more" plus the space before it is exact after stripping.
                quote(QuoteKind::Indirect, (74, 79), None, None, 0.5),
            ],
        )];
        let report = score(&gold, &predicted);
        assert_eq!(
            (
                report.content_exact.tp,
                report.content_exact.fp,
                report.content_exact.fn_
            ),
            (2, 1, 1)
        );
        assert_eq!(report.content_overlap.tp, 3);
        assert_eq!(report.end_to_end.tp, 2);

        let too_short = vec![prediction(
            "d1",
            vec![quote(
                QuoteKind::Indirect,
                (54, 58),
                Some((39, 48)),
                None,
                0.5,
            )],
        )];
        let report = score(&gold, &too_short);
        assert_eq!(report.content_overlap.tp, 0);
        assert_eq!(report.end_to_end.tp, 0);
        assert_eq!(report.end_to_end.fp, 1);
        assert_eq!(report.end_to_end.fn_, 2);
    }

    #[test]
    fn greedy_matching_is_one_to_one_by_best_iou() {
        let text = "a".repeat(100);
        let gold = vec![GoldDocument {
            id: "g".into(),
            text: text.clone(),
            attributions: vec![
                GoldAttribution {
                    content: pieces(&[(0, 10)]),
                    source: Some(pieces(&[(50, 55)])),
                    cue: None,
                },
                GoldAttribution {
                    content: pieces(&[(0, 12)]),
                    source: Some(pieces(&[(50, 55)])),
                    cue: None,
                },
            ],
        }];
        let quote_at = |start, end| QuoteRecord {
            kind: QuoteKind::Indirect,
            content: SpanRecord {
                start,
                end,
                text: text[start..end].to_owned(),
            },
            pieces: Vec::new(),
            cue: None,
            speaker: Some(SpeakerRecord {
                name: "x".into(),
                entity: "e".into(),
                mention: Some(SpanRecord {
                    start: 50,
                    end: 55,
                    text: "aaaaa".into(),
                }),
            }),
            confidence: 0.5,
            stance: None,
            targets: None,
        };
        // The first quote fits both golds but fits the second best (IoU 1.0 vs 10/12); the second
        // quote then takes the first gold (IoU 10/11) although it also fits the second.
        let predicted = vec![prediction("g", vec![quote_at(0, 12), quote_at(0, 11)])];
        let report = score(&gold, &predicted);
        assert_eq!(report.content_overlap.tp, 2);
        assert_eq!(report.end_to_end.tp, 2);
        assert_eq!(match_predictions(&gold[0], &predicted[0]), vec![true, true]);

        // Two identical predictions of one gold: only one can match.
        let doubled = vec![prediction("g", vec![quote_at(0, 10), quote_at(0, 10)])];
        let single_gold = vec![GoldDocument {
            attributions: gold[0].attributions[..1].to_vec(),
            ..gold[0].clone()
        }];
        let report = score(&single_gold, &doubled);
        assert_eq!((report.content_exact.tp, report.content_exact.fp), (1, 1));
        assert_eq!((report.end_to_end.tp, report.end_to_end.fp), (1, 1));
        assert_eq!(
            match_predictions(&single_gold[0], &doubled[0]),
            vec![true, false]
        );
    }

    #[test]
    fn sources_and_cues_are_distinct_span_sets() {
        let mut document = gold_document();
        // A second attribution sharing Smith as its source: still one gold source.
        document.attributions.push(GoldAttribution {
            content: pieces(&[(27, 38)]),
            source: Some(pieces(&[(15, 20)])),
            cue: Some(pieces(&[(21, 25)])),
        });
        let gold = vec![document];
        let predicted = vec![prediction(
            "d1",
            vec![
                quote(
                    QuoteKind::Direct,
                    (0, 14),
                    Some((15, 20)),
                    Some((21, 25)),
                    0.5,
                ),
                quote(
                    QuoteKind::Direct,
                    (27, 38),
                    Some((14, 20)),
                    Some((21, 25)),
                    0.5,
                ),
                // A wrong mention and a cue outside the text.
                quote(
                    QuoteKind::Indirect,
                    (54, 64),
                    Some((39, 44)),
                    Some((500, 510)),
                    0.5,
                ),
            ],
        )];
        let report = score(&gold, &predicted);
        // Gold sources {Smith, Officials}; predicted {Smith, Offic} (" Smith" strips to Smith).
        assert_eq!(
            (report.source.tp, report.source.fp, report.source.fn_),
            (1, 1, 1)
        );
        // Gold cues {said, said, added}; predicted {said 21..25, out of range}.
        assert_eq!((report.cue.tp, report.cue.fp, report.cue.fn_), (1, 1, 2));
    }

    #[test]
    fn the_digraph_subset_also_counts_two_apostrophes_as_quotation_marks() {
        let text = "''We are close,'' Kerry said. \
                    Lavrov said “the trust is growing.”";
        let chars: Vec<char> = text.chars().collect();
        let find = |needle: &str| {
            let at = text.find(needle).unwrap();
            let start = text[..at].chars().count();
            (start, start + needle.chars().count())
        };
        let (nyt, kerry, said) = (find("''We are close,''"), find("Kerry"), find("said"));
        let (curly, lavrov) = (find("“the trust is growing.”"), find("Lavrov"));
        assert_eq!(
            chars[nyt.0..nyt.1].iter().collect::<String>(),
            "''We are close,''"
        );
        let gold = vec![GoldDocument {
            id: "d1".into(),
            text: text.into(),
            attributions: vec![
                GoldAttribution {
                    content: pieces(&[nyt]),
                    source: Some(pieces(&[kerry])),
                    cue: Some(pieces(&[said])),
                },
                GoldAttribution {
                    content: pieces(&[curly]),
                    source: Some(pieces(&[lavrov])),
                    cue: None,
                },
            ],
        }];
        let predicted = vec![prediction(
            "d1",
            vec![
                quote(QuoteKind::Direct, nyt, Some(kerry), None, 0.5),
                quote(QuoteKind::Direct, curly, Some(lavrov), None, 0.5),
            ],
        )];
        let report = score(&gold, &predicted);
        // The convention's subset: only the curly quote is direct gold, so the quote in ''
        // is a false positive there.
        assert_eq!(report.direct.gold_attributions, 1);
        assert_eq!(report.direct.end_to_end.tp, 1);
        assert_eq!(report.direct.end_to_end.fp, 1);
        // With the digraph counted, both are direct gold and both predictions match.
        let digraphs = &report.direct_with_digraphs;
        assert_eq!(digraphs.gold_attributions, 2);
        assert_eq!(digraphs.predicted_quotes, 2);
        assert_eq!((digraphs.end_to_end.tp, digraphs.end_to_end.fp), (2, 0));
        assert_eq!(digraphs.content_exact.tp, 2);
        // Everything else is the same either way.
        assert_eq!(report.end_to_end.tp, 2);
        let printed = report.to_string();
        assert!(printed.contains("direct+'' end-to-end"), "{printed}");
        assert!(printed.contains(DIGRAPH_ROWS_NOTE), "{printed}");
    }

    #[test]
    fn direct_subset_uses_quotation_marks_and_quote_types() {
        let gold = vec![gold_document()];
        let predicted = vec![prediction(
            "d1",
            vec![
                quote(QuoteKind::Mixed, (0, 38), Some((15, 20)), None, 0.5),
                quote(QuoteKind::Direct, (54, 64), Some((39, 48)), None, 0.5),
            ],
        )];
        let report = score(&gold, &predicted);
        assert_eq!(report.direct.gold_attributions, 1);
        assert_eq!(report.direct.predicted_quotes, 2);
        let exact = &report.direct.content_exact;
        assert_eq!((exact.tp, exact.fp, exact.fn_), (1, 1, 0));
        assert_eq!(report.direct.content_overlap.tp, 1);
        assert_eq!(report.direct.end_to_end.tp, 1);
        assert_eq!(report.direct.end_to_end.fp, 1);
        assert!((report.direct.content_exact.precision - 0.5).abs() < 1e-12);
    }

    #[test]
    fn ece_and_brier_on_known_numbers() {
        let pairs = [
            (0.95, true),
            (0.95, false),
            (0.15, false),
            (0.15, false),
            (1.0, true),
        ];
        let report = calibration_report(&pairs);
        assert_eq!(report.predictions, 5);
        assert_eq!(report.correct, 2);
        // Bin 9: confidences 0.95, 0.95, 1.0 (mean 2.9/3), accuracy 2/3; bin 1: 0.15 vs 0.
        let expected_ece = 3.0 / 5.0 * (2.9f64 / 3.0 - 2.0 / 3.0).abs() + 2.0 / 5.0 * 0.15;
        let ece = report.ece.expect("has predictions");
        assert!(
            (ece - expected_ece).abs() < 1e-12,
            "{ece} vs {expected_ece}"
        );
        let expected_brier = (0.05f64.powi(2) + 0.95f64.powi(2) + 2.0 * 0.15f64.powi(2)) / 5.0;
        let brier = report.brier.expect("has predictions");
        assert!((brier - expected_brier).abs() < 1e-12);
        assert_eq!(report.bins[9].count, 3);
        assert_eq!(report.bins[1].count, 2);
        assert_eq!(report.bins[0].accuracy, None);

        let odd = calibration_report(&[(f64::NAN, false), (-3.0, false), (7.0, true)]);
        assert_eq!(odd.bins[0].count, 2);
        assert_eq!(odd.bins[9].count, 1);
        assert_eq!(odd.brier, Some(0.0));

        let empty = calibration_report(&[]);
        assert_eq!((empty.ece, empty.brier), (None, None));
    }

    #[test]
    fn calibration_in_report_follows_end_to_end_matches() {
        let gold = vec![gold_document()];
        let predicted = vec![prediction(
            "d1",
            vec![
                quote(QuoteKind::Direct, (0, 38), Some((15, 20)), None, 1.0),
                quote(QuoteKind::Indirect, (54, 64), Some((66, 68)), None, 0.0),
            ],
        )];
        let report = score(&gold, &predicted);
        assert_eq!(report.calibration.predictions, 2);
        assert_eq!(report.calibration.correct, 1);
        assert_eq!(report.calibration.ece, Some(0.0));
        assert_eq!(report.calibration.brier, Some(0.0));
    }

    #[test]
    fn documents_are_matched_by_id() {
        let mut other = gold_document();
        other.id = "d2".into();
        let gold = vec![gold_document(), other];
        let predicted = vec![
            prediction(
                "unknown",
                vec![quote(QuoteKind::Direct, (0, 14), None, None, 0.5)],
            ),
            prediction(
                "d1",
                vec![quote(QuoteKind::Direct, (0, 38), Some((15, 20)), None, 0.5)],
            ),
            prediction("d1", Vec::new()),
        ];
        let report = score(&gold, &predicted);
        assert_eq!(report.gold_documents, 2);
        assert_eq!(report.predicted_documents, 3);
        assert_eq!(report.matched_documents, 1);
        assert_eq!(report.missing_documents, 1);
        assert_eq!(report.ignored_documents, 2);
        assert_eq!(report.gold_attributions, 6);
        // Only the first "d1" prediction counts; d2's gold is all missed.
        assert_eq!(report.predicted_quotes, 1);
        assert_eq!(
            (
                report.content_overlap.tp,
                report.content_overlap.fp,
                report.content_overlap.fn_
            ),
            (1, 0, 5)
        );
        assert_eq!((report.end_to_end.tp, report.end_to_end.fn_), (1, 3));
    }

    #[test]
    fn broken_predictions_do_not_panic() {
        let gold = vec![gold_document()];
        let predicted = vec![prediction(
            "d1",
            vec![
                quote(
                    QuoteKind::Direct,
                    (500, 400),
                    Some((usize::MAX, 3)),
                    Some((80, 900)),
                    f64::NAN,
                ),
                quote(
                    QuoteKind::Mixed,
                    (usize::MAX - 1, usize::MAX),
                    None,
                    None,
                    f64::INFINITY,
                ),
                quote(
                    QuoteKind::Indirect,
                    (70, 7000),
                    Some((0, usize::MAX)),
                    None,
                    -1.0,
                ),
            ],
        )];
        let report = score(&gold, &predicted);
        assert_eq!(report.content_overlap.tp, 0);
        assert_eq!(report.content_exact.fp, 3);
        let cases = errors(&gold, &predicted, DEFAULT_CONTEXT_CHARS);
        let count = |kind| cases.iter().filter(|case| case.kind == kind).count();
        // The quote clamped to 70..80 overlaps "more" a little: a boundary error, not spurious.
        assert_eq!(count(ErrorCaseKind::SpuriousQuote), 2);
        assert_eq!(count(ErrorCaseKind::ContentBoundary), 1);
        assert!(report.to_string().contains("end-to-end"));

        let empty_text = vec![GoldDocument {
            id: "d1".into(),
            text: String::new(),
            attributions: Vec::new(),
        }];
        let report = score(&empty_text, &predicted);
        assert_eq!(report.content_overlap.fp, 3);
    }

    #[test]
    fn display_prints_a_fixed_width_table() {
        let report = score(&[gold_document()], &[prediction("d1", Vec::new())]);
        let shown = report.to_string();
        assert!(shown.contains("measure"));
        let row = shown
            .lines()
            .find(|line| line.starts_with("content exact"))
            .expect("row");
        assert_eq!(
            row,
            format!(
                "{:<24} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7}",
                "content exact", "0.0", "0.0", "0.0", 0, 0, 3
            )
        );
        assert!(shown.ends_with("calibration: no predictions"));
        let json = serde_json::to_value(&report).expect("serialisable");
        assert_eq!(json["content_exact"]["fn"], 3);
    }
}
