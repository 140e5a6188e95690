//! The linker's decisions, their candidates and the features of each candidate.
//!
//! Two decisions are made for every content piece the tagger found, in text order:
//! - its cue: one of the cue spans near it, or "continues the piece before" (a quote
//!   interrupted by its attribution, or carried on into the next paragraph), or "none" (a quote
//!   that carries on a speaker's turn with no cue of its own);
//! - for a piece that got a cue, its source: one of the source spans and speaker mentions near
//!   the cue, or none (the source is not in the text).
//!
//! Candidates are limited to a few on each side within a window, so a decision costs the same
//! in a long or hostile document as in a short one.

use std::ops::Range;

use crate::document::tagged::Role;
use crate::hash::{mix, Fnv};
use crate::quotes::token_text;
use crate::record::{MentionKind, QuoteKind};
use crate::segment::{Segmented, Token, TokenKind};
use crate::tagger::{Tag, ROW, TAGS};

/// How far from a content piece its cue may stand, in tokens.
pub const CUE_WINDOW: usize = 60;
/// How far from the cue its source may stand, in tokens.
pub const SOURCE_WINDOW: usize = 30;
/// How many candidates of each side are considered.
pub const CANDIDATES_PER_SIDE: usize = 6;
/// How far apart two pieces of one content may stand, in tokens.
pub const CONTINUATION_WINDOW: usize = 40;

/// A candidate cue of a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CueCandidate {
    /// The piece continues the content of the piece before it (an index into the pieces).
    Continues(usize),
    /// The cue span at this index of the cues.
    Cue(usize),
    /// No cue: a quote that carries on a speaker's turn.
    Floating,
    /// The tagger was wrong: the piece is no content at all.
    NotAQuote,
}

/// A candidate source of a content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceCandidate {
    Span {
        tokens: Range<usize>,
        /// The tagger tagged it as a source (rather than only the speaker stage finding it).
        tagged: bool,
        mention_kind: Option<MentionKind>,
    },
    /// The source is not in the text.
    Absent,
}

/// Counts of token kinds before each token, so that what lies between two tokens is read in
/// constant time.
#[derive(Debug, Clone)]
pub struct DocumentIndex {
    pub sentence_of: Vec<usize>,
    pub paragraph_of: Vec<usize>,
    commas: Vec<u32>,
    sentence_ends: Vec<u32>,
    marks: Vec<u32>,
    colons: Vec<u32>,
    piece_starts: Vec<u32>,
    cue_starts: Vec<u32>,
    source_starts: Vec<u32>,
}

fn prefix_counts(count: usize, is_event: impl Fn(usize) -> bool) -> Vec<u32> {
    let mut counts = Vec::with_capacity(count + 1);
    let mut total = 0u32;
    counts.push(0);
    for index in 0..count {
        total += u32::from(is_event(index));
        counts.push(total);
    }
    counts
}

fn between(counts: &[u32], range: Range<usize>) -> u32 {
    let end = range.end.min(counts.len() - 1);
    let start = range.start.min(end);
    counts[end] - counts[start]
}

impl DocumentIndex {
    pub fn new(
        text: &str,
        segmented: &Segmented,
        pieces: &[Range<usize>],
        cues: &[Range<usize>],
        sources: &[Range<usize>],
    ) -> Self {
        let tokens = &segmented.tokens;
        let count = tokens.len();
        let mut sentence_of = vec![0; count];
        let mut paragraph_of = vec![0; count];
        for (index, sentence) in segmented.sentences.iter().enumerate() {
            let end = sentence.tokens.end.min(count);
            for token in sentence.tokens.start.min(end)..end {
                sentence_of[token] = index;
                paragraph_of[token] = sentence.paragraph;
            }
        }
        let word = |index: usize| token_text(text, &tokens[index]);
        let starts = |spans: &[Range<usize>]| {
            let mut marked = vec![false; count];
            for span in spans {
                if let Some(slot) = marked.get_mut(span.start) {
                    *slot = true;
                }
            }
            prefix_counts(count, |index| marked[index])
        };
        DocumentIndex {
            commas: prefix_counts(count, |index| word(index) == ","),
            sentence_ends: prefix_counts(count, |index| matches!(word(index), "." | "!" | "?")),
            marks: prefix_counts(count, |index| {
                matches!(
                    tokens[index].kind,
                    TokenKind::OpenQuote | TokenKind::CloseQuote
                )
            }),
            colons: prefix_counts(count, |index| word(index) == ":"),
            piece_starts: starts(pieces),
            cue_starts: starts(cues),
            source_starts: starts(sources),
            sentence_of,
            paragraph_of,
        }
    }
}

