//! The features of every token for the span tagger, hashed into rows of the weight table.
//!
//! Each feature is a template id mixed with a value's hash ([`crate::hash::mix`]); the values
//! come from the token and its neighbours (word, lower-cased word, suffix, shape), from the
//! quotation marks around it, from the cue model, from the speaker mentions, and from what the
//! rule stages proposed. Every per-token fact is computed once per document by passes that are
//! linear in its length, so that no token scans its sentence.

use std::ops::Range;

use crate::cue::CueModel;
use crate::hash::{mix, Fnv};
use crate::lexicon::{contains_lower, Lexicon};
use crate::quotes::{token_text, QuotedRegion};
use crate::record::{MentionKind, QuoteKind};
use crate::segment::{Segmented, TokenKind};
use crate::speakers::Speakers;

/// A quote the rule stages proposed, in tokens, as the tagger reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub content: Range<usize>,
    pub kind: QuoteKind,
    pub cue: Option<Range<usize>>,
    pub source: Option<Range<usize>>,
}

/// What the tagger reads of a document: the layers of the rule stages.
#[derive(Debug, Clone, Copy)]
pub struct Layers<'a> {
    /// The cleaned view.
    pub text: &'a str,
    pub segmented: &'a Segmented,
    pub regions: &'a [QuotedRegion],
    pub speakers: &'a Speakers,
    pub proposals: &'a [Proposal],
    /// The learned cue model, where quote finding used one.
    pub cues: Option<&'a CueModel>,
    /// Its scores of every token, where quote finding kept them (the document's
    /// [`crate::document::Document::cue_scores`]); scored again where this is empty.
    pub cue_scores: &'a [Option<f64>],
}

/// The hashed features of every token: token `i` has the rows
/// `rows[offsets[i]..offsets[i + 1]]` of the weight table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFeatures {
    pub rows: Vec<u32>,
    pub offsets: Vec<u32>,
}

