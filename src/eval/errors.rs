//! Error analysis: every false positive and false negative of the attribution matching, classed
//! by what went wrong, and the scores broken down by quote type and by kind of source mention.
//!
//! The pairing is that of [`super::metrics`]: contents are matched one-to-one by IoU >= 0.5, so
//! the counts here can be read against the metric tables. Gold carries no quote types or mention
//! kinds, so they are read off its text: a content with double quotation marks is direct when it
//! opens and closes with one and mixed otherwise, and a source is a pronoun, a name (a
//! capitalised word that is not a role, title or sentence starter) or else nominal.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::gold::{GoldAttribution, GoldDocument, Piece};
use super::metrics::{
    greedy_one_to_one, non_empty, pair_documents, pieces_extent, span_region, stripped, Candidate,
    ScoredDocument, MIN_OVERLAP_IOU,
};
use crate::lexicon::{Lexicon, SCORED_DOUBLE_QUOTATION_MARKS};
use crate::record::{DocumentRecord, MentionKind, QuoteKind, QuoteRecord, SpanRecord};

/// Characters of context shown on each side of an error unless the caller asks otherwise.
pub const DEFAULT_CONTEXT_CHARS: usize = 30;
/// A content longer than this is elided in the middle of the context, so that a line stays short.
const CONTEXT_SPAN_CHARS: usize = 60;

/// Pronouns that are not in the lexicon's list of source pronouns (which holds subject forms
/// only) but do occur as annotated sources.
const OTHER_PRONOUNS: [&str; 6] = ["you", "him", "her", "them", "us", "me"];

/// What went wrong in an [`ErrorCase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCaseKind {
    /// A direct gold quote that no predicted quote overlaps.
    MissedDirect,
    /// A mixed gold quote (reported speech with a quoted fragment) that no predicted quote
    /// overlaps.
    MissedMixed,
    /// Gold indirect speech (or thought) that no predicted quote overlaps.
    MissedIndirect,
    /// A predicted quote that overlaps no gold content left unmatched.
    SpuriousQuote,
    /// Gold and predicted contents overlap but their boundaries differ; under IoU 0.5 the pair
    /// also counts as a miss and a spurious quote in the tables.
    ContentBoundary,
    /// The contents match, the gold has a source, the prediction has no speaker mention.
    MissingSource,
    /// The contents match and the predicted speaker mention misses the gold source; no pronoun
    /// is involved.
    WrongSource,
    /// As [`ErrorCaseKind::WrongSource`], where the gold source or the predicted mention is a
    /// pronoun and the predicted entity has no mention at the gold source.
    PronounResolvedWrong,
    /// The predicted speaker entity is right (one of its mentions is the gold source) but the
    /// quote names another of its mentions, so the end-to-end match fails.
    OtherMentionOfSpeaker,
    /// The contents match, the gold has a cue, the prediction has none.
    MissingCue,
    /// The contents match and the predicted cue's extent differs from the gold cue's.
    WrongCue,
}

impl ErrorCaseKind {
    pub const ALL: [ErrorCaseKind; 11] = [
        ErrorCaseKind::MissedDirect,
        ErrorCaseKind::MissedMixed,
        ErrorCaseKind::MissedIndirect,
        ErrorCaseKind::SpuriousQuote,
        ErrorCaseKind::ContentBoundary,
        ErrorCaseKind::MissingSource,
        ErrorCaseKind::WrongSource,
        ErrorCaseKind::PronounResolvedWrong,
        ErrorCaseKind::OtherMentionOfSpeaker,
        ErrorCaseKind::MissingCue,
        ErrorCaseKind::WrongCue,
    ];

    /// A short name for people.
    pub fn label(self) -> &'static str {
        match self {
            ErrorCaseKind::MissedDirect => "missed direct",
            ErrorCaseKind::MissedMixed => "missed mixed",
            ErrorCaseKind::MissedIndirect => "missed indirect",
            ErrorCaseKind::SpuriousQuote => "spurious quote",
            ErrorCaseKind::ContentBoundary => "content boundary off",
            ErrorCaseKind::MissingSource => "missing source",
            ErrorCaseKind::WrongSource => "wrong source",
            ErrorCaseKind::PronounResolvedWrong => "pronoun resolved wrong",
            ErrorCaseKind::OtherMentionOfSpeaker => "other mention of the speaker",
            ErrorCaseKind::MissingCue => "missing cue",
            ErrorCaseKind::WrongCue => "wrong cue",
        }
    }

    /// One sentence on what the kind means.
    pub fn description(self) -> &'static str {
        match self {
            ErrorCaseKind::MissedDirect => "a direct gold quote that no predicted quote overlaps",
            ErrorCaseKind::MissedMixed => {
                "a mixed gold quote (with a quoted fragment) that no predicted quote overlaps"
            }
            ErrorCaseKind::MissedIndirect => {
                "gold indirect speech or thought that no predicted quote overlaps"
            }
            ErrorCaseKind::SpuriousQuote => "a predicted quote that overlaps no unmatched gold",
            ErrorCaseKind::ContentBoundary => {
                "contents overlap but start or end elsewhere (under IoU 0.5: a miss and a spurious quote in the tables)"
            }
            ErrorCaseKind::MissingSource => {
                "contents match, the gold has a source, the prediction names no speaker mention"
            }
            ErrorCaseKind::WrongSource => {
                "contents match, the speaker mention misses the gold source, no pronoun involved"
            }
            ErrorCaseKind::PronounResolvedWrong => {
                "contents match, a pronoun on either side, and the predicted entity has no mention at the gold source"
            }
            ErrorCaseKind::OtherMentionOfSpeaker => {
                "the predicted entity is right but the quote names another of its mentions"
            }
            ErrorCaseKind::MissingCue => "contents match, the gold has a cue, the prediction none",
            ErrorCaseKind::WrongCue => "contents match, the predicted cue's extent differs",
        }
    }
}