/// Feature templates of the linker; numbers must not change while a model uses them.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
enum Feature {
    CueBias = 1,
    CueSide,
    CueGap,
    CueSentences,
    CueParagraphs,
    CueCommas,
    CueSentenceEnds,
    CueMarks,
    CueOtherCues,
    CueOtherPieces,
    CueSourcesBetween,
    CueWord,
    CueLength,
    CueRank,
    CuePieceShape,
    CuePieceFirstWord,
    CueBeforePiece,
    CueAfterPiece,
    CueSourceNext,
    CueRule,
    CueColonsBetween,
    CueLastWord,
    ContinuesBias,
    ContinuesGap,
    ContinuesSentences,
    ContinuesParagraphs,
    ContinuesCues,
    ContinuesSources,
    ContinuesMarks,
    ContinuesGapWords,
    ContinuesShapes,
    ContinuesSentenceEnds,
    FloatingBias,
    FloatingShape,
    FloatingNearestCue,
    FloatingLength,
    SourceBias,
    SourceSide,
    SourceGap,
    SourceTagged,
    SourceKind,
    SourceLength,
    SourceFirstWord,
    SourceLastWord,
    SourceCommas,
    SourceCuesBetween,
    SourcePiecesBetween,
    SourceSentences,
    SourceInContent,
    SourceRank,
    SourceQuoteKind,
    SourceCueWord,
    SourceRule,
    SourceSentenceEnds,
    AbsentBias,
    AbsentCueWord,
    AbsentQuoteKind,
    AbsentNearest,
    CueGapWords,
    SourceGapWords,
    ContinuesOwnerCue,
    ContinuesOwnerCueGap,
    NotAQuoteBias,
    NotAQuoteShape,
    NotAQuoteNearestCue,
    NotAQuoteRule,
    NotAQuoteFirstWord,
    NotAQuoteLastWord,
    ExtentOrigin,
    ExtentFirstWord,
    ExtentLastWord,
    ExtentBefore,
    ExtentAfter,
    ExtentLength,
    ExtentAgree,
    ExtentCueGap,
    ExtentMarks,
    ExtentPieces,
    ExtentLengthRatio,
    FallbackBias,
    FallbackKind,
    FallbackCueWord,
    FallbackSource,
    FallbackTaggedCue,
    FallbackTaggedSource,
    FallbackTaggedContent,
    FallbackLength,
    CueOrigin,
    SourceTagBegins,
    SourceTagEnds,
    SourceTagGoesOn,
    CueTagBegins,
    CueTagEnds,
    CueTagGoesOn,
    NotAQuoteTagBegins,
    NotAQuoteTagEnds,
    NotAQuoteTagWeakest,
    ExtentTagBegins,
    ExtentTagEnds,
    ExtentTagGoesOn,
    ExtentTagBefore,
}

/// Distances in tokens, fine near and coarse far.
fn gap_bucket(gap: usize) -> u64 {
    match gap {
        0..=4 => gap as u64,
        5..=6 => 5,
        7..=10 => 6,
        11..=20 => 7,
        21..=40 => 8,
        _ => 9,
    }
}

fn small(count: u32) -> u64 {
    u64::from(count.min(3))
}

fn pack(parts: &[u64]) -> u64 {
    parts.iter().fold(0u64, |packed, &part| {
        packed.wrapping_mul(1_000_003).wrapping_add(part)
    })
}

/// What a piece of content looks like at its ends: opens with a quotation mark, closes with
/// one, and its kind.
pub fn piece_shape(tokens: &[Token], piece: &Range<usize>) -> u64 {
    let opens = tokens
        .get(piece.start)
        .is_some_and(|token| token.kind == TokenKind::OpenQuote);
    let closes = piece
        .end
        .checked_sub(1)
        .and_then(|last| tokens.get(last))
        .is_some_and(|token| token.kind == TokenKind::CloseQuote);
    u64::from(opens) | u64::from(closes) << 1
}

/// Collects hashed features.
pub struct Keys(pub Vec<u64>);

impl Keys {
    fn add(&mut self, feature: Feature, value: u64) {
        self.0.push(mix(feature as u64, value));
    }
}

/// What the features of one document's spans read besides the spans: the document index, and
/// the rule stages' own links of the pieces and cues.
pub struct LinkIndex {
    pub index: DocumentIndex,
    pub rule_cue: Vec<Option<Range<usize>>>,
    pub rule_source: Vec<Option<Range<usize>>>,
}