impl TokenFeatures {
    pub const fn new() -> Self {
        TokenFeatures {
            rows: Vec::new(),
            offsets: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The weight-table rows of token `token`.
    pub fn of(&self, token: usize) -> &[u32] {
        &self.rows[self.offsets[token] as usize..self.offsets[token + 1] as usize]
    }
}

/// Feature templates. The discriminant is mixed into every hash, so a template's number must
/// never change while a model trained with it is in use.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
enum Template {
    Bias = 1,
    Lower,
    Word,
    Suffix3,
    Suffix2,
    Shape,
    PreviousLower,
    NextLower,
    SecondPreviousLower,
    SecondNextLower,
    PreviousAndLower,
    LowerAndNext,
    Shapes,
    Quote,
    QuoteDistances,
    CueLevel,
    CueLeft,
    CueRight,
    CueLeftQuote,
    CueRightQuote,
    CueLeftWord,
    CueRightWord,
    NameLeft,
    NameRight,
    Mention,
    RuleContent,
    RuleCue,
    RuleSource,
    Position,
    Paragraph,
    LowerQuote,
    RuleContentQuote,
    LowerCueLevel,
    PreviousCueLevel,
    NextCueLevel,
    PositionQuote,
    ColonLeft,
    MarkDistances,
    MentionCueRight,
    MentionCueLeft,
    SentenceCues,
    TailAttribution,
    HeadAttribution,
    ThirdPreviousLower,
    ThirdNextLower,
    PreviousTwo,
    NextTwo,
}

/// Distances in tokens, in buckets that are fine near the token and coarse far from it; 15 is
/// "none in reach".
fn distance_bucket(distance: Option<usize>) -> u64 {
    match distance {
        None => 15,
        Some(0) => 0,
        Some(1) => 1,
        Some(2) => 2,
        Some(3) => 3,
        Some(4) => 4,
        Some(5..=6) => 5,
        Some(7..=10) => 6,
        Some(11..=20) => 7,
        Some(21..=40) => 8,
        Some(_) => 9,
    }
}

/// How strongly a token looks like a cue: 0 not a candidate, 1 to 3 by the cue model's
/// probability, 4 a listed phrase ("according to").
fn cue_level(probability: Option<f64>) -> u8 {
    match probability {
        None => 0,
        Some(p) if p < 0.2 => 1,
        Some(p) if p < 0.5 => 2,
        Some(p) if p < 0.85 => 3,
        Some(_) => 4,
    }
}

/// A token's shape: character classes, length and marks, as a small number.
fn shape(text: &str, kind: TokenKind) -> u64 {
    match kind {
        TokenKind::OpenQuote => return 1,
        TokenKind::CloseQuote => return 2,
        TokenKind::Number => return 3,
        TokenKind::Punct => return 4 + u64::from(text.as_bytes().first().copied().unwrap_or(0)),
        TokenKind::Word => {}
    }
    let bytes = text.as_bytes();
    // Most words are ASCII, where a byte is a character and its case is a range test.
    let (first_class, all_caps, characters) = if bytes.is_ascii() {
        ascii_word_classes(bytes)
    } else {
        word_classes(text)
    };
    let length = match characters {
        0..=1 => 0,
        2..=3 => 1,
        4..=6 => 2,
        _ => 3,
    };
    let flags = u64::from(all_caps)
        | u64::from(bytes.contains(&b'.')) << 1
        | u64::from(bytes.contains(&b'-')) << 2
        | u64::from(text.ends_with("’s") || text.ends_with("'s")) << 3
        | u64::from(bytes.iter().any(u8::is_ascii_digit)) << 4;
    1000 + first_class * 100 + length * 32 + flags
}

/// The class of a word's first character (1 upper case, 2 lower case, 3 neither), whether it
/// is in capitals, and its length in characters.
fn word_classes(text: &str) -> (u64, bool, usize) {
    let first = text.chars().next().unwrap_or(' ');
    let first_class = if first.is_uppercase() {
        1
    } else if first.is_lowercase() {
        2
    } else {
        3
    };
    let characters = text.chars().count();
    let all_caps = characters > 1 && text.chars().all(|ch| !ch.is_lowercase());
    (first_class, all_caps, characters)
}

/// [`word_classes`] of an ASCII word, read from its bytes.
fn ascii_word_classes(bytes: &[u8]) -> (u64, bool, usize) {
    let first_class = match bytes.first() {
        Some(byte) if byte.is_ascii_uppercase() => 1,
        Some(byte) if byte.is_ascii_lowercase() => 2,
        _ => 3,
    };
    let all_caps = bytes.len() > 1 && !bytes.iter().any(u8::is_ascii_lowercase);
    (first_class, all_caps, bytes.len())
}

/// The last `count` characters of the lower-cased word, hashed.
fn suffix_hash(word: &str, count: usize) -> u64 {
    let start = word
        .char_indices()
        .rev()
        .nth(count.saturating_sub(1))
        .map_or(0, |(at, _)| at);
    Fnv::new().lower(&word[start..]).finish()
}

/// Where a token stands with respect to quotation marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    Outside = 0,
    /// Inside a standalone quotation (marks excluded).
    InQuotation,
    /// Inside a partial or scare quote within a sentence.
    InPartial,
    OpenMark,
    CloseMark,
    /// A mark outside any paired region (an unclosed quotation).
    StrayMark,
}

/// Per-token facts, each from one linear pass.
struct TokenFacts {
    lower: Vec<u64>,
    shape: Vec<u64>,
    quote: Vec<QuoteState>,
    /// Tokens since the region's opening mark, and until its closing mark, inside a region.
    region_offsets: Vec<(Near, Near)>,
    /// Tokens to the previous closing mark and the next opening mark, within the paragraph.
    mark_distances: Vec<(Near, Near)>,
    cue: Vec<u8>,
    /// Token and distance of the nearest likely cue (level 3 or more) before and after, within
    /// the sentence.
    cue_left: Vec<Near>,
    cue_right: Vec<Near>,
    name_left: Vec<Near>,
    name_right: Vec<Near>,
    colon_left: Vec<Near>,
    /// (begins, kind) of the mention that covers each token.
    mention: Vec<u8>,
    rule_content: Vec<u8>,
    rule_cue: Vec<u8>,
    rule_source: Vec<u8>,
    sentence_of: Vec<u32>,
}

/// A distance in tokens, or none, in half the bytes of an `Option<usize>`: the facts of a long
/// document are tens of bytes a token, and what does not fit the caches costs time.
type Near = Option<u32>;

fn near(distance: Option<usize>) -> Near {
    distance.map(|distance| u32::try_from(distance).unwrap_or(u32::MAX))
}

fn far(distance: Near) -> Option<usize> {
    distance.map(|distance| distance as usize)
}

/// The sentence of a token outside every sentence.
const NO_SENTENCE: u32 = u32::MAX;

/// Index of each token's sentence; tokens outside every sentence get [`NO_SENTENCE`].
fn sentence_of_tokens(segmented: &Segmented) -> Vec<u32> {
    let mut sentence_of = vec![NO_SENTENCE; segmented.tokens.len()];
    for (index, sentence) in segmented.sentences.iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(NO_SENTENCE);
        if let Some(slots) = sentence_of.get_mut(sentence.tokens.clone()) {
            slots.iter_mut().for_each(|slot| *slot = index);
        }
    }
    sentence_of
}

