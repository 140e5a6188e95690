//! Two ways of naming a quotation's speaker that news uses outside running text, and that
//! PolNeAR (running text only) does not teach the linker: a sign-off after the quotation
//! ("… seems to care." — John Smith, Brooklyn) and a lead-in before it (From Senator Elaine
//! Brooks: "…"). Each is read from a few tokens around the quotation, so it costs the same
//! in any document.

use std::ops::Range;

use crate::quotes::token_text;
use crate::record::MentionKind;
use crate::segment::{Token, TokenKind};
use crate::speakers::Speakers;

/// A cue and a source found around a quotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Construction {
    pub cue: Range<usize>,
    pub source: Range<usize>,
}

fn is_dash(word: &str) -> bool {
    matches!(word, "—" | "–" | "-" | "―")
}

/// `"…" — John Smith`: a dash right after the closing mark (a comma between, or the dash
/// opening the next paragraph, allowed) and a name right after the dash.
pub fn sign_off(
    text: &str,
    tokens: &[Token],
    speakers: &Speakers,
    paragraph_of: &[usize],
    quotation: &Range<usize>,
) -> Option<Construction> {
    let close = quotation.end.checked_sub(1)?;
    if tokens.get(close)?.kind != TokenKind::CloseQuote {
        return None;
    }
    let mut dash = quotation.end;
    if tokens
        .get(dash)
        .is_some_and(|token| token_text(text, token) == ",")
    {
        dash += 1;
    }
    let word = token_text(text, tokens.get(dash)?);
    if !is_dash(word)
        || paragraph_of
            .get(dash)?
            .saturating_sub(*paragraph_of.get(close)?)
            > 1
    {
        return None;
    }
    // "--" is two dashes.
    let mut name_start = dash + 1;
    if tokens
        .get(name_start)
        .is_some_and(|token| is_dash(token_text(text, token)))
    {
        name_start += 1;
    }
    let mention = speakers.mention_starting_at(name_start)?;
    let mention = &speakers.mentions[mention];
    (mention.kind == MentionKind::Name && paragraph_of.get(name_start) == paragraph_of.get(dash))
        .then(|| Construction {
            cue: dash..name_start,
            source: mention.tokens.clone(),
        })
}

/// `From Senator Elaine Brooks: "…"`: a paragraph that opens with "From", a name and a colon,
/// and then the quotation.
pub fn lead_in(
    text: &str,
    tokens: &[Token],
    speakers: &Speakers,
    paragraph_of: &[usize],
    quotation: &Range<usize>,
) -> Option<Construction> {
    if tokens.get(quotation.start)?.kind != TokenKind::OpenQuote {
        return None;
    }
    let colon = quotation.start.checked_sub(1)?;
    if token_text(text, tokens.get(colon)?) != ":" {
        return None;
    }
    let mention = speakers.mention_ending_at(colon.checked_sub(1)?)?;
    let mention = &speakers.mentions[mention];
    let from = mention.tokens.start.checked_sub(1)?;
    let opens_paragraph = from
        .checked_sub(1)
        .is_none_or(|before| paragraph_of.get(before) != paragraph_of.get(from));
    (mention.kind == MentionKind::Name
        && opens_paragraph
        && token_text(text, tokens.get(from)?).eq_ignore_ascii_case("from"))
    .then(|| Construction {
        cue: colon..colon + 1,
        source: mention.tokens.clone(),
    })
}
