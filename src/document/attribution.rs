//! The attribution stage's layer: each quote with its source mention, its entity, and the
//! features the confidence model reads ([`crate::attribute`] makes it).

use crate::document::quotes::{Cue, Pattern};
use crate::labels::{MentionKind, QuoteKind};

/// A quote with its speaker.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub kind: QuoteKind,
    /// Byte offsets of the content in the cleaned view.
    pub start: usize,
    pub end: usize,
    /// The stretches of quoted text, in the cleaned view, of a content that its attribution
    /// interrupts (“We are close,” Kerry said. “But not yet.”); empty where the content is one
    /// stretch.
    pub pieces: Vec<(usize, usize)>,
    pub cue: Option<Cue>,
    pub pattern: Pattern,
    /// The source mention, an index into [`Speakers::mentions`](crate::speakers::Speakers::mentions).
    pub mention: Option<usize>,
    /// The speaker entity, an index into [`Speakers::entities`](crate::speakers::Speakers::entities).
    pub entity: Option<usize>,
    pub features: Features,
    pub confidence: f64,
}

/// How a source was reached, for the confidence model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolution {
    /// The mention names its entity.
    #[default]
    Direct,
    /// A pronoun or nominal resolved to the previous speaker.
    PreviousSpeaker,
    /// A pronoun or nominal resolved to an earlier mention.
    EarlierMention,
    /// A pronoun or nominal that nothing resolved; it stands for itself.
    Unresolved,
}

/// What the confidence model knows about an attribution.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Features {
    pub pattern: Option<Pattern>,
    pub mention_kind: Option<MentionKind>,
    pub resolution: Resolution,
    pub speech_cue: bool,
    pub content_words: usize,
    pub cue_distance: usize,
    pub source_after_cue: bool,
    pub sentences_since_speaker: usize,
    pub starts_with_that: bool,
    pub quote_kind: Option<QuoteKind>,
    pub named_entity: bool,
    pub cues_in_sentence: usize,
    /// The learned linker's probability that the content is a quote as it decided it (`None`
    /// where no linker decided: the rule stages, or a sign-off or lead-in construction).
    pub quote_probability: Option<f32>,
    /// The learned linker's probability of its choice of source.
    pub source_probability: Option<f32>,
}