/// Marks token ranges: `B` (1) on the first token and `I` (2) on the rest, with `kind` in the
/// bits above. A later range overwrites an earlier one where they overlap.
fn mark_ranges(slots: &mut [u8], ranges: impl Iterator<Item = (Range<usize>, u8)>) {
    for (range, kind) in ranges {
        let end = range.end.min(slots.len());
        for (index, slot) in slots.iter_mut().enumerate().take(end).skip(range.start) {
            *slot = (kind << 2) | if index == range.start { 1 } else { 2 };
        }
    }
}

/// For each token, the distance to the nearest token before it (within the same sentence) for
/// which `is_target` holds, counting the target itself as 0 when `inclusive`.
fn nearest_left(count: usize, sentence_of: &[u32], is_target: impl Fn(usize) -> bool) -> Vec<Near> {
    let mut nearest = super::filled(None, count);
    let mut last: Option<usize> = None;
    for index in 0..count {
        if last.is_some_and(|at| sentence_of[at] != sentence_of[index]) {
            last = None;
        }
        nearest[index] = near(last.map(|at| index - at));
        if is_target(index) {
            last = Some(index);
        }
    }
    nearest
}

fn nearest_right(
    count: usize,
    sentence_of: &[u32],
    is_target: impl Fn(usize) -> bool,
) -> Vec<Near> {
    let mut nearest = super::filled(None, count);
    let mut next: Option<usize> = None;
    for index in (0..count).rev() {
        if next.is_some_and(|at| sentence_of[at] != sentence_of[index]) {
            next = None;
        }
        nearest[index] = near(next.map(|at| at - index));
        if is_target(index) {
            next = Some(index);
        }
    }
    nearest
}

fn mention_kind_code(kind: MentionKind) -> u8 {
    match kind {
        MentionKind::Name => 1,
        MentionKind::Pronoun => 2,
        MentionKind::Nominal => 3,
    }
}

fn quote_kind_code(kind: QuoteKind) -> u8 {
    match kind {
        QuoteKind::Direct => 1,
        QuoteKind::Mixed => 2,
        QuoteKind::Indirect => 3,
    }
}