impl LinkIndex {
    pub fn new(
        text: &str,
        segmented: &crate::segment::Segmented,
        spans: &super::SpanSet,
        proposals: &[crate::tagger::features::Proposal],
    ) -> Self {
        let index = DocumentIndex::new(text, segmented, &spans.pieces, &spans.cues, &spans.sources);
        let (rule_cue, rule_source) = super::rule_links(proposals, spans);
        LinkIndex {
            index,
            rule_cue,
            rule_source,
        }
    }

    /// The features' view of `spans` (the spans this index was made of), with the tagger's
    /// token log-probabilities where it gives them (the transformer's).
    pub fn context<'a>(
        &'a self,
        text: &'a str,
        segmented: &'a crate::segment::Segmented,
        spans: &'a super::SpanSet,
        tag_scores: Option<&'a [f32]>,
    ) -> FeatureContext<'a> {
        FeatureContext {
            tag_scores,
            text,
            segmented,
            index: &self.index,
            pieces: &spans.pieces,
            cues: &spans.cues,
            cue_origin: &spans.cue_origin,
            rule_cue: &self.rule_cue,
            rule_source: &self.rule_source,
        }
    }
}

/// What the features of a document's candidates read.
pub struct FeatureContext<'a> {
    pub text: &'a str,
    /// The document's tokens, and their words' hashes.
    pub segmented: &'a crate::segment::Segmented,
    pub index: &'a DocumentIndex,
    pub pieces: &'a [Range<usize>],
    pub cues: &'a [Range<usize>],
    /// Where each cue came from: 1 the tagger, 2 the rule stages, 3 both.
    pub cue_origin: &'a [u8],
    /// For each piece: the cue the rule stages gave the quote that overlaps it most, if any.
    pub rule_cue: &'a [Option<Range<usize>>],
    /// For each cue: the source the rule stages gave it, if any.
    pub rule_source: &'a [Option<Range<usize>>],
    /// The transformer tagger's log-probability of each tag in each channel, [`ROW`] a token:
    /// how sure it was where a candidate begins and ends, which its spans alone do not say.
    pub tag_scores: Option<&'a [f32]>,
}