impl fmt::Display for ErrorCaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One side of an error: a gold attribution or a predicted quote, spans taken from the gold text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteSpans {
    /// For gold, read off the text (see the module docs).
    #[serde(rename = "type")]
    pub kind: QuoteKind,
    /// First start to last end; a discontinuous gold content includes its gaps here.
    pub content: SpanRecord,
    pub source: Option<SpanRecord>,
    /// For gold, read off the source's text; for a prediction, the kind of its mention.
    pub source_kind: Option<MentionKind>,
    pub cue: Option<SpanRecord>,
    /// The predicted speaker's canonical name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// The predicted quote's confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

/// One false positive or false negative, for reading through a system's mistakes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorCase {
    pub doc_id: String,
    pub kind: ErrorCaseKind,
    pub gold: Option<QuoteSpans>,
    pub predicted: Option<QuoteSpans>,
    /// Character IoU of the two contents, where both sides are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_iou: Option<f64>,
    /// The surrounding text with the gold content (or else the predicted one) marked `[[...]]`,
    /// long contents elided in the middle, whitespace flattened to spaces.
    pub context: String,
}

impl ErrorCase {
    /// Where the case sits in its document: the start of its gold content, else the predicted.
    pub fn position(&self) -> usize {
        self.gold
            .as_ref()
            .or(self.predicted.as_ref())
            .map_or(0, |spans| spans.content.start)
    }
}

impl ErrorCase {
    /// Whether the case makes its predicted quote a wrong attribution, one that is not an
    /// end-to-end match (and so counts as wrong in the calibration).
    pub fn wrong_attribution(&self) -> bool {
        self.predicted.is_some()
            && match self.kind {
                ErrorCaseKind::SpuriousQuote
                | ErrorCaseKind::MissingSource
                | ErrorCaseKind::WrongSource
                | ErrorCaseKind::PronounResolvedWrong
                | ErrorCaseKind::OtherMentionOfSpeaker => true,
                ErrorCaseKind::ContentBoundary => {
                    self.content_iou.is_some_and(|iou| iou < MIN_OVERLAP_IOU)
                }
                _ => false,
            }
    }
}

/// The wrongly attributed predicted quotes, most confident first, each quote once, at most
/// `limit` of them: the mistakes that a confidence cut-off lets through.
pub fn most_confident_wrong(cases: &[ErrorCase], limit: usize) -> Vec<&ErrorCase> {
    let confidence = |case: &ErrorCase| {
        case.predicted
            .as_ref()
            .and_then(|spans| spans.confidence)
            .filter(|confidence| !confidence.is_nan())
            .unwrap_or(0.0)
    };
    let mut wrong: Vec<&ErrorCase> = cases
        .iter()
        .filter(|case| case.wrong_attribution())
        .collect();
    // Stable, so equal confidences keep document order.
    wrong.sort_by(|a, b| confidence(b).total_cmp(&confidence(a)));
    let mut seen = HashSet::new();
    wrong
        .into_iter()
        .filter(|case| {
            let content = case
                .predicted
                .as_ref()
                .map(|spans| (spans.content.start, spans.content.end));
            seen.insert((case.doc_id.as_str(), content))
        })
        .take(limit)
        .collect()
}

/// Matches found and missed for one group of gold attributions and of predicted quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GroupCounts {
    pub gold: usize,
    /// Gold matched by content overlap.
    pub gold_found: usize,
    /// Gold matched end to end.
    pub gold_end_to_end: usize,
    pub predicted: usize,
    pub predicted_found: usize,
    pub predicted_end_to_end: usize,
}

/// A row of a [`Breakdown`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow<K> {
    pub key: K,
    #[serde(flatten)]
    pub counts: GroupCounts,
}

/// Recall of gold and precision of predictions, per group. Gold is grouped by its type and its
/// source read off the text, predictions by their own type and mention kind; `None` is an
/// attribution without a source (or a quote without a speaker mention), never an end-to-end match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    pub by_type: Vec<GroupRow<QuoteKind>>,
    pub by_source_kind: Vec<GroupRow<Option<MentionKind>>>,
}

/// Lists the errors of every gold document against its prediction (a document without one has all
/// its gold missed), document by document and in text order within each; `context_chars` of text
/// are shown on each side.
pub fn errors(
    gold: &[GoldDocument],
    predicted: &[DocumentRecord],
    context_chars: usize,
) -> Vec<ErrorCase> {
    let (pairs, _) = pair_documents(gold, predicted);
    let mut cases = Vec::new();
    for (gold_doc, pred_doc) in pairs {
        let analysed = Analysed::new(gold_doc, pred_doc);
        let mut document_cases = analysed.errors(context_chars);
        document_cases.sort_by_key(ErrorCase::position);
        cases.extend(document_cases);
    }
    cases
}

/// How many cases of each kind, in [`ErrorCaseKind::ALL`] order, kinds without a case left out.
pub fn count_by_kind(cases: &[ErrorCase]) -> Vec<(ErrorCaseKind, usize)> {
    ErrorCaseKind::ALL
        .iter()
        .map(|&kind| (kind, cases.iter().filter(|case| case.kind == kind).count()))
        .filter(|&(_, count)| count > 0)
        .collect()
}

