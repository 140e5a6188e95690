//! The tagged layer: spans of attribution roles that a tagger found, in tokens of the cleaned
//! view, before the linker ties them into attributions.

use std::ops::Range;

/// A role of an attribution, one tagging channel each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Content,
    Source,
    Cue,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Content, Role::Source, Role::Cue];

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A span that the tagger found, in tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedSpan {
    pub role: Role,
    pub tokens: Range<usize>,
}
