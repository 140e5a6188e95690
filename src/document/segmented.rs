//! The segmenter's layer: paragraphs, sentences and tokens of the cleaned view, as byte offsets
//! into it ([`crate::segment`] makes it).

use std::ops::Range;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Word,
    Number,
    Punct,
    OpenQuote,
    CloseQuote,
}

/// A token of the cleaned view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub kind: TokenKind,
}

/// A sentence: its extent in the cleaned view and its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub start: usize,
    pub end: usize,
    pub tokens: Range<usize>,
    pub paragraph: usize,
}

/// The segmentation of a cleaned text.
#[derive(Debug, Clone, Default)]
pub struct Segmented {
    /// Non-empty paragraphs (lines), as byte ranges.
    pub paragraphs: Vec<Range<usize>>,
    pub sentences: Vec<Sentence>,
    pub tokens: Vec<Token>,
}

impl Segmented {
    /// The index of the sentence holding token `token`.
    pub fn sentence_of(&self, token: usize) -> Option<usize> {
        let after = self
            .sentences
            .partition_point(|sentence| sentence.tokens.start <= token);
        let index = after.checked_sub(1)?;
        self.sentences[index]
            .tokens
            .contains(&token)
            .then_some(index)
    }
}

/// The text of a token of the cleaned view `text`.
pub fn token_text<'a>(text: &'a str, token: &Token) -> &'a str {
    &text[token.start..token.end]
}