impl FeatureContext<'_> {
    /// The tagger's probability that `token` bears one of `tags` in `role`'s channel, in
    /// fifths (0 to 4); 5 where there is no such token or no scores.
    fn tag_fifths(&self, token: usize, role: Role, tags: &[Tag]) -> u64 {
        let at = token * ROW + role.index() * TAGS;
        let Some(row) = self.tag_scores.and_then(|scores| scores.get(at..at + TAGS)) else {
            return 5;
        };
        let probability: f32 = tags.iter().map(|tag| row[tag.index()].exp()).sum();
        ((probability * 5.0) as u64).min(4)
    }

    /// The tagger's scores at the ends of `span` in `role`'s channel, as `[begins, ends, goes
    /// on]` features: that its first token begins a span, that its last lies in one, and
    /// that the token after it carries one on. Empty without scores.
    fn tag_ends(&self, span: &Range<usize>, role: Role, features: [Feature; 3], keys: &mut Keys) {
        if self.tag_scores.is_none() || span.is_empty() {
            return;
        }
        let [begins, ends, goes_on] = features;
        keys.add(begins, self.tag_fifths(span.start, role, &[Tag::Begin]));
        keys.add(
            ends,
            self.tag_fifths(span.end - 1, role, &[Tag::Begin, Tag::Inside]),
        );
        keys.add(goes_on, self.tag_fifths(span.end, role, &[Tag::Inside]));
    }

    fn lower(&self, token: usize) -> u64 {
        match self.segmented.tokens.get(token) {
            None => Fnv::new().str("<none>").finish(),
            Some(found) => match found.kind {
                TokenKind::OpenQuote => Fnv::new().str("<open>").finish(),
                TokenKind::CloseQuote => Fnv::new().str("<close>").finish(),
                _ => self.segmented.lower_hash(self.text, token),
            },
        }
    }

    /// `side` with how many of the tokens of `between` `counts` marks (commas, quotation marks,
    /// other cues), in [`small`]'s buckets.
    fn count_between(&self, side: u64, counts: &[u32], between: &Range<usize>) -> u64 {
        pack(&[side, small(between_counts(counts, between))])
    }

    /// `side` with the length of the gap `between` a span and its cue, and the gap's first and
    /// last words.
    fn gap_words(&self, side: u64, between: &Range<usize>) -> u64 {
        let [first, last] = self.gap_ends(between);
        pack(&[side, gap_bucket(between.len()).min(3), first, last])
    }

    /// The first and the last word of the gap `between`, lower-cased; 0 for a word the gap does
    /// not have (a one-word gap has a first word only).
    fn gap_ends(&self, between: &Range<usize>) -> [u64; 2] {
        let gap = between.len();
        [
            if gap > 0 {
                self.lower(between.start)
            } else {
                0
            },
            if gap > 1 {
                self.lower(between.end - 1)
            } else {
                0
            },
        ]
    }

    /// The lower-cased word before `token` in its paragraph, or a marker.
    fn lower_before(&self, token: usize) -> u64 {
        match token.checked_sub(1) {
            Some(before)
                if self.index.paragraph_of.get(before) == self.index.paragraph_of.get(token) =>
            {
                self.lower(before)
            }
            _ => Fnv::new().str("<par>").finish(),
        }
    }

    fn lower_after(&self, last: usize) -> u64 {
        let after = last + 1;
        if after < self.segmented.tokens.len()
            && self.index.paragraph_of[after] == self.index.paragraph_of[last]
        {
            self.lower(after)
        } else {
            Fnv::new().str("<par>").finish()
        }
    }

    fn sentence_gap(&self, from: usize, to: usize) -> u64 {
        let (a, b) = (
            self.index.sentence_of.get(from).copied().unwrap_or(0),
            self.index.sentence_of.get(to).copied().unwrap_or(0),
        );
        u64::from(a.abs_diff(b).min(3) as u32)
    }

    fn paragraph_gap(&self, from: usize, to: usize) -> u64 {
        let (a, b) = (
            self.index.paragraph_of.get(from).copied().unwrap_or(0),
            self.index.paragraph_of.get(to).copied().unwrap_or(0),
        );
        u64::from(a.abs_diff(b).min(2) as u32)
    }

    /// The features of a cue candidate of piece `piece`; `rank` counts the candidates nearer
    /// on the same side.
    /// `owner_cue` is the cue of the content that the piece before belongs to, for the
    /// candidate "continues the piece before".
    pub fn cue_features(
        &self,
        piece: usize,
        candidate: CueCandidate,
        rank: usize,
        owner_cue: Option<&Range<usize>>,
    ) -> Keys {
        let mut keys = Keys(Vec::with_capacity(32));
        let span = &self.pieces[piece];
        let shape = piece_shape(&self.segmented.tokens, span);
        match candidate {
            CueCandidate::Cue(cue_index) => {
                let cue = &self.cues[cue_index];
                let before = cue.end <= span.start;
                let side = u64::from(before);
                let between = if before {
                    cue.end..span.start
                } else {
                    span.end..cue.start
                };
                let gap = between.len();
                let (near, far) = if before {
                    (cue.end.saturating_sub(1), span.start)
                } else {
                    (span.end.saturating_sub(1), cue.start)
                };
                let cue_word = self.lower(cue.start);
                let cue_last = self.lower(cue.end.saturating_sub(1));
                keys.add(Feature::CueBias, 0);
                let origin = u64::from(self.cue_origin.get(cue_index).copied().unwrap_or(1));
                keys.add(
                    Feature::CueOrigin,
                    pack(&[origin, side, gap_bucket(gap).min(6), shape]),
                );
                keys.add(Feature::CueSide, side);
                keys.add(Feature::CueGap, pack(&[side, gap_bucket(gap)]));
                keys.add(Feature::CueGapWords, self.gap_words(side, &between));
                keys.add(
                    Feature::CueSentences,
                    pack(&[side, self.sentence_gap(near, far)]),
                );
                keys.add(
                    Feature::CueParagraphs,
                    pack(&[side, self.paragraph_gap(near, far), shape]),
                );
                keys.add(
                    Feature::CueCommas,
                    self.count_between(side, &self.index.commas, &between),
                );
                keys.add(
                    Feature::CueSentenceEnds,
                    self.count_between(side, &self.index.sentence_ends, &between),
                );
                keys.add(
                    Feature::CueMarks,
                    self.count_between(side, &self.index.marks, &between),
                );
                keys.add(
                    Feature::CueColonsBetween,
                    self.count_between(side, &self.index.colons, &between),
                );
                keys.add(
                    Feature::CueOtherCues,
                    self.count_between(side, &self.index.cue_starts, &between),
                );
                keys.add(
                    Feature::CueOtherPieces,
                    self.count_between(side, &self.index.piece_starts, &between),
                );
                keys.add(
                    Feature::CueSourcesBetween,
                    self.count_between(side, &self.index.source_starts, &between),
                );
                keys.add(Feature::CueWord, pack(&[side, cue_word]));
                keys.add(Feature::CueLastWord, pack(&[side, cue_last]));
                keys.add(
                    Feature::CueLength,
                    pack(&[side, gap_bucket(cue.len()).min(4)]),
                );
                keys.add(Feature::CueRank, pack(&[side, rank.min(3) as u64]));
                keys.add(Feature::CuePieceShape, pack(&[side, shape]));
                keys.add(
                    Feature::CuePieceFirstWord,
                    pack(&[side, self.lower(span.start)]),
                );
                keys.add(
                    Feature::CueBeforePiece,
                    pack(&[side, self.lower_before(span.start)]),
                );
                keys.add(
                    Feature::CueAfterPiece,
                    pack(&[side, self.lower_after(span.end.saturating_sub(1))]),
                );
                let source_next =
                    between_counts(&self.index.source_starts, &(cue.end..cue.end + 1)) > 0
                        || cue.start > 0
                            && self.rule_source.get(cue_index).is_some_and(Option::is_some);
                keys.add(
                    Feature::CueSourceNext,
                    pack(&[side, u64::from(source_next)]),
                );
                let agrees = self.rule_cue[piece].as_ref() == Some(cue);
                keys.add(Feature::CueRule, pack(&[side, u64::from(agrees)]));
                self.tag_ends(
                    cue,
                    Role::Cue,
                    [
                        Feature::CueTagBegins,
                        Feature::CueTagEnds,
                        Feature::CueTagGoesOn,
                    ],
                    &mut keys,
                );
            }
            CueCandidate::Continues(previous) => {
                let earlier = &self.pieces[previous];
                let between = earlier.end..span.start;
                let gap = between.len();
                let shapes = pack(&[piece_shape(&self.segmented.tokens, earlier), shape]);
                keys.add(Feature::ContinuesBias, 0);
                keys.add(Feature::ContinuesGap, gap_bucket(gap));
                keys.add(
                    Feature::ContinuesSentences,
                    self.sentence_gap(earlier.end.saturating_sub(1), span.start),
                );
                keys.add(
                    Feature::ContinuesParagraphs,
                    pack(&[
                        self.paragraph_gap(earlier.end.saturating_sub(1), span.start),
                        shapes,
                    ]),
                );
                keys.add(
                    Feature::ContinuesCues,
                    small(between_counts(&self.index.cue_starts, &between)),
                );
                keys.add(
                    Feature::ContinuesSources,
                    small(between_counts(&self.index.source_starts, &between)),
                );
                keys.add(
                    Feature::ContinuesMarks,
                    small(between_counts(&self.index.marks, &between)),
                );
                keys.add(
                    Feature::ContinuesSentenceEnds,
                    pack(&[
                        small(between_counts(&self.index.sentence_ends, &between)),
                        shapes,
                    ]),
                );
                keys.add(Feature::ContinuesGapWords, pack(&self.gap_ends(&between)));
                keys.add(Feature::ContinuesShapes, shapes);
                // Where the content being continued has its cue: in the gap ("“A,” he said,
                // “B”"), before its first piece ("He said: “A.” “B.”"), or nowhere.
                let owner = match owner_cue {
                    None => 0,
                    Some(cue) if cue.start >= between.start && cue.end <= between.end => 1,
                    Some(cue) if cue.end <= earlier.start => 2,
                    Some(_) => 3,
                };
                keys.add(Feature::ContinuesOwnerCue, pack(&[owner, shapes]));
                keys.add(
                    Feature::ContinuesOwnerCueGap,
                    pack(&[
                        owner,
                        gap_bucket(gap),
                        self.sentence_gap(earlier.end.saturating_sub(1), span.start),
                    ]),
                );
            }
            CueCandidate::Floating => {
                keys.add(Feature::FloatingBias, 0);
                keys.add(Feature::FloatingShape, shape);
                keys.add(Feature::FloatingLength, gap_bucket(span.len()));
                keys.add(Feature::FloatingNearestCue, rank as u64);
            }
            CueCandidate::NotAQuote => {
                keys.add(Feature::NotAQuoteBias, 0);
                keys.add(
                    Feature::NotAQuoteShape,
                    pack(&[shape, gap_bucket(span.len())]),
                );
                keys.add(Feature::NotAQuoteNearestCue, rank as u64);
                keys.add(
                    Feature::NotAQuoteRule,
                    u64::from(self.rule_cue[piece].is_some()),
                );
                keys.add(Feature::NotAQuoteFirstWord, self.lower(span.start));
                keys.add(
                    Feature::NotAQuoteLastWord,
                    self.lower(span.end.saturating_sub(1)),
                );
                if self.tag_scores.is_some() && !span.is_empty() {
                    let inside = [Tag::Begin, Tag::Inside];
                    keys.add(
                        Feature::NotAQuoteTagBegins,
                        self.tag_fifths(span.start, Role::Content, &inside),
                    );
                    keys.add(
                        Feature::NotAQuoteTagEnds,
                        self.tag_fifths(span.end - 1, Role::Content, &inside),
                    );
                    let weakest = span
                        .clone()
                        .map(|token| self.tag_fifths(token, Role::Content, &inside))
                        .min()
                        .unwrap_or(5);
                    keys.add(Feature::NotAQuoteTagWeakest, weakest);
                }
            }
        }
        keys
    }

    /// The features of every source candidate of a content's cue, in candidate order.
    pub fn source_keys(
        &self,
        content: &Range<usize>,
        kind: QuoteKind,
        cue: &Range<usize>,
        cue_index: usize,
        candidates: &[(SourceCandidate, usize)],
        nearest: Option<usize>,
    ) -> Vec<Vec<u64>> {
        candidates
            .iter()
            .map(|(candidate, rank)| {
                self.source_features(content, kind, cue, cue_index, candidate, *rank, nearest)
                    .0
            })
            .collect()
    }

    /// The features of a source candidate of a content whose first piece is `piece` and whose
    /// cue is `cue`; `content` is its extent.
    #[allow(clippy::too_many_arguments)]
    pub fn source_features(
        &self,
        content: &Range<usize>,
        kind: QuoteKind,
        cue: &Range<usize>,
        cue_index: usize,
        candidate: &SourceCandidate,
        rank: usize,
        nearest: Option<usize>,
    ) -> Keys {
        let mut keys = Keys(Vec::with_capacity(24));
        let cue_word = self.lower(cue.start);
        let kind_code = match kind {
            QuoteKind::Direct => 1,
            QuoteKind::Mixed => 2,
            QuoteKind::Indirect => 3,
        };
        match candidate {
            SourceCandidate::Span {
                tokens,
                tagged,
                mention_kind,
            } => {
                let before = tokens.end <= cue.start;
                let side = u64::from(before);
                let between = if before {
                    tokens.end..cue.start
                } else {
                    cue.end..tokens.start
                };
                let gap = between.len();
                let mention = match mention_kind {
                    None => 0,
                    Some(MentionKind::Name) => 1,
                    Some(MentionKind::Pronoun) => 2,
                    Some(MentionKind::Nominal) => 3,
                };
                let in_content = tokens.start >= content.start && tokens.end <= content.end;
                keys.add(Feature::SourceBias, 0);
                keys.add(Feature::SourceSide, side);
                keys.add(Feature::SourceGap, pack(&[side, gap_bucket(gap)]));
                keys.add(Feature::SourceGapWords, self.gap_words(side, &between));
                keys.add(Feature::SourceTagged, pack(&[side, u64::from(*tagged)]));
                keys.add(
                    Feature::SourceKind,
                    pack(&[side, mention, u64::from(*tagged)]),
                );
                keys.add(
                    Feature::SourceLength,
                    pack(&[gap_bucket(tokens.len()), u64::from(*tagged)]),
                );
                keys.add(Feature::SourceFirstWord, self.lower(tokens.start));
                keys.add(
                    Feature::SourceLastWord,
                    self.lower(tokens.end.saturating_sub(1)),
                );
                keys.add(
                    Feature::SourceCommas,
                    self.count_between(side, &self.index.commas, &between),
                );
                keys.add(
                    Feature::SourceSentenceEnds,
                    self.count_between(side, &self.index.sentence_ends, &between),
                );
                keys.add(
                    Feature::SourceCuesBetween,
                    self.count_between(side, &self.index.cue_starts, &between),
                );
                keys.add(
                    Feature::SourcePiecesBetween,
                    self.count_between(side, &self.index.piece_starts, &between),
                );
                keys.add(
                    Feature::SourceSentences,
                    pack(&[side, self.sentence_gap(tokens.start, cue.start)]),
                );
                keys.add(
                    Feature::SourceInContent,
                    pack(&[side, u64::from(in_content), kind_code]),
                );
                keys.add(Feature::SourceRank, pack(&[side, rank.min(3) as u64]));
                keys.add(Feature::SourceQuoteKind, pack(&[side, kind_code]));
                keys.add(Feature::SourceCueWord, pack(&[side, cue_word]));
                let agrees =
                    self.rule_source.get(cue_index).and_then(Option::as_ref) == Some(tokens);
                keys.add(Feature::SourceRule, u64::from(agrees));
                self.tag_ends(
                    tokens,
                    Role::Source,
                    [
                        Feature::SourceTagBegins,
                        Feature::SourceTagEnds,
                        Feature::SourceTagGoesOn,
                    ],
                    &mut keys,
                );
            }
            SourceCandidate::Absent => {
                keys.add(Feature::AbsentBias, 0);
                keys.add(Feature::AbsentCueWord, cue_word);
                keys.add(Feature::AbsentQuoteKind, kind_code);
                keys.add(Feature::AbsentNearest, nearest.map_or(15, gap_bucket));
            }
        }
        keys
    }
}

