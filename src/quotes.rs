//! Stage 3: quotations. Direct quotes come from paired quotation marks; cues (speech, writing,
//! thought and intention verbs, and phrases such as "according to") introduce indirect speech,
//! whose content is the clause on the far side of the cue from its source.
//!
//! This stage proposes each quote with its cue and with where its source should be; the
//! attribution stage finds the source there, and drops a proposal that has none.

use std::ops::Range;

use crate::cue::CueModel;
pub use crate::document::quotes::{Cue, Pattern, Quote, QuotedRegion, SourceSite};
pub use crate::document::segmented::token_text;
use crate::document::Document;
use crate::labels::QuoteKind;
use crate::lexicon::{contains_lower, Lexicon};
use crate::normalise::Normalised;
use crate::segment::{Segmented, Token, TokenKind};
use crate::stage::{unbounded, Check, Clock, DocumentStage, Halt, Unbounded};

/// How quote finding decides whether a single word is a cue (phrases such as "according to"
/// are always listed).
#[derive(Debug, Clone, Copy)]
pub enum CueDetector<'a> {
    /// The hand-made word list.
    Listed,
    /// The learned model, which reads the word's context.
    Learned(&'a CueModel),
    /// The learned model's scores of every token, made beforehand by
    /// [`CueModel::score_all`].
    Scored(&'a CueModel, &'a [Option<f64>]),
}

/// How far a cue may stand from the quote it introduces or follows, in tokens.
const MAX_SOURCE_TOKENS: usize = 8;
/// Indirect content shorter than this (in words, "that" not counted) is not a proposition.
const MIN_INDIRECT_WORDS: usize = 2;

/// Words that open a prepositional phrase, which is not reported content.
const PREPOSITIONS: &[&str] = &[
    "on", "in", "at", "with", "for", "about", "of", "from", "by", "into", "over", "after",
    "before", "during", "against", "toward", "towards", "through", "under", "since", "until",
    "upon", "across", "behind", "beyond", "near", "without", "up", "down", "off", "out",
];

/// Participles that attach a cue to the subject of the main clause: `..., saying “...”`.
fn is_participle(word: &str) -> bool {
    word.len() > 4 && word.ends_with("ing")
}

/// Finds the quoted regions of a cleaned text.
pub fn quoted_regions(
    text: &str,
    normalised: &Normalised,
    segmented: &Segmented,
) -> Vec<QuotedRegion> {
    unbounded(quoted_regions_checked(
        text, normalised, segmented, &Unbounded,
    ))
}

