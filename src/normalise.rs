//! Stage 1: a cleaned view of the original text, with a map back to the original.
//!
//! Scraped news is damaged in ways that break every later stage: quote glyphs that say the
//! opposite of what they do (`said.”We are close,”`), sentences glued together
//! (`thousands.After`), photo captions repeated, boilerplate lines (`block`) and datelines
//! (`AP, Geneva :`). The original text is never changed. The cleaned view repairs all of this,
//! and [`Normalised`] maps every cleaned byte offset back to an original one, so that spans found
//! on the cleaned view are reported on the original.
//!
//! In the cleaned view every double quotation mark is written as `“` when it opens and `”` when it
//! closes, whatever glyph the original used (any of [`DOUBLE_QUOTATION_MARKS`] or
//! [`DOUBLE_QUOTATION_DIGRAPHS`], such as the New York Times's two apostrophes `''`), and
//! [`Normalised::marks`] lists them with their role.

use crate::lexicon::{DOUBLE_QUOTATION_DIGRAPHS, DOUBLE_QUOTATION_MARKS};

use crate::document::normalised::Run;
pub use crate::document::normalised::{MarkRole, Normalised, QuoteMark};
use crate::document::Document;
use crate::stage::{unbounded, Check, Clock, DocumentStage, Halt, Unbounded};

/// Writes the cleaned view and records where each piece came from.
struct Builder<'a> {
    original: &'a str,
    text: String,
    runs: Vec<Run>,
    marks: Vec<QuoteMark>,
}

impl<'a> Builder<'a> {
    fn copy(&mut self, from: usize, to: usize) {
        if from >= to {
            return;
        }
        let clean = self.text.len();
        self.text.push_str(&self.original[from..to]);
        if let Some(last) = self.runs.last_mut() {
            if last.verbatim
                && last.original + last.original_len == from
                && last.clean + last.clean_len == clean
            {
                last.clean_len += to - from;
                last.original_len += to - from;
                return;
            }
        }
        self.runs.push(Run {
            clean,
            clean_len: to - from,
            original: from,
            original_len: to - from,
            verbatim: true,
        });
    }

    fn replace(&mut self, from: usize, to: usize, with: &str) {
        let clean = self.text.len();
        self.text.push_str(with);
        self.runs.push(Run {
            clean,
            clean_len: with.len(),
            original: from,
            original_len: to - from,
            verbatim: false,
        });
    }

    fn insert(&mut self, at: usize, with: &str) {
        self.replace(at, at, with);
    }
}

/// Lines that scrapers leave behind and that are never part of an article.
const BOILERPLATE_LINES: &[&str] = &[
    "block",
    "advertisement",
    "advertisements",
    "ad",
    "story continues below",
    "continue reading",
    "continue reading the main story",
    "share",
    "share this",
    "share this article",
    "share this:",
    "tweet",
    "email",
    "print",
    "related",
    "read more",
    "click here",
    "subscribe",
    "loading...",
];

/// A repeated line shorter than this is probably a legitimate short line (a one-word answer,
/// a list item), not a repeated caption.
const MIN_REPEATED_CAPTION_CHARS: usize = 20;

/// Datelines are looked for only in the first lines of an article, and only on body paragraphs
/// long enough not to be a headline.
const DATELINE_SEARCH_LINES: usize = 10;
const DATELINE_MIN_PARAGRAPH_BYTES: usize = 60;
const DATELINE_MAX_PREFIX_BYTES: usize = 40;

/// Builds the cleaned view of `original`.
pub fn normalise(original: &str) -> Normalised {
    unbounded(normalise_checked(original, &Unbounded))
}