/// Scores per quote type and per source kind, over the documents that [`super::score`] scores.
pub fn breakdown(gold: &[GoldDocument], predicted: &[DocumentRecord]) -> Breakdown {
    const TYPES: [QuoteKind; 3] = [QuoteKind::Direct, QuoteKind::Mixed, QuoteKind::Indirect];
    const SOURCES: [Option<MentionKind>; 4] = [
        Some(MentionKind::Name),
        Some(MentionKind::Pronoun),
        Some(MentionKind::Nominal),
        None,
    ];
    let mut by_type = [GroupCounts::default(); 3];
    let mut by_source = [GroupCounts::default(); 4];
    let type_index = |kind: QuoteKind| TYPES.iter().position(|&k| k == kind).unwrap_or(0);
    let source_index = |kind: Option<MentionKind>| {
        SOURCES
            .iter()
            .position(|&k| k == kind)
            .unwrap_or(SOURCES.len() - 1)
    };
    let (pairs, _) = pair_documents(gold, predicted);
    for (gold_doc, pred_doc) in pairs {
        let analysed = Analysed::new(gold_doc, pred_doc);
        let found_gold: HashSet<usize> = analysed.overlap.iter().map(|&(g, _)| g).collect();
        let found_pred: HashSet<usize> = analysed.overlap.iter().map(|&(_, p)| p).collect();
        let e2e_gold: HashSet<usize> = analysed.end_to_end.iter().map(|&(g, _)| g).collect();
        let e2e_pred: HashSet<usize> = analysed.end_to_end.iter().map(|&(_, p)| p).collect();
        for g in 0..analysed.scored.gold.len() {
            let (found, e2e) = (found_gold.contains(&g), e2e_gold.contains(&g));
            for counts in [
                &mut by_type[type_index(analysed.gold_kinds[g])],
                &mut by_source[source_index(analysed.gold_source_kinds[g])],
            ] {
                counts.gold += 1;
                counts.gold_found += usize::from(found);
                counts.gold_end_to_end += usize::from(e2e);
            }
        }
        for p in 0..analysed.scored.predicted.len() {
            let (found, e2e) = (found_pred.contains(&p), e2e_pred.contains(&p));
            for counts in [
                &mut by_type[type_index(analysed.quotes[p].kind)],
                &mut by_source[source_index(analysed.mention_kinds[p])],
            ] {
                counts.predicted += 1;
                counts.predicted_found += usize::from(found);
                counts.predicted_end_to_end += usize::from(e2e);
            }
        }
    }
    Breakdown {
        by_type: TYPES
            .iter()
            .zip(by_type)
            .map(|(&key, counts)| GroupRow { key, counts })
            .collect(),
        by_source_kind: SOURCES
            .iter()
            .zip(by_source)
            .map(|(&key, counts)| GroupRow { key, counts })
            .collect(),
    }
}

/// The type of a gold attribution, read off its text (see the module docs).
pub fn gold_quote_kind(text: &str, attribution: &GoldAttribution) -> QuoteKind {
    let chars: Vec<char> = text.chars().collect();
    quote_kind_of(&chars, &attribution.content)
}

fn quote_kind_of(chars: &[char], content: &[Piece]) -> QuoteKind {
    let is_mark = |c: &char| SCORED_DOUBLE_QUOTATION_MARKS.contains(c);
    let quoted = content.iter().any(|piece| {
        let (start, end) = stripped(chars, piece.start, piece.end);
        chars[start..end].iter().any(is_mark)
    });
    let Some((start, end)) = pieces_extent(chars, content).filter(|_| quoted) else {
        return QuoteKind::Indirect;
    };
    let span = &chars[start..end];
    let opens = span.first().is_some_and(is_mark);
    // A closing mark may be followed by the sentence's full stop or comma.
    let closes = span
        .iter()
        .rev()
        .take(2)
        .any(|c| SCORED_DOUBLE_QUOTATION_MARKS.contains(c));
    if opens && closes && span.len() > 1 {
        QuoteKind::Direct
    } else {
        QuoteKind::Mixed
    }
}

/// The kind of a mention, read off its text alone (see the module docs).
pub fn mention_kind_of_text(text: &str) -> MentionKind {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\''))
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect();
    if let [word] = words.as_slice() {
        let lowered = word.to_lowercase();
        if Lexicon::get()
            .source_pronouns
            .contains_key(lowered.as_str())
            || OTHER_PRONOUNS.contains(&lowered.as_str())
        {
            return MentionKind::Pronoun;
        }
    }
    let lexicon = Lexicon::get();
    let names_something = words.iter().any(|word| {
        let capitalised = word.chars().next().is_some_and(char::is_uppercase);
        let bare = word
            .strip_suffix("'s")
            .or_else(|| word.strip_suffix('\''))
            .unwrap_or(word)
            .to_lowercase();
        capitalised
            && !lexicon.determiners.contains(bare.as_str())
            && !lexicon.not_names.contains(bare.as_str())
            && !lexicon.sentence_starters.contains(bare.as_str())
            && !lexicon.nominal_sources.contains(bare.as_str())
            && !lexicon.role_nouns.contains(bare.as_str())
            && !lexicon.titles.contains(bare.as_str())
    });
    if names_something {
        MentionKind::Name
    } else {
        MentionKind::Nominal
    }
}