impl TokenFacts {
    fn new(layers: &Layers) -> Self {
        let text = layers.text;
        let tokens = &layers.segmented.tokens;
        let count = tokens.len();
        let sentence_of = sentence_of_tokens(layers.segmented);
        let lower: Vec<u64> = tokens
            .iter()
            .enumerate()
            .map(|(index, token)| match token.kind {
                TokenKind::OpenQuote => Fnv::new().str("<open>").finish(),
                TokenKind::CloseQuote => Fnv::new().str("<close>").finish(),
                TokenKind::Number => Fnv::new().str("<num>").finish(),
                _ => layers.segmented.lower_hash(text, index),
            })
            .collect();
        let shape = tokens
            .iter()
            .map(|token| self::shape(token_text(text, token), token.kind))
            .collect();

        let mut quote = vec![QuoteState::Outside; count];
        let mut region_offsets = super::filled((None, None), count);
        for token in 0..count {
            if matches!(
                tokens[token].kind,
                TokenKind::OpenQuote | TokenKind::CloseQuote
            ) {
                quote[token] = QuoteState::StrayMark;
            }
        }
        for region in layers.regions {
            let end = region.tokens.end.min(count);
            let start = region.tokens.start.min(end);
            for index in start..end {
                quote[index] = if index == start {
                    QuoteState::OpenMark
                } else if index + 1 == end {
                    QuoteState::CloseMark
                } else if region.standalone {
                    QuoteState::InQuotation
                } else {
                    QuoteState::InPartial
                };
                region_offsets[index] = (near(Some(index - start)), near(Some(end - 1 - index)));
            }
        }
        let paragraph_of: Vec<usize> = sentence_of
            .iter()
            .map(|&sentence| {
                layers
                    .segmented
                    .sentences
                    .get(sentence as usize)
                    .map_or(usize::MAX, |sentence| sentence.paragraph)
            })
            .collect();
        let mut mark_distances = super::filled((None, None), count);
        let mut last_close: Option<usize> = None;
        for index in 0..count {
            if last_close.is_some_and(|at| paragraph_of[at] != paragraph_of[index]) {
                last_close = None;
            }
            mark_distances[index].0 = near(last_close.map(|at| index - at));
            if tokens[index].kind == TokenKind::CloseQuote {
                last_close = Some(index);
            }
        }
        let mut next_open: Option<usize> = None;
        for index in (0..count).rev() {
            if next_open.is_some_and(|at| paragraph_of[at] != paragraph_of[index]) {
                next_open = None;
            }
            mark_distances[index].1 = near(next_open.map(|at| at - index));
            if tokens[index].kind == TokenKind::OpenQuote {
                next_open = Some(index);
            }
        }

        let lexicon = Lexicon::get();
        let mut cue = vec![0u8; count];
        for (sentence_index, sentence) in layers.segmented.sentences.iter().enumerate() {
            let _ = sentence_index;
            for index in sentence.tokens.clone() {
                let token = &tokens[index];
                if token.kind != TokenKind::Word {
                    continue;
                }
                let word = token_text(text, token);
                let mut level = match layers.cues {
                    Some(_) if layers.cue_scores.len() == count => {
                        cue_level(layers.cue_scores[index])
                    }
                    Some(model) => cue_level(model.score(text, tokens, index, &sentence.tokens)),
                    None => 0,
                };
                if contains_lower(&lexicon.cue_words, word) {
                    level = level.max(3);
                }
                if word.eq_ignore_ascii_case("according") {
                    level = 4;
                }
                cue[index] = level;
            }
        }
        let likely_cue = |index: usize| cue[index] >= 3;
        let cue_left = nearest_left(count, &sentence_of, likely_cue);
        let cue_right = nearest_right(count, &sentence_of, likely_cue);
        let colon_left = nearest_left(count, &sentence_of, |index| {
            token_text(text, &tokens[index]) == ":"
        });

        let mut mention = vec![0u8; count];
        let mut name_end = vec![false; count];
        let mut name_start = vec![false; count];
        let mut mentions: Vec<&crate::speakers::Mention> =
            layers.speakers.mentions.iter().collect();
        // Longer mentions first, so that the shorter ones inside them mark their own tokens.
        mentions.sort_by_key(|mention| std::cmp::Reverse(mention.tokens.len()));
        mark_ranges(
            &mut mention,
            mentions
                .iter()
                .map(|found| (found.tokens.clone(), mention_kind_code(found.kind))),
        );
        for found in &layers.speakers.mentions {
            if found.kind == MentionKind::Name && !found.tokens.is_empty() {
                if let Some(slot) = name_end.get_mut(found.tokens.end - 1) {
                    *slot = true;
                }
                if let Some(slot) = name_start.get_mut(found.tokens.start) {
                    *slot = true;
                }
            }
        }
        let name_left = nearest_left(count, &sentence_of, |index| name_end[index]);
        let name_right = nearest_right(count, &sentence_of, |index| name_start[index]);

        let mut rule_content = vec![0u8; count];
        let mut rule_cue = vec![0u8; count];
        let mut rule_source = vec![0u8; count];
        mark_ranges(
            &mut rule_content,
            layers
                .proposals
                .iter()
                .map(|proposal| (proposal.content.clone(), quote_kind_code(proposal.kind))),
        );
        mark_ranges(
            &mut rule_cue,
            layers
                .proposals
                .iter()
                .filter_map(|proposal| Some((proposal.cue.clone()?, 1))),
        );
        mark_ranges(
            &mut rule_source,
            layers
                .proposals
                .iter()
                .filter_map(|proposal| Some((proposal.source.clone()?, 1))),
        );
        TokenFacts {
            lower,
            shape,
            quote,
            region_offsets,
            mark_distances,
            cue,
            cue_left,
            cue_right,
            name_left,
            name_right,
            colon_left,
            mention,
            rule_content,
            rule_cue,
            rule_source,
            sentence_of,
        }
    }
}

/// The most rows one token's features can fill; more are dropped (a debug build panics).
const MAX_TOKEN_ROWS: usize = 64;

/// Hashes features of one token into rows of a table of `mask + 1` rows, gathered on the stack
/// and appended to the block's rows at once, so that the block's vector grows once a token
/// rather than checking its capacity once a feature.
struct Sink {
    rows: [u32; MAX_TOKEN_ROWS],
    count: usize,
    mask: u64,
}