/// [`normalise`], calling `check` once a line.
pub fn normalise_checked<C: Check>(original: &str, check: &C) -> Result<Normalised, C::Stop> {
    let mut builder = Builder {
        original,
        text: String::with_capacity(original.len() + original.len() / 64),
        runs: Vec::new(),
        marks: Vec::new(),
    };
    let mut previous_line: Option<&str> = None;
    let mut inside_quote = false;
    let mut line_start = 0;
    let mut line_number = 0;
    while line_start <= original.len() {
        check.check()?;
        let newline = original[line_start..].find('\n').map(|at| line_start + at);
        let line_end = newline.unwrap_or(original.len());
        let content_end = if original[line_start..line_end].ends_with('\r') {
            line_end - 1
        } else {
            line_end
        };
        let line = &original[line_start..content_end];
        let trimmed = line.trim();
        let keep = if trimmed.is_empty() {
            true
        } else if is_boilerplate(trimmed) {
            false
        } else {
            // A photo caption repeated on the next line; a line repeated further away may be
            // the article's own words and stays.
            previous_line != Some(trimmed) || trimmed.chars().count() < MIN_REPEATED_CAPTION_CHARS
        };
        if keep && !trimmed.is_empty() {
            previous_line = Some(trimmed);
        }
        if keep {
            let mut body_start = line_start;
            if line_number < DATELINE_SEARCH_LINES && line.len() >= DATELINE_MIN_PARAGRAPH_BYTES {
                body_start += dateline_len(line);
            }
            if !trimmed.is_empty() {
                clean_line(
                    &mut builder,
                    body_start,
                    content_end,
                    &mut inside_quote,
                    check,
                )?;
            }
            if let Some(newline) = newline {
                builder.copy(newline, newline + 1);
            }
        }
        if !trimmed.is_empty() {
            line_number += 1;
        }
        match newline {
            Some(newline) => line_start = newline + 1,
            None => break,
        }
    }
    Ok(Normalised {
        text: builder.text,
        marks: builder.marks,
        runs: builder.runs,
        original_len: original.len(),
    })
}

/// The first stage: the cleaned view.
pub struct NormaliseStage;

impl DocumentStage for NormaliseStage {
    fn name(&self) -> &'static str {
        "normalise"
    }

    fn run(&self, document: &mut Document, clock: &Clock) -> Result<(), Halt> {
        document.normalised = normalise_checked(&document.text, clock)?;
        Ok(())
    }
}

fn is_boilerplate(trimmed: &str) -> bool {
    BOILERPLATE_LINES
        .iter()
        .any(|boilerplate| trimmed.eq_ignore_ascii_case(boilerplate))
}

/// The length in bytes of a dateline such as `AP, Geneva :` or `WASHINGTON —` at the start of
/// `line`, separator and spaces included; 0 if there is none.
fn dateline_len(line: &str) -> usize {
    let limit = line.len().min(DATELINE_MAX_PREFIX_BYTES + 8);
    let Some((separator_at, _)) = line
        .char_indices()
        .take_while(|&(at, _)| at < limit)
        .find(|&(_, ch)| matches!(ch, ':' | '—' | '–'))
    else {
        return 0;
    };
    let prefix = line[..separator_at].trim_end();
    if prefix.is_empty() || prefix.len() > DATELINE_MAX_PREFIX_BYTES {
        return 0;
    }
    let words_are_names = prefix
        .split([' ', ','])
        .filter(|word| !word.is_empty())
        .all(|word| {
            let word = word.trim_matches(|ch| ch == '(' || ch == ')');
            word.chars().next().is_some_and(char::is_uppercase)
        });
    let marked = prefix.contains(',') || prefix.contains('(');
    let shouting =
        !prefix.chars().any(char::is_lowercase) && line[separator_at..].starts_with(['—', '–']);
    if !words_are_names || !(marked || shouting) {
        return 0;
    }
    let rest = &line[separator_at..];
    let skipped = rest
        .char_indices()
        .find(|&(_, ch)| !matches!(ch, ':' | '—' | '–' | '-' | ' '))
        .map_or(rest.len(), |(at, _)| at);
    let body = &rest[skipped..];
    if body
        .chars()
        .next()
        .is_some_and(|ch| ch.is_uppercase() || quote_glyph_len(body).is_some())
    {
        separator_at + skipped
    } else {
        0
    }
}

/// The byte length of the double quotation mark at the start of `text`, if there is one.
fn quote_glyph_len(text: &str) -> Option<usize> {
    if let Some(digraph) = DOUBLE_QUOTATION_DIGRAPHS
        .iter()
        .find(|digraph| text.starts_with(*digraph))
    {
        return Some(digraph.len());
    }
    let ch = text.chars().next()?;
    DOUBLE_QUOTATION_MARKS.contains(&ch).then(|| ch.len_utf8())
}

/// Whether `clean_line` leaves an ASCII byte as it is whatever surrounds it: not a control
/// character, not the start of a quotation mark or digraph, not a sentence's end.
fn is_passed_over(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || byte == b' '
        || (byte.is_ascii_punctuation()
            && !matches!(byte, b'"' | b'\'' | b'`' | b'.' | b'!' | b'?'))
}