/// One document's gold and predictions with their matchings and the kinds read off them.
struct Analysed<'a> {
    gold_doc: &'a GoldDocument,
    pred_doc: Option<&'a DocumentRecord>,
    quotes: &'a [QuoteRecord],
    chars: Vec<char>,
    scored: ScoredDocument,
    overlap: Vec<(usize, usize)>,
    end_to_end: Vec<(usize, usize)>,
    gold_kinds: Vec<QuoteKind>,
    gold_source_kinds: Vec<Option<MentionKind>>,
    mention_kinds: Vec<Option<MentionKind>>,
}

impl<'a> Analysed<'a> {
    fn new(gold_doc: &'a GoldDocument, pred_doc: Option<&'a DocumentRecord>) -> Self {
        let quotes = pred_doc.map_or(&[][..], |doc| doc.quotes.as_slice());
        let chars: Vec<char> = gold_doc.text.chars().collect();
        let scored = ScoredDocument::new(gold_doc, quotes);
        let (all_gold, all_predicted) = (scored.all_gold(), scored.all_predicted());
        let overlap = scored.content_overlap_matches(&all_gold, &all_predicted);
        let end_to_end = scored.end_to_end_matches(&all_gold, &all_predicted);
        let gold_kinds = gold_doc
            .attributions
            .iter()
            .map(|attribution| quote_kind_of(&chars, &attribution.content))
            .collect();
        let gold_source_kinds = gold_doc
            .attributions
            .iter()
            .map(|attribution| {
                let (start, end) = pieces_extent(&chars, attribution.source.as_deref()?)?;
                Some(mention_kind_of_text(
                    &chars[start..end].iter().collect::<String>(),
                ))
            })
            .collect();
        let mention_kinds = quotes
            .iter()
            .map(|quote| predicted_mention_kind(pred_doc, quote))
            .collect();
        Self {
            gold_doc,
            pred_doc,
            quotes,
            chars,
            scored,
            overlap,
            end_to_end,
            gold_kinds,
            gold_source_kinds,
            mention_kinds,
        }
    }

    fn errors(&self, context_chars: usize) -> Vec<ErrorCase> {
        let scored = &self.scored;
        let matched_gold: HashSet<usize> = self.overlap.iter().map(|&(g, _)| g).collect();
        let matched_pred: HashSet<usize> = self.overlap.iter().map(|&(_, p)| p).collect();
        let end_to_end: HashSet<(usize, usize)> = self.end_to_end.iter().copied().collect();

        // Leftovers that overlap a little are one boundary error, not a miss and a spurious
        // quote that happen to sit on the same words.
        let mut weak: Vec<Candidate> = Vec::new();
        for g in (0..scored.gold.len()).filter(|g| !matched_gold.contains(g)) {
            for p in (0..scored.predicted.len()).filter(|p| !matched_pred.contains(p)) {
                let iou = scored.gold[g].content.iou(&scored.predicted[p].content);
                if iou > 0.0 {
                    weak.push((g, p, iou, 0.0));
                }
            }
        }
        let weak = greedy_one_to_one(weak);
        let weak_gold: HashSet<usize> = weak.iter().map(|&(g, _)| g).collect();
        let weak_pred: HashSet<usize> = weak.iter().map(|&(_, p)| p).collect();

        let mut cases = Vec::new();
        for g in 0..scored.gold.len() {
            if !matched_gold.contains(&g) && !weak_gold.contains(&g) {
                let kind = match self.gold_kinds[g] {
                    QuoteKind::Direct => ErrorCaseKind::MissedDirect,
                    QuoteKind::Mixed => ErrorCaseKind::MissedMixed,
                    QuoteKind::Indirect => ErrorCaseKind::MissedIndirect,
                };
                cases.push(self.case(kind, Some(g), None, context_chars));
            }
        }
        for p in 0..scored.predicted.len() {
            if !matched_pred.contains(&p) && !weak_pred.contains(&p) {
                cases.push(self.case(ErrorCaseKind::SpuriousQuote, None, Some(p), context_chars));
            }
        }
        for &(g, p) in self.overlap.iter().chain(&weak) {
            let exact = scored.gold[g].content_extent.is_some()
                && scored.gold[g].content_extent == scored.predicted[p].content_extent;
            if !exact {
                cases.push(self.case(
                    ErrorCaseKind::ContentBoundary,
                    Some(g),
                    Some(p),
                    context_chars,
                ));
            }
        }
        for &(g, p) in &self.overlap {
            let source_error = self.source_error(g, p, &end_to_end);
            let cue_error = self.cue_error(g, p);
            for kind in source_error.into_iter().chain(cue_error) {
                cases.push(self.case(kind, Some(g), Some(p), context_chars));
            }
        }
        cases
    }

    fn source_error(
        &self,
        g: usize,
        p: usize,
        end_to_end: &HashSet<(usize, usize)>,
    ) -> Option<ErrorCaseKind> {
        let gold_source = self.scored.gold[g].source.as_ref()?;
        if end_to_end.contains(&(g, p)) {
            return None;
        }
        let Some(iou) = self.scored.source_iou(g, p) else {
            return Some(ErrorCaseKind::MissingSource);
        };
        // A right source whose pair lost the end-to-end matching to another pair is no error of
        // the source.
        if iou >= MIN_OVERLAP_IOU {
            return None;
        }
        let entity_at_gold_source = self.predicted_entity_mentions(p).any(|(start, end)| {
            span_region(&self.chars, start, end).iou(gold_source) >= MIN_OVERLAP_IOU
        });
        Some(if entity_at_gold_source {
            ErrorCaseKind::OtherMentionOfSpeaker
        } else if self.gold_source_kinds[g] == Some(MentionKind::Pronoun)
            || self.mention_kinds[p] == Some(MentionKind::Pronoun)
        {
            ErrorCaseKind::PronounResolvedWrong
        } else {
            ErrorCaseKind::WrongSource
        })
    }