impl Sink {
    #[inline]
    fn add(&mut self, template: Template, value: u64) {
        debug_assert!(
            self.count < MAX_TOKEN_ROWS,
            "more features than MAX_TOKEN_ROWS"
        );
        if let Some(slot) = self.rows.get_mut(self.count) {
            *slot = (mix(template as u64, value) & self.mask) as u32;
            self.count += 1;
        }
    }

    fn rows(&self) -> &[u32] {
        &self.rows[..self.count.min(MAX_TOKEN_ROWS)]
    }
}

/// Packs small numbers into one value.
fn pack(parts: &[u64]) -> u64 {
    parts.iter().fold(0u64, |packed, &part| {
        packed.wrapping_mul(1_000_003).wrapping_add(part)
    })
}

/// The features of every token of a document, for a table of `2^table_bits` rows.
pub fn token_features(layers: &Layers, table_bits: u32) -> TokenFeatures {
    let plan = FeaturePlan::new(layers, table_bits);
    let mut features = TokenFeatures::default();
    plan.write(0..plan.len(), &mut features);
    features
}

/// What the features of a document's tokens are computed from: the per-token facts and the
/// per-sentence and per-paragraph facts, each found once by a linear pass, so that the hashed
/// rows can be written a block of tokens at a time. A long document's rows (about 44 a token)
/// then never all exist at once.
pub struct FeaturePlan<'a> {
    layers: &'a Layers<'a>,
    facts: TokenFacts,
    mask: u64,
    none: u64,
    first_of_paragraph: Vec<bool>,
    labelled_paragraph: Vec<bool>,
    paragraph_opens_quote: Vec<bool>,
    cues_in_sentence: Vec<u64>,
    tail_comma: Vec<Option<usize>>,
    head_cue: Vec<Option<usize>>,
}

impl<'a> FeaturePlan<'a> {
    pub fn new(layers: &'a Layers<'a>, table_bits: u32) -> Self {
        let tokens = &layers.segmented.tokens;
        let count = tokens.len();
        let facts = TokenFacts::new(layers);
        let mask = (1u64 << table_bits) - 1;
        let none = Fnv::new().str("<none>").finish();
        let first_of_paragraph = {
            let mut first = vec![false; layers.segmented.sentences.len()];
            let mut previous = usize::MAX;
            for (index, sentence) in layers.segmented.sentences.iter().enumerate() {
                first[index] = sentence.paragraph != previous;
                previous = sentence.paragraph;
            }
            first
        };
        // Transcripts: a paragraph that opens with a speaker's label ("PENCE:", "Mr. Smith:").
        let mut labelled_paragraph = vec![false; layers.segmented.paragraphs.len()];
        let mut paragraph_opens_quote = vec![false; layers.segmented.paragraphs.len()];
        for sentence in &layers.segmented.sentences {
            let Some(slot) = labelled_paragraph.get_mut(sentence.paragraph) else {
                continue;
            };
            let first = sentence.tokens.start;
            let paragraph_start = layers.segmented.paragraphs[sentence.paragraph].start;
            if first < count
                && (tokens[first].start == paragraph_start
                    || layers.text[paragraph_start..tokens[first].start]
                        .trim()
                        .is_empty())
            {
                let label_end = (first..sentence.tokens.end.min(first + 4))
                    .find(|&index| token_text(layers.text, &tokens[index]) == ":");
                *slot = label_end.is_some_and(|colon| {
                    colon > first
                        && (first..colon).all(|index| {
                            tokens[index].kind == TokenKind::Word
                                && token_text(layers.text, &tokens[index])
                                    .chars()
                                    .next()
                                    .is_some_and(char::is_uppercase)
                        })
                });
                paragraph_opens_quote[sentence.paragraph] =
                    tokens[first].kind == TokenKind::OpenQuote;
            }
        }
        let mut cues_in_sentence = vec![0u64; layers.segmented.sentences.len()];
        for (index, &level) in facts.cue.iter().enumerate() {
            if level >= 3 {
                if let Some(slot) = cues_in_sentence.get_mut(facts.sentence_of[index] as usize) {
                    *slot += 1;
                }
            }
        }
        // Per sentence: an attribution at its end ("..., a source said.") as the token where its
        // clause starts (the comma), and one at its start ("Kerry said ...") as its cue's token.
        let mut tail_comma = vec![None; layers.segmented.sentences.len()];
        let mut head_cue = vec![None; layers.segmented.sentences.len()];
        for (sentence_index, sentence) in layers.segmented.sentences.iter().enumerate() {
            let range = sentence.tokens.clone();
            let mut end = range.end.min(count);
            while end > range.start
                && matches!(
                    token_text(layers.text, &tokens[end - 1]),
                    "." | "!" | "?" | "”" | ")"
                )
            {
                end -= 1;
            }
            let last_cue = (end.saturating_sub(8).max(range.start)..end)
                .rev()
                .find(|&index| facts.cue[index] >= 3);
            if let Some(cue) = last_cue {
                tail_comma[sentence_index] = (cue.saturating_sub(8).max(range.start)..cue)
                    .rev()
                    .find(|&index| {
                        matches!(token_text(layers.text, &tokens[index]), "," | "”" | "—")
                    });
            }
            head_cue[sentence_index] = (range.start..(range.start + 10).min(range.end.min(count)))
                .find(|&index| facts.cue[index] >= 3);
        }
        FeaturePlan {
            layers,
            facts,
            mask,
            none,
            first_of_paragraph,
            labelled_paragraph,
            paragraph_opens_quote,
            cues_in_sentence,
            tail_comma,
            head_cue,
        }
    }