/// [`quoted_regions`], calling `check` once a token.
pub fn quoted_regions_checked<C: Check>(
    text: &str,
    normalised: &Normalised,
    segmented: &Segmented,
    check: &C,
) -> Result<Vec<QuotedRegion>, C::Stop> {
    let tokens = &segmented.tokens;
    let continues: std::collections::HashSet<usize> = normalised
        .marks
        .iter()
        .filter(|mark| mark.continues_quote)
        .map(|mark| mark.start)
        .collect();
    let paragraph_of = paragraph_of_tokens(segmented);
    let mut regions = Vec::new();
    let mut open: Option<usize> = None;
    for (index, token) in tokens.iter().enumerate() {
        check.check()?;
        if let Some(from) = open {
            if paragraph_of[from] != paragraph_of[index]
                && paragraph_of[index] != paragraph_of[index.saturating_sub(1)]
                && !(token.kind == TokenKind::OpenQuote && continues.contains(&token.start))
            {
                open = None;
            }
        }
        match token.kind {
            TokenKind::OpenQuote if open.is_none() || !continues.contains(&token.start) => {
                open = Some(index);
            }
            TokenKind::CloseQuote => {
                if let Some(from) = open.take() {
                    let standalone = is_standalone(text, tokens, from, index, &paragraph_of);
                    regions.push(QuotedRegion {
                        tokens: from..index + 1,
                        start: tokens[from].start,
                        end: token.end,
                        standalone,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(regions)
}

fn paragraph_of_tokens(segmented: &Segmented) -> Vec<usize> {
    let mut paragraph_of = vec![0; segmented.tokens.len()];
    for sentence in &segmented.sentences {
        for slot in &mut paragraph_of[sentence.tokens.clone()] {
            *slot = sentence.paragraph;
        }
    }
    paragraph_of
}

fn is_standalone(
    text: &str,
    tokens: &[Token],
    open: usize,
    close: usize,
    paragraph_of: &[usize],
) -> bool {
    let lexicon = Lexicon::get();
    if paragraph_of[open] != paragraph_of[close] {
        return true;
    }
    // A quotation that opens mid-clause ("his temperament is “dangerous for a president.”") is
    // part of the reported content around it, however long; one that opens a sentence or
    // follows a colon, a comma or a speech verb stands on its own.
    match open.checked_sub(1) {
        None => true,
        Some(before) if paragraph_of[before] != paragraph_of[open] => true,
        Some(before) => {
            let word = token_text(text, &tokens[before]);
            matches!(word, ":" | "," | "." | "!" | "?" | "—" | "–" | "(")
                || tokens[before].kind == TokenKind::CloseQuote
                || contains_lower(&lexicon.speech_verbs, word)
        }
    }
}

/// A cue word or phrase at `index`, as a token range, if there is one.
fn cue_at(
    text: &str,
    tokens: &[Token],
    index: usize,
    sentence: &Range<usize>,
    cues: CueDetector,
) -> Option<Range<usize>> {
    let lexicon = Lexicon::get();
    let sentence_end = sentence.end;
    let token = tokens.get(index)?;
    if token.kind != TokenKind::Word {
        return None;
    }
    let word = token_text(text, token);
    for phrase in &lexicon.cue_phrases {
        let matches = phrase.iter().enumerate().all(|(offset, part)| {
            index + offset < sentence_end
                && token_text(text, &tokens[index + offset]).eq_ignore_ascii_case(part)
        });
        if matches {
            return Some(index..index + phrase.len());
        }
    }
    if matches!(
        word,
        "according" | "pointed" | "points" | "pointing" | "point"
    ) || !word.chars().next().is_some_and(char::is_lowercase)
    {
        return None;
    }
    let is_cue = match cues {
        CueDetector::Listed => lexicon.cue_words.contains(word),
        CueDetector::Learned(model) => {
            lexicon.cue_words.contains(word) || model.is_cue(text, tokens, index, sentence)
        }
        CueDetector::Scored(model, scores) => {
            lexicon.cue_words.contains(word)
                || scores
                    .get(index)
                    .copied()
                    .flatten()
                    .is_some_and(|probability| model.passes(probability))
        }
    };
    if !is_cue {
        return None;
    }
    let after_determiner = index.checked_sub(1).is_some_and(|before| {
        lexicon
            .determiners
            .contains(token_text(text, &tokens[before]))
    });
    (!after_determiner).then_some(index..index + 1)
}

/// Per-sentence lookups that keep quote finding linear in the sentence's length: a sentence
/// of thousands of cues (text without punctuation, one speech verb repeated) would otherwise
/// make each cue scan the whole sentence.
struct SentenceIndex {
    start: usize,
    /// The cue (index into the sentence's cues) starting at each token.
    cue_starting_at: Vec<Option<usize>>,
    /// The cue ending just before each token (one slot more than the sentence has tokens).
    cue_ending_at: Vec<Option<usize>>,
    /// Words and numbers before each token (one slot more than the sentence has tokens).
    words_before: Vec<usize>,
    /// The first comma at or after each token, within the indirect content's reach.
    next_comma: Vec<Option<usize>>,
    /// The first token at or after each one that ends an indirect quote's clause.
    next_clause_end: Vec<Option<usize>>,
    /// One past the last token that indirect content may hold (sentence-final marks left out).
    content_end: usize,
}

impl SentenceIndex {
    fn new(
        text: &str,
        tokens: &[Token],
        sentence: &Range<usize>,
        cues: &[Range<usize>],
        standalone: &[&QuotedRegion],
    ) -> Self {
        let start = sentence.start;
        let length = sentence.len();
        let mut cue_starting_at = vec![None; length];
        let mut cue_ending_at = vec![None; length + 1];
        for (cue_index, cue) in cues.iter().enumerate() {
            cue_starting_at[cue.start - start] = Some(cue_index);
            cue_ending_at[cue.end - start] = Some(cue_index);
        }
        let mut standalone_start = vec![false; length];
        for region in standalone {
            if let Some(slot) = region
                .tokens
                .start
                .checked_sub(start)
                .and_then(|offset| standalone_start.get_mut(offset))
            {
                *slot = true;
            }
        }
        let mut words_before = Vec::with_capacity(length + 1);
        words_before.push(0);
        for token in &tokens[sentence.clone()] {
            let is_word = matches!(token.kind, TokenKind::Word | TokenKind::Number);
            words_before.push(words_before.last().copied().unwrap_or(0) + usize::from(is_word));
        }
        let mut content_end = sentence.end;
        while content_end > start
            && matches!(
                token_text(text, &tokens[content_end - 1]),
                "." | "!" | "?" | "…" | ")"
            )
        {
            content_end -= 1;
        }
        let mut next_comma = vec![None; length + 1];
        let mut next_clause_end = vec![None; length + 1];
        for index in (start..content_end).rev() {
            let word = token_text(text, &tokens[index]);
            let next_is_cue = cue_starting_at
                .get(index + 1 - start)
                .is_some_and(Option::is_some);
            let next_word = tokens
                .get(index + 1)
                .map(|token| token_text(text, token))
                .unwrap_or("");
            let ends_clause = word == ";"
                || (matches!(word, "," | "and" | "but") && next_is_cue)
                || (word == "," && is_participle(next_word) && next_is_cue)
                || standalone_start[index - start];
            let slot = index - start;
            next_comma[slot] = if word == "," {
                Some(index)
            } else {
                next_comma[slot + 1]
            };
            next_clause_end[slot] = if ends_clause {
                Some(index)
            } else {
                next_clause_end[slot + 1]
            };
        }
        SentenceIndex {
            start,
            cue_starting_at,
            cue_ending_at,
            words_before,
            next_comma,
            next_clause_end,
            content_end,
        }
    }

    fn cue_starting_at(&self, index: usize) -> Option<usize> {
        *self.cue_starting_at.get(index.checked_sub(self.start)?)?
    }

    fn cue_ending_at(&self, index: usize) -> Option<usize> {
        *self.cue_ending_at.get(index.checked_sub(self.start)?)?
    }

    fn word_count(&self, range: Range<usize>) -> usize {
        self.words_before[range.end - self.start] - self.words_before[range.start - self.start]
    }

    /// The first comma in `from..content_end`.
    fn comma_from(&self, from: usize) -> Option<usize> {
        *self.next_comma.get(from.checked_sub(self.start)?)?
    }

    /// The first clause end in `from..content_end`.
    fn clause_end_from(&self, from: usize) -> Option<usize> {
        *self.next_clause_end.get(from.checked_sub(self.start)?)?
    }
}

/// Finds the quotes of a document, in text order.
pub fn find_quotes(
    text: &str,
    segmented: &Segmented,
    regions: &[QuotedRegion],
    detector: CueDetector,
) -> Vec<Quote> {
    unbounded(find_quotes_checked(
        text, segmented, regions, detector, &Unbounded,
    ))
}

/// [`find_quotes`], calling `check` once a token.
pub fn find_quotes_checked<C: Check>(
    text: &str,
    segmented: &Segmented,
    regions: &[QuotedRegion],
    detector: CueDetector,
    check: &C,
) -> Result<Vec<Quote>, C::Stop> {
    let tokens = &segmented.tokens;
    let mut quotes = Vec::new();
    let mut region_index = 0;
    for (sentence_index, sentence) in segmented.sentences.iter().enumerate() {
        let range = sentence.tokens.clone();
        while region_index < regions.len() && regions[region_index].tokens.start < range.start {
            region_index += 1;
        }
        let sentence_regions: Vec<&QuotedRegion> = regions[region_index..]
            .iter()
            .take_while(|region| region.tokens.start < range.end)
            .collect();
        // A mask rather than a search of the regions per token, which was quadratic in a
        // sentence of thousands of quotes.
        let mut quoted = vec![false; range.len()];
        for region in &sentence_regions {
            let start = region.tokens.start.max(range.start) - range.start;
            let end = region.tokens.end.clamp(range.start, range.end) - range.start;
            quoted[start..end.max(start)]
                .iter_mut()
                .for_each(|flag| *flag = true);
        }
        let in_region = |index: usize| quoted[index - range.start];
        let mut cues: Vec<Range<usize>> = Vec::new();
        let mut index = range.start;
        while index < range.end {
            check.check()?;
            if !in_region(index) {
                if let Some(cue) = cue_at(text, tokens, index, &range, detector) {
                    index = cue.end;
                    cues.push(cue);
                    continue;
                }
            }
            index += 1;
        }
        let standalone_regions: Vec<&QuotedRegion> = sentence_regions
            .iter()
            .copied()
            .filter(|region| region.standalone)
            .collect();
        let lookup = SentenceIndex::new(text, tokens, &range, &cues, &standalone_regions);
        let mut used_cues = vec![false; cues.len()];
        // Two marks with nothing between ("") quote nothing; a text of marks alone would
        // otherwise make a quote of every pair.
        for region in standalone_regions
            .iter()
            .filter(|region| region.tokens.len() > 2)
        {
            let (cue, pattern) = match cue_after_quote(text, tokens, region, &lookup, range.end) {
                Some(found) => (Some(found), Pattern::DirectCueAfter),
                None => match cue_before_quote(text, tokens, region, &lookup, range.start) {
                    Some(found) => (Some(found), Pattern::DirectCueBefore),
                    None => (None, Pattern::DirectFloating),
                },
            };
            if let Some(cue_index) = cue {
                used_cues[cue_index] = true;
            }
            let source_site = if cue.is_some() {
                SourceSite::AroundCue
            } else {
                SourceSite::PreviousSpeaker
            };
            quotes.push(Quote {
                kind: QuoteKind::Direct,
                start: region.start,
                end: region.end,
                tokens: region.tokens.clone(),
                cue: cue.map(|cue_index| make_cue(tokens, &cues[cue_index])),
                pattern,
                source_site,
                sentence: sentence_index,
            });
        }
        for (cue_index, cue) in cues.iter().enumerate() {
            check.check()?;
            if used_cues[cue_index] {
                continue;
            }
            if let Some(quote) = indirect_quote(
                text,
                tokens,
                cue,
                range.clone(),
                &lookup,
                &sentence_regions,
                sentence_index,
            ) {
                quotes.push(quote);
            }
        }
    }
    quotes.sort_by_key(|quote| (quote.start, quote.end));
    quotes.dedup_by(|later, earlier| later.start < earlier.end);
    Ok(quotes)
}

/// The third stage: quoted regions, then the quotes they and the cues make.
pub struct QuoteStage {
    /// The learned cue model, or `None` for the hand-made word list.
    pub cues: Option<std::sync::Arc<CueModel>>,
}

impl DocumentStage for QuoteStage {
    fn name(&self) -> &'static str {
        "quotes"
    }

    fn run(&self, document: &mut Document, clock: &Clock) -> Result<(), Halt> {
        let text = &document.normalised.text;
        document.regions =
            quoted_regions_checked(text, &document.normalised, &document.segmented, clock)?;
        document.cue_scores = match &self.cues {
            Some(model) => model.score_all(text, &document.segmented),
            None => Vec::new(),
        };
        let detector = match &self.cues {
            Some(model) => CueDetector::Scored(model, &document.cue_scores),
            None => CueDetector::Listed,
        };
        document.quotes = find_quotes_checked(
            text,
            &document.segmented,
            &document.regions,
            detector,
            clock,
        )?;
        Ok(())
    }
}

fn make_cue(tokens: &[Token], cue: &Range<usize>) -> Cue {
    Cue {
        tokens: cue.clone(),
        start: tokens[cue.start].start,
        end: tokens[cue.end - 1].end,
    }
}

fn is_name_like(text: &str, token: &Token) -> bool {
    let lexicon = Lexicon::get();
    let word = token_text(text, token);
    token.kind == TokenKind::Word
        && (word.chars().next().is_some_and(char::is_uppercase)
            || contains_lower(&lexicon.titles, word)
            || contains_lower(&lexicon.nominal_sources, word)
            || lexicon.articles.contains(word)
            || matches!(
                word,
                "he" | "she" | "they" | "we" | "i" | "of" | "de" | "who"
            )
            || lexicon.auxiliaries.contains(word))
}

/// `“...,” Kerry said` or `“...,” said Kerry`: the cue within a few name-like tokens after the
/// closing mark, in the same sentence.
fn cue_after_quote(
    text: &str,
    tokens: &[Token],
    region: &QuotedRegion,
    lookup: &SentenceIndex,
    sentence_end: usize,
) -> Option<usize> {
    let mut index = region.tokens.end;
    if index < sentence_end && matches!(token_text(text, &tokens[index]), "," | "—" | "–") {
        index += 1;
    }
    let limit = (index + MAX_SOURCE_TOKENS).min(sentence_end);
    while index < limit {
        if let Some(cue_index) = lookup.cue_starting_at(index) {
            return Some(cue_index);
        }
        if !is_name_like(text, &tokens[index]) {
            return None;
        }
        index += 1;
    }
    None
}

/// `Kerry said: “...”` or `..., saying “...”`: a cue just before the opening mark, with at most a
/// colon, a comma or "that" between.
fn cue_before_quote(
    text: &str,
    tokens: &[Token],
    region: &QuotedRegion,
    lookup: &SentenceIndex,
    sentence_start: usize,
) -> Option<usize> {
    let open = region.tokens.start;
    let mut index = open;
    for _ in 0..2 {
        if index <= sentence_start {
            return None;
        }
        if let Some(cue_index) = lookup.cue_ending_at(index) {
            return Some(cue_index);
        }
        if !matches!(token_text(text, &tokens[index - 1]), ":" | ",") {
            return None;
        }
        index -= 1;
    }
    None
}

fn indirect_quote(
    text: &str,
    tokens: &[Token],
    cue: &Range<usize>,
    sentence: Range<usize>,
    lookup: &SentenceIndex,
    all_regions: &[&QuotedRegion],
    sentence_index: usize,
) -> Option<Quote> {
    let is_according = token_text(text, &tokens[cue.start]).eq_ignore_ascii_case("according");
    let content_end = lookup.content_end;
    // Content after the source and cue reaches to the end of the clause; content before them is
    // the clause that a comma ends.
    let comma_before = (cue.start.saturating_sub(MAX_SOURCE_TOKENS)..cue.start)
        .rev()
        .filter(|&index| index >= sentence.start)
        .find(|&index| token_text(text, &tokens[index]) == ",")
        .filter(|&comma| (comma + 1..cue.start).all(|index| is_name_like(text, &tokens[index])));
    // The length test comes first, so that the name test reads a few tokens, not the sentence.
    let tail_is_short = content_end.saturating_sub(cue.end) <= MAX_SOURCE_TOKENS
        && (cue.end..content_end).all(|index| is_name_like(text, &tokens[index]));
    let (start_token, end_token, pattern, source_site) = if let Some(comma) =
        comma_before.filter(|_| tail_is_short)
    {
        (
            sentence.start,
            comma,
            if is_according {
                Pattern::AccordingTo
            } else {
                Pattern::IndirectCueAfter
            },
            if is_according {
                SourceSite::AfterCue
            } else {
                SourceSite::AroundCue
            },
        )
    } else if is_according {
        // `according to X, CONTENT`: the content follows the comma after the source.
        let comma = lookup
            .comma_from(cue.end)
            .filter(|&comma| comma < content_end)?;
        (
            comma + 1,
            content_end,
            Pattern::AccordingTo,
            SourceSite::AfterCue,
        )
    } else {
        let mut end = lookup
            .clause_end_from(cue.end)
            .filter(|&end| end < content_end)
            .unwrap_or(content_end);
        while end > cue.end && matches!(token_text(text, &tokens[end - 1]), "," | ":" | "—" | "–")
        {
            end -= 1;
        }
        (
            cue.end,
            end,
            Pattern::IndirectCueBefore,
            SourceSite::AroundCue,
        )
    };
    let mut start_token = start_token;
    let that_soon = (start_token..end_token.min(start_token + 6))
        .take_while(|&index| token_text(text, &tokens[index]) != ",")
        .find(|&index| token_text(text, &tokens[index]) == "that");
    if pattern == Pattern::IndirectCueBefore {
        // "told reporters that ...", "said Friday that ...": the content is the that-clause.
        if let Some(that) = that_soon {
            start_token = that;
        }
    }
    if pattern == Pattern::IndirectCueBefore
        && start_token < end_token
        && tokens
            .get(start_token)
            .is_some_and(|token| PREPOSITIONS.contains(&token_text(text, token)))
    {
        // "said on Friday that ...": the content is the that-clause; "agreed on a number of
        // actions" reports no proposition at all.
        let that = (start_token..end_token.min(start_token + MAX_SOURCE_TOKENS))
            .find(|&index| token_text(text, &tokens[index]) == "that")?;
        start_token = that;
    }
    if start_token >= end_token {
        return None;
    }
    let first_is_that = token_text(text, &tokens[start_token]) == "that";
    let words = lookup.word_count(start_token..end_token) - usize::from(first_is_that);
    if words < MIN_INDIRECT_WORDS {
        return None;
    }
    // Regions do not nest or overlap, so they are sorted by end as by start: the first one
    // starting inside the content is the one to test.
    let first_inside = all_regions.partition_point(|region| region.tokens.start < start_token);
    let has_partial = all_regions
        .get(first_inside)
        .is_some_and(|region| region.tokens.end <= end_token);
    let kind = if has_partial {
        QuoteKind::Mixed
    } else {
        QuoteKind::Indirect
    };
    Some(Quote {
        kind,
        start: tokens[start_token].start,
        end: tokens[end_token - 1].end,
        tokens: start_token..end_token,
        cue: Some(make_cue(tokens, cue)),
        pattern,
        source_site,
        sentence: sentence_index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::normalise;
    use crate::segment::segment;

    fn quotes(original: &str) -> (String, Vec<Quote>) {
        let normalised = normalise(original);
        let segmented = segment(&normalised.text);
        let regions = quoted_regions(&normalised.text, &normalised, &segmented);
        let found = find_quotes(&normalised.text, &segmented, &regions, CueDetector::Listed);
        (normalised.text, found)
    }

    #[test]
    fn a_cue_at_the_very_end_of_the_text_is_no_panic() {
        // Found by the property tests: unclosed quote marks, then a cue as the last token.
        let text = " “ ““".repeat(15) + " “ .said";
        let (_, found) = quotes(&text);
        assert!(found.iter().all(|quote| quote.start <= quote.end));
    }

    fn contents(original: &str) -> Vec<(QuoteKind, String, Option<String>)> {
        let (text, found) = quotes(original);
        found
            .iter()
            .map(|quote| {
                (
                    quote.kind,
                    text[quote.start..quote.end].to_string(),
                    quote
                        .cue
                        .as_ref()
                        .map(|cue| text[cue.start..cue.end].to_string()),
                )
            })
            .collect()
    }

    #[test]
    fn two_marks_with_nothing_between_quote_nothing() {
        assert!(quotes(&"\"".repeat(2_000)).1.is_empty());
        assert!(quotes("He wrote “” in the box.").1.is_empty());
        // The empty pair does not hide a real quote beside it.
        let found = contents("“” “We are close,” Kerry said.");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "“We are close,”");
        assert_eq!(found[0].2.as_deref(), Some("said"));
    }

    #[test]
    fn direct_quote_with_cue_after() {
        let found = contents("“We are close,” Kerry said. “But not yet.”");
        assert_eq!(
            found,
            [
                (
                    QuoteKind::Direct,
                    "“We are close,”".into(),
                    Some("said".into())
                ),
                (QuoteKind::Direct, "“But not yet.”".into(), None),
            ]
        );
    }

    #[test]
    fn direct_quote_after_participle_cue() {
        let found = contents(
            "Lavrov echoed that, saying “we still need to finalize a few issues” and left.",
        );
        assert_eq!(
            found,
            [(
                QuoteKind::Direct,
                "“we still need to finalize a few issues”".into(),
                Some("saying".into())
            )]
        );
    }

    #[test]
    fn indirect_speech_with_partial_quote_is_mixed() {
        let found = contents(
            "Kerry said he and Lavrov had agreed on the “vast majority” of technical discussions.",
        );
        assert_eq!(
            found,
            [(
                QuoteKind::Mixed,
                "he and Lavrov had agreed on the “vast majority” of technical discussions".into(),
                Some("said".into())
            )]
        );
    }

    #[test]
    fn indirect_speech_before_its_cue() {
        let found = contents("But critical points remain unresolved in Geneva, he said.");
        assert_eq!(
            found,
            [(
                QuoteKind::Indirect,
                "But critical points remain unresolved in Geneva".into(),
                Some("said".into())
            )]
        );
    }

    #[test]
    fn phrase_cues_and_coordinated_cues() {
        let found =
            contents("Lavrov spoke, and pointed to the need to separate fighters from the Front.");
        assert_eq!(
            found,
            [(
                QuoteKind::Indirect,
                "the need to separate fighters from the Front".into(),
                Some("pointed to".into())
            )]
        );
        let found = contents("According to the report, the talks failed badly.");
        assert_eq!(found[0].1, "the talks failed badly");
    }

    #[test]
    fn scare_quotes_are_not_quotes() {
        assert!(
            contents("The envoy wants the government and “moderate” opposition back.")
                .iter()
                .all(|(kind, _, _)| *kind != QuoteKind::Direct)
        );
    }

    #[test]
    fn quote_over_several_paragraphs_is_one_quote() {
        let (text, found) = quotes("He said: “First part.\n“Second part.”\nNext.");
        assert_eq!(found.len(), 1);
        assert_eq!(
            &text[found[0].start..found[0].end],
            "“First part.\n“Second part.”"
        );
    }
}