    /// The mentions of the entity that predicted quote `p` names as its speaker.
    fn predicted_entity_mentions(&self, p: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let entity = self.quotes[p]
            .speaker
            .as_ref()
            .map(|speaker| speaker.entity.as_str());
        self.pred_doc
            .into_iter()
            .flat_map(|doc| &doc.entities)
            .filter(move |record| Some(record.id.as_str()) == entity)
            .flat_map(|record| &record.mentions)
            .map(|mention| (mention.start, mention.end))
    }

    fn cue_error(&self, g: usize, p: usize) -> Option<ErrorCaseKind> {
        let gold_cue = self.gold_doc.attributions[g].cue.as_deref()?;
        let gold_extent = pieces_extent(&self.chars, gold_cue);
        match &self.quotes[p].cue {
            None => Some(ErrorCaseKind::MissingCue),
            Some(cue) => (non_empty(stripped(&self.chars, cue.start, cue.end)) != gold_extent)
                .then_some(ErrorCaseKind::WrongCue),
        }
    }

    fn case(
        &self,
        kind: ErrorCaseKind,
        g: Option<usize>,
        p: Option<usize>,
        context_chars: usize,
    ) -> ErrorCase {
        let gold = g.map(|g| self.gold_spans(g));
        let predicted = p.map(|p| self.predicted_spans(p));
        let content_iou = g.zip(p).map(|(g, p)| {
            self.scored.gold[g]
                .content
                .iou(&self.scored.predicted[p].content)
        });
        let shown = gold.as_ref().or(predicted.as_ref());
        let context = shown.map_or_else(String::new, |spans| {
            context(
                &self.chars,
                spans.content.start,
                spans.content.end,
                context_chars,
            )
        });
        ErrorCase {
            doc_id: self.gold_doc.id.clone(),
            kind,
            gold,
            predicted,
            content_iou,
            context,
        }
    }

    fn gold_spans(&self, g: usize) -> QuoteSpans {
        let attribution = &self.gold_doc.attributions[g];
        let chars = &self.chars;
        QuoteSpans {
            kind: self.gold_kinds[g],
            content: pieces_span(chars, &attribution.content),
            source: attribution
                .source
                .as_deref()
                .map(|pieces| pieces_span(chars, pieces)),
            source_kind: self.gold_source_kinds[g],
            cue: attribution
                .cue
                .as_deref()
                .map(|pieces| pieces_span(chars, pieces)),
            speaker: None,
            confidence: None,
        }
    }

    fn predicted_spans(&self, p: usize) -> QuoteSpans {
        let quote = &self.quotes[p];
        let chars = &self.chars;
        let speaker = quote.speaker.as_ref();
        QuoteSpans {
            kind: quote.kind,
            content: span_record(chars, quote.content.start, quote.content.end),
            source: speaker
                .and_then(|speaker| speaker.mention.as_ref())
                .map(|mention| span_record(chars, mention.start, mention.end)),
            source_kind: self.mention_kinds[p],
            cue: quote
                .cue
                .as_ref()
                .map(|cue| span_record(chars, cue.start, cue.end)),
            speaker: speaker.map(|speaker| speaker.name.clone()),
            confidence: Some(quote.confidence),
        }
    }
}

/// The kind of a quote's speaker mention: as the prediction's entity list records it, or else
/// read off the mention's text; `None` without a mention.
fn predicted_mention_kind(
    pred_doc: Option<&DocumentRecord>,
    quote: &QuoteRecord,
) -> Option<MentionKind> {
    let speaker = quote.speaker.as_ref()?;
    let mention = speaker.mention.as_ref()?;
    let recorded = pred_doc
        .into_iter()
        .flat_map(|doc| &doc.entities)
        .filter(|entity| entity.id == speaker.entity)
        .flat_map(|entity| &entity.mentions)
        .find(|candidate| candidate.start == mention.start && candidate.end == mention.end)
        .map(|candidate| candidate.kind);
    Some(recorded.unwrap_or_else(|| mention_kind_of_text(&mention.text)))
}

fn span_record(chars: &[char], start: usize, end: usize) -> SpanRecord {
    let end = end.min(chars.len());
    let start = start.min(end);
    SpanRecord {
        start,
        end,
        text: chars[start..end].iter().collect(),
    }
}

/// A role's first start..last end, clamped to the text.
fn pieces_span(chars: &[char], pieces: &[Piece]) -> SpanRecord {
    let start = pieces.iter().map(|piece| piece.start).min().unwrap_or(0);
    let end = pieces.iter().map(|piece| piece.end).max().unwrap_or(0);
    span_record(chars, start, end)
}

/// `text` cut to its first and last `max_chars / 2` characters around " … " when it is longer
/// than `max_chars`.
pub fn elide(text: &str, max_chars: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max_chars {
        return text.to_owned();
    }
    let half = max_chars / 2;
    let head: String = chars[..half].iter().collect();
    let tail: String = chars[chars.len() - half..].iter().collect();
    format!("{head} … {tail}")
}