impl FeatureContext<'_> {
    /// The features of one candidate extent of a content with cue `cue`; `other` is the other
    /// candidate, `from_rules` says where this one came from.
    pub fn extent_features(
        &self,
        extent: &Range<usize>,
        other: &Range<usize>,
        cue: &Range<usize>,
        from_rules: bool,
        pieces: usize,
        rule_kind: QuoteKind,
    ) -> Keys {
        let mut keys = Keys(Vec::with_capacity(16));
        let origin = u64::from(from_rules);
        let kind = match super::quote_kind(&self.segmented.tokens, extent) {
            QuoteKind::Direct => 1,
            QuoteKind::Mixed => 2,
            QuoteKind::Indirect => 3,
        };
        let rule_kind = match rule_kind {
            QuoteKind::Direct => 1,
            QuoteKind::Mixed => 2,
            QuoteKind::Indirect => 3,
        };
        let before_cue = extent.end <= cue.start;
        let gap = if before_cue {
            cue.start - extent.end
        } else {
            extent.start.saturating_sub(cue.end)
        };
        let agree =
            u64::from(extent.start == other.start) | u64::from(extent.end == other.end) << 1;
        let last = extent.end.saturating_sub(1).max(extent.start);
        keys.add(Feature::ExtentOrigin, pack(&[origin, kind, rule_kind]));
        keys.add(
            Feature::ExtentFirstWord,
            pack(&[origin, self.lower(extent.start)]),
        );
        keys.add(Feature::ExtentLastWord, pack(&[origin, self.lower(last)]));
        keys.add(
            Feature::ExtentBefore,
            pack(&[origin, self.lower_before(extent.start)]),
        );
        keys.add(
            Feature::ExtentAfter,
            pack(&[origin, self.lower_after(last)]),
        );
        keys.add(
            Feature::ExtentLength,
            pack(&[origin, gap_bucket(extent.len())]),
        );
        keys.add(Feature::ExtentAgree, pack(&[origin, agree, kind]));
        keys.add(
            Feature::ExtentCueGap,
            pack(&[origin, u64::from(before_cue), gap_bucket(gap).min(5)]),
        );
        keys.add(
            Feature::ExtentMarks,
            pack(&[origin, small(between_counts(&self.index.marks, extent))]),
        );
        keys.add(Feature::ExtentPieces, pack(&[origin, pieces.min(3) as u64]));
        let ratio = (4 * extent.len()) / other.len().max(1);
        keys.add(
            Feature::ExtentLengthRatio,
            pack(&[origin, ratio.min(12) as u64]),
        );
        if self.tag_scores.is_some() && !extent.is_empty() {
            let inside = [Tag::Begin, Tag::Inside];
            let before = extent
                .start
                .checked_sub(1)
                .map_or(5, |token| self.tag_fifths(token, Role::Content, &inside));
            for (feature, fifths) in [
                (
                    Feature::ExtentTagBegins,
                    self.tag_fifths(extent.start, Role::Content, &[Tag::Begin]),
                ),
                (
                    Feature::ExtentTagEnds,
                    self.tag_fifths(last, Role::Content, &inside),
                ),
                (
                    Feature::ExtentTagGoesOn,
                    self.tag_fifths(extent.end, Role::Content, &[Tag::Inside]),
                ),
                (Feature::ExtentTagBefore, before),
            ] {
                keys.add(feature, pack(&[origin, fifths]));
            }
        }
        keys
    }
}

