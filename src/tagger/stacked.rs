//! The span tagger's second pass (stacking): a second linear tagger that reads, besides the
//! first pass's features, the tags the first pass gave each token and its neighbours in every
//! channel. A first-order chain sees one tag back; the second pass sees whole predicted spans,
//! where a token stands in them, and how far the nearest lie, so that it can mend a span the
//! first pass began or ended a few tokens off, or a content whose cue it tagged beside it.

use std::ops::Range;

use super::features::TokenFeatures;
use super::{Role, Tag};
use crate::hash::mix;

/// What the second pass reads of the first: its tags and spans in each channel, and the
/// paragraph (decoding segment) of every token.
#[derive(Debug, Clone)]
pub struct FirstPass {
    tags: [Vec<Tag>; 3],
    spans: [Vec<Range<usize>>; 3],
    segment_of: Vec<usize>,
}

/// Feature templates of the second pass; mixed into every hash, so never renumbered while a
/// model trained with them is in use.
const NEIGHBOUR_TAG: u64 = 1000;
const TAG_TRIGRAM: u64 = 1001;
const PLACE_IN_SPAN: u64 = 1002;
const NEAREST_SPANS: u64 = 1003;
const CHANNELS_TOGETHER: u64 = 1004;

/// Stands for "beyond the paragraph" or "no span on that side".
const NONE: u64 = 9;

impl FirstPass {
    /// The first pass's tags of a document (one vector per channel, in [`Role::ALL`] order),
    /// decoded over `segments`.
    pub fn new(tags: [Vec<Tag>; 3], segments: &[Range<usize>]) -> Self {
        let count = tags[0].len();
        let mut segment_of = vec![usize::MAX; count];
        for (index, segment) in segments.iter().enumerate() {
            for slot in &mut segment_of[segment.start.min(count)..segment.end.min(count)] {
                *slot = index;
            }
        }
        let spans = std::array::from_fn(|channel| {
            super::spans_of(&tags[channel], Role::ALL[channel])
                .into_iter()
                .map(|span| span.tokens)
                .collect()
        });
        FirstPass {
            tags,
            spans,
            segment_of,
        }
    }

    pub fn len(&self) -> usize {
        self.segment_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.segment_of.is_empty()
    }

    /// Appends the rows of the second pass's own features of `token`, for a table of
    /// `mask + 1` rows.
    pub fn write(&self, token: usize, mask: u64, rows: &mut Vec<u32>) {
        let count = self.len();
        let tag_at = |channel: usize, offset: isize| -> u64 {
            token
                .checked_add_signed(offset)
                .filter(|&other| other < count && self.segment_of[other] == self.segment_of[token])
                .map_or(3, |other| tag_code(self.tags[channel][other]))
        };
        let mut add = |parts: &[u64]| rows.push((hash(parts) & mask) as u32);
        for channel in 0..3usize {
            let code = channel as u64;
            for offset in -2isize..=2 {
                add(&[NEIGHBOUR_TAG, code, offset as u64, tag_at(channel, offset)]);
            }
            add(&[
                TAG_TRIGRAM,
                code,
                tag_at(channel, -1),
                tag_at(channel, 0),
                tag_at(channel, 1),
            ]);
            let found = &self.spans[channel];
            let next = found.partition_point(|span| span.end <= token);
            match found.get(next).filter(|span| span.start <= token) {
                Some(span) => add(&[
                    PLACE_IN_SPAN,
                    code,
                    bucket(token - span.start),
                    bucket(span.end - 1 - token),
                ]),
                None => {
                    let left = next
                        .checked_sub(1)
                        .map_or(NONE, |before| bucket(token - found[before].end));
                    let right = found
                        .get(next)
                        .map_or(NONE, |span| bucket(span.start - token));
                    add(&[NEAREST_SPANS, code, left, right]);
                }
            }
        }
        add(&[
            CHANNELS_TOGETHER,
            tag_code(self.tags[0][token]),
            tag_code(self.tags[1][token]),
            tag_code(self.tags[2][token]),
        ]);
    }