/// `left[[span]]right` on one line, with a long span elided in the middle.
fn context(chars: &[char], start: usize, end: usize, context_chars: usize) -> String {
    let end = end.min(chars.len());
    let start = start.min(end);
    let text = |range: &[char]| -> String {
        range
            .iter()
            .map(|&c| if c.is_whitespace() { ' ' } else { c })
            .collect()
    };
    let left = text(&chars[start.saturating_sub(context_chars)..start]);
    let right = text(&chars[end..end.saturating_add(context_chars).min(chars.len())]);
    let span = &chars[start..end];
    let middle = if span.len() > CONTEXT_SPAN_CHARS {
        let half = CONTEXT_SPAN_CHARS / 2;
        format!(
            "{} … {}",
            text(&span[..half]),
            text(&span[span.len() - half..])
        )
    } else {
        text(span)
    };
    format!("{left}[[{middle}]]{right}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{EntityKind, EntityRecord, MentionRecord, SpeakerRecord};

    const TEXT: &str = "Critics argued that taxes would rise. “We are ready,” she said. \
Ann Lee called it “a triumph.” Officials said the plan was good and would pass soon.";

    /// The code-point extent of the first occurrence of `needle` in TEXT.
    fn at(needle: &str) -> (usize, usize) {
        let byte = TEXT.find(needle).expect("needle in TEXT");
        let start = TEXT[..byte].chars().count();
        (start, start + needle.chars().count())
    }

    fn span(needle: &str) -> SpanRecord {
        let (start, end) = at(needle);
        SpanRecord {
            start,
            end,
            text: needle.to_owned(),
        }
    }

    fn gold(content: &str, source: Option<&str>, cue: Option<&str>) -> GoldAttribution {
        let pieces = |needle: &str| {
            let (start, end) = at(needle);
            vec![Piece::new(start, end)]
        };
        GoldAttribution {
            content: pieces(content),
            source: source.map(pieces),
            cue: cue.map(pieces),
        }
    }

    fn quote(
        kind: QuoteKind,
        content: &str,
        mention: Option<(&str, &str)>,
        cue: Option<&str>,
    ) -> QuoteRecord {
        QuoteRecord {
            kind,
            content: span(content),
            pieces: Vec::new(),
            cue: cue.map(span),
            speaker: mention.map(|(entity, text)| SpeakerRecord {
                name: text.to_owned(),
                entity: entity.to_owned(),
                mention: Some(span(text)),
            }),
            confidence: 0.5,
            stance: None,
            targets: None,
        }
    }

    fn entity(id: &str, mentions: &[(&str, MentionKind)]) -> EntityRecord {
        EntityRecord {
            id: id.to_owned(),
            name: mentions[0].0.to_owned(),
            kind: EntityKind::Person,
            title: None,
            aliases: Vec::new(),
            gender: None,
            mentions: mentions
                .iter()
                .map(|&(text, kind)| {
                    let (start, end) = at(text);
                    MentionRecord {
                        start,
                        end,
                        text: text.to_owned(),
                        kind,
                    }
                })
                .collect(),
        }
    }

    fn document(attributions: Vec<GoldAttribution>) -> Vec<GoldDocument> {
        vec![GoldDocument {
            id: "d".into(),
            text: TEXT.into(),
            attributions,
        }]
    }

    fn prediction(quotes: Vec<QuoteRecord>, entities: Vec<EntityRecord>) -> Vec<DocumentRecord> {
        vec![DocumentRecord {
            id: "d".into(),
            quotes,
            entities,
            meta: None,
            error: None,
        }]
    }

    fn kinds(cases: &[ErrorCase]) -> Vec<ErrorCaseKind> {
        cases.iter().map(|case| case.kind).collect()
    }

    #[test]
    fn misses_are_classed_by_the_gold_type() {
        let gold = document(vec![
            gold("taxes would rise", Some("Critics"), Some("argued")),
            gold("“We are ready,”", Some("she"), Some("said")),
            gold("it “a triumph.”", Some("Ann Lee"), Some("called")),
        ]);
        let cases = errors(&gold, &prediction(Vec::new(), Vec::new()), 10);
        assert_eq!(
            kinds(&cases),
            [
                ErrorCaseKind::MissedIndirect,
                ErrorCaseKind::MissedDirect,
                ErrorCaseKind::MissedMixed
            ]
        );
        assert_eq!(cases[0].context, "gued that [[taxes would rise]]. “We are ");
        assert_eq!(
            cases[1].gold.as_ref().unwrap().source_kind,
            Some(MentionKind::Pronoun)
        );
        assert_eq!(
            cases[2].gold.as_ref().unwrap().source_kind,
            Some(MentionKind::Name)
        );
        assert_eq!(
            count_by_kind(&cases),
            [
                (ErrorCaseKind::MissedDirect, 1),
                (ErrorCaseKind::MissedMixed, 1),
                (ErrorCaseKind::MissedIndirect, 1)
            ]
        );
        // No prediction for the document at all: the same misses.
        assert_eq!(kinds(&errors(&gold, &[], 10)), kinds(&cases));
    }

    #[test]
    fn boundaries_weak_overlaps_and_spurious_quotes() {
        let gold = document(vec![
            gold("taxes would rise", Some("Critics"), Some("argued")),
            gold(
                "the plan was good and would pass soon",
                Some("Officials"),
                Some("said"),
            ),
        ]);
        let predicted = prediction(
            vec![
                // IoU 16/21: an overlap match with the wrong start.
                quote(
                    QuoteKind::Indirect,
                    "that taxes would rise",
                    Some(("e1", "Critics")),
                    Some("argued"),
                ),
                // Under IoU 0.5 with the second gold: a boundary error, not a miss and a spurious.
                quote(
                    QuoteKind::Indirect,
                    "would pass soon",
                    Some(("e2", "Officials")),
                    Some("said"),
                ),
                quote(
                    QuoteKind::Direct,
                    "“We are ready,”",
                    Some(("e3", "she")),
                    Some("said"),
                ),
            ],
            Vec::new(),
        );
        let cases = errors(&gold, &predicted, 5);
        assert_eq!(
            kinds(&cases),
            [
                ErrorCaseKind::ContentBoundary,
                ErrorCaseKind::SpuriousQuote,
                ErrorCaseKind::ContentBoundary
            ]
        );
        let iou = |case: &ErrorCase| case.content_iou.expect("both sides");
        assert!((iou(&cases[0]) - 16.0 / 21.0).abs() < 1e-12);
        assert!(iou(&cases[2]) < MIN_OVERLAP_IOU && iou(&cases[2]) > 0.0);
        assert!(cases[1].gold.is_none());
        assert_eq!(cases[1].predicted.as_ref().unwrap().confidence, Some(0.5));
    }

    #[test]
    fn source_errors_tell_pronouns_and_other_mentions_apart() {
        let gold = document(vec![
            gold("taxes would rise", Some("Critics"), Some("argued")),
            gold("“We are ready,”", Some("she"), Some("said")),
            gold("it “a triumph.”", Some("Ann Lee"), Some("called")),
            gold(
                "the plan was good and would pass soon",
                Some("Officials"),
                Some("said"),
            ),
        ]);
        let lee = entity(
            "e1",
            &[
                ("Ann Lee", MentionKind::Name),
                ("she", MentionKind::Pronoun),
            ],
        );
        let predicted = prediction(
            vec![
                // A nominal for a nominal: wrong source.
                quote(
                    QuoteKind::Indirect,
                    "taxes would rise",
                    Some(("e2", "Officials")),
                    Some("argued"),
                ),
                // The right entity, named by another of its mentions.
                quote(
                    QuoteKind::Direct,
                    "“We are ready,”",
                    Some(("e1", "Ann Lee")),
                    Some("said"),
                ),
                // A pronoun resolved to another entity, none of whose mentions is the gold source.
                quote(
                    QuoteKind::Mixed,
                    "it “a triumph.”",
                    Some(("e3", "she")),
                    Some("called"),
                ),
                // No speaker, no cue.
                quote(
                    QuoteKind::Indirect,
                    "the plan was good and would pass soon",
                    None,
                    None,
                ),
            ],
            vec![
                lee,
                entity("e2", &[("Officials", MentionKind::Nominal)]),
                entity("e3", &[("she", MentionKind::Pronoun)]),
            ],
        );
        let cases = errors(&gold, &predicted, 5);
        assert_eq!(
            kinds(&cases),
            [
                ErrorCaseKind::WrongSource,
                ErrorCaseKind::OtherMentionOfSpeaker,
                ErrorCaseKind::PronounResolvedWrong,
                ErrorCaseKind::MissingSource,
                ErrorCaseKind::MissingCue,
            ]
        );
        let pronoun = &cases[2];
        assert_eq!(
            pronoun.predicted.as_ref().unwrap().source_kind,
            Some(MentionKind::Pronoun)
        );
        assert_eq!(
            pronoun.predicted.as_ref().unwrap().speaker.as_deref(),
            Some("she")
        );
        assert_eq!(
            pronoun.gold.as_ref().unwrap().source.as_ref().unwrap().text,
            "Ann Lee"
        );
    }

    #[test]
    fn most_confident_wrong_attributions_come_first_once_each() {
        let gold = document(vec![
            gold("taxes would rise", Some("Critics"), Some("argued")),
            gold("“We are ready,”", Some("she"), Some("said")),
        ]);
        let mut sure = quote(
            QuoteKind::Indirect,
            "taxes would rise",
            Some(("e2", "Officials")),
            None,
        );
        sure.confidence = 0.9;
        let mut right = quote(
            QuoteKind::Direct,
            "“We are ready,”",
            Some(("e1", "she")),
            None,
        );
        right.confidence = 0.95;
        let mut spurious = quote(QuoteKind::Indirect, "the plan was good", None, None);
        spurious.confidence = 0.4;
        let cases = errors(
            &gold,
            &prediction(vec![spurious, right, sure], Vec::new()),
            5,
        );
        let worst = most_confident_wrong(&cases, 10);
        let shown: Vec<(ErrorCaseKind, Option<f64>)> = worst
            .iter()
            .map(|case| {
                (
                    case.kind,
                    case.predicted.as_ref().and_then(|spans| spans.confidence),
                )
            })
            .collect();
        // The right quote's missing cue is an error but not a wrong attribution.
        assert_eq!(
            shown,
            [
                (ErrorCaseKind::WrongSource, Some(0.9)),
                (ErrorCaseKind::SpuriousQuote, Some(0.4))
            ]
        );
        assert_eq!(most_confident_wrong(&cases, 1).len(), 1);
    }

    #[test]
    fn a_cue_of_another_extent_is_a_wrong_cue_and_right_pairs_are_no_error() {
        let gold = document(vec![
            gold("taxes would rise", Some("Critics"), Some("argued")),
            gold("“We are ready,”", Some("she"), Some("said")),
        ]);
        let predicted = prediction(
            vec![
                quote(
                    QuoteKind::Indirect,
                    "taxes would rise",
                    Some(("e1", "Critics")),
                    Some("argued that"),
                ),
                quote(
                    QuoteKind::Direct,
                    "“We are ready,”",
                    Some(("e2", "she")),
                    Some("said"),
                ),
            ],
            Vec::new(),
        );
        assert_eq!(
            kinds(&errors(&gold, &predicted, 5)),
            [ErrorCaseKind::WrongCue]
        );
    }

    #[test]
    fn breakdown_counts_recall_and_precision_per_group() {
        let gold = document(vec![
            gold("taxes would rise", Some("Critics"), Some("argued")),
            gold("“We are ready,”", Some("she"), Some("said")),
            gold("it “a triumph.”", None, Some("called")),
        ]);
        let predicted = prediction(
            vec![
                quote(
                    QuoteKind::Direct,
                    "“We are ready,”",
                    Some(("e1", "she")),
                    Some("said"),
                ),
                quote(
                    QuoteKind::Indirect,
                    "taxes would rise",
                    Some(("e2", "Officials")),
                    None,
                ),
                quote(QuoteKind::Indirect, "the plan was good", None, None),
            ],
            vec![entity("e1", &[("she", MentionKind::Pronoun)])],
        );
        let breakdown = breakdown(&gold, &predicted);
        let row = |key| {
            breakdown
                .by_type
                .iter()
                .find(|row| row.key == key)
                .expect("every type has a row")
                .counts
        };
        assert_eq!(
            row(QuoteKind::Direct),
            GroupCounts {
                gold: 1,
                gold_found: 1,
                gold_end_to_end: 1,
                predicted: 1,
                predicted_found: 1,
                predicted_end_to_end: 1
            }
        );
        assert_eq!(row(QuoteKind::Mixed).gold, 1);
        assert_eq!(row(QuoteKind::Mixed).gold_found, 0);
        let indirect = row(QuoteKind::Indirect);
        assert_eq!(
            (indirect.gold, indirect.gold_found, indirect.gold_end_to_end),
            (1, 1, 0)
        );
        assert_eq!((indirect.predicted, indirect.predicted_found), (2, 1));
        let sources: Vec<(Option<MentionKind>, usize, usize)> = breakdown
            .by_source_kind
            .iter()
            .map(|row| (row.key, row.counts.gold, row.counts.predicted))
            .collect();
        // Gold: Critics (nominal), she, no source; predicted: she (recorded), Officials (read
        // off the text: nominal), none.
        assert_eq!(
            sources,
            [
                (Some(MentionKind::Name), 0, 0),
                (Some(MentionKind::Pronoun), 1, 1),
                (Some(MentionKind::Nominal), 1, 1),
                (None, 1, 1)
            ]
        );
    }

    #[test]
    fn mention_kinds_and_gold_types_from_text() {
        assert_eq!(mention_kind_of_text("He"), MentionKind::Pronoun);
        assert_eq!(mention_kind_of_text(" them "), MentionKind::Pronoun);
        assert_eq!(mention_kind_of_text("John Kerry"), MentionKind::Name);
        assert_eq!(
            mention_kind_of_text("The Trump campaign"),
            MentionKind::Name
        );
        assert_eq!(mention_kind_of_text("Kerry's spokesman"), MentionKind::Name);
        assert_eq!(mention_kind_of_text("Officials"), MentionKind::Nominal);
        assert_eq!(mention_kind_of_text("the minister"), MentionKind::Nominal);
        assert_eq!(mention_kind_of_text(""), MentionKind::Nominal);
        let kind = |content: &str| gold_quote_kind(TEXT, &gold(content, None, None));
        assert_eq!(kind("“We are ready,”"), QuoteKind::Direct);
        assert_eq!(kind("it “a triumph.”"), QuoteKind::Mixed);
        assert_eq!(kind("taxes would rise"), QuoteKind::Indirect);
        let broken = GoldAttribution {
            content: vec![Piece::new(900, 950), Piece::new(40, 38)],
            source: None,
            cue: None,
        };
        assert_eq!(gold_quote_kind(TEXT, &broken), QuoteKind::Indirect);
    }

    #[test]
    fn elide_keeps_both_ends_of_long_text() {
        assert_eq!(elide("short", 10), "short");
        assert_eq!(elide("abcdefghijkl", 4), "ab … kl");
        assert_eq!(elide("“é”", 2), "“ … ”");
    }

    #[test]
    fn broken_offsets_do_not_panic() {
        let gold = document(vec![GoldAttribution {
            content: vec![Piece::new(900, 950)],
            source: Some(vec![Piece::new(5, 2)]),
            cue: Some(vec![Piece::new(usize::MAX - 1, usize::MAX)]),
        }]);
        let mut wild = quote(QuoteKind::Direct, "Critics", Some(("e9", "she")), None);
        wild.content.start = usize::MAX;
        wild.content.end = 3;
        let predicted = prediction(vec![wild], Vec::new());
        let cases = errors(&gold, &predicted, usize::MAX);
        assert_eq!(
            kinds(&cases),
            [ErrorCaseKind::SpuriousQuote, ErrorCaseKind::MissedIndirect]
        );
        let _ = breakdown(&gold, &predicted);
    }
}
