//! Stage 2: paragraphs, sentences and tokens of the cleaned view, as byte offsets into it.

use std::ops::Range;

use crate::document::segmented::lower_hash_of;
pub use crate::document::segmented::{Segmented, Sentence, Token, TokenKind};
use crate::document::Document;
use crate::lexicon::{contains_lower, Lexicon};
use crate::stage::{unbounded, Check, Clock, DocumentStage, Halt, Unbounded};

/// Splits `text` (a cleaned view) into paragraphs, sentences and tokens.
pub fn segment(text: &str) -> Segmented {
    unbounded(segment_checked(text, &Unbounded))
}

/// [`segment`], calling `check` once a line.
pub fn segment_checked<C: Check>(text: &str, check: &C) -> Result<Segmented, C::Stop> {
    let mut segmented = Segmented::default();
    let mut line_start = 0;
    for line in text.split('\n') {
        check.check()?;
        let line_end = line_start + line.len();
        if !line.trim().is_empty() {
            let paragraph = segmented.paragraphs.len();
            segmented.paragraphs.push(line_start..line_end);
            let first_token = segmented.tokens.len();
            tokenize(text, line_start, line_end, &mut segmented.tokens, check)?;
            split_sentences(text, first_token, paragraph, &mut segmented, check)?;
        }
        line_start = line_end + 1;
    }
    segmented.lower = segmented
        .tokens
        .iter()
        .map(|token| lower_hash_of(text, token))
        .collect();
    Ok(segmented)
}

/// The second stage: paragraphs, sentences and tokens.
pub struct SegmentStage;

impl DocumentStage for SegmentStage {
    fn name(&self) -> &'static str {
        "segment"
    }

    fn run(&self, document: &mut Document, clock: &Clock) -> Result<(), Halt> {
        document.segmented = segment_checked(&document.normalised.text, clock)?;
        Ok(())
    }
}

fn is_punct(ch: char) -> bool {
    matches!(
        ch,
        ',' | ';'
            | ':'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '!'
            | '?'
            | '—'
            | '–'
            | '…'
            | '•'
            | '|'
            | '*'
    )
}

fn tokenize<C: Check>(
    text: &str,
    start: usize,
    end: usize,
    tokens: &mut Vec<Token>,
    check: &C,
) -> Result<(), C::Stop> {
    let lexicon = Lexicon::get();
    let line = &text[start..end];
    let mut word_start: Option<usize> = None;
    let mut chars = line.char_indices().peekable();
    let finish_word = |tokens: &mut Vec<Token>, from: usize, to: usize| {
        if from < to {
            let first = line[from..].chars().next();
            let kind = if first.is_some_and(|ch| ch.is_ascii_digit()) {
                TokenKind::Number
            } else {
                TokenKind::Word
            };
            tokens.push(Token {
                start: start + from,
                end: start + to,
                kind,
            });
        }
    };
    while let Some((at, ch)) = chars.next() {
        check.check()?;
        let next = chars.peek().map(|&(_, next)| next);
        let single = if ch.is_whitespace() {
            None
        } else if ch == '“' {
            Some(TokenKind::OpenQuote)
        } else if ch == '”' {
            Some(TokenKind::CloseQuote)
        } else if is_punct(ch) {
            Some(TokenKind::Punct)
        } else if ch == '.' {
            let attach = word_start.is_some_and(|from| {
                let word = &line[from..at];
                next.is_some_and(char::is_alphanumeric)
                    || word.contains('.')
                    || contains_lower(&lexicon.abbreviations, word)
                    || (word.chars().count() == 1 && word.chars().all(char::is_uppercase))
            });
            if attach {
                continue;
            }
            Some(TokenKind::Punct)
        } else if matches!(ch, '\'' | '’' | '‘' | '-') {
            let inside = word_start.is_some() && next.is_some_and(char::is_alphanumeric);
            if inside {
                continue;
            }
            Some(TokenKind::Punct)
        } else {
            if word_start.is_none() {
                word_start = Some(at);
            }
            // The rest of a word's letters and digits would each come back to this branch.
            while chars
                .next_if(|&(_, next)| next.is_ascii_alphanumeric())
                .is_some()
            {}
            continue;
        };
        if let Some(from) = word_start.take() {
            finish_word(tokens, from, at);
        }
        if let Some(kind) = single {
            tokens.push(Token {
                start: start + at,
                end: start + at + ch.len_utf8(),
                kind,
            });
        }
    }
    if let Some(from) = word_start {
        finish_word(tokens, from, line.len());
    }
    Ok(())
}

/// Token ranges inside a paragraph that lie between an opening mark and its closing mark.
fn quoted_regions(tokens: &[Token]) -> Vec<Range<usize>> {
    let mut regions = Vec::new();
    let mut open: Option<usize> = None;
    for (index, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::OpenQuote => open = Some(index),
            TokenKind::CloseQuote => {
                if let Some(from) = open.take() {
                    regions.push(from..index + 1);
                }
            }
            _ => {}
        }
    }
    regions
}