    /// The number of tokens.
    pub fn len(&self) -> usize {
        self.layers.segmented.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces `out` by the features of the tokens `block`: token `block.start + i` is
    /// `out.of(i)`.
    pub fn write(&self, block: Range<usize>, out: &mut TokenFeatures) {
        let FeaturePlan {
            layers,
            facts,
            mask,
            none,
            first_of_paragraph,
            labelled_paragraph,
            paragraph_opens_quote,
            cues_in_sentence,
            tail_comma,
            head_cue,
        } = self;
        let (mask, none) = (*mask, *none);
        let tokens = &layers.segmented.tokens;
        let count = tokens.len();
        let block = block.start.min(count)..block.end.min(count);
        out.rows.clear();
        out.offsets.clear();
        out.offsets.push(0u32);
        let TokenFeatures { rows, offsets } = out;
        // The index addresses several per-token arrays at once, and neighbours of the token.
        #[allow(clippy::needless_range_loop)]
        for index in block {
            let mut sink = Sink {
                rows: [0; MAX_TOKEN_ROWS],
                count: 0,
                mask,
            };
            // Each neighbour within the sentence is found once: several templates read it.
            let own_sentence = facts.sentence_of[index];
            let within = |offset: isize| {
                index
                    .checked_add_signed(offset)
                    .filter(|&at| at < count && facts.sentence_of[at] == own_sentence)
            };
            let [third_previous, second_previous, previous, next, second_next, third_next] =
                [-3, -2, -1, 1, 2, 3].map(within);
            let lower_of = |at: Option<usize>| at.map_or(none, |at| facts.lower[at]);
            let shape_of = |at: Option<usize>| at.map_or(0, |at| facts.shape[at]);
            let cue_of = |at: Option<usize>| at.map_or(9, |at| u64::from(facts.cue[at]));
            let (lower_previous, lower_next) = (lower_of(previous), lower_of(next));
            let (lower_second_previous, lower_second_next) =
                (lower_of(second_previous), lower_of(second_next));
            let token = &tokens[index];
            let word = token_text(layers.text, token);
            let lower = facts.lower[index];
            let quote = facts.quote[index] as u64;
            let sentence_index = facts.sentence_of[index] as usize;
            let sentence = layers.segmented.sentences.get(sentence_index);
            let (position, from_end) = sentence.map_or((0, 0), |sentence| {
                (
                    distance_bucket(Some(index - sentence.tokens.start)),
                    distance_bucket(Some(sentence.tokens.end - 1 - index)).min(4),
                )
            });
            let paragraph = sentence.map_or(0, |sentence| {
                pack(&[
                    u64::from(first_of_paragraph[sentence_index]),
                    u64::from(labelled_paragraph[sentence.paragraph]),
                    u64::from(paragraph_opens_quote[sentence.paragraph]),
                ])
            });
            sink.add(Template::Bias, 0);
            sink.add(Template::Lower, lower);
            sink.add(Template::Word, Fnv::new().str(word).finish());
            if token.kind == TokenKind::Word {
                sink.add(Template::Suffix3, suffix_hash(word, 3));
                sink.add(Template::Suffix2, suffix_hash(word, 2));
            }
            sink.add(Template::Shape, facts.shape[index]);
            sink.add(Template::PreviousLower, lower_previous);
            sink.add(Template::NextLower, lower_next);
            sink.add(Template::SecondPreviousLower, lower_second_previous);
            sink.add(Template::SecondNextLower, lower_second_next);
            sink.add(Template::PreviousAndLower, pack(&[lower_previous, lower]));
            sink.add(Template::LowerAndNext, pack(&[lower, lower_next]));
            sink.add(
                Template::Shapes,
                pack(&[shape_of(previous), facts.shape[index], shape_of(next)]),
            );
            sink.add(Template::Quote, quote);
            let (since_open, until_close) = facts.region_offsets[index];
            sink.add(
                Template::QuoteDistances,
                pack(&[
                    quote,
                    distance_bucket(far(since_open)),
                    distance_bucket(far(until_close)),
                ]),
            );
            let (after_close, before_open) = facts.mark_distances[index];
            sink.add(
                Template::MarkDistances,
                pack(&[
                    quote,
                    distance_bucket(far(after_close)),
                    distance_bucket(far(before_open)),
                ]),
            );
            let level = u64::from(facts.cue[index]);
            sink.add(Template::CueLevel, level);
            let cue_left = far(facts.cue_left[index]);
            let cue_right = far(facts.cue_right[index]);
            sink.add(Template::CueLeft, distance_bucket(cue_left));
            sink.add(Template::CueRight, distance_bucket(cue_right));
            sink.add(
                Template::CueLeftQuote,
                pack(&[distance_bucket(cue_left), quote]),
            );
            sink.add(
                Template::CueRightQuote,
                pack(&[distance_bucket(cue_right), quote]),
            );
            // A content runs on for tens of tokens after its cue: its tokens well past the
            // tenth still learn which verb opened it (40 measured better than 10 on dev).
            if let Some(distance) = cue_left.filter(|&distance| distance <= 40) {
                sink.add(
                    Template::CueLeftWord,
                    pack(&[
                        facts.lower[index - distance],
                        distance_bucket(Some(distance)),
                    ]),
                );
            }
            if let Some(distance) = cue_right.filter(|&distance| distance <= 40) {
                sink.add(
                    Template::CueRightWord,
                    pack(&[
                        facts.lower[index + distance],
                        distance_bucket(Some(distance)),
                    ]),
                );
            }
            sink.add(
                Template::NameLeft,
                distance_bucket(far(facts.name_left[index])),
            );
            sink.add(
                Template::NameRight,
                distance_bucket(far(facts.name_right[index])),
            );
            sink.add(
                Template::ColonLeft,
                distance_bucket(far(facts.colon_left[index])),
            );
            let mention = u64::from(facts.mention[index]);
            sink.add(Template::Mention, mention);
            sink.add(
                Template::MentionCueRight,
                pack(&[mention, distance_bucket(cue_right)]),
            );
            sink.add(
                Template::MentionCueLeft,
                pack(&[mention, distance_bucket(cue_left)]),
            );
            let rule_content = u64::from(facts.rule_content[index]);
            sink.add(Template::RuleContent, rule_content);
            sink.add(Template::RuleCue, u64::from(facts.rule_cue[index]));
            sink.add(Template::RuleSource, u64::from(facts.rule_source[index]));
            sink.add(Template::RuleContentQuote, pack(&[rule_content, quote]));
            sink.add(Template::Position, pack(&[position, from_end]));
            sink.add(Template::PositionQuote, pack(&[position, quote]));
            sink.add(Template::Paragraph, paragraph);
            sink.add(Template::LowerQuote, pack(&[lower, quote]));
            sink.add(Template::LowerCueLevel, pack(&[lower, level]));
            sink.add(
                Template::PreviousCueLevel,
                pack(&[lower_previous, cue_of(previous)]),
            );
            sink.add(
                Template::NextCueLevel,
                pack(&[cue_of(next), cue_of(second_next)]),
            );
            sink.add(
                Template::SentenceCues,
                cues_in_sentence
                    .get(sentence_index)
                    .copied()
                    .unwrap_or(0)
                    .min(3),
            );
            let first = u64::from(sentence.is_some_and(|sentence| sentence.tokens.start == index));
            let tail = match tail_comma.get(sentence_index).copied().flatten() {
                None => 0,
                Some(comma) if index < comma => 1,
                Some(comma) if index == comma => 2,
                Some(_) => 3,
            };
            sink.add(Template::TailAttribution, pack(&[tail, quote, first]));
            let head = match head_cue.get(sentence_index).copied().flatten() {
                None => 0,
                Some(cue) if index < cue => 1,
                Some(cue) if index == cue => 2,
                Some(cue) if index == cue + 1 => 3,
                Some(_) => 4,
            };
            sink.add(Template::HeadAttribution, pack(&[head, quote]));
            sink.add(Template::ThirdPreviousLower, lower_of(third_previous));
            sink.add(Template::ThirdNextLower, lower_of(third_next));
            sink.add(
                Template::PreviousTwo,
                pack(&[lower_second_previous, lower_previous]),
            );
            sink.add(Template::NextTwo, pack(&[lower_next, lower_second_next]));
            rows.extend_from_slice(sink.rows());
            offsets.push(rows.len() as u32);
        }
    }
}

/// The names of the dense evidence a neural tagger's head reads beside its encoder's states,
/// one per column of [`token_evidence`].
pub const EVIDENCE: [&str; 18] = [
    "quote:outside",
    "quote:in-quotation",
    "quote:in-partial",
    "quote:open-mark",
    "quote:close-mark",
    "quote:stray-mark",
    "cue:level",
    "cue:likely",
    "rule-content:direct",
    "rule-content:mixed",
    "rule-content:indirect",
    "rule-content:begins",
    "rule-cue",
    "rule-source",
    "mention:name",
    "mention:pronoun",
    "mention:nominal",
    "sentence:first-token",
];

/// The rule stages' evidence for every token as numbers in `[0, 1]`: where the token stands
/// with respect to quotation marks, the cue model's level, the rules' own proposed spans and the
/// speaker mentions; row-major, [`EVIDENCE`]`.len()` columns per token. Quotation marks are
/// near-certain evidence of a content that a tagger should not have to rediscover.
pub fn token_evidence(layers: &Layers) -> Vec<f32> {
    let facts = TokenFacts::new(layers);
    let count = layers.segmented.tokens.len();
    let width = EVIDENCE.len();
    let mut evidence = super::filled(0f32, count * width);
    for (token, row) in evidence.chunks_exact_mut(width).enumerate() {
        let quote_column = match facts.quote[token] {
            QuoteState::Outside => 0,
            QuoteState::InQuotation => 1,
            QuoteState::InPartial => 2,
            QuoteState::OpenMark => 3,
            QuoteState::CloseMark => 4,
            QuoteState::StrayMark => 5,
        };
        row[quote_column] = 1.0;
        row[6] = f32::from(facts.cue[token]) / 4.0;
        row[7] = f32::from(u8::from(facts.cue[token] >= 3));
        let content = facts.rule_content[token];
        match content >> 2 {
            1 => row[8] = 1.0,
            2 => row[9] = 1.0,
            3 => row[10] = 1.0,
            _ => {}
        }
        row[11] = f32::from(u8::from(content & 3 == 1));
        row[12] = f32::from(u8::from(facts.rule_cue[token] != 0));
        row[13] = f32::from(u8::from(facts.rule_source[token] != 0));
        match facts.mention[token] >> 2 {
            1 => row[14] = 1.0,
            2 => row[15] = 1.0,
            3 => row[16] = 1.0,
            _ => {}
        }
    }
    for sentence in &layers.segmented.sentences {
        if sentence.tokens.start < count {
            evidence[sentence.tokens.start * width + 17] = 1.0;
        }
    }
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_words_shape_reads_its_case_length_and_marks() {
        let shape_of = |word| shape(word, TokenKind::Word);
        assert_ne!(shape_of("Kerry"), shape_of("kerry"));
        assert_ne!(shape_of("Kerry"), shape_of("KERRY"));
        assert_ne!(shape_of("Kerry"), shape_of("Kerry's"));
        assert_ne!(shape_of("Kerry"), shape_of("Kerryville"));
        assert_eq!(shape_of("Kerry’s"), shape_of("Kerry's"));
        assert_ne!(shape_of("US"), shape_of("U.S."));
        assert_eq!(shape_of("ÉCLAIR"), shape_of("ECLAIR"));
        assert_eq!(shape_of("éclair"), shape_of("eclair"));
        assert_ne!(shape_of("F-16"), shape_of("F16"));
    }

    proptest! {
        #[test]
        fn the_ascii_path_of_shape_agrees_with_reading_chars(word in "[ -~]{0,12}") {
            prop_assert_eq!(ascii_word_classes(word.as_bytes()), word_classes(&word));
        }
    }
}