    /// The second pass's features of the tokens `block.start..` that `first_features` (the
    /// first pass's features of those tokens) describe: each token's first-pass rows, then its
    /// own.
    pub fn stack(
        &self,
        first_features: &TokenFeatures,
        block_start: usize,
        mask: u64,
        out: &mut TokenFeatures,
    ) {
        out.rows.clear();
        out.offsets.clear();
        out.offsets.push(0);
        for offset in 0..first_features.len() {
            out.rows.extend_from_slice(first_features.of(offset));
            self.write(block_start + offset, mask, &mut out.rows);
            out.offsets.push(out.rows.len() as u32);
        }
    }
}

fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, &part| mix(hash, part))
}

/// Distances in tokens, in buckets that grow with the distance.
fn bucket(distance: usize) -> u64 {
    match distance {
        0 => 0,
        1 => 1,
        2 => 2,
        3..=4 => 3,
        5..=8 => 4,
        9..=16 => 5,
        17..=32 => 6,
        _ => 7,
    }
}

fn tag_code(tag: Tag) -> u64 {
    match tag {
        Tag::Outside => 0,
        Tag::Begin => 1,
        Tag::Inside => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(text: &str) -> Vec<Tag> {
        text.chars()
            .map(|tag| match tag {
                'B' => Tag::Begin,
                'I' => Tag::Inside,
                _ => Tag::Outside,
            })
            .collect()
    }

    fn rows_of(first: &FirstPass, token: usize) -> Vec<u32> {
        let mut rows = Vec::new();
        first.write(token, (1 << 16) - 1, &mut rows);
        rows
    }

    #[test]
    fn a_token_reads_the_tags_of_its_own_paragraph_only() {
        let content = tags("OBIIOOBIO");
        let other = tags("OOOOOOOOO");
        let one = FirstPass::new(
            [content.clone(), other.clone(), other.clone()],
            std::slice::from_ref(&(0..9)),
        );
        let two = FirstPass::new([content, other.clone(), other], &[0..5, 5..9]);
        // Token 2 lies three tokens from the paragraph break: the same features either way.
        assert_eq!(rows_of(&one, 2), rows_of(&two, 2));
        // Token 5 is the first of the second paragraph in `two`: what lies before it differs.
        assert_ne!(rows_of(&one, 5), rows_of(&two, 5));
    }

    #[test]
    fn the_rows_tell_where_a_token_stands_in_its_span() {
        let other = tags("OOOOOOOOOO");
        let pass = |content: &str| {
            FirstPass::new(
                [tags(content), other.clone(), other.clone()],
                std::slice::from_ref(&(0..10)),
            )
        };
        // The same neighbourhood of tags around token 5, but a span of another length.
        let short = pass("OOBIIIIIOO");
        let long = pass("BIIIIIIIOO");
        let (short_rows, long_rows) = (rows_of(&short, 5), rows_of(&long, 5));
        assert_eq!(short_rows.len(), long_rows.len());
        let differing = short_rows
            .iter()
            .zip(&long_rows)
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(differing, 1, "only the place in the span differs");
    }

    #[test]
    fn stacking_keeps_the_first_rows_and_adds_the_same_number_to_every_token() {
        let first = FirstPass::new(
            [tags("OBIO"), tags("BOOO"), tags("OOOB")],
            std::slice::from_ref(&(0..4)),
        );
        let base = TokenFeatures {
            rows: vec![1, 2, 3, 4, 5, 6, 7],
            offsets: vec![0, 2, 3, 5, 7],
        };
        let mut out = TokenFeatures::default();
        first.stack(&base, 0, (1 << 16) - 1, &mut out);
        assert_eq!(out.len(), 4);
        let added: Vec<usize> = (0..4)
            .map(|token| out.of(token).len() - base.of(token).len())
            .collect();
        assert!(added.iter().all(|&count| count == added[0] && count > 0));
        for token in 0..4 {
            assert_eq!(&out.of(token)[..base.of(token).len()], base.of(token));
        }
    }
}