impl FeatureContext<'_> {
    /// The features of keeping (`keep`) or dropping a quote that the rules alone found.
    pub fn fallback_features(
        &self,
        proposal: &crate::tagger::features::Proposal,
        keep: bool,
    ) -> Keys {
        let mut keys = Keys(Vec::with_capacity(10));
        if !keep {
            keys.add(Feature::FallbackBias, 0);
            return keys;
        }
        let kind = match proposal.kind {
            QuoteKind::Direct => 1,
            QuoteKind::Mixed => 2,
            QuoteKind::Indirect => 3,
        };
        let overlapping = |starts: &[u32], spans: &Range<usize>| {
            small(between_counts(
                starts,
                &(spans.start.saturating_sub(2)..spans.end),
            ))
        };
        keys.add(Feature::FallbackKind, kind);
        let cue_word = proposal.cue.as_ref().map_or(0, |cue| self.lower(cue.start));
        keys.add(Feature::FallbackCueWord, pack(&[kind, cue_word]));
        keys.add(
            Feature::FallbackSource,
            pack(&[kind, u64::from(proposal.source.is_some())]),
        );
        keys.add(
            Feature::FallbackTaggedCue,
            proposal
                .cue
                .as_ref()
                .map_or(9, |cue| overlapping(&self.index.cue_starts, cue)),
        );
        keys.add(
            Feature::FallbackTaggedSource,
            proposal
                .source
                .as_ref()
                .map_or(9, |source| overlapping(&self.index.source_starts, source)),
        );
        keys.add(
            Feature::FallbackTaggedContent,
            pack(&[
                kind,
                overlapping(&self.index.piece_starts, &proposal.content),
            ]),
        );
        keys.add(
            Feature::FallbackLength,
            pack(&[kind, gap_bucket(proposal.content.len())]),
        );
        keys
    }
}

