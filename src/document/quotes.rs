//! The quote finder's layer: quoted stretches, and proposed quotes with their cue and where
//! their source should be ([`crate::quotes`] makes it).

use std::ops::Range;

use crate::labels::QuoteKind;

/// A stretch of text between an opening and its closing quotation mark, marks included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedRegion {
    /// Token index of the opening mark and one past the closing mark.
    pub tokens: Range<usize>,
    /// Byte offsets in the cleaned view, marks included.
    pub start: usize,
    pub end: usize,
    /// A quotation of its own, as opposed to a few marked-off words inside a sentence (a partial
    /// quote such as “vast majority”, or a scare quote such as “moderate”).
    pub standalone: bool,
}

/// The cue of an attribution: a verb or a phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    pub tokens: Range<usize>,
    pub start: usize,
    pub end: usize,
}

/// The construction a quote was found in; the attribution stage and the confidence model use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// `“...,” Kerry said.` or `“...,” said Kerry.`
    DirectCueAfter,
    /// `Kerry said: “...”` or `..., saying “...”`.
    DirectCueBefore,
    /// A direct quote with no cue of its own, which continues the previous speaker's turn.
    DirectFloating,
    /// `Kerry said he and Lavrov had agreed ...`
    IndirectCueBefore,
    /// `... remain unresolved, he said.`
    IndirectCueAfter,
    /// `according to X, ...` or `..., according to X.`
    AccordingTo,
}

impl Pattern {
    pub const ALL: [Pattern; 6] = [
        Pattern::DirectCueAfter,
        Pattern::DirectCueBefore,
        Pattern::DirectFloating,
        Pattern::IndirectCueBefore,
        Pattern::IndirectCueAfter,
        Pattern::AccordingTo,
    ];
}

/// Where the attribution stage should look for the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceSite {
    /// The subject before the cue, or the noun phrase right after it (`said Kerry`).
    AroundCue,
    /// The noun phrase right after the cue: `according to X`.
    AfterCue,
    /// The speaker of the previous quote.
    PreviousSpeaker,
}

/// A proposed quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub kind: QuoteKind,
    /// Byte offsets of the content in the cleaned view.
    pub start: usize,
    pub end: usize,
    pub tokens: Range<usize>,
    pub cue: Option<Cue>,
    pub pattern: Pattern,
    pub source_site: SourceSite,
    pub sentence: usize,
}