/// Whether a quotation mark after `ch` can open a quotation: it stands after a space or bracket.
fn opens_after(ch: Option<char>) -> bool {
    ch.is_none_or(|ch| ch.is_whitespace() || matches!(ch, '(' | '[' | '{' | '—' | '–'))
}

/// Whether a quotation mark before `ch` can close a quotation: a space or punctuation follows.
fn closes_before(ch: Option<char>) -> bool {
    ch.is_none_or(|ch| {
        ch.is_whitespace()
            || matches!(
                ch,
                ')' | ']' | '}' | ',' | '.' | ';' | ':' | '!' | '?' | '—' | '–'
            )
    })
}

fn clean_line<C: Check>(
    builder: &mut Builder,
    start: usize,
    end: usize,
    inside_quote: &mut bool,
    check: &C,
) -> Result<(), C::Stop> {
    let original = builder.original;
    let line = &original[start..end];
    let mut copied_to = start;
    let mut previous: Option<char> = None;
    let mut at_paragraph_start = true;
    let mut offset = 0;
    while offset < line.len() {
        check.check()?;
        // Most of a line is letters, digits, spaces and punctuation that nothing below changes:
        // such a run is passed over whole, its last character kept as the one before the next.
        if !at_paragraph_start {
            let run = line.as_bytes()[offset..]
                .iter()
                .take_while(|&&byte| is_passed_over(byte))
                .count();
            if run > 0 {
                offset += run;
                previous = Some(char::from(line.as_bytes()[offset - 1]));
                continue;
            }
        }
        let rest = &line[offset..];
        let Some(ch) = rest.chars().next() else { break };
        let here = start + offset;
        if let Some(mark_len) = quote_glyph_len(rest) {
            let next = line[offset + mark_len..].chars().next();
            let role = if opens_after(previous) && !closes_before(next) {
                MarkRole::Open
            } else if (!opens_after(previous) && closes_before(next)) || *inside_quote {
                MarkRole::Close
            } else {
                MarkRole::Open
            };
            let continues_quote = at_paragraph_start && *inside_quote && role == MarkRole::Open;
            if at_paragraph_start && *inside_quote && !continues_quote {
                *inside_quote = false;
            }
            builder.copy(copied_to, here);
            if role == MarkRole::Open
                && previous.is_some_and(|ch| ch.is_alphanumeric() || ".,;:!?".contains(ch))
            {
                builder.insert(here, " ");
            }
            let glyph = if role == MarkRole::Open { "“" } else { "”" };
            let mark_start = builder.text.len();
            builder.replace(here, here + mark_len, glyph);
            builder.marks.push(QuoteMark {
                start: mark_start,
                end: mark_start + glyph.len(),
                role,
                continues_quote,
            });
            if role == MarkRole::Close && next.is_some_and(char::is_alphanumeric) {
                builder.insert(here + mark_len, " ");
            }
            *inside_quote = role == MarkRole::Open;
            copied_to = here + mark_len;
            previous = Some(if role == MarkRole::Open { '“' } else { '”' });
            offset += mark_len;
            at_paragraph_start = false;
            continue;
        }
        if at_paragraph_start && !ch.is_whitespace() {
            // A paragraph that does not open with a quotation mark ends any quote left open.
            *inside_quote = false;
            at_paragraph_start = false;
        }
        let replacement = match ch {
            '\u{a0}' | '\u{2007}' | '\u{202f}' => Some(" "),
            '\u{200b}' | '\u{feff}' | '\u{200e}' | '\u{200f}' => Some(""),
            ch if ch.is_control() && ch != '\t' => Some(" "),
            _ => None,
        };
        if let Some(replacement) = replacement {
            builder.copy(copied_to, here);
            builder.replace(here, here + ch.len_utf8(), replacement);
            copied_to = here + ch.len_utf8();
        }
        offset += ch.len_utf8();
        if matches!(ch, '.' | '!' | '?')
            && previous.is_some_and(|ch| ch.is_lowercase() || ch.is_ascii_digit() || ch == ')')
            && line[offset..]
                .chars()
                .next()
                .is_some_and(|next| next.is_ascii_uppercase())
        {
            builder.copy(copied_to, start + offset);
            builder.insert(start + offset, " ");
            copied_to = start + offset;
        }
        previous = Some(ch);
    }
    builder.copy(copied_to, end);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn original_of<'a>(original: &'a str, view: &Normalised, from: usize, to: usize) -> &'a str {
        &original[view.original_start(from)..view.original_end(to)]
    }

    #[test]
    fn closing_glyph_used_to_open_becomes_an_opening_mark() {
        let original = "he said.”We are close,” Kerry said.";
        let view = normalise(original);
        assert_eq!(view.text, "he said. “We are close,” Kerry said.");
        let roles: Vec<MarkRole> = view.marks.iter().map(|mark| mark.role).collect();
        assert_eq!(roles, [MarkRole::Open, MarkRole::Close]);
        let open = view.marks[0];
        assert_eq!(original_of(original, &view, open.start, open.end), "”");
    }

    #[test]
    fn glued_sentences_get_a_space() {
        let view = normalise("hundreds of thousands.After meeting in the U.S. Senate");
        assert_eq!(
            view.text,
            "hundreds of thousands. After meeting in the U.S. Senate"
        );
    }

    #[test]
    fn closing_mark_glued_to_next_sentence_gets_a_space() {
        let view = normalise("“the Syrian people.”Lavrov echoed that");
        assert_eq!(view.text, "“the Syrian people.” Lavrov echoed that");
        assert_eq!(view.marks[1].role, MarkRole::Close);
    }

    #[test]
    fn a_mark_reads_the_last_character_of_the_plain_run_before_it() {
        // Letters, digits and punctuation that need nothing are passed over as one run; the
        // mark after it must still see the run's last character.
        let glued = normalise("Kerry told reporters:\"We are close,\"2016-style");
        assert_eq!(
            glued.text,
            "Kerry told reporters: “We are close,” 2016-style"
        );
        let roles: Vec<MarkRole> = glued.marks.iter().map(|mark| mark.role).collect();
        assert_eq!(roles, [MarkRole::Open, MarkRole::Close]);
        let plain = "Kerry (U.S.) met Lavrov #2 at 10:30; talks [and more] ran on & on";
        assert_eq!(normalise(plain).text, plain);
    }

    #[test]
    fn straight_and_nyt_marks_are_paired() {
        let view = normalise("He said, \"yes,\" and ''no.''");
        assert_eq!(view.text, "He said, “yes,” and “no.”");
        assert_eq!(view.marks.len(), 4);
    }

    #[test]
    fn repeated_caption_and_boilerplate_lines_are_dropped() {
        let original = "Title\n\nKerry and Lavrov shaking hands in Geneva.\nKerry and Lavrov shaking hands in Geneva.\nblock\n\nBody text.";
        let view = normalise(original);
        assert_eq!(view.text.matches("shaking hands").count(), 1);
        assert!(!view.text.contains("block"));
        assert!(view.text.ends_with("Body text."));
    }

    #[test]
    fn dateline_is_removed_from_the_first_paragraph() {
        let original = "Headline\n\nAP, Geneva :The United States and Russia say they have resolved a number of issues.";
        let view = normalise(original);
        assert!(view.text.contains("\nThe United States and Russia"));
        assert!(!view.text.contains("Geneva :"));
        let at = view.text.find("The United").unwrap();
        assert_eq!(
            &original[view.original_start(at)..],
            &original[original.find("The United").unwrap()..]
        );
    }

    #[test]
    fn a_colon_in_a_sentence_is_not_a_dateline() {
        let original = "Headline\n\nTrump: I will win the election and then we will all see what happens next.";
        assert!(normalise(original).text.contains("Trump: I will"));
    }

    #[test]
    fn quote_continued_over_paragraphs_is_marked() {
        let view = normalise("He said: “First part.\n“Second part.”\nNext.");
        let continued: Vec<bool> = view.marks.iter().map(|mark| mark.continues_quote).collect();
        assert_eq!(continued, [false, true, false]);
    }

    #[test]
    fn crlf_and_control_characters_are_cleaned_but_mapped() {
        let original = "One.\r\nTwo\u{0}three.";
        let view = normalise(original);
        assert_eq!(view.text, "One.\nTwo three.");
        let at = view.text.find("three").unwrap();
        assert_eq!(original_of(original, &view, at, at + 5), "three");
    }

    #[test]
    fn offset_map_is_monotonic_and_total() {
        let original =
            "AP, Geneva :x\n\"Hi,\"he said.”We are close,” Kerry said.Yes\r\nblock\n€ ''ok''";
        let view = normalise(original);
        let map = view.map_each_byte();
        assert!(map.windows(2).all(|pair| pair[0] <= pair[1]));
        assert!(map.iter().all(|&at| at <= original.len()));
        assert!(view.original_end(view.text.len()) <= original.len());
    }
}