fn between_counts(counts: &[u32], range: &Range<usize>) -> u32 {
    between(counts, range.clone())
}

/// The cue candidates of piece `piece`: the nearest cue spans on each side within the window
/// (and the paragraph before), the piece before it, and "none". Returns each with its rank.
pub fn cue_candidates(context: &FeatureContext, piece: usize) -> Vec<(CueCandidate, usize)> {
    let span = &context.pieces[piece];
    let cues = context.cues;
    let paragraph = |token: usize| context.index.paragraph_of.get(token).copied().unwrap_or(0);
    let mut candidates = Vec::new();
    // Cues are sorted by start: the first one starting at or after the piece's end.
    let after = cues.partition_point(|cue| cue.start < span.end);
    let before_end = cues.partition_point(|cue| cue.start < span.start);
    let mut rank = 0;
    for cue_index in (0..before_end).rev() {
        let cue = &cues[cue_index];
        if cue.end > span.start {
            continue;
        }
        if span.start - cue.end > CUE_WINDOW
            || paragraph(span.start).saturating_sub(paragraph(cue.start)) > 1
            || rank >= CANDIDATES_PER_SIDE
        {
            break;
        }
        candidates.push((CueCandidate::Cue(cue_index), rank));
        rank += 1;
    }
    for (rank, (cue_index, cue)) in cues.iter().enumerate().skip(after).enumerate() {
        if cue.start - span.end.min(cue.start) > CUE_WINDOW
            || paragraph(cue.start) != paragraph(span.end.saturating_sub(1).max(span.start))
            || rank >= CANDIDATES_PER_SIDE
        {
            break;
        }
        candidates.push((CueCandidate::Cue(cue_index), rank));
    }
    if let Some(previous) = piece.checked_sub(1) {
        let earlier = &context.pieces[previous];
        if earlier.end <= span.start
            && span.start - earlier.end <= CONTINUATION_WINDOW
            && paragraph(span.start).saturating_sub(paragraph(earlier.start)) <= 1
        {
            candidates.push((CueCandidate::Continues(previous), 0));
        }
    }
    let nearest = candidates
        .iter()
        .filter_map(|(candidate, _)| match candidate {
            CueCandidate::Cue(cue_index) => {
                let cue = &cues[*cue_index];
                Some(if cue.end <= span.start {
                    span.start - cue.end
                } else {
                    cue.start.saturating_sub(span.end)
                })
            }
            _ => None,
        })
        .min();
    let nearest = gap_bucket(nearest.unwrap_or(99)) as usize;
    // Only a quotation may carry on a turn without a cue: reported speech with no cue of its
    // own would go to a guessed speaker.
    if super::quote_kind(&context.segmented.tokens, span) == QuoteKind::Direct {
        candidates.push((CueCandidate::Floating, nearest));
    }
    candidates.push((CueCandidate::NotAQuote, nearest));
    candidates
}
