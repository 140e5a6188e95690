//! The segmenter's layer: paragraphs, sentences and tokens of the cleaned view, as byte offsets
//! into it ([`crate::segment`] makes it).

use std::ops::Range;

use crate::hash::Fnv;

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
    /// Each token's text lower-cased and hashed ([`Fnv::lower`]), the key of the word in the
    /// cue model's, the tagger's and the linker's features: hashed once here, where each of
    /// them hashed it again, about four times a token in all.
    pub lower: Vec<u64>,
}

impl Segmented {
    /// The lower-cased hash of token `index` of the cleaned view `text`: kept from segmenting,
    /// or hashed now for a segmentation made without the layer.
    #[inline]
    pub fn lower_hash(&self, text: &str, index: usize) -> u64 {
        match self.lower.get(index) {
            Some(&hash) if self.lower.len() == self.tokens.len() => hash,
            _ => lower_hash_of(text, &self.tokens[index]),
        }
    }

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

/// The hash of a token's text lower-cased, as [`Segmented::lower`] keeps it.
pub fn lower_hash_of(text: &str, token: &Token) -> u64 {
    Fnv::new().lower(token_text(text, token)).finish()
}

/// The text of a token of the cleaned view `text`.
pub fn token_text<'a>(text: &'a str, token: &Token) -> &'a str {
    &text[token.start..token.end]
}