fn split_sentences<C: Check>(
    text: &str,
    first_token: usize,
    paragraph: usize,
    segmented: &mut Segmented,
    check: &C,
) -> Result<(), C::Stop> {
    let lexicon = Lexicon::get();
    let tokens = &segmented.tokens[first_token..];
    // Whether each token lies strictly inside a quoted region, and not on its last token: a
    // mask, so that a paragraph of many quotes is not searched once per token.
    let mut inside = vec![false; tokens.len()];
    for region in quoted_regions(tokens) {
        for slot in &mut inside[(region.start + 1).min(region.end)..region.end.saturating_sub(1)] {
            *slot = true;
        }
    }
    let inside_quote = |index: usize| inside[index];
    let starts_sentence = |token: &Token| {
        let first = text[token.start..].chars().next();
        token.kind == TokenKind::OpenQuote
            || first.is_some_and(|ch| ch.is_uppercase() || ch.is_ascii_digit())
    };
    let mut breaks = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        check.check()?;
        let token = tokens[index];
        let word = &text[token.start..token.end];
        let terminal = match token.kind {
            TokenKind::Punct => matches!(word, "." | "!" | "?" | "…"),
            // An attached period ends a sentence only after a dotted acronym ("the U.S. The
            // talks"), never after a title or an initial.
            TokenKind::Word => {
                word.ends_with('.')
                    && word[..word.len() - 1].contains('.')
                    && tokens.get(index + 1).is_some_and(|next| {
                        contains_lower(&lexicon.sentence_starters, &text[next.start..next.end])
                    })
            }
            _ => false,
        };
        let mut end = index + 1;
        let closes_quote = tokens
            .get(index + 1)
            .is_some_and(|next| next.kind == TokenKind::CloseQuote);
        if terminal && (closes_quote || !inside_quote(index)) {
            while end < tokens.len()
                && (tokens[end].kind == TokenKind::CloseQuote
                    || &text[tokens[end].start..tokens[end].end] == ")")
            {
                end += 1;
            }
            if end < tokens.len() && starts_sentence(&tokens[end]) {
                breaks.push(end);
                index = end;
                continue;
            }
        }
        index += 1;
    }
    breaks.push(tokens.len());
    let mut sentence_start = 0;
    for end in breaks {
        if sentence_start < end {
            push_sentence(segmented, first_token, sentence_start, end, paragraph);
        }
        sentence_start = end;
    }
    Ok(())
}

fn push_sentence(
    segmented: &mut Segmented,
    first_token: usize,
    from: usize,
    to: usize,
    paragraph: usize,
) {
    let tokens = first_token + from..first_token + to;
    let start = segmented.tokens[tokens.start].start;
    let end = segmented.tokens[tokens.end - 1].end;
    segmented.sentences.push(Sentence {
        start,
        end,
        tokens,
        paragraph,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(text: &str) -> Vec<&str> {
        segment(text)
            .sentences
            .iter()
            .map(|sentence| &text[sentence.start..sentence.end])
            .collect()
    }

    fn words(text: &str) -> Vec<&str> {
        segment(text)
            .tokens
            .iter()
            .map(|token| &text[token.start..token.end])
            .collect()
    }

    #[test]
    fn abbreviations_do_not_end_sentences() {
        let text = "U.S. Secretary of State John Kerry met Mr. Lavrov and Gen. J. Smith on Aug. 1 in Geneva. The U.N. envoy came.";
        assert_eq!(
            sentences(text),
            [
                "U.S. Secretary of State John Kerry met Mr. Lavrov and Gen. J. Smith on Aug. 1 in Geneva.",
                "The U.N. envoy came."
            ]
        );
        // The titles of delegates, attorneys and detectives, which PolNeAR's news uses.
        let text = "\"It is a waste,\" said Del. Stacey Plaskett, with Atty. Gen. Ana Ruiz and Det. Sgt. Bo Li. They left.";
        assert_eq!(
            sentences(text),
            [
                "\"It is a waste,\" said Del. Stacey Plaskett, with Atty. Gen. Ana Ruiz and Det. Sgt. Bo Li.",
                "They left."
            ]
        );
    }

    #[test]
    fn acronym_before_a_sentence_starter_ends_the_sentence() {
        assert_eq!(
            sentences("Talks were held in the U.S. The outcome was unclear."),
            ["Talks were held in the U.S.", "The outcome was unclear."]
        );
    }

    #[test]
    fn sentence_ends_inside_quotes_stay_with_the_quote() {
        let text = "“We are close. We will see,” Kerry said. “But not yet.” Lavrov left.";
        assert_eq!(
            sentences(text),
            [
                "“We are close. We will see,” Kerry said.",
                "“But not yet.”",
                "Lavrov left."
            ]
        );
    }

    #[test]
    fn question_mark_before_lower_case_continues() {
        assert_eq!(
            sentences("“Why?” he asked. Nobody knew."),
            ["“Why?” he asked.", "Nobody knew."]
        );
    }

    #[test]
    fn tokens_keep_inner_apostrophes_hyphens_and_acronyms() {
        assert_eq!(
            words("Friday’s U.S.-backed al-Nusra talks, “don’t” end."),
            [
                "Friday’s",
                "U.S.-backed",
                "al-Nusra",
                "talks",
                ",",
                "“",
                "don’t",
                "”",
                "end",
                "."
            ]
        );
    }

    #[test]
    fn paragraphs_are_lines() {
        let segmented = segment("First line.\n\nSecond line.");
        assert_eq!(segmented.paragraphs.len(), 2);
        assert_eq!(segmented.sentences[1].paragraph, 1);
    }
}
